//! `tokenpace plan calibrate`'s results: a run against the estimate with
//! the fitted efficiency, and the published measurements checked
//! (`--published`, one row per point, so also CSV).

use super::{
    arrivals_line, aside, comma, error_pct, labelled, load, table, title, words, Names, Words,
};
use serde::Serialize;
use std::path::PathBuf;
use tokenpace_plan::calibrate::MetricError;
use tokenpace_plan::efficiency::Efficiency;
use tokenpace_plan::published::PointCheck;
use tokenpace_plan::roofline::{Estimate, Traffic};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{number, Document, Lang, Output};

/// A measured run against the estimate for it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CalibrateOutput {
    /// The workload, read from the run.
    pub workload: Traffic,
    /// Measured against estimated, per metric.
    pub errors: Vec<MetricError>,
    /// The efficiency the estimate used.
    pub efficiency: Efficiency,
    /// The efficiency that matches the run (or all the runs).
    pub fitted: Efficiency,
    /// With several runs: each one, estimated with the efficiency used and
    /// with the fitted one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunCheck>,
    /// The estimate and its names (for the title).
    #[serde(skip)]
    pub estimate: Option<(Estimate, Names)>,
    /// Where the fitted efficiency was saved (`--save`).
    #[serde(skip)]
    pub saved: Option<PathBuf>,
}

/// One of several calibration runs.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunCheck {
    /// The run, as given.
    pub run: String,
    /// Its concurrency (the decode batch).
    pub concurrency: f64,
    /// Measured against the estimate with the efficiency used.
    pub errors: Vec<MetricError>,
    /// Measured against the estimate with the fitted efficiency.
    pub fitted_errors: Vec<MetricError>,
}

/// The runs' errors with the fitted efficiency, one row per run.
fn runs_table(runs: &[RunCheck], lang: Lang) -> Table {
    let mut t = table(
        lang,
        &[
            (("run", "运行"), Align::Left),
            (("concurrency", "并发"), Align::Right),
            (words::METRIC, Align::Left),
            (("measured", "实测"), Align::Right),
            (("fitted estimate", "拟合后估计"), Align::Right),
            (words::ERROR, Align::Right),
        ],
    );
    for r in runs {
        for m in &r.fitted_errors {
            t.row(vec![
                r.run.clone(),
                format!("{}", r.concurrency),
                lang.metric(m.metric).into(),
                number::with_unit(m.metric, m.measured),
                number::with_unit(m.metric, m.estimated),
                error_pct(m.error),
            ]);
        }
    }
    t
}

impl Output for CalibrateOutput {
    fn document(&self, lang: Lang) -> Document {
        let (w, e, f) = (&self.workload, &self.efficiency, &self.fitted);
        let mut d = Document::new();
        if let Some((estimate, names)) = &self.estimate {
            d.title(title(estimate, names, lang));
        }
        d.item(labelled(
            lang,
            ("workload from the run", "取自该次运行的负载"),
            &load(lang, w),
        ));
        if w.concurrency > 1.0 {
            d.item(arrivals_line(lang, w, false));
        }
        let mut t = table(
            lang,
            &[
                (words::METRIC, Align::Left),
                (("measured", "实测"), Align::Right),
                (words::ESTIMATED, Align::Right),
                (words::ERROR, Align::Right),
            ],
        );
        for m in &self.errors {
            t.row(vec![
                lang.metric(m.metric).into(),
                number::with_unit(m.metric, m.measured),
                number::with_unit(m.metric, m.estimated),
                error_pct(m.error),
            ]);
        }
        d.blank().table(t).blank();
        d.item(format!(
            "{}{}{}",
            labelled(lang, ("efficiency used", "所用效率"), &factors(lang, e)),
            lang.pick("; ", "；"),
            labelled(
                lang,
                ("fitted to this run", "按本次运行拟合"),
                &factors(lang, f)
            ),
        ));
        if !self.runs.is_empty() {
            d.blank().heading(lang.pick(
                "Every run with the fitted efficiency",
                "各次运行（按拟合效率估计）",
            ));
            d.table(runs_table(&self.runs, lang)).blank();
        }
        if let Some(path) = &self.saved {
            d.item(format!(
                "{} {}",
                lang.pick("saved to", "已保存到"),
                path.display()
            ));
        }
        d
    }
}

/// `compute 0.65, bandwidth 0.70` (and decode compute when set): the
/// efficiency factors.
fn factors(lang: Lang, e: &Efficiency) -> String {
    let decode = e.decode_compute.map_or_else(String::new, |f| {
        format!(
            "{}{} {f:.3}",
            comma(lang),
            lang.pick("decode compute", "解码算力")
        )
    });
    format!(
        "{} {:.2}{}{} {:.2}{decode}",
        lang.pick("compute", "算力"),
        e.compute,
        comma(lang),
        lang.pick("bandwidth", "带宽"),
        e.bandwidth
    )
}

/// The published measurements, each with the estimate for it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct PublishedOutput {
    /// One check per published point.
    pub checks: Vec<PointCheck>,
    /// The efficiency the estimates used.
    #[serde(skip)]
    pub efficiency: Option<Efficiency>,
}

impl PublishedOutput {
    /// The largest error of a point the model is held to, in absolute
    /// value.
    pub fn worst(&self) -> f64 {
        self.in_model().map(|c| c.error.abs()).fold(0.0, f64::max)
    }

    /// The checks of points the model is held to.
    fn in_model(&self) -> impl Iterator<Item = &PointCheck> {
        self.checks.iter().filter(|c| c.point.in_model())
    }
}

/// The columns of a published point's row (a last one follows: the engine,
/// or why the point is outside the model).
const POINT_COLUMNS: [(Words, Align); 9] = [
    (words::MODEL, Align::Left),
    (words::HARDWARE, Align::Left),
    (words::WEIGHTS, Align::Left),
    (words::METRIC, Align::Left),
    (("published", "公开数据"), Align::Right),
    (words::ESTIMATED, Align::Right),
    (words::ERROR, Align::Right),
    (("held out", "留一估计"), Align::Right),
    (("error held out", "留一误差"), Align::Right),
];

/// A published point's row under [`POINT_COLUMNS`].
fn point_row(c: &PointCheck, lang: Lang) -> Vec<String> {
    let m = c.point.metric;
    vec![
        c.point.model.clone(),
        c.point.hardware.clone(),
        c.point.quant.to_string(),
        lang.metric(m).into(),
        number::with_unit(m, c.point.value),
        number::with_unit(m, c.estimated),
        error_pct(c.error),
        c.held_out_estimated
            .map_or_else(|| "-".into(), |v| number::with_unit(m, v)),
        c.held_out_error.map_or_else(|| "-".into(), error_pct),
    ]
}

/// A table of points under [`POINT_COLUMNS`] and `last`, filled by
/// `last_cell`.
fn points_table<'a>(
    points: impl Iterator<Item = &'a PointCheck>,
    last: (Words, Align),
    last_cell: impl Fn(&PointCheck) -> String,
    lang: Lang,
) -> Table {
    let mut t = table(lang, &[&POINT_COLUMNS[..], &[last]].concat());
    for c in points {
        let mut r = point_row(c, lang);
        r.push(last_cell(c));
        t.row(r);
    }
    t
}

impl PublishedOutput {
    /// The largest error, in and held out, with the factors used and where
    /// the points come from.
    fn errors_line(&self, lang: Lang) -> String {
        let e = self.efficiency.clone().unwrap_or_default();
        let held_out = self
            .in_model()
            .filter_map(|c| c.held_out_error)
            .fold(0.0, |w: f64, e| w.max(e.abs()));
        format!(
            "{}: {:.1} %{}; {}: {:.1} %; {}",
            lang.pick("largest error", "最大误差"),
            self.worst() * 100.0,
            aside(lang, &factors(lang, &e)),
            lang.pick(
                "held out (each point estimated with the factors fitted to the others)",
                "留一法（每个点用其余各点拟合的系数估计）"
            ),
            held_out * 100.0,
            lang.pick(
                "sources in crates/plan/data/measurements.toml",
                "来源见 crates/plan/data/measurements.toml"
            )
        )
    }

    /// The points the model does not describe, each with why, when there
    /// are any.
    fn outside_section(&self, d: &mut Document, lang: Lang) {
        let outside: Vec<&PointCheck> =
            self.checks.iter().filter(|c| !c.point.in_model()).collect();
        if outside.is_empty() {
            return;
        }
        d.blank().heading(&match lang {
            Lang::En => format!(
                "Outside the model: {} of {} points, not fitted and not held to ±25 %",
                outside.len(),
                self.checks.len()
            ),
            Lang::Zh => format!(
                "模型之外：{} 个点（共 {} 个），不参与拟合，也不要求 ±25 %",
                outside.len(),
                self.checks.len()
            ),
        });
        let why = |c: &PointCheck| c.point.outside.clone().unwrap_or_default();
        d.table(points_table(
            outside.into_iter(),
            (("why", "原因"), Align::Left),
            why,
            lang,
        ));
    }
}

impl Output for PublishedOutput {
    fn document(&self, lang: Lang) -> Document {
        let engine = |c: &PointCheck| c.point.engine.clone();
        let t = points_table(
            self.in_model(),
            (("engine", "引擎"), Align::Left),
            engine,
            lang,
        );
        let mut d = Document::new();
        d.table(t).blank();
        d.line(self.errors_line(lang));
        self.outside_section(&mut d, lang);
        d
    }

    fn csv(&self) -> Option<Table> {
        const COLUMNS: [&str; 12] = [
            "model",
            "hardware",
            "quant",
            "metric",
            "prompt_tokens",
            "output_tokens",
            "published",
            "estimated",
            "error",
            "engine",
            "source",
            "outside",
        ];
        // Alignment means nothing in CSV.
        let mut t = Table::new(&COLUMNS.map(|c| (c, Align::Left)));
        for c in &self.checks {
            let p = &c.point;
            t.row(vec![
                p.model.clone(),
                p.hardware.clone(),
                p.quant.to_string(),
                p.metric.id().to_string(),
                p.prompt_tokens.to_string(),
                p.output_tokens.to_string(),
                p.value.to_string(),
                c.estimated.to_string(),
                c.error.to_string(),
                p.engine.clone(),
                p.source.clone(),
                p.outside.clone().unwrap_or_default(),
            ]);
        }
        Some(t)
    }
}

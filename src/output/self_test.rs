//! `bench --self-test`'s result: one row per burst and the requests/s
//! loop, then the verdict "numbers stay exact up to N streams and R
//! requests/s on this machine".

use serde::Serialize;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{Document, Lang, Output};
use tokenpace_runner::self_test::{SelfTest, SelfTestLevel};

/// This machine's ceiling, as `bench --self-test` measured it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct SelfTestOutput(pub SelfTest);

impl Output for SelfTestOutput {
    fn document(&self, lang: Lang) -> Document {
        let t = &self.0;
        let mut d = Document::new();
        d.title(lang.pick(
            "Self-test: this client against the built-in simulator on this machine",
            "自检：本机上本客户端对内置模拟器",
        ))
        .blank();
        let mut table = Table::new(&[
            (lang.pick("load", "负载"), Align::Left),
            (lang.pick("streams", "并发"), Align::Right),
            (lang.pick("TTFT error p99", "首字误差 p99"), Align::Right),
            (lang.pick("gap error p99", "间隔误差 p99"), Align::Right),
            (lang.pick("in flight", "在途"), Align::Right),
            ("req/s", Align::Right),
            (lang.pick("CPU", "CPU"), Align::Right),
            (lang.pick("exact", "准确"), Align::Left),
        ]);
        for l in &t.bursts {
            table.row(row(lang.pick("burst", "突发"), l, lang));
        }
        if let Some(l) = &t.loop_level {
            table.row(row(lang.pick("2-token loop", "双 token 循环"), l, lang));
        }
        d.table(table).blank();
        d.line(match lang {
            Lang::En => format!(
                "CPU: the client's {} load threads (not the simulator), % of one core each",
                t.workers
            ),
            Lang::Zh => format!(
                "CPU：客户端 {} 个负载线程（不含模拟器），各占一个核的百分比",
                t.workers
            ),
        });
        d.line(lang.pick(
            "exact: both errors ≤ 1 ms, every request answered, no client limit crossed",
            "准确：两种误差 ≤ 1 ms，请求全部应答，未触及客户端上限",
        ));
        for l in t
            .bursts
            .iter()
            .chain(&t.loop_level)
            .filter(|l| !l.limits.is_empty())
        {
            let why: Vec<String> = l
                .limits
                .iter()
                .map(|x| crate::output::ceiling::limit(x, lang))
                .collect();
            d.note(format!(
                "{} {}: {}",
                l.streams,
                lang.pick("streams", "并发"),
                why.join("; ")
            ));
        }
        d.verdict(verdict(t, lang), "");
        d
    }
}

fn row(name: &str, l: &SelfTestLevel, lang: Lang) -> Vec<String> {
    let ms = |v: f64| {
        if v.is_nan() {
            "-".to_string()
        } else {
            format!("{v:.2} ms")
        }
    };
    vec![
        name.to_string(),
        l.streams.to_string(),
        ms(l.error.ttft_abs_error_p99_ms),
        ms(l.error.itl_error_ms.1),
        l.peak_in_flight.to_string(),
        l.requests_per_s.map_or("-".into(), |r| format!("{r:.0}")),
        l.cpu.map_or("-".into(), |c| {
            format!("{:.0} %", 100.0 * c.cores() / f64::from(c.workers.max(1)))
        }),
        lang.pick(
            if l.exact { "yes" } else { "no" },
            if l.exact { "是" } else { "否" },
        )
        .into(),
    ]
}

/// "numbers stay exact up to N streams and R requests/s on this machine".
fn verdict(t: &SelfTest, lang: Lang) -> String {
    let streams = match (t.exact_streams, t.bursts.first()) {
        (Some(n), _) => format!(
            "{} {n} {}",
            lang.pick("up to", "最多"),
            lang.pick("streams", "路并发")
        ),
        (None, Some(first)) => format!(
            "{} {} {}",
            lang.pick("at fewer than", "少于"),
            first.streams,
            lang.pick("streams", "路并发")
        ),
        (None, None) => lang.pick("at no stream count tried", "所试并发均不").into(),
    };
    let rate = match (t.exact_requests_per_s, &t.loop_level) {
        (Some(r), _) => format!("{r:.0} requests/s"),
        (None, Some(l)) => format!(
            "{} {:.0} requests/s",
            lang.pick("fewer than", "少于"),
            l.requests_per_s.unwrap_or(0.0)
        ),
        (None, None) => "-".into(),
    };
    match lang {
        Lang::En => format!("numbers stay exact {streams} and {rate} on this machine"),
        Lang::Zh => format!("本机上数字保持准确：{streams}，{rate}"),
    }
}

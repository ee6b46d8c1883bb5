//! A small inline-SVG plotting kit: linear axes with round ticks, grid,
//! lines, steps, dots, shaded bands and labelled reference lines. Colours
//! come from CSS classes of the page (see `style.rs`), so a chart follows
//! the page's theme and prints in black on white.

use crate::format::{escape, tick};
use std::fmt::Write;

/// One axis: its range and its label (with the unit).
#[derive(Debug, Clone)]
pub struct Axis {
    /// Smallest value shown.
    pub min: f64,
    /// Largest value shown.
    pub max: f64,
    /// Label, e.g. "time since send (s)".
    pub label: String,
}

impl Axis {
    /// An axis from 0 to a little above the largest of `values` (at least
    /// `floor`), rounded to a tick.
    pub fn from_zero(values: impl IntoIterator<Item = f64>, floor: f64, label: &str) -> Axis {
        let max = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold(floor, f64::max);
        let step = nice_step(max / 5.0);
        Axis {
            min: 0.0,
            max: ((max * 1.02) / step).ceil().max(1.0) * step,
            label: label.to_string(),
        }
    }

    /// Round tick positions within the axis, about five of them.
    pub fn ticks(&self) -> Vec<f64> {
        let step = nice_step((self.max - self.min) / 5.0);
        let mut t = (self.min / step).ceil() * step;
        let mut out = Vec::new();
        while t <= self.max + step * 1e-9 && out.len() < 20 {
            out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        out
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A chart being drawn. Data coordinates go in; pixels come out.
pub struct Plot {
    x: Axis,
    y: Axis,
    width: f64,
    height: f64,
    body: String,
    legend: Vec<(String, String)>,
    vlabels: usize,
    x_labels: Option<Vec<(f64, String)>>,
}

const LEFT: f64 = 58.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 44.0;

impl Plot {
    /// An empty 640 × 300 chart.
    pub fn new(x: Axis, y: Axis) -> Plot {
        Plot {
            x,
            y,
            width: 640.0,
            height: 300.0,
            body: String::new(),
            legend: Vec::new(),
            vlabels: 0,
            x_labels: None,
        }
    }

    /// Changes the height in pixels (the width scales with the page).
    pub fn height(mut self, h: f64) -> Plot {
        self.height = h;
        self
    }

    /// Labels the x axis at these positions instead of round numbers (for
    /// load levels such as `c1`, `c4`, `c16`).
    pub fn x_labels(mut self, labels: Vec<(f64, String)>) -> Plot {
        self.x_labels = Some(labels);
        self
    }

    fn px(&self, x: f64) -> f64 {
        let span = (self.x.max - self.x.min).max(f64::MIN_POSITIVE);
        LEFT + (x.clamp(self.x.min, self.x.max) - self.x.min) / span * (self.width - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let span = (self.y.max - self.y.min).max(f64::MIN_POSITIVE);
        let inner = self.height - TOP - BOTTOM;
        TOP + inner - (y.clamp(self.y.min, self.y.max) - self.y.min) / span * inner
    }

    /// Shades the x range `[x0, x1]` (a tier zone) with CSS class `class`.
    pub fn band_x(&mut self, x0: f64, x1: f64, class: &str) {
        let (a, b) = (self.px(x0), self.px(x1));
        let _ = write!(
            self.body,
            r#"<rect class="{class}" x="{a:.1}" y="{TOP}" width="{:.1}" height="{:.1}"/>"#,
            (b - a).max(0.0),
            self.height - TOP - BOTTOM
        );
    }

    /// Shades the y range `[y0, y1]` with CSS class `class`.
    pub fn band_y(&mut self, y0: f64, y1: f64, class: &str) {
        let (a, b) = (self.py(y1), self.py(y0));
        let _ = write!(
            self.body,
            r#"<rect class="{class}" x="{LEFT}" y="{a:.1}" width="{:.1}" height="{:.1}"/>"#,
            self.width - LEFT - RIGHT,
            (b - a).max(0.0)
        );
    }

    /// A vertical reference line at `x`, labelled at the top.
    pub fn vline(&mut self, x: f64, class: &str, label: &str) {
        if x < self.x.min || x > self.x.max {
            return;
        }
        let p = self.px(x);
        // Labels of neighbouring lines go on alternate rows.
        let row = self.vlabels % 2;
        self.vlabels += 1;
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{p:.1}" x2="{p:.1}" y1="{TOP}" y2="{:.1}"/><text class="ref" x="{:.1}" y="{}">{}</text>"#,
            self.height - BOTTOM,
            p + 3.0,
            TOP + 11.0 + 14.0 * row as f64,
            escape(label)
        );
    }

    /// A horizontal reference line at `y`, labelled at the right end.
    pub fn hline(&mut self, y: f64, class: &str, label: &str) {
        if y < self.y.min || y > self.y.max {
            return;
        }
        let p = self.py(y);
        let _ = write!(
            self.body,
            r#"<line class="{class}" x1="{LEFT}" x2="{:.1}" y1="{p:.1}" y2="{p:.1}"/><text class="ref" text-anchor="end" x="{:.1}" y="{:.1}">{}</text>"#,
            self.width - RIGHT,
            self.width - RIGHT - 3.0,
            p - 4.0,
            escape(label)
        );
    }

    /// A line through `points`.
    pub fn line(&mut self, points: &[(f64, f64)], class: &str) {
        if points.is_empty() {
            return;
        }
        let d: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let _ = write!(
            self.body,
            r#"<polyline class="{class}" points="{}"/>"#,
            d.join(" ")
        );
    }

    /// A staircase: each value holds until the next point's x.
    pub fn step(&mut self, points: &[(f64, f64)], class: &str) {
        let mut stairs = Vec::with_capacity(points.len() * 2);
        for (i, &(x, y)) in points.iter().enumerate() {
            if i > 0 {
                stairs.push((x, points[i - 1].1));
            }
            stairs.push((x, y));
        }
        self.line(&stairs, class);
    }

    /// A dot at each point.
    pub fn dots(&mut self, points: &[(f64, f64)], class: &str) {
        for &(x, y) in points {
            let _ = write!(
                self.body,
                r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="3"/>"#,
                self.px(x),
                self.py(y)
            );
        }
    }

    /// Adds a legend entry: a swatch of CSS class `class` and its text.
    pub fn legend(&mut self, class: &str, text: &str) {
        self.legend.push((class.to_string(), text.to_string()));
    }

    /// The finished `<svg>`, with grid, ticks, axis labels and an
    /// accessible title.
    pub fn finish(self, title: &str) -> String {
        let (w, h) = (self.width, self.height);
        let mut s = format!(
            r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
            t = escape(title)
        );
        let x_ticks = match &self.x_labels {
            Some(l) => l.clone(),
            None => self.x.ticks().into_iter().map(|t| (t, tick(t))).collect(),
        };
        for (t, text) in x_ticks {
            let p = self.px(t);
            let _ = write!(
                s,
                r#"<line class="grid" x1="{p:.1}" x2="{p:.1}" y1="{TOP}" y2="{:.1}"/><text class="tick" text-anchor="middle" x="{p:.1}" y="{:.1}">{}</text>"#,
                h - BOTTOM,
                h - BOTTOM + 15.0,
                escape(&text)
            );
        }
        for t in self.y.ticks() {
            let p = self.py(t);
            let _ = write!(
                s,
                r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{p:.1}" y2="{p:.1}"/><text class="tick" text-anchor="end" x="{:.1}" y="{:.1}">{}</text>"#,
                w - RIGHT,
                LEFT - 6.0,
                p + 4.0,
                tick(t)
            );
        }
        s.push_str(&self.body);
        let _ = write!(
            s,
            r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}"/>"#,
            w - RIGHT,
            h - BOTTOM,
            h - BOTTOM,
            h - BOTTOM
        );
        let _ = write!(
            s,
            r#"<text class="label" text-anchor="middle" x="{:.1}" y="{:.1}">{}</text><text class="label" text-anchor="middle" transform="translate(14 {:.1}) rotate(-90)">{}</text>"#,
            (LEFT + w - RIGHT) / 2.0,
            h - 8.0,
            escape(&self.x.label),
            (TOP + h - BOTTOM) / 2.0,
            escape(&self.y.label)
        );
        let mut lx = LEFT;
        for (class, text) in &self.legend {
            let _ = write!(
                s,
                r#"<rect class="swatch {class}" x="{lx:.1}" y="10" width="14" height="4"/><text class="legend" x="{:.1}" y="16">{}</text>"#,
                lx + 18.0,
                escape(text)
            );
            lx += 34.0 + 8.0 * text.chars().count() as f64;
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(0.37), 0.5);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(40.0), 50.0);
        let a = Axis::from_zero([3.3], 0.0, "s");
        assert_eq!(a.ticks(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn labels_are_escaped() {
        let mut p = Plot::new(
            Axis::from_zero([1.0], 0.0, "<x>"),
            Axis::from_zero([1.0], 0.0, "y"),
        );
        p.legend("s0", "<script>");
        p.line(&[(0.0, 0.0), (1.0, 1.0)], "s0");
        let svg = p.finish("t");
        assert!(!svg.contains("<script>") && !svg.contains("<x>"), "{svg}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}

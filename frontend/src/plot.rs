//! SVG plotting helpers for the pages: scales (linear and log), ticks, axes with units and legends.
//! Plots are plain SVG built by Yew, so they can be exported as they are drawn.

use yew::prelude::*;

/// Plot area in SVG units.
pub const W: f64 = 760.0;
/// Plot height.
pub const H: f64 = 440.0;
/// Margins: left, right, top, bottom.
pub const M: (f64, f64, f64, f64) = (64.0, 16.0, 16.0, 48.0);

/// A 1-D scale from data to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    lo: f64,
    hi: f64,
    px_lo: f64,
    px_hi: f64,
    log: bool,
}

impl Scale {
    /// A scale over [lo, hi] drawn from px_lo to px_hi.
    pub fn new(lo: f64, hi: f64, px_lo: f64, px_hi: f64, log: bool) -> Self {
        let (lo, hi) = if log {
            (lo.max(1e-300), hi.max(lo.max(1e-300) * 1.0001))
        } else if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, lo + 0.5)
        };
        Scale { lo, hi, px_lo, px_hi, log }
    }

    /// Horizontal scale over the plot width.
    pub fn x(lo: f64, hi: f64, log: bool) -> Self {
        Scale::new(lo, hi, M.0, W - M.1, log)
    }

    /// Vertical scale over the plot height (up is larger).
    pub fn y(lo: f64, hi: f64, log: bool) -> Self {
        Scale::new(lo, hi, H - M.3, M.2, log)
    }

    /// Data → pixel.
    pub fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.max(1e-300).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.px_lo + t * (self.px_hi - self.px_lo)
    }

    /// About six readable tick values.
    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (self.lo.log10().floor() as i32, self.hi.log10().ceil() as i32);
            let mut t = Vec::new();
            for e in a..=b {
                for m in [1.0, 2.0, 5.0] {
                    let v = m * 10f64.powi(e);
                    if v >= self.lo && v <= self.hi {
                        t.push(v);
                    }
                }
            }
            if t.len() > 9 {
                t.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
            }
            t
        } else {
            let span = self.hi - self.lo;
            let raw = span / 6.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= 7.0).unwrap_or(10.0 * mag);
            let start = (self.lo / step).ceil() as i64;
            let end = (self.hi / step).floor() as i64;
            (start..=end).map(|k| k as f64 * step).collect()
        }
    }
}

/// A short tick label.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-2..1e4).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Axes, grid, tick labels and axis titles.
pub fn axes(x: &Scale, y: &Scale, x_title: &str, y_title: &str) -> Html {
    let (x0, x1, y0, y1) = (M.0, W - M.1, H - M.3, M.2);
    html! {
        <g class="axes">
            { for x.ticks().into_iter().map(|t| { let p = x.px(t); html! {
                <g><line x1={p.to_string()} x2={p.to_string()} y1={y0.to_string()} y2={y1.to_string()} class="grid" />
                <text x={p.to_string()} y={(y0 + 16.0).to_string()} class="tick" text-anchor="middle">{ tick_label(t) }</text></g>
            }})}
            { for y.ticks().into_iter().map(|t| { let p = y.px(t); html! {
                <g><line x1={x0.to_string()} x2={x1.to_string()} y1={p.to_string()} y2={p.to_string()} class="grid" />
                <text x={(x0 - 6.0).to_string()} y={(p + 4.0).to_string()} class="tick" text-anchor="end">{ tick_label(t) }</text></g>
            }})}
            <line x1={x0.to_string()} x2={x1.to_string()} y1={y0.to_string()} y2={y0.to_string()} class="axis" />
            <line x1={x0.to_string()} x2={x0.to_string()} y1={y0.to_string()} y2={y1.to_string()} class="axis" />
            <text x={((x0 + x1) / 2.0).to_string()} y={(H - 10.0).to_string()} class="title" text-anchor="middle">{ x_title }</text>
            <text x="14" y={((y0 + y1) / 2.0).to_string()} class="title" text-anchor="middle" transform={format!("rotate(-90 14 {})", (y0 + y1) / 2.0)}>{ y_title }</text>
        </g>
    }
}

/// Legend width in pixels.
const LEGEND_W: f64 = 250.0;

fn legend_height(rows: usize) -> f64 {
    rows as f64 * 18.0 + 8.0
}

/// A legend: (colour, label) rows in the top-right corner.
pub fn legend(items: &[(&str, String)]) -> Html {
    legend_at(items, W - M.1 - LEGEND_W, M.2 + 2.0)
}

/// A legend in the corner of the plot that covers the fewest of `avoid` (pixel positions of points and
/// labels), so that it hides no data.
pub fn legend_away_from(items: &[(&str, String)], avoid: &[(f64, f64)]) -> Html {
    let h = legend_height(items.len());
    let corners =
        [(W - M.1 - LEGEND_W, M.2 + 2.0), (W - M.1 - LEGEND_W, H - M.3 - h - 2.0), (M.0 + 8.0, M.2 + 2.0), (M.0 + 8.0, H - M.3 - h - 2.0)];
    let covered = |(x, y): (f64, f64)| {
        avoid
            .iter()
            .filter(|(px, py)| *px >= x - 6.0 - 8.0 && *px <= x - 6.0 + LEGEND_W + 8.0 && *py >= y - 8.0 && *py <= y + h + 8.0)
            .count()
    };
    let (x, y) = corners.into_iter().min_by_key(|c| covered(*c)).unwrap_or(corners[0]);
    legend_at(items, x, y)
}

fn legend_at(items: &[(&str, String)], x: f64, top: f64) -> Html {
    html! {
        <g class="legend">
            <rect x={(x - 6.0).to_string()} y={top.to_string()} width={LEGEND_W.to_string()} height={legend_height(items.len()).to_string()} class="legend-bg" />
            { for items.iter().enumerate().map(|(i, (color, label))| { let y = top + 14.0 + i as f64 * 18.0; html! {
                <g><rect x={x.to_string()} y={(y - 9.0).to_string()} width="12" height="12" fill={color.to_string()} />
                <text x={(x + 18.0).to_string()} y={(y + 1.0).to_string()} class="tick">{ label.clone() }</text></g>
            }})}
        </g>
    }
}

/// The colour of a candidate on the frontier in a share `p` of the draws: from pale orange (rarely) to
/// the frontier's blue (always).
pub fn p_colour(p: f64) -> String {
    let (a, b) = ([253.0, 174.0, 97.0], [31.0, 119.0, 180.0]);
    let c: Vec<String> = a.iter().zip(b).map(|(a, b)| format!("{:.0}", a + (b - a) * p.clamp(0.0, 1.0))).collect();
    format!("rgb({})", c.join(","))
}

/// Extent of values (ignoring non-finite ones), padded.
pub fn extent(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite() && (!log || *v > 0.0)) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if log {
        (lo / 1.25, hi * 1.25)
    } else {
        let pad = 0.04 * (hi - lo).max(1e-9);
        (lo - pad, hi + pad)
    }
}

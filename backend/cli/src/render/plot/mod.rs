//! Roofline plot: the device's ceiling min(π, β·I) on log–log axes, with every operator of each
//! architecture placed at its arithmetic intensity and the throughput the model gives it.

use std::path::Path;

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use rooflaw::api::Search;
use rooflaw::campaign::SimulationReport;
use rooflaw::cost::Phase;
use rooflaw::fit::FitReport;
use rooflaw::frontier::Point;
use rooflaw::layout::{place_labels, text_width, Label, Rect};
use rooflaw::roofline::{roofline_points, Efficiency};
use rooflaw::{Architecture, Level, Target};

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

fn register_font() {
    // The DejaVu font is compiled in (crate `dejavu`), so text renders the same on every machine.
    // Registering twice is harmless; an invalid font is impossible for these embedded bytes.
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
}

/// Renders `draw` to `out`, an SVG or PNG chosen by the extension.
macro_rules! render {
    ($out:expr, $size:expr, |$root:ident| $body:expr) => {{
        register_font();
        let out: &Path = $out;
        let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("svg") => {
                let $root = SVGBackend::new(out, $size).into_drawing_area();
                $body?;
                $root.present().with_context(|| format!("cannot write {} (check the directory exists)", out.display()))?;
            }
            Some("png") => {
                let $root = BitMapBackend::new(out, $size).into_drawing_area();
                $body?;
                $root.present().with_context(|| format!("cannot write {} (check the directory exists)", out.display()))?;
            }
            _ => bail!("{} must end in .svg or .png", out.display()),
        }
        Ok(())
    }};
}

/// Draws the roofline plot to `out` (.svg or .png).
pub fn roofline_plot(archs: &[Architecture], t: &Target, level: Level, eff: &Efficiency, out: &Path) -> Result<()> {
    render!(out, (1100, 720), |root| draw(&root, archs, t, level, eff))
}

/// Loss–latency scatter of every candidate, the frontier as a line, reference models by name, the
/// latency budget with the feasible region shaded and the best feasible design called out.
pub fn frontier_plot(search: &Search, refs: &[(String, Point)], out: &Path) -> Result<()> {
    render!(out, (1100, 720), |root| draw_frontier(&root, search, refs))
}

/// Draws `(name, x, y)` labels (data coordinates) beside their points so that none covers another.
fn draw_labels<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    root: &DrawingArea<DB, Shift>,
    chart: &ChartContext<DB, Cartesian2d<X, Y>>,
    labels: &[(String, f64, f64, RGBColor)],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    const SIZE: f64 = 11.0;
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let bounds = Rect { x: xr.start as f64, y: yr.start as f64, w: (xr.end - xr.start) as f64, h: (yr.end - yr.start) as f64 };
    let anchors: Vec<(i32, i32)> = labels.iter().map(|(_, x, y, _)| chart.backend_coord(&(*x, *y))).collect();
    let boxes: Vec<Label> = labels
        .iter()
        .zip(&anchors)
        .map(|((name, ..), (px, py))| Label { x: *px as f64, y: *py as f64, w: text_width(name, SIZE), h: SIZE + 2.0 })
        .collect();
    for (((name, _, _, color), (px, py)), p) in labels.iter().zip(&anchors).zip(place_labels(&boxes, bounds)) {
        // A name with no free spot is left out rather than printed over another.
        if !p.shown {
            continue;
        }
        let (tx, ty) = (p.rect.x.round() as i32, p.rect.y.round() as i32);
        if p.leader {
            let end = if p.rect.x > *px as f64 { tx } else { tx + p.rect.w.round() as i32 };
            root.draw(&PathElement::new(vec![(*px, *py), (end, ty + (p.rect.h / 2.0) as i32)], color.mix(0.6)))
                .context("drawing failed")?;
        }
        root.draw(&Text::new(name.clone(), (tx, ty), ("sans-serif", SIZE).into_font().color(color))).context("drawing failed")?;
    }
    Ok(())
}

fn draw_frontier<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &Search, refs: &[(String, Point)]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (points, front, best, budget, ev) = (&s.points, &s.front, s.best, &s.budget, s.evaluator());
    let space = s.space.name();
    let ms = |p: &Point| p.latency_secs * 1e3;
    let all = points.iter().chain(refs.iter().map(|r| &r.1));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, 0.0f64, f64::INFINITY, 0.0f64);
    for p in all {
        x0 = x0.min(ms(p));
        x1 = x1.max(ms(p));
        y0 = y0.min(p.loss);
        y1 = y1.max(p.loss);
    }
    if !(x0.is_finite() && y0.is_finite()) {
        bail!("nothing to plot: no candidate was evaluated");
    }
    let (x0, x1, y0, y1) = (x0 / 1.2, x1 * 1.2, y0 - 0.02 * (y1 - y0), y1 + 0.02 * (y1 - y0));
    root.fill(&WHITE).context("drawing failed")?;
    let t = ev.target;
    let title = format!(
        "{space}: {} latency on {} ({}), {}, {} level",
        ev.objective.name(),
        t.device_id,
        t.power_mode,
        t.precision,
        ev.level.name()
    );
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
        .context("cannot lay out the chart")?;
    chart
        .configure_mesh()
        .x_desc(format!("{} latency (ms, log scale)", ev.objective.name()))
        .y_desc(format!("predicted loss (law '{}')", ev.law.name))
        .label_style(("sans-serif", 14))
        .draw()
        .context("cannot draw the axes")?;
    if let Some(b) = budget.latency_secs {
        let feasible = RGBColor(44, 160, 44).mix(0.10);
        chart
            .draw_series(std::iter::once(Rectangle::new([(x0, y0), ((b * 1e3).min(x1), y1)], feasible.filled())))
            .context("drawing failed")?
            .label(format!("feasible: ≤ {:.1} ms", b * 1e3))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], feasible.filled()));
    }
    let grey = RGBColor(150, 150, 150);
    chart
        .draw_series(
            points
                .iter()
                .filter(|p| budget.memory_bytes.is_none_or(|m| p.memory_bytes <= m))
                .map(|p| Circle::new((ms(p), p.loss), 1, grey.filled())),
        )
        .context("drawing failed")?
        .label(format!("{} candidates", points.len()))
        .legend(move |(x, y)| Circle::new((x + 10, y), 3, grey.filled()));
    let blue = RGBColor(31, 119, 180);
    chart
        .draw_series(LineSeries::new(front.iter().map(|&i| (ms(&points[i]), points[i].loss)), blue.stroke_width(2)))
        .context("drawing failed")?
        .label(format!("Pareto frontier ({} designs)", front.len()))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    chart.draw_series(front.iter().map(|&i| Circle::new((ms(&points[i]), points[i].loss), 3, blue.filled()))).context("drawing failed")?;
    let red = RGBColor(214, 39, 40);
    chart
        .draw_series(
            refs.iter().filter(|(_, p)| ms(p) >= x0 && ms(p) <= x1).map(|(_, p)| Cross::new((ms(p), p.loss), 5, red.stroke_width(2))),
        )
        .context("drawing failed")?
        .label("reference models")
        .legend(move |(x, y)| Cross::new((x + 10, y), 5, red.stroke_width(2)));
    let labels: Vec<(String, f64, f64, RGBColor)> =
        refs.iter().filter(|(_, p)| ms(p) >= x0 && ms(p) <= x1).map(|(n, p)| (n.clone(), ms(p), p.loss, red)).collect();
    draw_labels(root, &chart, &labels)?;
    if let Some(i) = best {
        let p = &points[i];
        let green = RGBColor(0, 120, 0);
        chart
            .draw_series(std::iter::once(Circle::new((ms(p), p.loss), 8, green.stroke_width(3))))
            .context("drawing failed")?
            .label(format!("best feasible: loss {:.3} at {:.1} ms", p.loss, ms(p)))
            .legend(move |(x, y)| Circle::new((x + 10, y), 6, green.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 13))
        .draw()
        .context("cannot draw the legend")?;
    Ok(())
}

/// Predicted-vs-actual and residual plots of a law fit.
pub fn fit_plot(report: &FitReport, out: &Path) -> Result<()> {
    render!(out, (1200, 560), |root| draw_fit(&root, report))
}

fn draw_fit<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, report: &FitReport) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).context("drawing failed")?;
    let (left, right) = root.split_horizontally(600);
    let r = &report.residuals;
    let lo = r.iter().map(|x| x.actual.min(x.predicted)).fold(f64::INFINITY, f64::min);
    let hi = r.iter().map(|x| x.actual.max(x.predicted)).fold(f64::NEG_INFINITY, f64::max);
    let pad = 0.03 * (hi - lo).max(1e-6);
    let blue = RGBColor(31, 119, 180);
    let mut a = ChartBuilder::on(&left)
        .caption(format!("predicted vs actual (R² {:.4})", report.train.r2), ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(lo - pad..hi + pad, lo - pad..hi + pad)
        .context("cannot lay out the chart")?;
    a.configure_mesh()
        .x_desc("actual validation loss")
        .y_desc("predicted loss")
        .label_style(("sans-serif", 13))
        .draw()
        .context("cannot draw the axes")?;
    a.draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK)).context("drawing failed")?;
    a.draw_series(r.iter().map(|x| Circle::new((x.actual, x.predicted), 3, blue.filled()))).context("drawing failed")?;
    let res: Vec<f64> = r.iter().map(|x| x.actual - x.predicted).collect();
    let m = res.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-9) * 1.1;
    let mut b = ChartBuilder::on(&right)
        .caption(format!("residuals (RMSE {:.4})", report.train.rmse), ("sans-serif", 18))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(lo - pad..hi + pad, -m..m)
        .context("cannot lay out the chart")?;
    b.configure_mesh()
        .x_desc("predicted loss")
        .y_desc("actual − predicted")
        .label_style(("sans-serif", 13))
        .draw()
        .context("cannot draw the axes")?;
    b.draw_series(LineSeries::new([(lo, 0.0), (hi, 0.0)], BLACK)).context("drawing failed")?;
    b.draw_series(r.iter().zip(&res).map(|(x, e)| Circle::new((x.predicted, *e), 3, blue.filled()))).context("drawing failed")?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, archs: &[Architecture], t: &Target, level: Level, eff: &Efficiency) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = if level == Level::Calibrated { *eff } else { Efficiency::PEAK };
    let (pi, beta) = (t.peak_flops_per_sec, t.mem_bandwidth_bytes_per_sec);
    let refs: Vec<&Architecture> = archs.iter().collect();
    let points = roofline_points(&refs, t, level, eff);
    let (mut xmin, mut xmax) = (t.ridge_flops_per_byte() / 10.0, t.ridge_flops_per_byte() * 10.0);
    for p in &points {
        xmin = xmin.min(p.intensity_flops_per_byte / 2.0);
        xmax = xmax.max(p.intensity_flops_per_byte * 2.0);
    }
    let ymax = pi * 2.0;
    let ymin = (beta * xmin).min(points.iter().map(|p| p.attained_flops_per_sec).fold(f64::INFINITY, f64::min)) / 2.0;

    root.fill(&WHITE).context("drawing failed")?;
    let title = format!("Roofline: {} ({}), {}, {} level", t.device_id, t.power_mode, t.precision, level.name());
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((xmin..xmax).log_scale(), (ymin..ymax).log_scale())
        .context("cannot lay out the chart")?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (FLOP/byte)")
        .y_desc("attained throughput (FLOP/s)")
        .y_label_formatter(&|v| format!("{:.0e}", v))
        .x_label_formatter(&|v| format!("{v:.2}"))
        .label_style(("sans-serif", 14))
        .draw()
        .context("cannot draw the axes")?;

    let ceiling =
        |pi: f64, beta: f64| (0..=200).map(move |k| xmin * (xmax / xmin).powf(k as f64 / 200.0)).map(move |x| (x, (beta * x).min(pi)));
    chart
        .draw_series(LineSeries::new(ceiling(pi, beta), BLACK.stroke_width(2)))
        .context("drawing failed")?
        .label(format!("peak: π {:.1} TFLOP/s, β {:.1} GB/s", pi / 1e12, beta / 1e9))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    if level == Level::Calibrated {
        let grey = RGBColor(120, 120, 120);
        chart
            .draw_series(LineSeries::new(ceiling(e.compute * pi, e.memory * beta), grey.stroke_width(1)))
            .context("drawing failed")?
            .label(format!("calibrated: η_c {:.2}, η_m {:.2}", e.compute, e.memory))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
    }
    let color_of = |series: usize, phase: Phase| PALETTE[(2 * series + usize::from(phase == Phase::Decode)) % PALETTE.len()];
    for (i, a) in archs.iter().enumerate() {
        for phase in [Phase::Prefill, Phase::Decode] {
            let color = color_of(i, phase);
            let ps: Vec<_> = points.iter().filter(|p| p.series == i && p.phase == phase).collect();
            chart
                .draw_series(ps.iter().map(|p| Circle::new((p.intensity_flops_per_byte, p.attained_flops_per_sec), 5, color.filled())))
                .context("drawing failed")?
                .label(format!("{} {}", a.name, if phase == Phase::Prefill { "prefill" } else { "decode" }))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
        }
    }
    let labels: Vec<(String, f64, f64, RGBColor)> = points
        .iter()
        .map(|p| (p.name.to_string(), p.intensity_flops_per_byte, p.attained_flops_per_sec, color_of(p.series, p.phase)))
        .collect();
    draw_labels(root, &chart, &labels)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 13))
        .draw()
        .context("cannot draw the legend")?;
    Ok(())
}

/// Draws the mean frontier regret against runs for each strategy of a simulation (.svg or .png).
pub fn simulation_plot(report: &SimulationReport, out: &Path) -> Result<()> {
    render!(out, (900, 560), |root| draw_simulation(&root, report))
}

fn draw_simulation<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, report: &SimulationReport) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).context("drawing failed")?;
    let all: Vec<(usize, f64)> = report.summary.iter().flat_map(|s| s.mean_regret.iter().copied()).filter(|e| e.1 > 0.0).collect();
    let x_hi = all.iter().map(|e| e.0).max().unwrap_or(1) as f64;
    let x_lo = all.iter().map(|e| e.0).min().unwrap_or(0) as f64;
    let y_lo = all.iter().map(|e| e.1).fold(f64::INFINITY, f64::min).min(report.request.tolerance) / 1.5;
    let y_hi = all.iter().map(|e| e.1).fold(0.0, f64::max).max(report.request.tolerance) * 1.5;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("frontier regret by runs: {} on {}, {} campaigns per strategy", report.space, report.device, report.request.seeds),
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x_lo..x_hi, (y_lo..y_hi).log_scale())
        .context("cannot lay out the chart")?;
    chart
        .configure_mesh()
        .x_desc("runs trained")
        .y_desc("mean regret (nats)")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 13))
        .draw()
        .context("cannot draw the axes")?;
    let tol = report.request.tolerance;
    chart
        .draw_series(LineSeries::new([(x_lo, tol), (x_hi, tol)], BLACK.stroke_width(1)))
        .context("drawing failed")?
        .label(format!("tolerance {tol}"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
    for (k, s) in report.summary.iter().enumerate() {
        let c = PALETTE[k % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s.mean_regret.iter().filter(|e| e.1 > 0.0).map(|e| (e.0 as f64, e.1)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))
            .context("drawing failed")?
            .label(s.strategy.name())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], c.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled()))).context("drawing failed")?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .context("drawing failed")?;
    Ok(())
}

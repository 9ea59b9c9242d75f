//! Roofline plot: the device's ceiling min(π, β·I) on log–log axes, with every operator of each
//! architecture placed at its arithmetic intensity and the throughput the model gives it.

use std::path::Path;

use anyhow::{bail, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use rooflaw::cost::Phase;
use rooflaw::roofline::{breakdown, Efficiency};
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

/// Draws the plot to `out` (.svg or .png).
pub fn roofline_plot(archs: &[Architecture], t: &Target, level: Level, eff: &Efficiency, out: &Path) -> Result<()> {
    register_font();
    let ext = out.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(out, (1100, 720)).into_drawing_area();
            draw(&root, archs, t, level, eff)?;
            root.present().with_context(|| format!("cannot write {}", out.display()))?;
        }
        Some("png") => {
            let root = BitMapBackend::new(out, (1100, 720)).into_drawing_area();
            draw(&root, archs, t, level, eff)?;
            root.present().with_context(|| format!("cannot write {} (check the directory exists)", out.display()))?;
        }
        _ => bail!("--out {} must end in .svg or .png", out.display()),
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, archs: &[Architecture], t: &Target, level: Level, eff: &Efficiency) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = if level == Level::Calibrated { *eff } else { Efficiency::PEAK };
    let (pi, beta) = (t.peak_flops_per_sec, t.mem_bandwidth_bytes_per_sec);
    let mut points = Vec::new();
    for (i, a) in archs.iter().enumerate() {
        for phase in [Phase::Prefill, Phase::Decode] {
            for r in breakdown(a, t, level, eff, phase) {
                if r.cost.flops > 0.0 && r.bytes > 0.0 && r.time_secs > 0.0 {
                    points.push((i, phase, r.name, r.intensity_flops_per_byte, r.cost.flops / r.time_secs));
                }
            }
        }
    }
    let (mut xmin, mut xmax) = (t.ridge_flops_per_byte() / 10.0, t.ridge_flops_per_byte() * 10.0);
    for p in &points {
        xmin = xmin.min(p.3 / 2.0);
        xmax = xmax.max(p.3 * 2.0);
    }
    let ymax = pi * 2.0;
    let ymin = (beta * xmin).min(points.iter().map(|p| p.4).fold(f64::INFINITY, f64::min)) / 2.0;

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
    for (i, a) in archs.iter().enumerate() {
        for phase in [Phase::Prefill, Phase::Decode] {
            let color = PALETTE[(2 * i + usize::from(phase == Phase::Decode)) % PALETTE.len()];
            let ps: Vec<_> = points.iter().filter(|p| p.0 == i && p.1 == phase).collect();
            chart
                .draw_series(ps.iter().map(|p| Circle::new((p.3, p.4), 5, color.filled())))
                .context("drawing failed")?
                .label(format!("{} {}", a.name, if phase == Phase::Prefill { "prefill" } else { "decode" }))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
            chart
                .draw_series(ps.iter().map(|p| Text::new(p.2.to_string(), (p.3, p.4), ("sans-serif", 11).into_font().color(&color))))
                .context("drawing failed")?;
        }
    }
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

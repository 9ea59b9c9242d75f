//! `rooflaw fit`: fit the loss law (Eq. 2) to training runs.

use anyhow::Result;
use rooflaw::fit::{fit_law, parse_runs};

use crate::render::{pct, plot, print_csv, print_json, print_table, table, write_file, Format};
use crate::resolve::Fit;

/// `fit`: fits Eq. 2 to the runs, writes the law and the plot when asked, and reports the fit.
pub fn run(format: Format, args: &Fit) -> Result<()> {
    let mut runs = Vec::new();
    for (text, what) in &args.sources {
        runs.extend(parse_runs(text, what)?);
    }
    let opts = &args.options;
    let report = fit_law(&runs, opts)?;
    if let Some(out) = &args.out {
        write_file(out, &serde_json::to_string_pretty(&report.law)?)?;
    }
    if let Some(p) = &args.plot {
        plot::fit_plot(&report, p)?;
    }
    match format {
        Format::Json => print_json(&report),
        Format::Csv => print_csv(&report.intervals),
        Format::Table => {
            println!(
                "Eq. 2 fitted to {} runs ({}, {} restarts, seed {}){}",
                runs.len(),
                match report.huber_delta {
                    Some(d) => format!("Huber δ = {d:.4}"),
                    None => "least squares".into(),
                },
                opts.restarts,
                opts.seed,
                if report.bootstrap_samples > 0 {
                    format!(", 95% intervals from {} bootstrap resamples", report.bootstrap_samples)
                } else {
                    String::new()
                }
            );
            let mut t = table(&["coefficient", "estimate", "2.5%", "97.5%"]);
            for iv in &report.intervals {
                t.add_row(vec![iv.name.clone(), format!("{:.5}", iv.estimate), format!("{:.5}", iv.lo), format!("{:.5}", iv.hi)]);
            }
            print_table(&t);
            let m = report.train;
            println!("fit on all runs: R² {:.4}, RMSE {:.4}, MAPE {}", m.r2, m.rmse, pct(m.mape));
            if let Some(h) = &report.holdout {
                println!(
                    "held out ({}): fitted on {}, tested on {}: R² {:.4}, RMSE {:.4}, MAPE {}",
                    h.split,
                    h.fitted_on,
                    h.metrics.runs,
                    h.metrics.r2,
                    h.metrics.rmse,
                    pct(h.metrics.mape)
                );
            }
            if let Some(cv) = &report.cross_validation {
                println!(
                    "{}-fold cross-validation: R² {:.4}, RMSE {:.4}, MAPE {}",
                    cv.folds,
                    cv.metrics.r2,
                    cv.metrics.rmse,
                    pct(cv.metrics.mape)
                );
            }
            if let Some(out) = &args.out {
                println!("wrote {} (use it with --law {})", out.display(), out.display());
            }
            Ok(())
        }
    }
}

//! `rooflaw roofline-plot`: the device's roofline with the operators of one or more architectures.

use anyhow::Result;
use rooflaw::api::Context;

use crate::render::plot;
use crate::resolve::RooflinePlot;

/// `roofline-plot`: draws to the output file.
pub fn run(ctx: &Context, args: &RooflinePlot) -> Result<()> {
    let t = args.target.resolve(&ctx.catalogue)?;
    let cal = ctx.calibration(&t, args.target.engine.as_deref())?;
    plot::roofline_plot(&args.architectures, &t, args.level, &cal.efficiency, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

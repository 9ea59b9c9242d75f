//! `rooflaw`: the command line over the science crate. Flags are parsed (`args`), turned into typed
//! requests (`resolve`), run by one file per command (`commands/`), and printed (`render`, with plots in `render/plot/`).
//! Errors are one line with a fix, exit code 2.

mod args;
mod commands;
mod render;
mod resolve;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use args::{ArchCommand, CampaignCommand, Cli, Command, DataCommand, DevicesCommand, MeasureCommand, TokenCommand};
use commands as cmd;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing into a closed pipe (`rooflaw … | head`) would panic.
    sigpipe::reset();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the context chain joined with ": ".
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> Result<()> {
    let f = cli.format;
    let mut ctx = resolve::context(cli.devices.as_deref())?;
    match &cli.command {
        Command::Arch(ArchCommand::List) => cmd::arch::list(f),
        Command::Arch(ArchCommand::Show(m)) => cmd::arch::show(f, &resolve::architecture(&resolve::model(m)?)?),
        Command::Devices(DevicesCommand::List) => cmd::devices::list(f, &ctx),
        Command::Devices(DevicesCommand::Show { id }) => cmd::devices::show(f, &ctx, id),
        Command::Predict(a) => {
            let (req, breakdown) = resolve::predict(a, &mut ctx)?;
            cmd::predict::run(f, &ctx, &req, breakdown)
        }
        Command::RooflinePlot(a) => {
            let req = resolve::roofline_plot(a, &mut ctx)?;
            cmd::roofline_plot::run(&ctx, &req)
        }
        Command::Calibrate(a) => {
            let req = resolve::calibrate(a, &mut ctx)?;
            cmd::calibrate::run(f, &ctx, &req)
        }
        Command::Law(a) => {
            let req = resolve::law_request(a, &mut ctx)?;
            cmd::law::run(f, &ctx, &req)
        }
        Command::Fit(a) => cmd::fit::run(f, &resolve::fit(a)?),
        Command::Frontier(a) => {
            let req = resolve::frontier(a, &mut ctx)?;
            cmd::frontier::run(f, &ctx, &req)
        }
        Command::Match(a) => {
            let req = resolve::matching(a, &mut ctx)?;
            cmd::matching::run(f, &ctx, &req)
        }
        Command::Theory(a) => {
            let req = resolve::theory(a, &mut ctx)?;
            cmd::theory::run(f, &ctx, &req)
        }
        Command::Reproduce(a) => cmd::reproduce::run(&ctx, &resolve::reproduce(a)),
        Command::Serve(a) => cmd::serve::run(resolve::serve(a)?),
        Command::Data(DataCommand::Prepare(a)) => cmd::data::prepare_cmd(f, &resolve::prepare(a)?),
        Command::Data(DataCommand::List(a)) => cmd::data::list(f, &resolve::data_dir(a)?),
        Command::Data(DataCommand::Fetch(a)) => {
            let (dir, corpora) = resolve::fetch(a)?;
            cmd::data::fetch_cmd(f, &dir, &corpora)
        }
        Command::Train(a) => {
            if a.exit_with_parent {
                cmd::train::exit_with_parent();
            }
            cmd::train::run(f, &resolve::train(a)?, cmd::train::OnSignal { stop: a.stop_on_signal || a.requeue, requeue: a.requeue })
        }
        Command::Token(TokenCommand::Create(a)) => cmd::token::create(f, &resolve::database(&a.db)?, &a.name, &a.scopes),
        Command::Token(TokenCommand::List(db)) => cmd::token::list(f, &resolve::database(db)?),
        Command::Token(TokenCommand::Revoke { id, db }) => cmd::token::revoke(f, &resolve::database(db)?, *id),
        Command::Campaign(CampaignCommand::Run(a)) => cmd::campaign::run(f, resolve::campaign_run(a)?),
        Command::Campaign(CampaignCommand::Retry { id, job, db, slurm }) => {
            cmd::campaign::retry(f, resolve::campaign_config(db, slurm.as_deref())?, *id, *job)
        }
        Command::Campaign(CampaignCommand::Status { id, db }) => cmd::campaign::status(f, &resolve::database(db)?, *id),
        Command::Campaign(CampaignCommand::Simulate(a)) => {
            let args = resolve::simulate(a, &mut ctx)?;
            cmd::campaign::simulate(f, &ctx, &args)
        }
        Command::Measure(MeasureCommand::Latency(a)) => cmd::measure::latency(f, &resolve::measure_latency(a)?),
        Command::Measure(MeasureCommand::Roofline(a)) => cmd::measure::roofline(f, &resolve::measure_roofline(a)?),
    }
}

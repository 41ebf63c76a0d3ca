// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host`: the command-line front end of the QKD host stack. One
//! subcommand per `Command` variant; today `keyrate` (issue 6, item 9).

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use qkd_host::config::LinkConfig;
use qkd_host::planner::{self, OperatingPoint, Plan};
use std::path::PathBuf;

/// QKD host tools.
#[derive(Debug, Parser)]
#[command(name = "qkd-host", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Subcommands (device, regs, events, run, alice, bob are to come).
#[derive(Debug, Subcommand)]
enum Command {
    /// Expected secret key rate of a link (Lim et al. 2014 finite-key bound).
    Keyrate(KeyrateArgs),
}

#[derive(Debug, Args)]
struct KeyrateArgs {
    /// Link configuration (TOML); built-in defaults when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Fibre length in km (overrides channel.length_km).
    #[arg(long)]
    distance_km: Option<f64>,
    /// Sifted Z bits per block (overrides postprocessing.block_bits).
    #[arg(long)]
    block_bits: Option<u64>,
    /// Optimise intensities, probabilities and q_Z (mu3 fixed).
    #[arg(long)]
    optimize: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Sweep distance start:stop:step in km.
    #[arg(long, value_name = "START:STOP:STEP")]
    sweep: Option<String>,
    /// Write an SVG plot of the sweep.
    #[arg(long, requires = "sweep")]
    plot: Option<PathBuf>,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Keyrate(a) => keyrate(a),
    }
}

fn plan_one(cfg: &LinkConfig, a: &KeyrateArgs, km: f64, block_bits: u64) -> Plan {
    if a.optimize {
        planner::optimize(cfg, km, block_bits)
    } else {
        planner::evaluate(cfg, &OperatingPoint::from_config(cfg), km, block_bits)
    }
}

fn keyrate(a: KeyrateArgs) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => LinkConfig::load(p)?,
        None => LinkConfig::default(),
    };
    let km = a.distance_km.unwrap_or(cfg.channel.length_km);
    if !(km.is_finite() && km >= 0.0) {
        bail!("--distance-km must be finite and >= 0, got {km}");
    }
    let block_bits = a.block_bits.unwrap_or(cfg.block_bits());
    if block_bits == 0 {
        bail!("--block-bits must be >= 1");
    }
    if let Some(spec) = &a.sweep {
        let distances = planner::parse_sweep(spec).map_err(anyhow::Error::msg)?;
        let plans: Vec<Plan> = distances
            .iter()
            .map(|d| plan_one(&cfg, &a, *d, block_bits))
            .collect();
        if let Some(path) = &a.plot {
            planner::plot_sweep(&plans, path).map_err(anyhow::Error::msg)?;
        }
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&plans).context("serialising plans")?
            );
        } else {
            println!("# {}", planner::DEAD_TIME_NOTE);
            println!("# distance_km  secret_bits_per_pulse  secret_bits_per_second  qber");
            for p in &plans {
                println!(
                    "{:10.2}  {:20.6e}  {:22.6e}  {:.5}",
                    p.distance_km, p.secret_bits_per_pulse, p.secret_bits_per_second, p.qber
                );
            }
        }
        return Ok(());
    }
    let p = plan_one(&cfg, &a, km, block_bits);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&p).context("serialising plan")?
        );
    } else {
        print_plan(&p);
    }
    Ok(())
}

fn print_plan(p: &Plan) {
    println!("distance               {} km", p.distance_km);
    println!(
        "block (n_Z)            {} bits, {:.4e} pulses",
        p.block_bits, p.pulses_per_block
    );
    println!("secret bits per pulse  {:.6e}", p.secret_bits_per_pulse);
    println!("secret bits per second {:.6e}", p.secret_bits_per_second);
    println!("secret bits per block  {:.0}", p.secret_bits_per_block);
    if let Some(r) = &p.no_key_reason {
        println!("no key                 {r}");
    }
    println!("QBER (Z)               {:.5}", p.qber);
    println!("phase error bound phi  {:.5}", p.phase_error_bound);
    println!("s_Z0                   {:.1}", p.s_z0);
    println!("s_Z1                   {:.1}", p.s_z1);
    println!("s_X1                   {:.1}", p.s_x1);
    println!("v_X1                   {:.1}", p.v_x1);
    println!("lambda_EC              {:.1}", p.lambda_ec);
    println!(
        "intensities            mu1 {:.5}  mu2 {:.5}  mu3 {:.5}",
        p.intensities[0], p.intensities[1], p.intensities[2]
    );
    println!(
        "probabilities          p1 {:.4}  p2 {:.4}  p3 {:.4}",
        p.probabilities[0], p.probabilities[1], p.probabilities[2]
    );
    println!("basis Z probability    {:.4}", p.basis_z_probability);
    println!("note                   {}", p.note);
}

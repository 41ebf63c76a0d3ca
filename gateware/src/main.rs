// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-gateware`: generate the Verilog and register-map exports of the
//! QKD cores (`generate --role alice|bob|both ... --out DIR`).

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use qkd_abi::{GenParams, Role};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "qkd-gateware",
    version,
    about = "QKD gateware generator (rust-hdl)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Alice,
    Bob,
    Both,
}

/// `--seed`'s list (a newtype: clap reads a `Vec` field as a repeated flag).
#[derive(Clone)]
struct SeedList(Vec<u32>);

fn seed_list(text: &str) -> Result<SeedList, String> {
    qkd_gateware::report::parse_seed_list(text).map(SeedList)
}

#[derive(Subcommand)]
enum Command {
    /// Write qkd_<role>.v, csr.json, csr.csv, qkd_<role>_regs.h, regmap_<role>.md
    /// and the FuseSoC core qkd_<role>.core.
    Generate {
        /// Which core; `both` writes OUT/alice/ and OUT/bob/.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Symbols (slots) per fabric clock: 1, 2, 4 or 8.
        #[arg(long, default_value_t = 4)]
        lanes: u8,
        /// Bob: TDC samples per slot (4, 8 or 16).
        #[arg(long, default_value_t = 8)]
        oversample: u8,
        /// Bob: number of detectors (1 to 4).
        #[arg(long, default_value_t = 2)]
        detectors: u8,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Open-flow synthesis (Yosys synth_ecp5) and timing (nextpnr-ecp5):
    /// writes OUT/report.json and prints a table.
    Report {
        /// Which core.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Symbols (slots) per fabric clock: 1, 2, 4 or 8.
        #[arg(long, default_value_t = 4)]
        lanes: u8,
        /// Bob: TDC samples per slot.
        #[arg(long, default_value_t = 8)]
        oversample: u8,
        /// Bob: number of detectors.
        #[arg(long, default_value_t = 2)]
        detectors: u8,
        /// ECP5 part, e.g. LFE5U-25F-6BG381C (ULX3S) or LFE5UM5G-85F-8BG381C.
        #[arg(long, default_value = "LFE5U-25F-6BG381C")]
        part: String,
        /// Target clock in MHz (default: the ABI fabric clock for LANES).
        #[arg(long)]
        target_mhz: Option<f64>,
        /// Clock constraint for nextpnr's timing-driven place and route, MHz
        /// (default: target * 1.5, the margin goal; the timing-driven placer
        /// only works on paths that miss the constraint).
        #[arg(long)]
        pnr_mhz: Option<f64>,
        /// nextpnr placer seed, or a sweep of them: `1-4`, `1,3,7`. With
        /// several seeds the design is synthesised once and placed and
        /// routed once per seed (in OUT/seed-S/); report.json gives each
        /// seed's Fmax and critical path, the median and the best.
        #[arg(long, default_value = "1", value_parser = seed_list)]
        seed: SeedList,
        /// Place-and-route runs at a time (default: the number of seeds,
        /// at most the available cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// A further nextpnr-ecp5 argument, e.g. `--pnr-arg=--placer-heap-timingweight
        /// --pnr-arg=30` (repeat for each word; recorded in report.json).
        /// Given ones replace the defaults (`--placer-heap-timingweight 30`);
        /// `--pnr-arg=--placer-heap-timingweight --pnr-arg=10` runs nextpnr's own.
        #[arg(long = "pnr-arg", allow_hyphen_values = true)]
        pnr_args: Vec<String>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate {
            role,
            lanes,
            oversample,
            detectors,
            out,
        } => {
            let jobs: Vec<(GenParams, PathBuf)> = match role {
                RoleArg::Alice => vec![(GenParams::alice(lanes), out)],
                RoleArg::Bob => vec![(GenParams::bob(lanes, oversample, detectors), out)],
                RoleArg::Both => vec![
                    (GenParams::alice(lanes), out.join(Role::Alice.name())),
                    (
                        GenParams::bob(lanes, oversample, detectors),
                        out.join(Role::Bob.name()),
                    ),
                ],
            };
            for (params, dir) in jobs {
                let files = qkd_gateware::generate::generate(&params, &dir).with_context(|| {
                    format!("generating role {} into {}", params.role, dir.display())
                })?;
                for f in files {
                    println!("{}", f.display());
                }
            }
            Ok(())
        }
        Command::Report {
            role,
            lanes,
            oversample,
            detectors,
            part,
            target_mhz,
            pnr_mhz,
            seed,
            jobs,
            pnr_args,
            out,
        } => report(
            role, lanes, oversample, detectors, &part, target_mhz, pnr_mhz, seed.0, jobs, pnr_args,
            out,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    role: RoleArg,
    lanes: u8,
    oversample: u8,
    detectors: u8,
    part: &str,
    target_mhz: Option<f64>,
    pnr_mhz: Option<f64>,
    seeds: Vec<u32>,
    jobs: Option<usize>,
    pnr_args: Vec<String>,
    out: PathBuf,
) -> anyhow::Result<()> {
    use qkd_gateware::report;
    let params = match role {
        RoleArg::Alice => GenParams::alice(lanes),
        RoleArg::Bob => GenParams::bob(lanes, oversample, detectors),
        RoleArg::Both => anyhow::bail!("report takes one role (alice or bob)"),
    };
    let mut opts = report::ReportOptions::new(params, out);
    opts.part = report::Ecp5Part::parse(part)?;
    if let Some(t) = target_mhz {
        opts.target_mhz = t;
        opts = opts.with_margin_goal();
    }
    if let Some(p) = pnr_mhz {
        anyhow::ensure!(
            p.is_finite() && p > 0.0,
            "--pnr-mhz {p}: must be a positive clock in MHz"
        );
        opts.pnr_mhz = p;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    opts.jobs = match jobs {
        Some(0) => anyhow::bail!("--jobs 0: must be at least 1"),
        Some(j) => j,
        None => seeds.len().min(cores),
    };
    opts.seeds = seeds;
    if !pnr_args.is_empty() {
        opts.pnr_args = pnr_args;
    }
    let r = report::run(&opts).with_context(|| format!("report for role {}", params.role))?;
    print!("{}", r.table());
    println!("{}", opts.out.join("report.json").display());
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

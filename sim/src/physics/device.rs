// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulated Alice and Bob devices for the driver's `sim:` and
//! `sim+verilator:` schemes: both ends of one simulated fiber behind
//! qkd-driver's [`RegIo`] + [`EventSource`] traits, opened through its
//! [`BackendProvider`] hook (`qkd_driver::open_with(uri, &SimProvider)`).
//!
//! * `sim:` runs a [`FastLink`] (behavioural, faster than real time).
//! * `sim+verilator:` runs an [`ExactLink`]: the same physics between the
//!   Verilated `qkd_alice` and `qkd_bob` tops, whose AXI4-Stream records
//!   are the streams (slow; for verification runs).
//!
//! URI: `sim:alice?...`, `sim:bob?...`, `sim+verilator:alice?...`, ...;
//! options (all optional): `link` (name; devices with the same name share
//! one link, default `default`), `distance_km`, `seed` (physics),
//! `alice_seed`, `bob_seed`, `pulses` (slots to simulate, then the streams
//! end; default 2^30), `chunk` (slots simulated per refill, default 2^22;
//! chunking is part of the random sequence), `status_log2` (both roles'
//! `STREAM_CTRL.STATUS_INTERVAL_LOG2`), `alice_stream` (`sparse`, the
//! default of `sim:`, or `full`; `sim+verilator:` is always full, as the
//! hardware), `attack` (an [`AttackKind`] name, active all run),
//! `bob_sync_cycle` (cycles from Bob's START to `sync_in`, default 0);
//! `sim+verilator:` only: `verilog_dir` (directory of `qkd_alice.v` and
//! `qkd_bob.v`, default `$QKD_VERILOG_DIR`). The first device opened with a
//! given `link` name fixes its parameters.
//!
//! Registers: an in-memory file preloaded with the qkd-abi reset values of
//! the role's map (so the header passes the driver's open checks). The
//! link runs from open with the URI's seeds (as after START with the test
//! PRNG); register writes are stored but do not reconfigure the link.
//! `sim:` updates Bob's counters, live/sticky alarms and Alice's symbol
//! count on every refill from its model; `sim+verilator:` fills the file
//! with the cores' own registers read over AXI4-Lite (every readable
//! register at open, header included; the RO/W1C ones again round after
//! round while the cores run). Streams are unbounded queues (no
//! back-pressure, no GAP).

use super::alice::AliceStreamMode;
use super::attack::{AttackConfig, AttackKind};
use super::link::{FastLink, LinkOutput, LinkParams};
use crate::verilator::link::{ExactError, ExactLink, ExactVerilog, RegSnapshot};
use qkd_abi::regmap::{alice as aregs, bob as bregs};
use qkd_abi::{GenParams, RegisterMap, Role};
use qkd_driver::device::{Backend, BackendProvider, DeviceUri};
use qkd_driver::{Error as DriverError, EventSource, MemRegs, Result as DriverResult};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The link behind a pair of devices.
enum Engine {
    /// `sim:`.
    Fast(Box<FastLink>),
    /// `sim+verilator:`.
    Exact(Box<ExactLink>),
}

impl Engine {
    fn scheme(&self) -> &'static str {
        match self {
            Engine::Fast(_) => "sim",
            Engine::Exact(_) => "sim+verilator",
        }
    }

    fn params(&self) -> &LinkParams {
        match self {
            Engine::Fast(l) => l.params(),
            Engine::Exact(l) => l.params(),
        }
    }

    fn slots(&self) -> u64 {
        match self {
            Engine::Fast(l) => l.slots(),
            Engine::Exact(l) => l.slots(),
        }
    }
}

/// A failure of the link reported again on later reads.
#[derive(Debug, thiserror::Error)]
#[error("the {scheme} link '{link}' failed earlier: {message}")]
pub struct LinkFailed {
    /// Scheme.
    pub scheme: &'static str,
    /// Link name.
    pub link: String,
    /// The first error, with its causes.
    pub message: String,
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut m = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        m.push_str(": ");
        m.push_str(&s.to_string());
        src = s.source();
    }
    m
}

struct Shared {
    link: Engine,
    name: String,
    failed: Option<String>,
    /// `sim+verilator:`: the latest register values read from each core.
    core_regs: [BTreeMap<u32, u32>; 2],
    queues: [VecDeque<u8>; 2],
    regs: [Option<MemRegs>; 2],
    remaining: u64,
    chunk: u64,
    /// Slots of the valid (not INVALID-flagged) DETECTION records whose bit
    /// Eve knows.
    eve_known_valid: Vec<u64>,
}

impl Shared {
    fn new(link: Engine, name: &str, pulses: u64, chunk: u64) -> Shared {
        Shared {
            link,
            name: name.to_string(),
            failed: None,
            core_regs: [BTreeMap::new(), BTreeMap::new()],
            queues: [VecDeque::new(), VecDeque::new()],
            regs: [None, None],
            remaining: pulses,
            chunk: chunk.max(64),
            eve_known_valid: Vec::new(),
        }
    }

    fn run_chunk(&mut self) -> Result<LinkOutput, ExactError> {
        let n = self.chunk.min(self.remaining);
        let end = self.link.slots() + n;
        self.remaining -= n;
        let last = self.remaining == 0;
        match &mut self.link {
            Engine::Fast(l) => {
                l.run_until(end);
                if last {
                    l.finish();
                }
                Ok(l.take_output())
            }
            Engine::Exact(l) => {
                l.run_until(end)?;
                if last {
                    l.finish()?;
                }
                Ok(l.take_output())
            }
        }
    }

    fn refill(&mut self) -> DriverResult<()> {
        if let Some(m) = &self.failed {
            return Err(DriverError::Backend {
                scheme: self.link.scheme().into(),
                source: Box::new(LinkFailed {
                    scheme: self.link.scheme(),
                    link: self.name.clone(),
                    message: m.clone(),
                }),
            });
        }
        if self.remaining == 0 {
            return Ok(());
        }
        let out = match self.run_chunk() {
            Ok(o) => o,
            Err(e) => {
                self.failed = Some(error_chain(&e));
                self.remaining = 0;
                return Err(DriverError::Backend {
                    scheme: self.link.scheme().into(),
                    source: Box::new(e),
                });
            }
        };
        self.eve_known_valid.extend(
            out.eve
                .iter()
                .filter(|t| t.eve_knows && !t.invalid)
                .map(|t| t.slot),
        );
        let mut words = Vec::new();
        for (q, recs) in self.queues.iter_mut().zip([&out.alice, &out.bob]) {
            words.clear();
            for r in recs.iter() {
                // Records built by the link are always encodable.
                if r.encode(&mut words).is_err() {
                    continue;
                }
            }
            q.reserve(words.len() * 8);
            for w in &words {
                q.extend(&w.to_le_bytes());
            }
        }
        let link = match &mut self.link {
            Engine::Fast(l) => l,
            Engine::Exact(l) => {
                for (side, role) in [(0, Role::Alice), (1, Role::Bob)] {
                    let reads = l.take_register_reads(role);
                    if let Some(r) = &self.regs[side] {
                        apply_reads(r, &reads);
                    }
                    self.core_regs[side].extend(reads);
                }
                return Ok(());
            }
        };
        if let Some(r) = &self.regs[0] {
            r.set(aregs::ALICE_SYMBOLS_LO.offset, link.slots() as u32);
            r.set(aregs::ALICE_SYMBOLS_HI.offset, (link.slots() >> 32) as u32);
            r.set(aregs::ALICE_STATE.offset, u32::from(self.remaining > 0) | 2);
        }
        if let Some(r) = &self.regs[1] {
            let t = *link.bob_totals();
            r.set(bregs::GATES_LO.offset, t.gates as u32);
            r.set(bregs::GATES_HI.offset, (t.gates >> 32) as u32);
            r.set(bregs::ACCEPTED.offset, t.accepted as u32);
            r.set(bregs::AFTER_GATE.offset, t.after_gate as u32);
            r.set(
                bregs::DEAD_TIME_SUPPRESSED.offset,
                t.dead_time_suppressed as u32,
            );
            r.set(bregs::INVALID.offset, t.invalid as u32);
            for d in 0..2 {
                r.set(bregs::CLICKS[d].offset, t.clicks[d] as u32);
                r.set(
                    bregs::PHOTOCURRENT_LAST[d].offset,
                    u32::from(t.photocurrent_last[d]),
                );
            }
            r.set(bregs::BOB_ALARMS.offset, t.alarms_sticky);
            let live = link.bob_alarms_live();
            r.set(
                bregs::BOB_STATE.offset,
                u32::from(self.remaining > 0) | 2 | (live & 0x7F) << 8,
            );
        }
        Ok(())
    }
}

/// Store register values read from a core into the register file.
fn apply_reads(r: &MemRegs, reads: &RegSnapshot) {
    for &(off, v) in reads {
        r.set(off, v);
    }
}

/// One side's record stream.
struct SimStream {
    shared: Arc<Mutex<Shared>>,
    side: usize,
    name: String,
}

impl EventSource for SimStream {
    fn read_bytes(&mut self, buf: &mut [u8], _timeout: Duration) -> DriverResult<usize> {
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        while s.queues[self.side].is_empty() && s.remaining > 0 {
            s.refill()?;
        }
        if s.queues[self.side].is_empty() && s.failed.is_some() {
            s.refill()?;
        }
        let q = &mut s.queues[self.side];
        if q.is_empty() {
            return Err(DriverError::StreamEnded {
                path: PathBuf::from(&self.name),
            });
        }
        let n = buf.len().min(q.len());
        let (front, back) = q.as_slices();
        let k = n.min(front.len());
        buf[..k].copy_from_slice(&front[..k]);
        buf[k..n].copy_from_slice(&back[..n - k]);
        q.drain(..n);
        Ok(n)
    }
}

/// The `sim:` backend provider: pass it to `qkd_driver::open_with`.
#[derive(Default)]
pub struct SimProvider {
    links: Mutex<HashMap<String, Arc<Mutex<Shared>>>>,
}

impl std::fmt::Debug for SimProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProvider").finish_non_exhaustive()
    }
}

fn bad(uri: &DeviceUri, reason: String) -> DriverError {
    DriverError::BadUri {
        uri: uri.uri.clone(),
        reason,
    }
}

/// Options both schemes accept.
const OPTIONS: &[&str] = &[
    "link",
    "distance_km",
    "seed",
    "alice_seed",
    "bob_seed",
    "pulses",
    "chunk",
    "status_log2",
    "alice_stream",
    "attack",
    "bob_sync_cycle",
];

/// Link parameters from a `sim:` (or `sim+verilator:`) URI's options
/// (defaults: [`LinkParams::default`]). Checks only the options; the
/// caller checks that no unknown option is given.
fn link_params_from_options(uri: &DeviceUri) -> DriverResult<LinkParams> {
    let mut p = LinkParams::default();
    if let Some(v) = uri.option("distance_km") {
        p.channel.length_km = v
            .parse()
            .map_err(|e| bad(uri, format!("distance_km '{v}': {e}")))?;
    }
    p.physics_seed = uri.option_u64("seed", p.physics_seed)?;
    p.alice_seed = uri.option_u64("alice_seed", p.alice_seed)?;
    p.bob_seed = uri.option_u64("bob_seed", p.bob_seed)?;
    if uri.option("status_log2").is_some() {
        let t = uri.option_u64("status_log2", 0)?;
        if t > 40 {
            return Err(bad(uri, format!("status_log2 {t}: at most 40")));
        }
        p.alice_status_interval_log2 = t as u8;
        p.bob.status_interval_log2 = t as u8;
    }
    p.alice_stream = match uri.option("alice_stream") {
        None | Some("sparse") => AliceStreamMode::Sparse,
        Some("full") => AliceStreamMode::Full,
        Some(v) => {
            return Err(bad(
                uri,
                format!("alice_stream '{v}': expected 'sparse' or 'full'"),
            ))
        }
    };
    p.bob_sync_cycle = uri.option_u64("bob_sync_cycle", p.bob_sync_cycle)?;
    if let Some(a) = uri.option("attack") {
        let kind: AttackKind = a.parse().map_err(|e: String| bad(uri, e))?;
        p.attack = AttackConfig::always(kind);
    }
    if uri.scheme == SCHEME_EXACT {
        // The hardware stream: every ALICE_SYMBOLS record.
        p.alice_stream = AliceStreamMode::Full;
    }
    p.validate().map_err(|e| bad(uri, e.to_string()))?;
    Ok(p)
}

/// Link parameters from a `sim:` URI's options (defaults: [`LinkParams::default`]).
pub fn link_params_from_uri(uri: &DeviceUri) -> DriverResult<LinkParams> {
    uri.only_options(OPTIONS)?;
    link_params_from_options(uri)
}

/// The scheme of the behavioural link.
pub const SCHEME_FAST: &str = "sim";
/// The scheme of the exact link.
pub const SCHEME_EXACT: &str = "sim+verilator";

impl SimProvider {
    /// A provider with no links yet.
    pub fn new() -> SimProvider {
        SimProvider::default()
    }

    fn insert(&self, name: &str, shared: Shared) {
        let mut m = self.links.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(name.to_string(), Arc::new(Mutex::new(shared)));
    }

    /// Create (or replace) the `sim:` link named `name` from explicit
    /// parameters, before opening its devices.
    pub fn insert_link(
        &self,
        name: &str,
        p: LinkParams,
        pulses: u64,
        chunk: u64,
    ) -> Result<(), super::SimError> {
        let link = Engine::Fast(Box::new(FastLink::new(p)?));
        self.insert(name, Shared::new(link, name, pulses, chunk));
        Ok(())
    }

    /// Create (or replace) the `sim+verilator:` link named `name`: the
    /// Verilated tops of `verilog` with the physics of `p` (Verilates them
    /// or takes them from the cache, configures and starts both cores).
    pub fn insert_exact_link(
        &self,
        name: &str,
        p: LinkParams,
        pulses: u64,
        chunk: u64,
        verilog: &ExactVerilog,
    ) -> Result<(), ExactError> {
        let link = Engine::Exact(Box::new(ExactLink::new(p, verilog)?));
        self.insert(name, Shared::new(link, name, pulses, chunk));
        Ok(())
    }
}

impl SimProvider {
    /// What the simulator knows and the devices do not tell: the slots of
    /// the valid DETECTION records of link `name` simulated so far whose bit
    /// Eve knows with certainty (`None` for an unknown link).
    pub fn eve_known_valid_slots(&self, name: &str) -> Option<Vec<u64>> {
        let m = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.get(name)?.lock().unwrap_or_else(|e| e.into_inner());
        Some(s.eve_known_valid.clone())
    }

    /// `sim+verilator:` link `name`: the fabric cycles each Verilated core
    /// has run since its START (both cores run the same cycles); `None`
    /// for an unknown or a `sim:` link.
    pub fn exact_cycles(&self, name: &str) -> Option<u64> {
        let m = self.links.lock().unwrap_or_else(|e| e.into_inner());
        let s = m.get(name)?.lock().unwrap_or_else(|e| e.into_inner());
        match &s.link {
            Engine::Exact(l) => Some(l.bob_cycles()),
            Engine::Fast(_) => None,
        }
    }
}

impl BackendProvider for SimProvider {
    fn schemes(&self) -> Vec<String> {
        vec![SCHEME_FAST.into(), SCHEME_EXACT.into()]
    }

    fn open_backend(&self, uri: &DeviceUri) -> DriverResult<Backend> {
        let role: Role = uri.target.parse().map_err(|e: String| bad(uri, e))?;
        let exact = uri.scheme == SCHEME_EXACT;
        if exact {
            let mut allowed = OPTIONS.to_vec();
            allowed.push("verilog_dir");
            uri.only_options(&allowed)?;
        } else {
            uri.only_options(OPTIONS)?;
        }
        let name = uri.option("link").unwrap_or("default").to_string();
        let shared = {
            let mut m = self.links.lock().unwrap_or_else(|e| e.into_inner());
            match m.get(&name) {
                Some(s) => s.clone(),
                None => {
                    let p = link_params_from_options(uri)?;
                    let link = if exact {
                        let v = ExactVerilog::locate(uri.option("verilog_dir")).map_err(|e| {
                            DriverError::Backend {
                                scheme: SCHEME_EXACT.into(),
                                source: Box::new(e),
                            }
                        })?;
                        Engine::Exact(Box::new(ExactLink::new(p, &v).map_err(|e| {
                            DriverError::Backend {
                                scheme: SCHEME_EXACT.into(),
                                source: Box::new(e),
                            }
                        })?))
                    } else {
                        Engine::Fast(Box::new(
                            FastLink::new(p).map_err(|e| bad(uri, e.to_string()))?,
                        ))
                    };
                    let s = Arc::new(Mutex::new(Shared::new(
                        link,
                        &name,
                        uri.option_u64("pulses", 1 << 30)?,
                        uri.option_u64("chunk", 1 << 22)?,
                    )));
                    m.insert(name.clone(), s.clone());
                    s
                }
            }
        };
        let side = match role {
            Role::Alice => 0,
            Role::Bob => 1,
        };
        let mut sh = shared.lock().unwrap_or_else(|e| e.into_inner());
        if sh.link.scheme() != uri.scheme {
            return Err(bad(
                uri,
                format!(
                    "link '{name}' is a {}: link, not {}:",
                    sh.link.scheme(),
                    uri.scheme
                ),
            ));
        }
        let p = sh.link.params();
        let gp = match role {
            Role::Alice => GenParams::alice(p.lanes),
            Role::Bob => GenParams::bob(p.lanes, p.bob.oversample, 2),
        };
        let regs = MemRegs::from_map(&RegisterMap::new(gp));
        if let Engine::Exact(l) = &mut sh.link {
            // The core's own header and registers, read over AXI4-Lite.
            let reads = l.take_register_reads(role);
            sh.core_regs[side].extend(reads);
            let all: RegSnapshot = sh.core_regs[side].iter().map(|(&a, &v)| (a, v)).collect();
            apply_reads(&regs, &all);
        }
        sh.regs[side] = Some(regs.clone());
        let scheme = sh.link.scheme();
        drop(sh);
        Ok(Backend {
            regs: Box::new(regs),
            events: Some(Box::new(SimStream {
                shared,
                side,
                name: format!("{scheme}:{}?link={name}", role.name()),
            })),
        })
    }
}

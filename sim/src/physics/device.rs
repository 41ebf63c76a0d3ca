// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulated Alice and Bob devices for the driver's `sim:` scheme: both
//! ends of one [`FastLink`] (one simulated fiber) behind qkd-driver's
//! [`RegIo`] + [`EventSource`] traits, opened through its
//! [`BackendProvider`] hook (`qkd_driver::open_with(uri, &SimProvider)`).
//!
//! URI: `sim:alice?...` or `sim:bob?...`, options (all optional):
//! `link` (name; devices with the same name share one link, default
//! `default`), `distance_km`, `seed` (physics), `alice_seed`, `bob_seed`,
//! `pulses` (slots to simulate, then the streams end; default 2^30),
//! `chunk` (slots simulated per refill, default 2^22). The first device
//! opened with a given `link` name fixes its parameters.
//!
//! Registers: an in-memory file preloaded with the qkd-abi reset values of
//! the role's map (so the header passes the driver's open checks). The
//! link runs from open with the URI's seeds (as after START with the test
//! PRNG); register writes are stored but do not reconfigure the link. Bob's
//! counters, live/sticky alarms and Alice's symbol count are updated on
//! every refill. Streams are unbounded queues (no back-pressure, no GAP).

use super::link::{FastLink, LinkParams};
use qkd_abi::regmap::{alice as aregs, bob as bregs};
use qkd_abi::{GenParams, RegisterMap, Role};
use qkd_driver::device::{Backend, BackendProvider, DeviceUri};
use qkd_driver::{Error as DriverError, EventSource, MemRegs, Result as DriverResult};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Shared {
    link: FastLink,
    queues: [VecDeque<u8>; 2],
    regs: [Option<MemRegs>; 2],
    remaining: u64,
    chunk: u64,
    /// Slots of the valid (not INVALID-flagged) DETECTION records whose bit
    /// Eve knows.
    eve_known_valid: Vec<u64>,
}

impl Shared {
    fn refill(&mut self) {
        let n = self.chunk.min(self.remaining);
        if n == 0 {
            return;
        }
        let end = self.link.slots() + n;
        self.link.run_until(end);
        self.remaining -= n;
        if self.remaining == 0 {
            self.link.finish();
        }
        let out = self.link.take_output();
        self.eve_known_valid.extend(
            out.eve
                .iter()
                .filter(|t| t.eve_knows && !t.invalid)
                .map(|t| t.slot),
        );
        for (q, recs) in self.queues.iter_mut().zip([&out.alice, &out.bob]) {
            let mut words = Vec::new();
            for r in recs.iter() {
                // Records built by the link are always encodable.
                if r.encode(&mut words).is_err() {
                    continue;
                }
            }
            q.extend(words.iter().flat_map(|w| w.to_le_bytes()));
        }
        if let Some(r) = &self.regs[0] {
            r.set(aregs::ALICE_SYMBOLS_LO.offset, self.link.slots() as u32);
            r.set(
                aregs::ALICE_SYMBOLS_HI.offset,
                (self.link.slots() >> 32) as u32,
            );
            r.set(aregs::ALICE_STATE.offset, u32::from(self.remaining > 0) | 2);
        }
        if let Some(r) = &self.regs[1] {
            let t = *self.link.bob_totals();
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
            let live = self.link.bob_alarms_live();
            r.set(
                bregs::BOB_STATE.offset,
                u32::from(self.remaining > 0) | 2 | (live & 0x7F) << 8,
            );
        }
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
            s.refill();
        }
        let q = &mut s.queues[self.side];
        if q.is_empty() {
            return Err(DriverError::StreamEnded {
                path: PathBuf::from(&self.name),
            });
        }
        let n = buf.len().min(q.len());
        for (b, x) in buf.iter_mut().zip(q.drain(..n)) {
            *b = x;
        }
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

/// Link parameters from a `sim:` URI's options (defaults: [`LinkParams::default`]).
pub fn link_params_from_uri(uri: &DeviceUri) -> DriverResult<LinkParams> {
    uri.only_options(&[
        "link",
        "distance_km",
        "seed",
        "alice_seed",
        "bob_seed",
        "pulses",
        "chunk",
    ])?;
    let mut p = LinkParams::default();
    if let Some(v) = uri.option("distance_km") {
        p.channel.length_km = v
            .parse()
            .map_err(|e| bad(uri, format!("distance_km '{v}': {e}")))?;
    }
    p.physics_seed = uri.option_u64("seed", p.physics_seed)?;
    p.alice_seed = uri.option_u64("alice_seed", p.alice_seed)?;
    p.bob_seed = uri.option_u64("bob_seed", p.bob_seed)?;
    p.validate().map_err(|e| bad(uri, e.to_string()))?;
    Ok(p)
}

impl SimProvider {
    /// A provider with no links yet.
    pub fn new() -> SimProvider {
        SimProvider::default()
    }

    /// Create (or replace) the link named `name` from explicit parameters,
    /// before opening its devices.
    pub fn insert_link(
        &self,
        name: &str,
        p: LinkParams,
        pulses: u64,
        chunk: u64,
    ) -> Result<(), super::SimError> {
        let shared = Shared {
            link: FastLink::new(p)?,
            queues: [VecDeque::new(), VecDeque::new()],
            regs: [None, None],
            remaining: pulses,
            chunk: chunk.max(64),
            eve_known_valid: Vec::new(),
        };
        let mut m = self.links.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(name.to_string(), Arc::new(Mutex::new(shared)));
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
}

impl BackendProvider for SimProvider {
    fn schemes(&self) -> Vec<String> {
        vec!["sim".into()]
    }

    fn open_backend(&self, uri: &DeviceUri) -> DriverResult<Backend> {
        let role: Role = uri.target.parse().map_err(|e: String| bad(uri, e))?;
        let name = uri.option("link").unwrap_or("default").to_string();
        let shared = {
            let mut m = self.links.lock().unwrap_or_else(|e| e.into_inner());
            match m.get(&name) {
                Some(s) => s.clone(),
                None => {
                    let p = link_params_from_uri(uri)?;
                    let link = FastLink::new(p).map_err(|e| bad(uri, e.to_string()))?;
                    let s = Arc::new(Mutex::new(Shared {
                        link,
                        queues: [VecDeque::new(), VecDeque::new()],
                        regs: [None, None],
                        remaining: uri.option_u64("pulses", 1 << 30)?,
                        chunk: uri.option_u64("chunk", 1 << 22)?.max(64),
                        eve_known_valid: Vec::new(),
                    }));
                    m.insert(name.clone(), s.clone());
                    s
                }
            }
        };
        let side = match role {
            Role::Alice => 0,
            Role::Bob => 1,
        };
        let lanes = shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .link
            .params()
            .lanes;
        let gp = match role {
            Role::Alice => GenParams::alice(lanes),
            Role::Bob => GenParams::bob(lanes, 8, 2),
        };
        let regs = MemRegs::from_map(&RegisterMap::new(gp));
        shared.lock().unwrap_or_else(|e| e.into_inner()).regs[side] = Some(regs.clone());
        Ok(Backend {
            regs: Box::new(regs),
            events: Some(Box::new(SimStream {
                shared,
                side,
                name: format!("sim:{}?link={name}", role.name()),
            })),
        })
    }
}

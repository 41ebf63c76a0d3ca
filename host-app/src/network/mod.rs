// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host network`: a trusted-node QKD network in one process. Every
//! link of the topology ([`topology`]) runs as a full simulated link (the
//! physics and the real key pipeline of `qkd-host run`, links in parallel
//! threads); then the applications' key demand is played in link time
//! against the keys the links made, relayed hop by hop ([`relay`]):
//!
//! ```text
//!  SAE_A ─enc_keys─▶ node A ══link══ node B ══link══ node C ◀─dec_keys─ SAE_C
//!                    K xor p1 ──────▶ K xor p2 ──────▶ K
//! ```
//!
//! A request at time t takes the route with the fewest hops among the links
//! that are up (no detector alarm latched before t) and hold enough key at
//! t; without one it waits up to `max_wait_s` for key to arrive, then fails
//! (the ETSI GS QKD 014 answer would be 503, no key available).

pub mod relay;
pub mod topology;

use crate::run::{RunDevices, RunError, RunOptions, DEFAULT_RUN_PSK_BYTES};
use qkd_keyproc::key::SecretKey;
use relay::{Relay, RelayError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use topology::Topology;

/// What to run.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// The network.
    pub topology: Topology,
    /// Seconds of link time every link runs.
    pub seconds: f64,
    /// Links simulated at once.
    pub threads: usize,
    /// Longest a key request waits for a route, seconds of link time.
    pub max_wait_s: f64,
}

/// Errors of a network run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// A link's simulation failed.
    #[error("link {link}")]
    Link {
        /// The link.
        link: String,
        /// Cause.
        #[source]
        source: RunError,
    },
    /// A simulation thread panicked.
    #[error("the simulation thread of link {0} failed")]
    Thread(String),
}

/// One link in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct LinkReport {
    /// Name.
    pub name: String,
    /// Its two nodes.
    pub between: [String; 2],
    /// Secret key bits delivered per second of link time.
    pub secret_bits_per_second: f64,
    /// Key bits made (delivered by the link's pipeline).
    pub made_bits: u64,
    /// Key bits the relay used (the same at both ends).
    pub used_bits: u64,
    /// Key bits left at the end of the run.
    pub store_bits: u64,
    /// Link time (s) at which a detector alarm took it out of routing.
    pub alarm_at_s: Option<f64>,
    /// Both ends' keys equal for every block.
    pub keys_match: bool,
}

/// One pair of SAEs that exchanged keys.
#[derive(Debug, Clone, Serialize)]
pub struct PairReport {
    /// Master SAE.
    pub from: String,
    /// Slave SAE.
    pub to: String,
    /// Keys delivered at both ends.
    pub keys: u64,
    /// Key bits delivered.
    pub bits: u64,
    /// Requests that found no route in time.
    pub failed: u64,
    /// Hops of the routes taken (fewest, most).
    pub hops: [usize; 2],
    /// End-to-end key bits per second of link time.
    pub bits_per_second: f64,
    /// Every key the slave's node recovered equals the master's.
    pub keys_match: bool,
}

/// What a network run did.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkSummary {
    /// Per link.
    pub links: Vec<LinkReport>,
    /// Per pair of SAEs with demand.
    pub pairs: Vec<PairReport>,
    /// Keys relayed end to end.
    pub relayed_keys: u64,
    /// Relayed keys that any later link of their route would have carried
    /// after its alarm (must be 0).
    pub relayed_after_alarm: u64,
    /// The link whose key ran lowest relative to its use (used / made).
    pub bottleneck: Option<String>,
    /// Seconds of link time.
    pub seconds: f64,
    /// Wall seconds.
    pub wall_seconds: f64,
}

/// A link's run: its key blocks (link time, Alice's key, Bob's key) and
/// when an alarm stopped it.
struct LinkRun {
    blocks: Vec<(f64, SecretKey, SecretKey)>,
    alarm_at_s: Option<f64>,
    delivered_bits: u64,
    keys_match: bool,
}

fn simulate(link: &topology::Link, seconds: f64) -> Result<LinkRun, RunError> {
    let rate = link.config.source.pulse_rate_hz;
    let pulses = (seconds * rate).round() as u64;
    let attack = match link.attack {
        Some(kind) => qkd_sim::physics::AttackConfig {
            kind,
            start_slot: (link.attack_from_s * rate).round() as u64,
            end_slot: u64::MAX,
        },
        None => qkd_sim::physics::AttackConfig::default(),
    };
    let opts = RunOptions {
        config: link.config.clone(),
        pulses,
        seed: link.seed,
        progress: false,
        attack,
        psk_bytes: DEFAULT_RUN_PSK_BYTES,
        devices: RunDevices::Models,
    };
    let (s, keys) = crate::run::run(&opts)?;
    let n = keys.len();
    let blocks = keys
        .into_iter()
        .enumerate()
        .map(|(i, (a, b))| {
            // When the block's last slot was sent; spread evenly if the run
            // did not say (it always does for key blocks).
            let slot = s
                .key_block_last_slots
                .get(i)
                .copied()
                .unwrap_or(pulses * (i as u64 + 1) / n.max(1) as u64);
            (slot as f64 / rate, a, b)
        })
        .collect();
    Ok(LinkRun {
        blocks,
        alarm_at_s: s.alarm_latched_at_slot.map(|a| a as f64 / rate),
        delivered_bits: s.delivered_bits,
        keys_match: s.keys_match,
    })
}

/// Run every link (at most `threads` at once).
fn simulate_all(o: &NetworkOptions) -> Result<Vec<LinkRun>, NetworkError> {
    let links = &o.topology.links;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<LinkRun, RunError>>>> =
        std::sync::Mutex::new((0..links.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..o.threads.max(1).min(links.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(l) = links.get(i) else { break };
                tracing::info!(link = %l.name, "simulating link");
                let r = simulate(l, o.seconds);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results
        .into_iter()
        .zip(links)
        .map(|(r, l)| match r {
            Some(Ok(r)) => Ok(r),
            Some(Err(source)) => Err(NetworkError::Link {
                link: l.name.clone(),
                source,
            }),
            None => Err(NetworkError::Thread(l.name.clone())),
        })
        .collect()
}

/// Events of the demand replay, in link time.
enum Event {
    Key { link: usize, block: usize },
    Alarm { link: usize },
    Request { demand: usize },
}

/// Simulate the network and replay the demand.
pub fn run_network(o: &NetworkOptions) -> Result<NetworkSummary, NetworkError> {
    let t0 = Instant::now();
    let topo = &o.topology;
    let runs = simulate_all(o)?;
    let ends: Vec<(usize, usize)> = topo.links.iter().map(|l| (l.alice, l.bob)).collect();
    let mut relay = Relay::new(topo.nodes.len(), &ends);

    let mut events: Vec<(f64, u8, Event)> = Vec::new();
    for (link, r) in runs.iter().enumerate() {
        for (block, (t, _, _)) in r.blocks.iter().enumerate() {
            events.push((*t, 1, Event::Key { link, block }));
        }
        if let Some(t) = r.alarm_at_s {
            events.push((t, 0, Event::Alarm { link }));
        }
    }
    for (demand, d) in topo.demands.iter().enumerate() {
        let n = (o.seconds * d.keys_per_second).floor() as u64;
        for k in 1..=n {
            events.push((k as f64 / d.keys_per_second, 2, Event::Request { demand }));
        }
    }
    // Alarms before keys before requests at the same instant.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut pairs: Vec<PairReport> = topo
        .demands
        .iter()
        .map(|d| PairReport {
            from: d.from_sae.clone(),
            to: d.to_sae.clone(),
            keys: 0,
            bits: 0,
            failed: 0,
            hops: [usize::MAX, 0],
            bits_per_second: 0.0,
            keys_match: true,
        })
        .collect();
    let mut alarm_at: BTreeMap<usize, f64> = BTreeMap::new();
    let mut waiting: Vec<(f64, usize)> = Vec::new();
    let mut relayed_after_alarm = 0u64;
    let mut rng = rand::rng();
    let mut serve = |relay: &mut Relay,
                     t: f64,
                     demand: usize,
                     pairs: &mut Vec<PairReport>,
                     alarm_at: &BTreeMap<usize, f64>|
     -> bool {
        let d = &topo.demands[demand];
        let mut key = zeroize::Zeroizing::new(vec![0u8; d.key_bits as usize / 8]);
        rand::RngCore::fill_bytes(&mut rng, &mut key[..]);
        match relay.relay(d.from, d.to, &key) {
            Ok((got, hops)) => {
                let p = &mut pairs[demand];
                p.keys += 1;
                p.bits += u64::from(d.key_bits);
                p.keys_match &= got[..] == key[..];
                p.hops[0] = p.hops[0].min(hops.len());
                p.hops[1] = p.hops[1].max(hops.len());
                // Checked by time, not by the relay's own routing rule.
                if hops
                    .iter()
                    .any(|(l, _)| alarm_at.get(l).is_some_and(|&a| a <= t))
                {
                    relayed_after_alarm += 1;
                }
                true
            }
            Err(RelayError::NoRoute { .. }) => false,
            Err(e @ RelayError::Authentication { .. }) => {
                tracing::error!(error = %e, "relay hop refused");
                pairs[demand].keys_match = false;
                true
            }
        }
    };
    for (t, _, ev) in events {
        match ev {
            Event::Alarm { link } => {
                tracing::warn!(link = %topo.links[link].name, at_s = t, "detector alarm: link out of routing");
                relay.set_down(link);
                alarm_at.insert(link, t);
            }
            Event::Key { link, block } => {
                // Whole bytes of each end's key.
                let whole = |k: &SecretKey| {
                    let b = k.to_bytes();
                    zeroize::Zeroizing::new(b[..k.len_bits().get() as usize / 8].to_vec())
                };
                let (_, a, b) = &runs[link].blocks[block];
                relay.add_key(link, &whole(a), &whole(b));
                // Requests waiting for key, oldest first.
                let mut still = Vec::new();
                for (deadline, demand) in std::mem::take(&mut waiting) {
                    if t > deadline {
                        pairs[demand].failed += 1;
                    } else if !serve(&mut relay, t, demand, &mut pairs, &alarm_at) {
                        still.push((deadline, demand));
                    }
                }
                waiting = still;
            }
            Event::Request { demand } => {
                if !waiting.iter().any(|w| w.1 == demand)
                    && serve(&mut relay, t, demand, &mut pairs, &alarm_at)
                {
                    continue;
                }
                waiting.push((t + o.max_wait_s, demand));
            }
        }
    }
    for (_, demand) in waiting {
        pairs[demand].failed += 1;
    }
    for p in &mut pairs {
        p.bits_per_second = p.bits as f64 / o.seconds;
        if p.keys == 0 {
            p.hops = [0, 0];
        }
    }
    let links: Vec<LinkReport> = topo
        .links
        .iter()
        .zip(&runs)
        .zip(&relay.links)
        .map(|((l, r), rl)| {
            let (made, used) = rl.ends[0].counts();
            LinkReport {
                name: l.name.clone(),
                between: [
                    topo.nodes[l.alice].name.clone(),
                    topo.nodes[l.bob].name.clone(),
                ],
                secret_bits_per_second: r.delivered_bits as f64 / o.seconds,
                made_bits: made * 8,
                used_bits: used * 8,
                store_bits: (made - used) * 8,
                alarm_at_s: r.alarm_at_s,
                keys_match: r.keys_match && rl.ends[0].counts() == rl.ends[1].counts(),
            }
        })
        .collect();
    let bottleneck = links
        .iter()
        .filter(|l| l.used_bits > 0)
        .max_by(|a, b| {
            let u = |l: &LinkReport| l.used_bits as f64 / l.made_bits.max(1) as f64;
            u(a).total_cmp(&u(b))
        })
        .map(|l| l.name.clone());
    Ok(NetworkSummary {
        relayed_keys: pairs.iter().map(|p| p.keys).sum(),
        relayed_after_alarm,
        links,
        pairs,
        bottleneck,
        seconds: o.seconds,
        wall_seconds: t0.elapsed().as_secs_f64(),
    })
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host run`: a whole simulated QKD link on one machine (issue 7).
//!
//! ```text
//!  qkd-sim FastLink (physics + gateware semantics)
//!     ├── sim:alice ──▶ driver StreamReader ──▶ AlicePipeline ◀┐ authenticated
//!     └── sim:bob   ──▶ driver StreamReader ──▶ BobPipeline  ◀─┘ in-process channel
//! ```
//!
//! The devices are opened by URI through `qkd_driver::open_with` with the
//! `qkd_sim` provider, so the same header checks, stream decoder and loss
//! accounting run as against a board. Alice's `sim:` stream is the
//! compressed form described in `sim/src/physics/README.md` (only the
//! hardware-identical ALICE_SYMBOLS records that contain a detection slot),
//! so gaps between her records are expected and are not losses.

use crate::config::LinkConfig;
use crate::pipeline::{
    random_psk, AbortReason, AlicePipeline, BlockOutcome, BlockSummary, BobPipeline, PipelineConfig,
};
use qkd_abi::records::Record;
use qkd_abi::Role;
use qkd_driver::stream::StreamReader;
use qkd_driver::Batch;
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role as AuthRole};
use qkd_keyproc::channel::InProcChannel;
use qkd_keyproc::SecretKey;
use qkd_sim::physics::channel::ChannelParams;
use qkd_sim::physics::detector::DetectorParams;
use qkd_sim::physics::device::SimProvider;
use qkd_sim::physics::link::LinkParams;
use qkd_sim::physics::source::SourceParams;
use serde::Serialize;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The link.
    pub config: LinkConfig,
    /// Pulses (slots) of link time to simulate.
    pub pulses: u64,
    /// Seed of the physics; Alice's and Bob's PRNG seeds, the pre-shared
    /// key and the post-processing randomness (Bob's double-click bits,
    /// Cascade shuffles, verification hashes, Toeplitz seeds) derive from
    /// it, so that a run is reproducible.
    pub seed: u64,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Eve's attack (none by default).
    pub attack: qkd_sim::physics::AttackConfig,
    /// Bytes of the simulated pre-shared key (hash key and pads;
    /// [`DEFAULT_RUN_PSK_BYTES`] by default, at least `budget::MIN_PSK_BYTES`).
    pub psk_bytes: usize,
}

/// The simulated pre-shared key of a run: 128 KiB, 4095 pads per direction.
pub const DEFAULT_RUN_PSK_BYTES: usize = 1 << 17;

/// Errors of a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The simulated link could not be built from the configuration.
    #[error("building the simulated link: {0}")]
    Sim(String),
    /// Opening or reading a device failed.
    #[error("device: {0}")]
    Driver(#[from] qkd_driver::Error),
    /// The pre-shared key could not seed the authentication pool.
    #[error("authentication pool: {0}")]
    Auth(String),
    /// A pipeline thread panicked.
    #[error("the Bob pipeline thread panicked")]
    Thread,
}

/// Summary of a run (`--json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Pulses simulated.
    pub pulses: u64,
    /// DETECTION records Bob's device delivered (valid and invalid).
    pub detections: u64,
    /// QBER: X basis over all intensities of the completed blocks, and per intensity.
    pub qber: QberSummary,
    /// Secret bits produced (sum over blocks, before replenishing the pads).
    pub secret_bits: u64,
    /// Secret bits handed to applications: `secret_bits` minus what refilled
    /// the authentication pad pool to its reserve.
    pub delivered_bits: u64,
    /// Delivered bits per second of link time: the link's net key rate.
    pub delivered_bits_per_second: f64,
    /// Authentication pad bits spent (both directions, 128 per pad), all blocks.
    pub auth_bits: u64,
    /// Authentication pad bits spent per block (mean over blocks).
    pub auth_bits_per_block: f64,
    /// Pads left in Alice's pool at the end (send, receive).
    pub pool_pads_end: [u64; 2],
    /// Why key production paused (the pad pool could not pay for a block), if it did.
    pub paused: Option<String>,
    /// Secret bits per pulse.
    pub secret_bits_per_pulse: f64,
    /// Secret bits per pulse over the pulses that made the completed blocks
    /// (estimated as `pulses * z_bits_in_blocks / (z_bits_in_blocks +
    /// z_bits_waiting)`, Z bits accruing uniformly): the figure to compare
    /// with the planner.
    pub secret_bits_per_block_pulse: f64,
    /// Secret bits per second of link time.
    pub secret_bits_per_second: f64,
    /// Blocks processed (with key or aborted).
    pub blocks: u64,
    /// Blocks aborted, with reasons.
    pub aborted_blocks: u64,
    /// Abort reasons, one per aborted block.
    pub abort_reasons: Vec<String>,
    /// Bob's alarm bits seen in any STATUS record (0 = none).
    pub alarms: u64,
    /// Both ends hold identical keys for every completed block.
    pub keys_match: bool,
    /// Measured EC efficiency: leaked bits / (n_Z h(E_Z)), E_Z the Z-basis
    /// error rate over all intensities of the block; mean over blocks.
    pub ec_efficiency: Option<f64>,
    /// Decoy estimates of the last completed block.
    pub s_z0: Option<f64>,
    /// Lower bound on single-photon Z events of the last completed block.
    pub s_z1: Option<f64>,
    /// Phase-error bound of the last completed block.
    pub phase_error_bound: Option<f64>,
    /// Records the driver reported lost on either stream.
    pub lost_records: u64,
    /// Z bits sifted but not yet enough for a block.
    pub z_bits_waiting: u64,
    /// Sifted Z bits of the completed blocks (sum of n_Z).
    pub z_bits_in_blocks: u64,
    /// Bits error correction disclosed in the completed blocks.
    pub leak_ec_bits: u64,
    /// Eve's attack, as configured.
    pub attack: String,
    /// What only the simulator knows: valid DETECTION records whose bit Eve
    /// knows with certainty.
    pub eve_known_valid_detections: u64,
    /// Of those, the ones Bob's sifter did not discard (before the alarm
    /// latch): the bits Eve may know of the sifted key. Secret key can exist
    /// only if `secret_bits <= z_bits_in_blocks - leak_ec_bits - eve_known_sifted_candidates`.
    pub eve_known_sifted_candidates: u64,
    /// Valid detections Bob discarded because of an alarm (the alarm latch).
    pub alarm_discarded: u64,
    /// First slot of the STATUS interval whose alarm stopped key production.
    pub alarm_latched_at_slot: Option<u64>,
    /// Wall time of the run in seconds.
    pub wall_seconds: f64,
}

/// QBER figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QberSummary {
    /// Z basis (key), signal intensity, measured after error correction
    /// (last completed block).
    pub z: Option<f64>,
    /// Z basis, signal intensity, pooled over every completed block: the
    /// figure to compare with the planner.
    pub z_all_blocks: Option<f64>,
    /// X basis (test), per intensity (signal, decoy, vacuum).
    pub x_per_intensity: [f64; 3],
}

/// Map the link TOML onto the simulator's physical parameters.
pub fn link_params(
    cfg: &LinkConfig,
    attack: qkd_sim::physics::AttackConfig,
    seed: u64,
) -> LinkParams {
    let source = SourceParams {
        pulse_rate_hz: cfg.source.pulse_rate_hz,
        intensities_photons: cfg.source.intensities,
        probabilities: cfg.source.probabilities,
        basis_z_probability: cfg.source.basis_z_probability,
    };
    let channel = ChannelParams::fiber(
        cfg.channel.length_km,
        cfg.channel.loss_db_per_km,
        cfg.channel.extra_loss_db,
    );
    let detector = DetectorParams {
        efficiency: cfg.detector.efficiency,
        dark_count_per_gate: cfg.detector.dark_count_per_gate,
        afterpulse_probability: cfg.detector.afterpulse_probability,
        afterpulse_time_constant_ns: cfg.detector.afterpulse_time_constant_ns,
        dead_time_ns: cfg.detector.dead_time_ns,
        misalignment_error: cfg.detector.misalignment_error,
        ..DetectorParams::default()
    };
    let mut p = LinkParams::new(source, channel, detector);
    crate::channel::apply(cfg, &mut p);
    p.attack = attack;
    p.physics_seed = seed;
    p.alice_seed = seed ^ 0xA11C_E000_0000_0001;
    p.bob_seed = seed ^ 0xB0B0_0000_0000_0002;
    p
}

/// One side's decoded stream, accumulated.
#[derive(Default)]
struct Collected {
    /// The stream as qkd-abi records (Alice's side).
    records: Vec<Record>,
    /// The stream as the driver's decoder batched it (Bob's side): his
    /// detections stay in the decoder's compact form (16 bytes, full slot)
    /// and go to the sifter as they are (`BobSifter::push_batch`).
    batches: Vec<Batch>,
    keep_batches: bool,
    detections: u64,
    lost_records: u64,
    ended: bool,
}

/// Read one batch of `reader` into `c`; returns the highest slot seen.
fn read_batch(
    reader: &mut StreamReader<Box<dyn qkd_driver::EventSource>>,
    c: &mut Collected,
) -> Result<Option<u64>, RunError> {
    let b = reader.next_batch(Duration::from_secs(5))?;
    c.lost_records += b.loss.lost_records;
    c.ended = b.end_of_stream;
    let mut slot = None;
    if c.keep_batches {
        c.detections += b.detections.len() as u64;
        slot = b
            .records
            .iter()
            .rev()
            .find(|r| matches!(r.record, Record::Status(_) | Record::AliceSymbols(_)))
            .map(|r| r.slot);
        let mut b = b;
        // A batch's vectors are sized for a whole read buffer; keep only
        // what it holds.
        if b.detections.capacity() > 2 * b.detections.len() {
            b.detections.shrink_to_fit();
        }
        c.batches.push(b);
        return Ok(slot);
    }
    for item in b.iter() {
        match item {
            qkd_driver::stream::BatchItem::Detection(d) => {
                c.detections += 1;
                c.records.push(Record::Detection(d.to_record()));
            }
            qkd_driver::stream::BatchItem::Record(r) => {
                if let Record::Status(_) | Record::AliceSymbols(_) = &r.record {
                    slot = Some(r.slot);
                }
                c.records.push(r.record.clone());
            }
        }
    }
    Ok(slot)
}

/// Read both devices' streams to their end, alternating so that the
/// simulated link never buffers more than a chunk for either side.
fn read_both(
    alice_dev: &mut qkd_driver::Device,
    bob_dev: &mut qkd_driver::Device,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<(Collected, Collected), RunError> {
    let mut ra = StreamReader::new(alice_dev.take_events()?);
    let mut rb = StreamReader::new(bob_dev.take_events()?);
    let (mut a, mut b) = (Collected::default(), Collected::default());
    b.keep_batches = true;
    while !(a.ended && b.ended) {
        if !b.ended {
            if let (Some(slot), Some(bar)) = (read_batch(&mut rb, &mut b)?, bar) {
                bar.set_position(slot);
            }
        }
        if !a.ended {
            read_batch(&mut ra, &mut a)?;
        }
    }
    Ok((a, b))
}

/// Whether the link goes on after this block: after a key or an aborted
/// block, yes (the next block starts fresh); not when the data ran out or
/// the authenticated session broke.
fn continues(o: &BlockOutcome) -> bool {
    match o {
        BlockOutcome::Key(_) => true,
        BlockOutcome::Aborted(s) => !matches!(s.abort, Some(AbortReason::SessionBroken)),
        _ => false,
    }
}

/// Run a simulated link end to end.
pub fn run(opts: &RunOptions) -> Result<(RunSummary, Vec<(SecretKey, SecretKey)>), RunError> {
    let t0 = Instant::now();
    let params = link_params(&opts.config, opts.attack, opts.seed);
    let provider = SimProvider::new();
    provider
        .insert_link("run", params, opts.pulses, 1 << 24)
        .map_err(|e| RunError::Sim(e.to_string()))?;
    let mut alice_dev = qkd_driver::open_with("sim:alice?link=run", &provider, Some(Role::Alice))?;
    let mut bob_dev = qkd_driver::open_with("sim:bob?link=run", &provider, Some(Role::Bob))?;

    let bar = opts.progress.then(|| {
        let b = indicatif::ProgressBar::new(opts.pulses);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {percent:>3}% {pos}/{len} pulses ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_message("link");
        b
    });
    let (a_stream, b_stream) = read_both(&mut alice_dev, &mut bob_dev, bar.as_ref())?;
    let (alice_records, bob_batches) = (a_stream.records, b_stream.batches);
    let (detections, lost_records) = (
        b_stream.detections,
        b_stream.lost_records + a_stream.lost_records,
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let alarms = bob_batches
        .iter()
        .flat_map(|b| &b.records)
        .fold(0u64, |a, r| match &r.record {
            Record::Status(s) => a | s.get(qkd_abi::records::CounterId::AlarmsSeen).unwrap_or(0),
            _ => a,
        });

    let mut pcfg = PipelineConfig::from_link(&opts.config);
    pcfg.cascade = qkd_keyproc::cascade::CascadeConfig::option8();
    // A simulated run is a pure function of its seed (like its PSK below):
    // with the OS RNG here, a Cascade shuffle that leaves an even number of
    // errors in every block (rare, but not impossible) would abort a block
    // in one run and not in the next, and tests on the outcome would fail
    // by chance. Deployed roles (`qkd-host alice|bob`) keep the OS RNG.
    pcfg.rng_seed = Some(opts.seed ^ 0x5049_5045_4C49_4E45);
    if opts.psk_bytes < crate::budget::MIN_PSK_BYTES {
        return Err(RunError::Auth(format!(
            "a pre-shared key of {} bytes is below the minimum of {} bytes",
            opts.psk_bytes,
            crate::budget::MIN_PSK_BYTES
        )));
    }
    let psk = random_psk(opts.seed ^ 0x5053_4B00, opts.psk_bytes);
    let pa =
        KeyPool::bootstrap(&psk, AuthRole::Initiator).map_err(|e| RunError::Auth(e.to_string()))?;
    let pb =
        KeyPool::bootstrap(&psk, AuthRole::Responder).map_err(|e| RunError::Auth(e.to_string()))?;
    let (ca, cb) = InProcChannel::pair();
    let mut alice = AlicePipeline::new(pcfg.clone(), AuthChannel::new_deferred(ca, pa));
    let mut bob = BobPipeline::new(pcfg, AuthChannel::new_deferred(cb, pb));
    alice
        .push_records(&alice_records)
        .map_err(|e| RunError::Sim(e.to_string()))?;
    for b in &bob_batches {
        bob.push_batch(b);
    }
    drop((alice_records, bob_batches));

    let bob_thread = std::thread::spawn(move || {
        let mut outcomes = Vec::new();
        loop {
            let o = bob.run_block();
            let stop = !continues(&o);
            outcomes.push(o);
            if stop {
                break;
            }
        }
        let mut keys = Vec::new();
        while let Some(k) = bob.keys().pop() {
            keys.push(k);
        }
        (outcomes, keys, bob.sift_stats().clone())
    });
    let mut a_out = Vec::new();
    loop {
        let o = alice.run_block();
        let stop = !continues(&o);
        a_out.push(o);
        if stop {
            break;
        }
    }
    let mut a_keys = Vec::new();
    while let Some(k) = alice.keys().pop() {
        a_keys.push(k);
    }
    let pool_pads_end = {
        let p = alice.channel().pool();
        [p.send_pads() as u64, p.recv_pads() as u64]
    };
    let paused = match a_out.last() {
        Some(BlockOutcome::Paused {
            send_pads,
            recv_pads,
            needed,
        }) => Some(format!(
            "the authentication pad pool holds {send_pads} send and {recv_pads} receive pads; \
             a block needs {needed} per direction"
        )),
        _ => None,
    };
    let (b_out, b_keys, b_stats) = bob_thread.join().map_err(|_| RunError::Thread)?;

    let delivered_bits: u64 = a_keys.iter().map(|(_, k)| k.len_bits().0).sum();
    let keys_match = a_keys.len() == b_keys.len()
        && a_keys
            .iter()
            .zip(&b_keys)
            .all(|((ia, ka), (ib, kb))| ia == ib && ka == kb);
    let summaries: Vec<&BlockSummary> = a_out.iter().filter_map(|o| o.summary()).collect();
    let completed: Vec<&BlockSummary> = summaries
        .iter()
        .copied()
        .filter(|s| s.abort.is_none())
        .collect();
    let aborted: Vec<&BlockSummary> = summaries
        .iter()
        .copied()
        .filter(|s| s.abort.is_some())
        .collect();
    let waiting = match a_out.last() {
        Some(BlockOutcome::NotEnoughData { z_bits_waiting }) => *z_bits_waiting,
        _ => 0,
    };
    let _ = b_out;
    let eve_slots = provider.eve_known_valid_slots("run").unwrap_or_default();
    let eve_known_sifted_candidates = eve_slots
        .iter()
        .filter(|&&s| !matches!(b_stats.alarm_latched_at_slot, Some(a) if s >= a))
        .count() as u64;
    let secret_bits: u64 = completed.iter().map(|s| s.secret_bits).sum();
    let last = completed.last();
    // f = leak_EC / (n_Z h(E_Z)) with the Z errors over all intensities of
    // the block, as in lambda_EC of Lim et al. 2014 (the key is made of every
    // intensity's Z bits).
    let ec: Vec<f64> = completed
        .iter()
        .filter_map(|s| {
            let n: u64 = s.n_z.iter().sum();
            let m: u64 = s.m_z?.iter().sum();
            let h = crate::estimation::binary_entropy(m as f64 / n.max(1) as f64);
            (n > 0 && h > 0.0).then(|| s.leak_ec_bits as f64 / (n as f64 * h))
        })
        .collect();
    let pulses = opts.pulses;
    let link_seconds = pulses as f64 / opts.config.source.pulse_rate_hz;
    let auth_bits: u64 = summaries.iter().map(|s| s.auth_consumed_bits).sum();
    let summary = RunSummary {
        pulses,
        detections,
        qber: QberSummary {
            z: last.and_then(|s| s.qber_z.map(|q| q[0])),
            z_all_blocks: {
                let (m, n) = completed.iter().fold((0u64, 0u64), |(m, n), s| {
                    (m + s.m_z.map_or(0, |v| v[0]), n + s.n_z[0])
                });
                (n > 0).then(|| m as f64 / n as f64)
            },
            x_per_intensity: last.map(|s| s.qber_x).unwrap_or_default(),
        },
        secret_bits,
        delivered_bits,
        delivered_bits_per_second: delivered_bits as f64 / link_seconds,
        auth_bits,
        auth_bits_per_block: auth_bits as f64 / summaries.len().max(1) as f64,
        pool_pads_end,
        paused,
        secret_bits_per_pulse: secret_bits as f64 / pulses.max(1) as f64,
        secret_bits_per_second: secret_bits as f64 / link_seconds,
        secret_bits_per_block_pulse: {
            let zb: u64 = completed.iter().map(|s| s.n_z.iter().sum::<u64>()).sum();
            let used = pulses as f64 * zb as f64 / (zb + waiting).max(1) as f64;
            if used > 0.0 {
                secret_bits as f64 / used
            } else {
                0.0
            }
        },
        blocks: summaries.len() as u64,
        aborted_blocks: aborted.len() as u64,
        abort_reasons: aborted
            .iter()
            .filter_map(|s| s.abort.as_ref().map(|a| a.to_string()))
            .collect(),
        alarms,
        keys_match,
        ec_efficiency: (!ec.is_empty()).then(|| ec.iter().sum::<f64>() / ec.len() as f64),
        s_z0: last.and_then(|s| s.bounds.as_ref().map(|b| b.s_z0)),
        s_z1: last.and_then(|s| s.bounds.as_ref().map(|b| b.s_z1)),
        phase_error_bound: last.and_then(|s| s.bounds.as_ref().map(|b| b.phase_error_bound)),
        lost_records,
        z_bits_in_blocks: completed.iter().map(|s| s.n_z.iter().sum::<u64>()).sum(),
        leak_ec_bits: completed.iter().map(|s| s.leak_ec_bits).sum(),
        attack: format!("{:?}", opts.attack.kind),
        eve_known_valid_detections: eve_slots.len() as u64,
        eve_known_sifted_candidates,
        alarm_discarded: b_stats.alarm_discarded,
        alarm_latched_at_slot: b_stats.alarm_latched_at_slot,
        z_bits_waiting: waiting,
        wall_seconds: t0.elapsed().as_secs_f64(),
    };
    let pairs = a_keys
        .into_iter()
        .zip(b_keys)
        .map(|((_, a), (_, b))| (a, b))
        .collect();
    Ok((summary, pairs))
}

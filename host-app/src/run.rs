// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host run`: a whole simulated QKD link on one machine, streamed on
//! three threads with bounded queues (see [`run_streaming`]).
//!
//! The devices are opened by URI through `qkd_driver::open_with` with the
//! `qkd_sim` provider, so the same header checks, stream decoder and loss
//! accounting run as against a board. Alice's `sim:` stream is the
//! compressed form described in `sim/src/physics/README.md` (only the
//! hardware-identical ALICE_SYMBOLS records that contain a detection slot),
//! so gaps between her records are expected and are not losses.
//!
//! Memory does not grow with the run's length: the simulator holds one
//! chunk, each queue `QUEUE_PIECES` pieces, each pipeline one window of
//! unsifted data plus the sifted bits of one block, and keys leave as they
//! are made. What still grows is the simulator's list of the slots Eve
//! knows (empty without an attack) and one summary per block.

use crate::config::LinkConfig;
use crate::gateware::GatewareIdentity;
use crate::pipeline::{
    random_psk, AbortReason, AlicePipeline, BlockOutcome, BlockSummary, BobPipeline, PipelineConfig,
};
use crate::sifting::{SiftError, SiftStats};
use qkd_abi::records::{CounterId, Record};
use qkd_abi::Role;
use qkd_driver::stream::StreamReader;
use qkd_driver::{Batch, EventSource};
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role as AuthRole};
use qkd_keyproc::channel::InProcChannel;
use qkd_keyproc::SecretKey;
use qkd_sim::physics::device::SimProvider;
use qkd_sim::physics::link::LinkParams;
use qkd_sim::verilator::ExactVerilog;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
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
    /// The devices at both ends: the golden models (`sim:`) or the
    /// Verilated gateware (`sim+verilator:`).
    pub devices: RunDevices,
}

/// The simulated devices of a run. Both see the same physics (same seeds,
/// same chunks), so with the same options they make the same records and
/// the same keys.
#[derive(Debug, Clone, Default)]
pub enum RunDevices {
    /// `sim:`: Alice's and Bob's cores as behavioural golden models
    /// (Alice's stream in its compressed form).
    #[default]
    Models,
    /// `sim+verilator:`: the Verilated `qkd_alice` and `qkd_bob` tops of
    /// this Verilog, configured and started through their AXI4-Lite CSRs,
    /// their AXI4-Stream records the device streams.
    Gateware(Box<(ExactVerilog, GatewareIdentity)>),
}

impl RunDevices {
    /// The device URI scheme.
    pub fn scheme(&self) -> &'static str {
        match self {
            RunDevices::Models => qkd_sim::physics::device::SCHEME_FAST,
            RunDevices::Gateware(_) => qkd_sim::physics::device::SCHEME_EXACT,
        }
    }
}

/// The gateware a `sim+verilator:` run executed.
#[derive(Debug, Clone, Serialize)]
pub struct GatewareRun {
    /// Which Verilog (source and SHA-256 of both tops).
    #[serde(flatten)]
    pub identity: GatewareIdentity,
    /// Fabric cycles each core ran (both run the same).
    pub cycles: u64,
    /// Cycles of both cores together per CPU second of the link thread
    /// (physics and both Verilated cores run on it).
    pub cycles_per_cpu_second: f64,
    /// Pulses per CPU second of the link thread.
    pub pulses_per_cpu_second: f64,
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
    /// The Verilated gateware could not be built or started.
    #[error("starting the Verilated gateware")]
    Gateware(#[source] qkd_sim::verilator::ExactError),
    /// Opening or reading a device failed.
    #[error("device: {0}")]
    Driver(#[from] qkd_driver::Error),
    /// The pre-shared key could not seed the authentication pool.
    #[error("authentication pool: {0}")]
    Auth(String),
    /// Alice's stream could not be sifted.
    #[error("sifting Alice's stream: {0}")]
    Sift(#[from] SiftError),
    /// Handing a key pair over failed (e.g. writing a key file).
    #[error("key output: {0}")]
    KeyOutput(String),
    /// A thread of the run could not start or panicked.
    #[error("the {0} thread could not start or panicked")]
    Thread(&'static str),
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
    /// `postprocessing.reconciliation` of the run.
    pub reconciliation: crate::config::Reconciliation,
    /// Classical round-trip time the choice and the estimates use, ms
    /// (`[classical] rtt_ms` or the path's propagation delay).
    pub rtt_ms: f64,
    /// Blocks that ran error correction, per reconciler used.
    pub reconciler_blocks: ReconcilerBlocks,
    /// Measured error-correction round trips per block (mean over the
    /// blocks that ran error correction).
    pub ec_round_trips_per_block: Option<f64>,
    /// Estimated round trips and time per block of each reconciler at
    /// `rtt_ms`, this block size and the measured QBER (Z over all
    /// intensities of the completed blocks, else X).
    pub reconcilers: Vec<crate::latency::ReconcilerTiming>,
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
    /// Last slot of each block that made key, in the order of the keys
    /// (when each key became available, in link time).
    #[serde(skip)]
    pub key_block_last_slots: Vec<u64>,
    /// Wall time of the run in seconds.
    pub wall_seconds: f64,
    /// CPU seconds (user + system) of each thread of the run.
    pub thread_cpu_seconds: ThreadCpu,
    /// The device scheme (`sim` or `sim+verilator`).
    pub devices: &'static str,
    /// `sim+verilator:` only: the gateware that ran and its speed.
    pub gateware: Option<GatewareRun>,
}

/// Blocks per reconciler.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReconcilerBlocks {
    /// Blocks reconciled with Cascade.
    pub cascade: u64,
    /// Blocks reconciled with LDPC.
    pub ldpc: u64,
}

/// CPU seconds (user + system) per thread, from `/proc/thread-self/stat`
/// (zero where that cannot be read).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ThreadCpu {
    /// The simulated link and its two device streams' bytes.
    pub link: f64,
    /// Alice: stream decoding, sifting, estimation, Cascade replies, PA.
    pub alice: f64,
    /// Bob: stream decoding, sifting, estimation, Cascade, PA.
    pub bob: f64,
}

/// This thread's CPU time (user + system) in seconds, 0 if unknown.
fn thread_cpu_seconds() -> f64 {
    let read = || -> Option<f64> {
        let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
        let rest = s.get(s.rfind(')')? + 2..)?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        // USER_HZ is 100 on Linux.
        Some(ticks / 100.0)
    };
    read().unwrap_or(0.0)
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
    let ph = crate::channel::physics(cfg);
    let mut p = LinkParams::new(ph.source, ph.channel, ph.detector);
    p.schedule = ph.schedule;
    p.attack = attack;
    p.physics_seed = seed;
    p.alice_seed = seed ^ 0xA11C_E000_0000_0001;
    p.bob_seed = seed ^ 0xB0B0_0000_0000_0002;
    p
}

/// Slots the simulated link advances per refill (`SimProvider` chunk).
/// Both sides' records of one chunk are queued at once, so this bounds
/// what waits in the simulator: at 10 km about 6 MB of Alice's stream.
pub const CHUNK_SLOTS: u64 = 1 << 22;
/// Chunks per data window: the pipelines take a window at a time, then
/// sift it (one announce/reply round at least).
pub const CHUNKS_PER_WINDOW: u64 = 4;
/// Bytes per piece handed from the link thread to a side's reader.
const PIECE_BYTES: usize = 1 << 20;
/// Pieces queued per side between the link thread and the pipelines.
const QUEUE_PIECES: usize = 8;

/// What the link thread hands to one side.
enum Piece {
    /// Raw stream bytes, as the device gave them.
    Bytes(Vec<u8>),
    /// The window ends here (both sides get it at the same point).
    WindowEnd,
}

/// A device stream as the link thread forwards it: bytes until the next
/// window end, then `Ok(0)` once (with `window_end` set), and
/// `StreamEnded` when the link thread is done. Emptied buffers go back to
/// the link thread for reuse.
struct PieceSource {
    rx: Receiver<Piece>,
    recycle: Sender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    window_end: Arc<AtomicBool>,
    name: &'static str,
}

impl EventSource for PieceSource {
    fn read_bytes(&mut self, buf: &mut [u8], _timeout: Duration) -> qkd_driver::Result<usize> {
        if self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(Piece::Bytes(b)) => {
                    let done = std::mem::replace(&mut self.cur, b);
                    if done.capacity() > 0 {
                        let _ = self.recycle.send(done);
                    }
                    self.pos = 0;
                }
                Ok(Piece::WindowEnd) => {
                    self.window_end.store(true, Ordering::Relaxed);
                    return Ok(0);
                }
                Err(_) => {
                    return Err(qkd_driver::Error::StreamEnded {
                        path: self.name.into(),
                    })
                }
            }
        }
        let n = buf.len().min(self.cur.len() - self.pos);
        buf[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// One side's end of the link thread.
struct Outlet {
    src: Box<dyn EventSource>,
    tx: SyncSender<Piece>,
    recycle: Receiver<Vec<u8>>,
    ended: bool,
    /// The reader went away (its pipeline stopped).
    closed: bool,
}

impl Outlet {
    /// Forward what the simulated device holds now (its refill queues one
    /// chunk for both sides): read until a read comes back short.
    fn drain(&mut self) -> Result<(), RunError> {
        while !(self.ended || self.closed) {
            let mut buf = self.recycle.try_recv().unwrap_or_default();
            buf.resize(PIECE_BYTES, 0);
            match self.src.read_bytes(&mut buf, Duration::from_secs(5)) {
                Ok(n) => {
                    buf.truncate(n);
                    if n > 0 && self.tx.send(Piece::Bytes(buf)).is_err() {
                        self.closed = true;
                    }
                    if n < PIECE_BYTES {
                        return Ok(());
                    }
                }
                Err(qkd_driver::Error::StreamEnded { .. }) => self.ended = true,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn window_end(&mut self) {
        if !self.closed && self.tx.send(Piece::WindowEnd).is_err() {
            self.closed = true;
        }
    }
}

/// The link thread: runs the simulated link chunk by chunk and forwards
/// both devices' raw streams, cut into windows of `CHUNKS_PER_WINDOW`
/// chunks. Each window is sent whole to Bob, then whole to Alice, before
/// anything of the next one; as the pipelines take window w at the same
/// protocol step, a full queue can only wait for a side that is about to
/// read it, so the bounded queues cannot deadlock.
fn pump(mut alice: Outlet, mut bob: Outlet) -> Result<f64, RunError> {
    let mut chunks = 0u64;
    // Until both streams have ended or both readers have gone.
    let finished = |a: &Outlet, b: &Outlet| (a.ended && b.ended) || (a.closed && b.closed);
    while !finished(&alice, &bob) {
        bob.drain()?;
        alice.drain()?;
        chunks += 1;
        if chunks.is_multiple_of(CHUNKS_PER_WINDOW) || (alice.ended && bob.ended) {
            bob.window_end();
            alice.window_end();
        }
    }
    Ok(thread_cpu_seconds())
}

/// One side's device stream, decoded window by window.
struct Feed {
    reader: StreamReader<PieceSource>,
    window_end: Arc<AtomicBool>,
    batch: Batch,
    /// DETECTION records decoded (valid and invalid).
    detections: u64,
    lost_records: u64,
    /// OR of the `AlarmsSeen` counters of the STATUS records.
    alarms: u64,
    progress: Option<indicatif::ProgressBar>,
}

impl Feed {
    /// Decode the next window, handing each batch to `push`; false when
    /// the stream had ended before it.
    fn next_window(
        &mut self,
        mut push: impl FnMut(&mut Batch) -> Result<(), RunError>,
    ) -> Result<bool, RunError> {
        if self.reader.is_ended() {
            return Ok(false);
        }
        loop {
            self.reader
                .fill_batch(&mut self.batch, Duration::from_secs(5))?;
            let b = &mut self.batch;
            self.lost_records += b.loss.lost_records;
            self.detections += b.detections.len() as u64;
            let mut status_slot = None;
            for r in &b.records {
                if let Record::Status(s) = &r.record {
                    self.alarms |= s.get(CounterId::AlarmsSeen).unwrap_or(0);
                    status_slot = Some(r.slot);
                }
            }
            if let (Some(bar), Some(slot)) = (&self.progress, status_slot) {
                bar.set_position(slot & qkd_abi::records::SLOT_MASK);
            }
            push(b)?;
            if self.window_end.swap(false, Ordering::Relaxed) || b.end_of_stream {
                return Ok(true);
            }
        }
    }
}

/// One end of the link as its thread drives it.
trait End: Send {
    fn run_block(&mut self) -> BlockOutcome;
    fn push(&mut self, b: &mut Batch) -> Result<(), RunError>;
    fn pop_key(&mut self) -> Option<SecretKey>;
    fn sift_stats(&self) -> SiftStats;
    /// Pads left in the authentication pool (send, receive).
    fn pool_pads(&mut self) -> (u64, u64);
}

impl End for AlicePipeline<InProcChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        AlicePipeline::run_block(self)
    }
    fn push(&mut self, b: &mut Batch) -> Result<(), RunError> {
        // Alice's stream has no detections: her records, in order.
        let records: Vec<Record> = b.records.drain(..).map(|r| r.record).collect();
        Ok(self.push_records(&records)?)
    }
    fn pop_key(&mut self) -> Option<SecretKey> {
        self.keys().pop().map(|(_, k)| k)
    }
    fn sift_stats(&self) -> SiftStats {
        AlicePipeline::sift_stats(self).clone()
    }
    fn pool_pads(&mut self) -> (u64, u64) {
        let p = self.channel().pool();
        (p.send_pads() as u64, p.recv_pads() as u64)
    }
}

impl End for BobPipeline<InProcChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        BobPipeline::run_block(self)
    }
    fn push(&mut self, b: &mut Batch) -> Result<(), RunError> {
        self.push_batch(b);
        Ok(())
    }
    fn pop_key(&mut self) -> Option<SecretKey> {
        self.keys().pop().map(|(_, k)| k)
    }
    fn sift_stats(&self) -> SiftStats {
        BobPipeline::sift_stats(self).clone()
    }
    fn pool_pads(&mut self) -> (u64, u64) {
        let p = self.channel().pool();
        (p.send_pads() as u64, p.recv_pads() as u64)
    }
}

/// What one end reports when its thread ends.
struct EndReport {
    /// Summaries of the blocks processed (with key or aborted), in order.
    blocks: Vec<BlockSummary>,
    /// Sifted Z bits waiting for a block when the stream ended.
    z_bits_waiting: u64,
    stats: SiftStats,
    detections: u64,
    lost_records: u64,
    alarms: u64,
    cpu_seconds: f64,
    /// Pads left in the authentication pool at the end (send, receive).
    pool_pads: (u64, u64),
    /// Why key production paused, if it did.
    paused: Option<String>,
}

/// Which end a key comes from.
#[derive(Clone, Copy)]
enum Side {
    Alice = 0,
    Bob = 1,
}

/// Drive one end: a block whenever the data allows, a new window when it
/// does not, until the stream ends or the session breaks. Keys go to
/// `keys` as they are made.
fn drive(
    mut end: impl End,
    mut feed: Feed,
    side: Side,
    keys: Sender<(Side, SecretKey)>,
) -> Result<EndReport, RunError> {
    let mut blocks = Vec::new();
    let mut z_bits_waiting = 0;
    let mut paused = None;
    loop {
        let o = end.run_block();
        while let Some(k) = end.pop_key() {
            let _ = keys.send((side, k));
        }
        match o {
            BlockOutcome::NotEnoughData { z_bits_waiting: z } => {
                z_bits_waiting = z;
                if !feed.next_window(|b| end.push(b))? {
                    break;
                }
            }
            BlockOutcome::Key(s) => blocks.push(s),
            BlockOutcome::Paused {
                send_pads,
                recv_pads,
                needed,
            } => {
                paused = Some(format!(
                    "the authentication pad pool holds {send_pads} send and {recv_pads} \
                     receive pads; a block needs {needed} per direction"
                ));
                break;
            }
            BlockOutcome::Aborted(s) => {
                let stop = matches!(s.abort, Some(AbortReason::SessionBroken));
                blocks.push(s);
                if stop {
                    break;
                }
            }
        }
    }
    if let Some(bar) = &feed.progress {
        bar.finish_and_clear();
    }
    Ok(EndReport {
        blocks,
        z_bits_waiting,
        stats: end.sift_stats(),
        detections: feed.detections,
        lost_records: feed.lost_records,
        alarms: feed.alarms,
        cpu_seconds: thread_cpu_seconds(),
        pool_pads: end.pool_pads(),
        paused,
    })
}

/// Open one side's device, and the outlet and feed that carry its stream
/// from the link thread to its pipeline thread.
fn open_side(
    provider: &SimProvider,
    devices: &RunDevices,
    role: Role,
    progress: Option<indicatif::ProgressBar>,
) -> Result<(Outlet, Feed), RunError> {
    let name = match (devices, role) {
        (RunDevices::Models, Role::Alice) => "sim:alice?link=run",
        (RunDevices::Models, Role::Bob) => "sim:bob?link=run",
        (RunDevices::Gateware(_), Role::Alice) => "sim+verilator:alice?link=run",
        (RunDevices::Gateware(_), Role::Bob) => "sim+verilator:bob?link=run",
    };
    let mut dev = qkd_driver::open_with(name, provider, Some(role))?;
    let (tx, rx) = sync_channel(QUEUE_PIECES);
    let (recycle_tx, recycle_rx) = channel();
    let window_end = Arc::new(AtomicBool::new(false));
    let outlet = Outlet {
        src: dev.take_events()?,
        tx,
        recycle: recycle_rx,
        ended: false,
        closed: false,
    };
    let feed = Feed {
        reader: StreamReader::new(PieceSource {
            rx,
            recycle: recycle_tx,
            cur: Vec::new(),
            pos: 0,
            window_end: window_end.clone(),
            name,
        }),
        window_end,
        batch: Batch::default(),
        detections: 0,
        lost_records: 0,
        alarms: 0,
        progress,
    };
    Ok((outlet, feed))
}

fn join<T>(
    h: std::thread::JoinHandle<Result<T, RunError>>,
    name: &'static str,
) -> Result<T, RunError> {
    h.join().map_err(|_| RunError::Thread(name))?
}

/// Run a simulated link end to end; returns the summary and the key pairs
/// (Alice's, Bob's) of the completed blocks. [`run_streaming`] hands the
/// keys over as they are made instead of keeping them.
pub fn run(opts: &RunOptions) -> Result<(RunSummary, Vec<(SecretKey, SecretKey)>), RunError> {
    let mut pairs = Vec::new();
    let s = run_streaming(opts, |a, b| {
        pairs.push((a, b));
        Ok(())
    })?;
    Ok((s, pairs))
}

/// Run a simulated link end to end, in memory independent of its length:
///
/// ```text
///  link thread: FastLink chunk by chunk ── sim:alice bytes ─▶ [queue] ─▶ Alice thread: driver StreamReader ─▶ AlicePipeline ◀┐ authenticated
///                                      └── sim:bob bytes   ─▶ [queue] ─▶ Bob thread:   driver StreamReader ─▶ BobPipeline   ◀┘ in-process channel
/// ```
///
/// The queues are bounded (`QUEUE_PIECES` pieces of `PIECE_BYTES`), the
/// pipelines take the streams a window at a time (`CHUNKS_PER_WINDOW`
/// chunks of `CHUNK_SLOTS` slots) and forget what they have sifted, and
/// every key pair goes to `on_keys` (in block order) as soon as both ends
/// have made it.
pub fn run_streaming(
    opts: &RunOptions,
    mut on_keys: impl FnMut(SecretKey, SecretKey) -> Result<(), RunError>,
) -> Result<RunSummary, RunError> {
    let t0 = Instant::now();
    let params = link_params(&opts.config, opts.attack, opts.seed);
    let provider = SimProvider::new();
    match &opts.devices {
        RunDevices::Models => provider
            .insert_link("run", params, opts.pulses, CHUNK_SLOTS)
            .map_err(|e| RunError::Sim(e.to_string()))?,
        RunDevices::Gateware(g) => {
            tracing::info!(
                alice_sha256 = %g.1.alice_sha256,
                bob_sha256 = %g.1.bob_sha256,
                source = %g.1.source,
                "Verilating the gateware (cached by content; a first build takes minutes)"
            );
            provider
                .insert_exact_link("run", params, opts.pulses, CHUNK_SLOTS, &g.0)
                .map_err(RunError::Gateware)?
        }
    }
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
    let (a_out, a_feed) = open_side(&provider, &opts.devices, Role::Alice, None)?;
    let (b_out, b_feed) = open_side(&provider, &opts.devices, Role::Bob, bar)?;

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
    let alice = AlicePipeline::new(pcfg.clone(), AuthChannel::new_deferred(ca, pa));
    let bob = BobPipeline::new(pcfg, AuthChannel::new_deferred(cb, pb));

    let (keys_tx, keys_rx) = channel();
    let spawn = |name: &str| std::thread::Builder::new().name(name.into());
    let link = spawn("link")
        .spawn(move || pump(a_out, b_out))
        .map_err(|_| RunError::Thread("link"))?;
    let kt = keys_tx.clone();
    let alice_t = spawn("alice")
        .spawn(move || drive(alice, a_feed, Side::Alice, kt))
        .map_err(|_| RunError::Thread("alice"))?;
    let bob_t = spawn("bob")
        .spawn(move || drive(bob, b_feed, Side::Bob, keys_tx))
        .map_err(|_| RunError::Thread("bob"))?;

    // Pair the keys as they come (the n-th of Alice's with the n-th of Bob's).
    let mut waiting: [VecDeque<SecretKey>; 2] = Default::default();
    let mut keys_match = true;
    let mut delivered_bits = 0u64;
    let mut sink_error = None;
    for (side, k) in keys_rx {
        waiting[side as usize].push_back(k);
        if let (Some(_), Some(_)) = (waiting[0].front(), waiting[1].front()) {
            let (Some(a), Some(b)) = (waiting[0].pop_front(), waiting[1].pop_front()) else {
                continue;
            };
            keys_match &= a == b;
            delivered_bits += a.len_bits().0;
            if sink_error.is_none() {
                if let Err(e) = on_keys(a, b) {
                    sink_error = Some(e);
                }
            }
        }
    }
    keys_match &= waiting.iter().all(VecDeque::is_empty);
    let a_rep = join(alice_t, "alice")?;
    let b_rep = join(bob_t, "bob")?;
    let link_cpu = join(link, "link")?;
    if let Some(e) = sink_error {
        return Err(e);
    }

    let detections = b_rep.detections;
    let lost_records = a_rep.lost_records + b_rep.lost_records;
    let b_stats = b_rep.stats;
    keys_match &= a_rep.blocks.len() == b_rep.blocks.len();
    let summaries = &a_rep.blocks;
    let completed: Vec<&BlockSummary> = summaries.iter().filter(|s| s.abort.is_none()).collect();
    let aborted: Vec<&BlockSummary> = summaries.iter().filter(|s| s.abort.is_some()).collect();
    let waiting = a_rep.z_bits_waiting;
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
    let with_ec: Vec<&BlockSummary> = summaries
        .iter()
        .filter(|s| s.reconciler.is_some())
        .collect();
    let count = |k| with_ec.iter().filter(|s| s.reconciler == Some(k)).count() as u64;
    let reconciler_blocks = ReconcilerBlocks {
        cascade: count(qkd_keyproc::ldpc::ReconcilerKind::Cascade),
        ldpc: count(qkd_keyproc::ldpc::ReconcilerKind::Ldpc),
    };
    let ec_round_trips_per_block = (!with_ec.is_empty()).then(|| {
        with_ec
            .iter()
            .map(|s| f64::from(s.ec_round_trips))
            .sum::<f64>()
            / with_ec.len() as f64
    });
    let rtt_ms = crate::latency::rtt_ms(&opts.config);
    let measured_qber = {
        let (mz, nz) = completed.iter().fold((0u64, 0u64), |(m, n), s| {
            (
                m + s.m_z.map_or(0, |v| v.iter().sum()),
                n + s.n_z.iter().sum::<u64>(),
            )
        });
        let (mx, nx) = summaries.iter().fold((0u64, 0u64), |(m, n), s| {
            (m + s.m_x.iter().sum::<u64>(), n + s.n_x.iter().sum::<u64>())
        });
        if nz > 0 {
            Some(mz as f64 / nz as f64)
        } else {
            (nx > 0).then(|| mx as f64 / nx as f64)
        }
    };
    let reconcilers = measured_qber
        .map(|q| crate::latency::timings(opts.config.block_bits() as usize, q.max(1e-4), rtt_ms))
        .unwrap_or_default();
    let pulses = opts.pulses;
    let link_seconds = pulses as f64 / opts.config.source.pulse_rate_hz;
    let auth_bits: u64 = summaries.iter().map(|s| s.auth_consumed_bits).sum();
    let pool_pads_end = [a_rep.pool_pads.0, a_rep.pool_pads.1];
    let paused = a_rep.paused.clone();
    let gateware = match &opts.devices {
        RunDevices::Models => None,
        RunDevices::Gateware(g) => {
            let cycles = provider.exact_cycles("run").unwrap_or(0);
            let per_cpu = |x: f64| if link_cpu > 0.0 { x / link_cpu } else { 0.0 };
            Some(GatewareRun {
                identity: g.1.clone(),
                cycles,
                cycles_per_cpu_second: per_cpu(2.0 * cycles as f64),
                pulses_per_cpu_second: per_cpu(pulses as f64),
            })
        }
    };
    Ok(RunSummary {
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
        alarms: b_rep.alarms,
        keys_match,
        ec_efficiency: (!ec.is_empty()).then(|| ec.iter().sum::<f64>() / ec.len() as f64),
        s_z0: last.and_then(|s| s.bounds.as_ref().map(|b| b.s_z0)),
        s_z1: last.and_then(|s| s.bounds.as_ref().map(|b| b.s_z1)),
        phase_error_bound: last.and_then(|s| s.bounds.as_ref().map(|b| b.phase_error_bound)),
        lost_records,
        z_bits_in_blocks: completed.iter().map(|s| s.n_z.iter().sum::<u64>()).sum(),
        leak_ec_bits: completed.iter().map(|s| s.leak_ec_bits).sum(),
        reconciliation: opts.config.postprocessing.reconciliation,
        rtt_ms,
        reconciler_blocks,
        ec_round_trips_per_block,
        reconcilers,
        attack: format!("{:?}", opts.attack.kind),
        eve_known_valid_detections: eve_slots.len() as u64,
        eve_known_sifted_candidates,
        alarm_discarded: b_stats.alarm_discarded,
        alarm_latched_at_slot: b_stats.alarm_latched_at_slot,
        key_block_last_slots: completed.iter().map(|s| s.last_slot).collect(),
        z_bits_waiting: waiting,
        wall_seconds: t0.elapsed().as_secs_f64(),
        thread_cpu_seconds: ThreadCpu {
            link: link_cpu,
            alice: a_rep.cpu_seconds,
            bob: b_rep.cpu_seconds,
        },
        devices: opts.devices.scheme(),
        gateware,
    })
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host alice` / `qkd-host bob` (issue 8): the two ends of a link as
//! separate processes, each driving its own device, talking over the TCP
//! classical channel (Wegman-Carter authenticated, `qkd_keyproc::auth`),
//! committing confirmed keys to the durable key store of `qkd-kme` and
//! serving them over ETSI GS QKD 014.
//!
//! ```text
//!  device ──▶ StreamReader ──▶ window w ──▶ AlicePipeline ◀──TCP──▶ BobPipeline ◀── window w ◀── device
//!                                              │  two-phase commit (SYNC)  │
//!                                    key store + ETSI 014 API       key store + ETSI 014 API
//! ```
//!
//! Simulated devices: each process builds the same `FastLink` from the same
//! link TOML and `--seed` (the physics is deterministic), and reads only its
//! own side: a seeded, reproducible shared fiber. The other side's stream
//! is drained and dropped.
//!
//! Data is fed in windows of `window_pulses` slots, the same on both ends;
//! after each "not enough data" both read the next window and exchange a
//! TICK (window number, stream ended).
//!
//! Commit (no key is used that both sides have not confirmed): when both
//! pipelines return a key for block g (verified by the POLYVAL tag, agreed
//! by VERIFY_RESULT and BLOCK_ACK), each end writes it durably as pending
//! (`linkstate`), then
//! ```text
//!  A->B SYNC       committed blocks, pending block
//!  B->A SYNC_REPLY committed blocks, pending block
//!       Alice commits g (key store, fsync) if Bob holds it, else discards
//!  A->B SYNC_DONE  committed blocks after Alice's decision
//!       Bob commits g if Alice did, else discards
//! ```
//! The same exchange opens every session, so a drop at any point resolves
//! at the next connection: Alice commits only keys Bob holds durably, Bob
//! only keys Alice committed. Key IDs are `derive_key_id(link, g, i)`.
//!
//! Reconnection: each session starts with an unauthenticated HELLO giving
//! each end's pad positions and fed windows; both skip to the larger pad
//! positions (pads are dropped, never reused), start from the committed
//! pool, and resume at the first window neither end has fed (an interrupted
//! block is discarded on both sides: its sifted bits may have leaked
//! parities and are never used again).

use crate::config::LinkConfig;
use crate::linkstate::{Committed, Pending, Progress, StateDir, StateError};
use crate::pipeline::{
    AbortReason, AlicePipeline, BlockOutcome, BlockSummary, BobPipeline, KeyStore as PipeKeys,
    PipelineConfig,
};
use qkd_abi::records::Record;
use qkd_abi::Role;
use qkd_driver::stream::{BatchItem, StreamReader, StreamRecord};
use qkd_driver::EventSource;
use qkd_driver::{Batch, SlotDetection};
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role as AuthRole};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, TcpChannel};
use qkd_keyproc::keyfile::read_key_file;
use qkd_kme::{derive_key_id, Uuid};
use serde::Serialize;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// Role-protocol message types (host range 0x08xx).
pub mod msg {
    /// Either way, unauthenticated: pad positions and fed windows.
    pub const HELLO: u16 = 0x0801;
    /// A->B: committed blocks, pending block.
    pub const SYNC: u16 = 0x0802;
    /// B->A: committed blocks, pending block.
    pub const SYNC_REPLY: u16 = 0x0803;
    /// A->B: committed blocks after Alice's decision.
    pub const SYNC_DONE: u16 = 0x0804;
    /// Either way: window fed, stream ended.
    pub const TICK: u16 = 0x0805;
}

const HELLO_MAGIC: &[u8; 4] = b"QKDH";
const HELLO_VERSION: u8 = 1;
/// Pads reserved per durable write of the send position.
const SEND_RESERVE_STEP: u64 = 1024;
const NO_PENDING: u64 = u64::MAX;
/// Pads per direction the pool is topped up to from each key block.
const POOL_LOW_WATER: usize = 4096;

/// Where a role's keys go: the store file alone, or a serving KME.
#[derive(Debug, Clone)]
pub struct KmeOptions {
    /// HTTPS listen address of the ETSI 014 API.
    pub listen: SocketAddr,
    /// Plain-HTTP operations listener (`/status`, `/metrics`), loopback.
    pub ops_listen: Option<SocketAddr>,
    /// TLS files.
    pub tls: qkd_kme::TlsFiles,
    /// This KME's ID.
    pub kme_id: String,
    /// The peer KME's ID.
    pub peer_kme_id: String,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RoleOptions {
    /// Alice (listens) or Bob (connects).
    pub role: Role,
    /// Device URI.
    pub device: String,
    /// Alice: listen address; Bob: address to connect to.
    pub addr: String,
    /// Pre-shared key file (used only while the state directory has no pool).
    pub psk: PathBuf,
    /// The link.
    pub config: LinkConfig,
    /// Seed of the simulated fiber (`sim:` devices).
    pub seed: u64,
    /// Pulses the simulated link runs (`sim:` devices).
    pub pulses: u64,
    /// Eve's attack on the simulated fiber (`sim:` devices; both ends must agree).
    pub attack: qkd_sim::physics::AttackConfig,
    /// Slots per data window.
    pub window_pulses: u64,
    /// Durable state directory (pool, pending block, key store).
    pub state_dir: PathBuf,
    /// Link name: the key IDs derive from it.
    pub link_name: String,
    /// Master SAE (calls enc_keys at Alice's KME).
    pub master_sae: String,
    /// Slave SAE (calls dec_keys at Bob's KME).
    pub slave_sae: String,
    /// Size of each delivered key, bits (multiple of 8).
    pub key_size_bits: u32,
    /// Serve the ETSI 014 API.
    pub kme: Option<KmeOptions>,
    /// Give up reconnecting after this long without a session.
    pub reconnect_timeout: Duration,
    /// Keep serving the API after the link ended (until killed).
    pub serve_after_end: bool,
    /// Classical-channel receive timeout.
    pub recv_timeout: Duration,
}

/// Errors that end a role.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// Bad options.
    #[error("{0}")]
    Config(String),
    /// State directory.
    #[error("state directory")]
    State(#[from] StateError),
    /// Device.
    #[error("device")]
    Driver(#[from] qkd_driver::Error),
    /// The pre-shared key.
    #[error("pre-shared key")]
    Psk(#[from] qkd_keyproc::keyfile::KeyFileError),
    /// Authentication pool.
    #[error("authentication pool: {0}")]
    Auth(#[from] qkd_keyproc::auth::AuthError),
    /// Key store.
    #[error("key store")]
    Store(#[from] qkd_kme::StoreError),
    /// KME server.
    #[error("KME server")]
    Kme(#[from] qkd_kme::KmeError),
    /// Network (listen, connect).
    #[error("{what}")]
    Net {
        /// What failed.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The two ends disagree in a way no reconnection can repair.
    #[error("link state: {0}")]
    Inconsistent(String),
    /// No session could be (re)established in time.
    #[error("no session with the peer for {0:?}; giving up")]
    PeerGone(Duration),
}

/// How a session ended without a fatal error.
enum SessionEnd {
    /// Both streams ended; the link is done.
    Done,
    /// The channel or session broke; reconnect.
    Broken(String),
}

/// Summary printed when a role ends.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleSummary {
    /// Sessions (connections) used.
    pub sessions: u64,
    /// Blocks processed (key or aborted) over all sessions.
    pub blocks: u64,
    /// Blocks aborted.
    pub aborted_blocks: u64,
    /// Key blocks committed to the store (total, including earlier runs).
    pub committed_blocks: u64,
    /// Keys (units of `key_size_bits`) committed by this run.
    pub committed_keys: u64,
    /// Pending blocks discarded because the peer did not hold them.
    pub discarded_blocks: u64,
    /// QBER (Z, signal) of the last completed block.
    pub qber: Option<f64>,
    /// Secret bits stored by this run.
    pub stored_bits: u64,
    /// Windows fed.
    pub windows: u64,
    /// Wall seconds.
    pub wall_seconds: f64,
}

// ---- Durable reservations shared with the channel ----

struct Keeper {
    dir: StateDir,
    p: Progress,
}

impl Keeper {
    fn reserve_send(&mut self, pos: u64) -> Result<(), StateError> {
        if pos >= self.p.send_reserved {
            self.p.send_reserved = pos + SEND_RESERVE_STEP;
            self.dir.store_progress(self.p)?;
        }
        Ok(())
    }
    fn reserve_window(&mut self, w: u64) -> Result<(), StateError> {
        if w >= self.p.fed_windows {
            self.p.fed_windows = w + 1;
            self.dir.store_progress(self.p)?;
        }
        Ok(())
    }
}

/// The TCP channel with a durable write-ahead bound on the pads sent:
/// before the frame at absolute send position p leaves, `progress` says
/// at least p + 1 (every authenticated frame uses one pad).
struct CountingChannel {
    inner: TcpChannel,
    keeper: Arc<Mutex<Keeper>>,
    base_send: u64,
    sent: u64,
}

impl ClassicalChannel for CountingChannel {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let pos = self.base_send + self.sent;
        self.keeper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reserve_send(pos)
            .map_err(|e| ChannelError::Io(std::io::Error::other(e.to_string())))?;
        self.sent += 1;
        self.inner.send(frame)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        self.inner.recv(timeout)
    }
}

// ---- Device windows ----

/// One item of a device stream held back for a later window.
enum Held {
    /// A detection, in the decoder's compact form (full slot).
    Detection(SlotDetection),
    /// Any other record, with its full slot.
    Record(u64, Record),
}

impl Held {
    fn slot(&self) -> u64 {
        match self {
            Held::Detection(d) => d.slot,
            Held::Record(slot, _) => *slot,
        }
    }
}

/// Append a record to a window's batch, after the detections it holds.
fn push_record(out: &mut Batch, slot: u64, record: Record) {
    let detections_before = out.detections.len();
    out.records.push(StreamRecord {
        slot,
        record,
        detections_before,
    });
}

/// A device stream cut into windows of slots. A window is handed to the
/// pipeline as one driver batch: Bob's detections stay in the decoder's
/// compact form (`BobSifter::push_batch`), not 40-byte records.
struct Feed {
    reader: StreamReader<Box<dyn EventSource>>,
    peer_drain: Option<Box<dyn EventSource>>,
    carry: Vec<Held>,
    epochs: Vec<(u64, Record)>,
    ended: bool,
    next_window: u64,
    window_slots: u64,
    lost_records: u64,
}

impl Feed {
    /// Read window `self.next_window` (records with slot in [w W, (w+1) W),
    /// EPOCH records always) and advance.
    fn read_window(&mut self) -> Result<Batch, RoleError> {
        let w = self.next_window;
        let (start, end) = (
            w.saturating_mul(self.window_slots),
            (w + 1).saturating_mul(self.window_slots),
        );
        let mut out = Batch::default();
        for (slot, r) in std::mem::take(&mut self.epochs) {
            push_record(&mut out, slot, r);
        }
        let mut next_carry = Vec::new();
        let place = |h: Held, out: &mut Batch, nc: &mut Vec<Held>| {
            let slot = h.slot();
            match h {
                Held::Record(slot, r @ Record::Epoch(_)) => push_record(out, slot, r),
                h if slot >= end => nc.push(h),
                _ if slot < start => {}
                Held::Detection(d) => out.detections.push(d),
                Held::Record(slot, r) => push_record(out, slot, r),
            }
        };
        for h in std::mem::take(&mut self.carry) {
            place(h, &mut out, &mut next_carry);
        }
        while next_carry.is_empty() && !self.ended {
            let b = self.reader.next_batch(Duration::from_secs(5))?;
            self.lost_records += b.loss.lost_records;
            for item in b.iter() {
                let h = match item {
                    BatchItem::Detection(d) => Held::Detection(*d),
                    BatchItem::Record(r) => Held::Record(r.slot, r.record.clone()),
                };
                place(h, &mut out, &mut next_carry);
            }
            self.ended = b.end_of_stream;
        }
        self.carry = next_carry;
        self.next_window = w + 1;
        self.drain_peer();
        Ok(out)
    }

    /// Skip to window `w` (keeping the EPOCH records for the next window).
    fn skip_to(&mut self, w: u64) -> Result<(), RoleError> {
        while self.next_window < w && !(self.ended && self.carry.is_empty()) {
            let window = self.read_window()?;
            self.epochs.extend(
                window
                    .records
                    .into_iter()
                    .filter(|r| matches!(r.record, Record::Epoch(_)))
                    .map(|r| (r.slot, r.record)),
            );
        }
        self.next_window = self.next_window.max(w);
        Ok(())
    }

    /// Drop what the simulated link queued for the other side.
    fn drain_peer(&mut self) {
        let Some(src) = self.peer_drain.as_mut() else {
            return;
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match src.read_bytes(&mut buf, Duration::ZERO) {
                Ok(n) if n == buf.len() => {}
                Ok(_) => break,
                Err(_) => {
                    self.peer_drain = None;
                    break;
                }
            }
        }
    }

    fn exhausted(&self) -> bool {
        self.ended && self.carry.is_empty()
    }
}

fn open_feed(o: &RoleOptions) -> Result<Feed, RoleError> {
    let provider = qkd_sim::physics::device::SimProvider::new();
    let mut peer_drain = None;
    let mut dev = if o.device.starts_with("sim:") {
        let uri = qkd_driver::device::DeviceUri::parse(&o.device)?;
        let name = uri.option("link").unwrap_or("default").to_string();
        let params = crate::run::link_params(&o.config, o.attack, o.seed);
        provider
            .insert_link(&name, params, o.pulses, 1 << 22)
            .map_err(|e| RoleError::Config(format!("building the simulated link: {e}")))?;
        let peer = match o.role {
            Role::Alice => Role::Bob,
            Role::Bob => Role::Alice,
        };
        let mut pd = qkd_driver::open_with(
            &format!("sim:{}?link={name}", peer.name()),
            &provider,
            Some(peer),
        )?;
        peer_drain = Some(pd.take_events()?);
        qkd_driver::open_with(&o.device, &provider, Some(o.role))?
    } else {
        let dev = qkd_driver::open_with(&o.device, &provider, Some(o.role))?;
        if crate::device_setup::needs_programming(&o.device) {
            crate::device_setup::program(dev, o.role, &o.config)?
        } else {
            dev
        }
    };
    Ok(Feed {
        reader: StreamReader::new(dev.take_events()?),
        peer_drain,
        carry: Vec::new(),
        epochs: Vec::new(),
        ended: false,
        next_window: 0,
        window_slots: o.window_pulses.max(1),
        lost_records: 0,
    })
}

// ---- Key sink ----

enum Sink {
    Store(qkd_kme::KeyStore),
    Kme(qkd_kme::BlockingKmeHandle),
}

impl Sink {
    fn append(
        &mut self,
        keys: &[(Uuid, &[u8])],
        master: &str,
        slave: &str,
    ) -> Result<(), qkd_kme::StoreError> {
        match self {
            Sink::Store(s) => s.append_confirmed_batch(keys, master, slave),
            Sink::Kme(h) => h
                .handle()
                .store()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append_confirmed_batch(keys, master, slave),
        }
    }
    fn set_link(&self, l: qkd_kme::LinkState) {
        if let Sink::Kme(h) = self {
            h.handle().set_link_state(l);
        }
    }
}

// ---- Pipelines of both roles behind one interface ----

trait End {
    fn run_block(&mut self) -> BlockOutcome;
    /// Feed one window of the device stream.
    fn push(&mut self, window: Batch) -> Result<(), String>;
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel>;
    fn keys(&mut self) -> &mut PipeKeys;
    /// First slot of the STATUS interval whose alarm latched Bob's sifter.
    fn alarm_latched_at(&self) -> Option<u64>;
}

impl End for AlicePipeline<CountingChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        AlicePipeline::run_block(self)
    }
    fn push(&mut self, window: Batch) -> Result<(), String> {
        // Alice's stream has no detections: her records, in order.
        let records: Vec<Record> = window.records.into_iter().map(|r| r.record).collect();
        self.push_records(&records).map_err(|e| e.to_string())
    }
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel> {
        self.channel()
    }
    fn keys(&mut self) -> &mut PipeKeys {
        AlicePipeline::keys(self)
    }
    fn alarm_latched_at(&self) -> Option<u64> {
        None
    }
}

impl End for BobPipeline<CountingChannel> {
    fn run_block(&mut self) -> BlockOutcome {
        BobPipeline::run_block(self)
    }
    fn push(&mut self, window: Batch) -> Result<(), String> {
        self.push_batch(&window);
        Ok(())
    }
    fn chan(&mut self) -> &mut AuthChannel<CountingChannel> {
        self.channel()
    }
    fn keys(&mut self) -> &mut PipeKeys {
        BobPipeline::keys(self)
    }
    fn alarm_latched_at(&self) -> Option<u64> {
        self.sift_stats().alarm_latched_at_slot
    }
}

// ---- The role ----

struct RoleRun {
    o: RoleOptions,
    state: StateDir,
    keeper: Arc<Mutex<Keeper>>,
    committed: Committed,
    pending: Option<Pending>,
    feed: Feed,
    sink: Sink,
    link: Uuid,
    /// Exact pad positions known from the last session in this process.
    known_pos: Option<(u64, u64)>,
    summary: RoleSummary,
    last_qber: Option<f64>,
    alarms: Vec<String>,
    t0: Instant,
}

/// Fault injection for tests (`tests/two_host.rs`): with
/// `QKD_HOST_CRASH_AT=POINT:BLOCK` the process exits at once (no cleanup
/// beyond what is already durable) at that point of the commit of that key
/// block: `key` (both pipelines made the key, not yet durable), `pending`
/// (durable as pending, before SYNC), `committed` (this end committed it;
/// Alice has not yet sent SYNC_DONE).
fn crash_point(point: &str, block: u64) {
    if let Ok(v) = std::env::var("QKD_HOST_CRASH_AT") {
        if v == format!("{point}:{block}") {
            tracing::error!(point, block, "QKD_HOST_CRASH_AT: exiting now");
            std::process::exit(86);
        }
    }
}

fn broken(e: impl std::fmt::Display) -> SessionEnd {
    SessionEnd::Broken(e.to_string())
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// The unauthenticated HELLO that opens a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// Sent by Alice.
    pub alice: bool,
    /// Link UUID.
    pub link: [u8; 16],
    /// The sender's send-pad position.
    pub send_pos: u64,
    /// The sender's receive-pad position.
    pub recv_pos: u64,
    /// Windows the sender may have fed.
    pub fed_windows: u64,
}

impl Hello {
    /// Wire form: `QKDH | version | role (0 Alice, 1 Bob) | link | send |
    /// recv | fed` (integers little-endian), 46 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut m = HELLO_MAGIC.to_vec();
        m.push(HELLO_VERSION);
        m.push(u8::from(!self.alice));
        m.extend_from_slice(&self.link);
        for x in [self.send_pos, self.recv_pos, self.fed_windows] {
            m.extend_from_slice(&x.to_le_bytes());
        }
        m
    }
    /// Parse; `None` unless exactly the wire form.
    pub fn decode(b: &[u8]) -> Option<Hello> {
        if b.len() != 46 || &b[..4] != HELLO_MAGIC || b[4] != HELLO_VERSION || b[5] > 1 {
            return None;
        }
        let mut link = [0u8; 16];
        link.copy_from_slice(&b[6..22]);
        Some(Hello {
            alice: b[5] == 0,
            link,
            send_pos: u64_at(b, 22)?,
            recv_pos: u64_at(b, 30)?,
            fed_windows: u64_at(b, 38)?,
        })
    }
}

/// SYNC / SYNC_REPLY payload: committed blocks, pending (block, keys).
pub fn parse_sync(b: &[u8]) -> Option<(u64, Option<(u64, u32)>)> {
    if b.len() != 20 {
        return None;
    }
    let c = u64_at(b, 0)?;
    let p = u64_at(b, 8)?;
    let mut n = [0u8; 4];
    n.copy_from_slice(&b[16..20]);
    Some((c, (p != NO_PENDING).then_some((p, u32::from_le_bytes(n)))))
}

/// The link's UUID (key IDs derive from it).
pub fn link_uuid(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("qkd-link:{name}").as_bytes())
}

/// Run one role until the link ends (or forever with `serve_after_end`).
pub fn run_role(o: RoleOptions) -> Result<RoleSummary, RoleError> {
    if o.key_size_bits == 0 || o.key_size_bits % 8 != 0 {
        return Err(RoleError::Config(format!(
            "--key-size-bits must be a positive multiple of 8, got {}",
            o.key_size_bits
        )));
    }
    let state = StateDir::open(&o.state_dir)?;
    let auth_role = match o.role {
        Role::Alice => AuthRole::Initiator,
        Role::Bob => AuthRole::Responder,
    };
    let committed = match state.load_committed()? {
        Some(c) => {
            tracing::info!(
                blocks = c.next_block,
                "resuming from the state directory (the pre-shared key file is not read again)"
            );
            c
        }
        None => {
            let psk = read_key_file(&o.psk)?;
            let pool = KeyPool::bootstrap(&psk, auth_role)?;
            let c = Committed {
                next_block: 0,
                pool: pool.export(),
            };
            state.store_committed(&c)?;
            c
        }
    };
    KeyPool::import(&committed.pool)?;
    let mut pending = state.load_pending()?;
    if pending
        .as_ref()
        .is_some_and(|p| p.block < committed.next_block)
    {
        // Committed before a crash that came before the pending file was removed.
        state.clear_pending()?;
        pending = None;
    }
    let progress = state.load_progress()?;
    let keeper = Arc::new(Mutex::new(Keeper {
        dir: state.clone(),
        p: progress,
    }));
    let store_path = state.path("keys.qkdstore");
    let sink = match &o.kme {
        None => Sink::Store(qkd_kme::KeyStore::open(&store_path)?),
        Some(k) => {
            let (local_side, name) = match o.role {
                Role::Alice => (qkd_kme::Side::Master, "alice"),
                Role::Bob => (qkd_kme::Side::Slave, "bob"),
            };
            let h = qkd_kme::Kme::spawn(qkd_kme::KmeConfig {
                api: qkd_kme::ApiConfig {
                    kme_id: k.kme_id.clone(),
                    peer_kme_id: k.peer_kme_id.clone(),
                    links: vec![qkd_kme::LinkConfig {
                        master_sae_id: o.master_sae.clone(),
                        slave_sae_id: o.slave_sae.clone(),
                        local_side,
                    }],
                    key_size_bits: o.key_size_bits,
                    max_key_count: 1_000_000,
                    max_key_per_request: 128,
                },
                listen: k.listen,
                ops_listen: k.ops_listen,
                tls: k.tls.clone(),
                store_path: store_path.clone(),
            })?;
            println!("{name}: kme listening on {}", h.handle().api_addr);
            if let Some(a) = h.handle().ops_addr {
                println!("{name}: ops listening on {a}");
            }
            Sink::Kme(h)
        }
    };
    let feed = open_feed(&o)?;
    let link = link_uuid(&o.link_name);
    let mut r = RoleRun {
        o,
        state,
        keeper,
        committed,
        pending,
        feed,
        sink,
        link,
        known_pos: None,
        summary: RoleSummary::default(),
        last_qber: None,
        alarms: Vec::new(),
        t0: Instant::now(),
    };
    r.run()?;
    r.summary.committed_blocks = r.committed.next_block;
    r.summary.wall_seconds = r.t0.elapsed().as_secs_f64();
    if r.o.serve_after_end && matches!(r.sink, Sink::Kme(_)) {
        tracing::info!("link ended; serving the key store until killed");
        println!("{}", serde_json::to_string(&r.summary).unwrap_or_default());
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(r.summary)
}

impl RoleRun {
    fn publish(&self, up: bool) {
        let secs = self.t0.elapsed().as_secs_f64();
        self.sink.set_link(qkd_kme::LinkState {
            link_up: up,
            alarms: self.alarms.clone(),
            qber: self.last_qber,
            key_rate_bps: (secs > 0.0).then(|| self.summary.stored_bits as f64 / secs),
            blocks_done: self.committed.next_block,
            ..Default::default()
        });
    }

    fn run(&mut self) -> Result<(), RoleError> {
        let listener = match self.o.role {
            Role::Alice => {
                let l = TcpListener::bind(&self.o.addr).map_err(|source| RoleError::Net {
                    what: format!("listening on {}", self.o.addr),
                    source,
                })?;
                let a = l.local_addr().map_err(|source| RoleError::Net {
                    what: "local address".into(),
                    source,
                })?;
                println!("alice: classical channel listening on {a}");
                Some(l)
            }
            Role::Bob => None,
        };
        loop {
            let stream = self.connect(listener.as_ref())?;
            self.summary.sessions += 1;
            self.publish(true);
            match self.session(stream)? {
                SessionEnd::Done => {
                    tracing::info!(blocks = self.committed.next_block, "link done");
                    self.publish(false);
                    return Ok(());
                }
                SessionEnd::Broken(why) => {
                    tracing::warn!(%why, "session broken; reconnecting");
                    self.publish(false);
                }
            }
        }
    }

    fn connect(&self, listener: Option<&TcpListener>) -> Result<TcpStream, RoleError> {
        let t0 = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            let r = match listener {
                Some(l) => {
                    l.set_nonblocking(true).map_err(|source| RoleError::Net {
                        what: "listener".into(),
                        source,
                    })?;
                    l.accept().map(|(s, peer)| {
                        tracing::info!(%peer, "accepted");
                        s
                    })
                }
                None => TcpStream::connect(&self.o.addr),
            };
            match r {
                Ok(s) => {
                    s.set_nonblocking(false).map_err(|source| RoleError::Net {
                        what: "socket".into(),
                        source,
                    })?;
                    return Ok(s);
                }
                Err(e) => {
                    if t0.elapsed() > self.o.reconnect_timeout {
                        return Err(RoleError::PeerGone(self.o.reconnect_timeout));
                    }
                    if listener.is_none() {
                        tracing::debug!(error = %e, addr = %self.o.addr, "connect failed; retrying");
                    }
                    std::thread::sleep(if listener.is_some() {
                        Duration::from_millis(50)
                    } else {
                        wait
                    });
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// One connection: HELLO, SYNC, then blocks until done or broken.
    fn session(&mut self, stream: TcpStream) -> Result<SessionEnd, RoleError> {
        let tcp = match TcpChannel::new(stream) {
            Ok(t) => t,
            Err(e) => return Ok(broken(e)),
        };
        // The newest pool this end holds (the pending block's, if any).
        let mut pool = KeyPool::import(match &self.pending {
            Some(p) => &p.pool,
            None => &self.committed.pool,
        })?;
        let (ps, pr) = pool.taken();
        let reserved = self.keeper.lock().unwrap_or_else(|e| e.into_inner()).p;
        let (my_send, my_recv) = match self.known_pos {
            Some((s, r)) => (s.max(ps), r.max(pr)),
            // After a restart, any pad up to the reservation may have been sent.
            None => (ps.max(reserved.send_reserved), pr),
        };
        let mut chan = CountingChannel {
            inner: tcp,
            keeper: self.keeper.clone(),
            base_send: my_send,
            sent: 0,
        };
        let hello = Hello {
            alice: self.o.role == Role::Alice,
            link: *self.link.as_bytes(),
            send_pos: my_send,
            recv_pos: my_recv,
            fed_windows: reserved.fed_windows,
        }
        .encode();
        if let Err(e) = chan.send(&Frame::new(msg::HELLO, hello)) {
            return Ok(broken(e));
        }
        let peer = match chan.recv(self.o.recv_timeout) {
            Ok(f) if f.msg_type == msg::HELLO => f.payload,
            Ok(f) => return Ok(broken(format!("expected HELLO, got {:#06x}", f.msg_type))),
            Err(e) => return Ok(broken(e)),
        };
        let Some(h) = Hello::decode(&peer) else {
            return Ok(broken("malformed HELLO"));
        };
        if h.alice == (self.o.role == Role::Alice) {
            return Err(RoleError::Inconsistent(
                "the peer runs the same role (alice must meet bob)".into(),
            ));
        }
        if h.link != *self.link.as_bytes() {
            return Err(RoleError::Inconsistent(
                "the peer serves another link (--link-name differs)".into(),
            ));
        }
        let (peer_send, peer_recv, peer_fed) = (h.send_pos, h.recv_pos, h.fed_windows);
        let send = my_send.max(peer_recv);
        let recv = my_recv.max(peer_send);
        if let Err(e) = pool.discard(send - ps, recv - pr) {
            // A forged HELLO can claim any position; a genuine one beyond the
            // pool means the pool is used up (provision a new pre-shared key).
            tracing::error!(error = %e, send, recv, "cannot skip to the peer's pad position");
            return Ok(broken(e));
        }
        chan.base_send = send;
        chan.sent = 0;
        let start_window = reserved.fed_windows.max(peer_fed);
        tracing::info!(
            send_pad = send,
            recv_pad = recv,
            window = start_window,
            committed = self.committed.next_block,
            pending = ?self.pending.as_ref().map(|p| p.block),
            "session start"
        );
        let mut auth = AuthChannel::new(chan, pool);
        if let Some(end) = self.sync(&mut auth)? {
            return Ok(end);
        }
        // From here on both ends use the committed pool at the same position.
        let mut rebuilt = KeyPool::import(&self.committed.pool)?;
        let (cs, cr) = rebuilt.taken();
        let (ns, nr) = auth.pool().taken();
        if ns < cs || nr < cr {
            return Err(RoleError::Inconsistent(
                "committed pool is ahead of the session".into(),
            ));
        }
        rebuilt.discard(ns - cs, nr - cr)?;
        *auth.pool_mut() = rebuilt;
        self.feed.skip_to(start_window)?;

        let mut pcfg = PipelineConfig::from_link(&self.o.config);
        pcfg.cascade = qkd_keyproc::cascade::CascadeConfig::option8();
        pcfg.recv_timeout = self.o.recv_timeout;
        let end = match self.o.role {
            Role::Alice => {
                let mut p = AlicePipeline::new(pcfg, auth);
                let e = self.blocks(&mut p);
                self.known_pos = Some(p.channel().pool().taken());
                e
            }
            Role::Bob => {
                let mut p = BobPipeline::new(pcfg, auth);
                let e = self.blocks(&mut p);
                self.known_pos = Some(p.channel().pool().taken());
                e
            }
        };
        end
    }

    fn blocks<E: End>(&mut self, p: &mut E) -> Result<SessionEnd, RoleError> {
        let mut any_ended = false;
        loop {
            let outcome = p.run_block();
            if let Some(slot) = p.alarm_latched_at() {
                let a = format!("detector_alarm_latched_at_slot_{slot}");
                if !self.alarms.contains(&a) {
                    tracing::error!(slot, "detector alarm: key production stopped");
                    self.alarms.push(a);
                    self.publish(true);
                }
            }
            if self.feed.lost_records > 0 && !self.alarms.iter().any(|a| a == "stream_records_lost")
            {
                tracing::warn!(lost = self.feed.lost_records, "device stream lost records");
                self.alarms.push("stream_records_lost".into());
            }
            match outcome {
                BlockOutcome::Key(s) => {
                    self.summary.blocks += 1;
                    let n: u64 = s.n_z.iter().sum();
                    self.last_qber = s
                        .m_z
                        .map(|m| m.iter().sum::<u64>() as f64 / n.max(1) as f64);
                    self.summary.qber = self.last_qber;
                    self.on_key(p, &s)?;
                    let discarded = self.summary.discarded_blocks;
                    if let Some(end) = self.sync(p.chan())? {
                        return Ok(end);
                    }
                    if self.summary.discarded_blocks != discarded {
                        // The session pool holds the discarded block's pads.
                        return Ok(broken(
                            "a produced key was discarded; restarting from the committed pool",
                        ));
                    }
                    self.publish(true);
                }
                BlockOutcome::Aborted(s) => {
                    let reason = s.abort.clone().unwrap_or(AbortReason::SessionBroken);
                    if matches!(
                        reason,
                        AbortReason::Channel(_)
                            | AbortReason::Protocol(_)
                            | AbortReason::SessionBroken
                    ) {
                        return Ok(broken(reason));
                    }
                    self.summary.blocks += 1;
                    self.summary.aborted_blocks += 1;
                }
                BlockOutcome::NotEnoughData { .. } => {
                    if any_ended {
                        return Ok(SessionEnd::Done);
                    }
                    let w = self.feed.next_window;
                    let mine_ended = if self.feed.exhausted() {
                        true
                    } else {
                        self.keeper
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .reserve_window(w)?;
                        let window = self.feed.read_window()?;
                        p.push(window)
                            .map_err(|e| RoleError::Inconsistent(format!("device stream: {e}")))?;
                        self.summary.windows += 1;
                        self.feed.exhausted()
                    };
                    match self.tick(p.chan(), w, mine_ended) {
                        Ok(peer_ended) => any_ended = mine_ended || peer_ended,
                        Err(end) => return Ok(end),
                    }
                }
            }
        }
    }

    fn tick<C: ClassicalChannel>(
        &mut self,
        chan: &mut AuthChannel<C>,
        w: u64,
        ended: bool,
    ) -> Result<bool, SessionEnd> {
        let mut m = w.to_le_bytes().to_vec();
        m.push(u8::from(ended));
        let t = self.o.recv_timeout;
        let peer = match self.o.role {
            Role::Alice => {
                chan.send(&Frame::new(msg::TICK, m)).map_err(broken)?;
                chan.recv_type(msg::TICK, t).map_err(broken)?
            }
            Role::Bob => {
                let p = chan.recv_type(msg::TICK, t).map_err(broken)?;
                chan.send(&Frame::new(msg::TICK, m)).map_err(broken)?;
                p
            }
        };
        if peer.len() != 9 || u64_at(&peer, 0) != Some(w) {
            return Err(broken(format!("TICK out of step at window {w}")));
        }
        Ok(peer[8] != 0)
    }

    /// Both pipelines produced a key: make it durable as pending.
    fn on_key<E: End>(&mut self, p: &mut E, s: &BlockSummary) -> Result<(), RoleError> {
        let unit = (self.o.key_size_bits / 8) as usize;
        let mut key = Zeroizing::new(Vec::new());
        while let Some((_, k)) = p.keys().pop() {
            // Whole bytes only (the pipeline's keys are byte-aligned in
            // practice; a trailing partial byte is dropped on both ends).
            let bytes = k.to_bytes();
            key.extend_from_slice(&bytes[..k.len_bits().get() as usize / 8]);
        }
        // Top the pad pool up to POOL_LOW_WATER pads per direction from the
        // key (both ends hold the same pool and key here, so they take the
        // same bytes): the pipeline refills what a block uses, not what the
        // HELLO / SYNC / TICK messages and empty sifting rounds use.
        let pool = p.chan().pool();
        let short = POOL_LOW_WATER.saturating_sub(pool.send_pads().min(pool.recv_pads()));
        let take = (short * 32).min(key.len() / 32 * 32);
        if take > 0 {
            p.chan()
                .pool_mut()
                .replenish(&qkd_keyproc::SecretKey::from_bytes(&key[..take]));
        }
        let units: Vec<Zeroizing<Vec<u8>>> = key[take..]
            .chunks_exact(unit)
            .map(|c| Zeroizing::new(c.to_vec()))
            .collect();
        let bits = units.len() * unit * 8;
        crash_point("key", self.committed.next_block);
        let pending = Pending {
            block: self.committed.next_block,
            units,
            pool: p.chan().pool().export(),
        };
        tracing::info!(
            block = pending.block,
            session_block = s.block_index,
            keys = pending.units.len(),
            secret_bits = s.secret_bits,
            pool_top_up_bytes = take,
            "key produced; pending commit"
        );
        self.summary.stored_bits += bits as u64;
        self.state.store_pending(&pending)?;
        crash_point("pending", pending.block);
        self.pending = Some(pending);
        Ok(())
    }

    fn commit(&mut self, p: Pending) -> Result<(), RoleError> {
        let ids: Vec<Uuid> = (0..p.units.len())
            .map(|i| derive_key_id(self.link, p.block, i as u32))
            .collect();
        let keys: Vec<(Uuid, &[u8])> = ids
            .iter()
            .zip(&p.units)
            .map(|(id, u)| (*id, &u[..]))
            .collect();
        if !keys.is_empty() {
            match self
                .sink
                .append(&keys, &self.o.master_sae, &self.o.slave_sae)
            {
                Ok(()) => {}
                // Stored before a crash that came before the pool file was written.
                Err(qkd_kme::StoreError::DuplicateKeyId(id)) if id == ids[0] => {
                    tracing::info!(block = p.block, "block already in the key store")
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.summary.committed_keys += keys.len() as u64;
        let c = Committed {
            next_block: p.block + 1,
            pool: p.pool.clone(),
        };
        self.state.store_committed(&c)?;
        self.committed = c;
        self.state.clear_pending()?;
        tracing::info!(block = p.block, keys = keys.len(), "block committed");
        crash_point("committed", p.block);
        Ok(())
    }

    fn discard(&mut self, p: Pending) -> Result<(), RoleError> {
        tracing::warn!(
            block = p.block,
            "pending block discarded: the peer does not hold it"
        );
        self.summary.discarded_blocks += 1;
        self.summary.stored_bits = self
            .summary
            .stored_bits
            .saturating_sub(p.units.iter().map(|u| u.len() as u64 * 8).sum());
        self.state.clear_pending().map_err(RoleError::from)
    }

    fn sync_msg(&self) -> Vec<u8> {
        let mut m = self.committed.next_block.to_le_bytes().to_vec();
        let (b, n) = self
            .pending
            .as_ref()
            .map_or((NO_PENDING, 0u32), |p| (p.block, p.units.len() as u32));
        m.extend_from_slice(&b.to_le_bytes());
        m.extend_from_slice(&n.to_le_bytes());
        m
    }

    /// The two-phase commit exchange. `Ok(Some(_))`: the session broke.
    fn sync<C: ClassicalChannel>(
        &mut self,
        chan: &mut AuthChannel<C>,
    ) -> Result<Option<SessionEnd>, RoleError> {
        let t = self.o.recv_timeout;
        let parse = parse_sync;
        macro_rules! net {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Ok(Some(broken(e))),
                }
            };
        }
        match self.o.role {
            Role::Alice => {
                net!(chan.send(&Frame::new(msg::SYNC, self.sync_msg())));
                let r = net!(chan.recv_type(msg::SYNC_REPLY, t));
                let Some((c_b, p_b)) = parse(&r) else {
                    return Ok(Some(broken("malformed SYNC_REPLY")));
                };
                if let Some(p) = self.pending.take() {
                    let bob_holds = match p_b {
                        Some((b, n)) if b == p.block => {
                            if n as usize != p.units.len() {
                                return Err(RoleError::Inconsistent(format!(
                                    "block {}: Bob holds {n} keys, Alice {}",
                                    p.block,
                                    p.units.len()
                                )));
                            }
                            true
                        }
                        _ => c_b > p.block,
                    };
                    if bob_holds {
                        self.commit(p)?;
                    } else {
                        self.discard(p)?;
                    }
                }
                let c_a = self.committed.next_block;
                net!(chan.send(&Frame::new(msg::SYNC_DONE, c_a.to_le_bytes().to_vec())));
                let bob_final = match p_b {
                    Some((g, _)) if c_a > g => g + 1,
                    _ => c_b,
                };
                if bob_final != c_a {
                    return Err(RoleError::Inconsistent(format!(
                        "key stores out of step: Alice committed {c_a} blocks, Bob {bob_final}"
                    )));
                }
            }
            Role::Bob => {
                let a = net!(chan.recv_type(msg::SYNC, t));
                if parse(&a).is_none() {
                    return Ok(Some(broken("malformed SYNC")));
                }
                net!(chan.send(&Frame::new(msg::SYNC_REPLY, self.sync_msg())));
                let d = net!(chan.recv_type(msg::SYNC_DONE, t));
                let Some(c_a) = (d.len() == 8).then(|| u64_at(&d, 0)).flatten() else {
                    return Ok(Some(broken("malformed SYNC_DONE")));
                };
                if let Some(p) = self.pending.take() {
                    if c_a > p.block {
                        self.commit(p)?;
                    } else {
                        self.discard(p)?;
                    }
                }
                if self.committed.next_block != c_a {
                    return Err(RoleError::Inconsistent(format!(
                        "key stores out of step: Alice committed {c_a} blocks, Bob {}",
                        self.committed.next_block
                    )));
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn hello_round_trips(alice in any::<bool>(), link in any::<[u8; 16]>(),
                             s in any::<u64>(), r in any::<u64>(), f in any::<u64>()) {
            let h = Hello { alice, link, send_pos: s, recv_pos: r, fed_windows: f };
            prop_assert_eq!(Hello::decode(&h.encode()), Some(h));
        }

        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Hello::decode(&b);
            let _ = parse_sync(&b);
            let mut m = HELLO_MAGIC.to_vec();
            m.extend_from_slice(&b);
            let _ = Hello::decode(&m);
        }
    }

    #[test]
    fn malformed_hello_and_sync_are_refused() {
        let h = Hello {
            alice: true,
            link: [7; 16],
            send_pos: 1,
            recv_pos: 2,
            fed_windows: 3,
        }
        .encode();
        assert!(Hello::decode(&h[..45]).is_none());
        let mut bad = h.clone();
        bad[4] = 9;
        assert!(Hello::decode(&bad).is_none(), "version");
        let mut bad = h.clone();
        bad[5] = 2;
        assert!(Hello::decode(&bad).is_none(), "role");
        assert_eq!(parse_sync(&[0; 19]), None);
        let mut m = 5u64.to_le_bytes().to_vec();
        m.extend_from_slice(&NO_PENDING.to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(parse_sync(&m), Some((5, None)));
        assert_eq!(link_uuid("a"), link_uuid("a"));
        assert_ne!(link_uuid("a"), link_uuid("b"));
    }
}

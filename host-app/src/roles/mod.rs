// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host alice` / `qkd-host bob`: the two ends of a link as separate
//! processes, each driving its own device, talking over the TCP classical
//! channel (Wegman-Carter authenticated over each block's transcript,
//! `qkd_keyproc::auth`), committing confirmed keys to the durable key store
//! of `qkd-kme` and serving them over ETSI GS QKD 014.
//!
//! ```text
//!  device ──▶ Feed ──▶ window w ──▶ AlicePipeline ◀──TCP──▶ BobPipeline ◀── window w ◀── Feed ◀── device
//!                                        │  two-phase commit (SYNC)  │
//!                              key store + ETSI 014 API       key store + ETSI 014 API
//! ```
//!
//! A session (one TCP connection):
//! 1. the authenticated opening ([`handshake`]): one HELLO each way, one
//!    pad per direction, nothing changed by an unauthenticated message;
//! 2. the two-phase commit exchange ([`commit`]) resolving a block left
//!    pending by an earlier session;
//! 3. blocks: after each "not enough data" both ends read the next window
//!    of `window_pulses` slots ([`crate::feed`]) and exchange a TICK
//!    (window number, stream ended); each key block is committed at both
//!    ends or at neither.
//!
//! Modules: [`options`] (what a role runs with, its errors and summary),
//! [`handshake`], [`commit`], [`durable`] (write-ahead reservations),
//! [`sink`] (key store or KME), [`end`] (both pipelines behind one trait).
//!
//! Simulated devices: each process builds the same `FastLink` from the same
//! link TOML and `--seed` (the physics is deterministic), and reads only its
//! own side: a seeded, reproducible shared fiber. The other side's stream
//! is drained and dropped.
//!
//! Reconnection: Bob connects, Alice accepts, with exponential back-off
//! (capped) after every failed connection or session; the reconnect timeout
//! bounds the time without progress (an authenticated opening or a
//! committed block). A session resumes at the first window neither end has
//! fed (an interrupted block is discarded on both sides: its sifted bits
//! may have leaked parities and are never used again). When the pad pool
//! cannot pay for a block, key production pauses: the status says so, and
//! the role gives up after the reconnect timeout.

pub mod commit;
mod durable;
mod end;
pub mod handshake;
pub mod options;
mod sink;

pub use commit::{parse_sync, parse_sync_done};
pub use options::{KmeOptions, RoleError, RoleOptions, RoleSummary};

use crate::budget::{MIN_PADS_PER_DIRECTION, MIN_PSK_BYTES};
use crate::feed::Feed;
use crate::linkstate::{Committed, LastStored, LinkEpoch, Pending, Progress, StateDir};
use crate::pipeline::{
    AbortReason, AlicePipeline, BlockOutcome, BlockSummary, BobPipeline, PipelineConfig,
};
use durable::{CountingChannel, Keeper};
use end::End;
use handshake::{HelloError, Opening, MAX_UNAUTHENTICATED_BYTES};
use qkd_abi::Role;
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role as AuthRole};
use qkd_keyproc::channel::{ClassicalChannel, Frame, TcpChannel, MAX_PAYLOAD};
use qkd_keyproc::keyfile::read_key_file;
use qkd_kme::Uuid;
use sink::Sink;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Role-protocol message types (host range 0x08xx; HELLO is
/// [`handshake::MSG_HELLO`]).
pub mod msg {
    /// A->B: committed blocks, pending block.
    pub const SYNC: u16 = 0x0802;
    /// B->A: committed blocks, pending block.
    pub const SYNC_REPLY: u16 = 0x0803;
    /// A->B: committed blocks after Alice's decision.
    pub const SYNC_DONE: u16 = 0x0804;
    /// Either way: window fed, stream ended.
    pub const TICK: u16 = 0x0805;
}

const NO_PENDING: u64 = u64::MAX;
/// First wait after a failed connection or session; doubles up to the cap.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A session that lasted this long resets the back-off.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(10);

/// How a session ended without a fatal error.
enum SessionEnd {
    /// Both streams ended; the link is done.
    Done,
    /// The channel or session broke (or the opening was refused); reconnect.
    Broken(String),
    /// The pad pool cannot pay for a block (the error to end with).
    Paused(RoleError),
    /// A key block is held at both ends because a key store is full
    /// (`commit`); it commits at a later session once both have room.
    Held,
}

struct RoleRun {
    o: RoleOptions,
    state: StateDir,
    keeper: Arc<Mutex<Keeper>>,
    committed: Committed,
    pending: Option<Pending>,
    feed: Feed,
    sink: Sink,
    link: Uuid,
    summary: RoleSummary,
    last_qber: Option<f64>,
    /// The last block that made key (for the status and metrics).
    last_key_block: Option<BlockSummary>,
    /// Pads left in the session's pool (send, receive), when known.
    pads: Option<(u64, u64)>,
    /// The per-block history file of the state directory.
    history: Option<crate::history::History>,
    alarms: Vec<String>,
    /// Why key production is paused, if it is.
    paused: Option<String>,
    /// Why the pending block is held (a key store full), if it is; while
    /// held the reconnect timeout does not run (the peer may be waiting
    /// for its applications to fetch keys).
    held: Option<String>,
    t0: Instant,
    /// Last authenticated opening or committed block.
    last_progress: Instant,
    /// The KME certificate's notAfter (Unix seconds), when a KME serves.
    cert_not_after: Option<i64>,
}

/// A KME certificate closer than this to its end gets a warning at start.
const CERT_WARN_SECONDS: i64 = 30 * 86_400;

/// The KME certificate's notAfter, with a warning when it is near or past.
fn cert_not_after(tls: &qkd_kme::TlsFiles) -> Option<i64> {
    let path = &tls.server_cert_pem;
    match qkd_kme::certs::cert_not_after_unix(path) {
        Ok(t) => {
            let left = qkd_kme::certs::seconds_until(t, std::time::SystemTime::now());
            if left <= 0 {
                tracing::warn!(cert = %path.display(), "the KME certificate has expired");
            } else if left < CERT_WARN_SECONDS {
                tracing::warn!(
                    cert = %path.display(),
                    days_left = left / 86_400,
                    "the KME certificate expires soon; renew it"
                );
            } else {
                tracing::info!(cert = %path.display(), days_left = left / 86_400, "KME certificate valid");
            }
            Some(t)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot tell when the KME certificate expires");
            None
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

/// The link's UUID, from its name (the HELLO names it).
pub fn link_uuid(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("qkd-link:{name}").as_bytes())
}

/// The UUID key IDs derive from (`qkd_kme::derive_key_id`): the link's
/// UUID for the legacy all-zero epoch, else a UUIDv5 of the epoch in the
/// link's namespace, so that each incarnation of a link has its own IDs.
pub fn key_id_namespace(link: Uuid, epoch: [u8; 16]) -> Uuid {
    if epoch == [0; 16] {
        link
    } else {
        Uuid::new_v5(&link, &epoch)
    }
}

fn open_feed(o: &RoleOptions) -> Result<Feed, RoleError> {
    let provider = crate::devices::Provider::new();
    #[cfg(feature = "sim")]
    if o.device.starts_with("sim:") {
        return open_simulated(o, &provider);
    }
    let dev = qkd_driver::open_with(&o.device, &provider, Some(o.role))?;
    let mut dev = if crate::device_setup::needs_programming(&o.device) {
        crate::device_setup::program(dev, o.role, &o.config)?
    } else {
        dev
    };
    Ok(Feed::new(dev.take_events()?, None, o.window_pulses))
}

/// A simulated device (`sim:ROLE?link=NAME`): this end builds the seeded
/// link of both ends and drains the peer's stream.
#[cfg(feature = "sim")]
fn open_simulated(o: &RoleOptions, provider: &crate::devices::Provider) -> Result<Feed, RoleError> {
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
        provider,
        Some(peer),
    )?;
    let peer_drain = Some(pd.take_events()?);
    let mut dev = qkd_driver::open_with(&o.device, provider, Some(o.role))?;
    Ok(Feed::new(dev.take_events()?, peer_drain, o.window_pulses))
}

/// Run one role until the link ends (or forever with `serve_after_end`).
pub fn run_role(o: RoleOptions) -> Result<RoleSummary, RoleError> {
    if o.key_size_bits == 0 || !o.key_size_bits.is_multiple_of(8) {
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
            // A progress file that reserves nothing (written first at
            // bootstrap) means no pad was used yet.
            let used = state.exists("progress") && state.load_progress()? != Progress::default();
            if used || state.exists("keys.qkdstore") || state.exists("pool.pending") {
                return Err(RoleError::StoreState(format!(
                    "state directory {} has progress, a pending block or keys but no \
                     pool.committed ({}): the authentication pool is lost; refusing to re-read \
                     the pre-shared key (its pads may have been used). Restore pool.committed \
                     from a backup, or start over with a new pre-shared key and empty state \
                     directories at both ends",
                    o.state_dir.display(),
                    state.path("pool.committed").display()
                )));
            }
            let psk = read_key_file(&o.psk)?;
            let bytes = psk.len_bits().get() / 8;
            if (bytes as usize) < MIN_PSK_BYTES {
                return Err(RoleError::Config(format!(
                    "pre-shared key {} has {bytes} bytes; a link needs at least {MIN_PSK_BYTES} \
                     (the hash key and {MIN_PADS_PER_DIRECTION} pads per direction)",
                    o.psk.display()
                )));
            }
            let pool = KeyPool::bootstrap(&psk, auth_role)?;
            let c = Committed {
                next_block: 0,
                last_stored: LastStored::Nothing,
                // Alice draws the epoch; Bob learns it from her HELLO.
                epoch: match o.role {
                    Role::Alice => LinkEpoch::random(),
                    Role::Bob => LinkEpoch::Unknown,
                },
                pool: pool.export(),
            };
            // progress before pool.committed: a state directory with
            // pool.committed and no progress has lost it.
            if !state.exists("progress") {
                state.store_progress(Progress::default())?;
            }
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
    if committed.last_stored != LastStored::Unknown && !state.exists("progress") {
        return Err(RoleError::State(crate::linkstate::StateError::Malformed {
            path: state.path("progress"),
            why: "missing while pool.committed is present",
            advice: crate::linkstate::advice("progress"),
        }));
    }
    let progress = state.load_progress()?;
    let keeper = Arc::new(Mutex::new(Keeper {
        dir: state.clone(),
        p: progress,
    }));
    let store_path = state.path("keys.qkdstore");
    if let LastStored::Block(b) = committed.last_stored {
        if !store_path.exists() {
            return Err(RoleError::StoreState(format!(
                "key store {} is missing but pool.committed records block {b} as stored in it; \
                 refusing to start with an empty store (the peer holds those keys). Restore the \
                 key store from a backup of this end's state directory, or start the link over \
                 with empty state directories at both ends",
                store_path.display()
            )));
        }
    }
    let mut cert_not_after_unix = None;
    let mut sink = match &o.kme {
        None => Sink::Store(qkd_kme::KeyStore::open_with(
            &store_path,
            qkd_kme::store::StoreOptions {
                max_key_count: Some(o.max_key_count),
                ..Default::default()
            },
        )?),
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
                    max_key_count: u32::try_from(o.max_key_count).map_err(|_| {
                        RoleError::Config(format!(
                            "--max-key-count {} is past the 2^32 - 1 that ETSI GS QKD 014 can report",
                            o.max_key_count
                        ))
                    })?,
                    max_key_per_request: 128,
                },
                listen: k.listen,
                ops_listen: k.ops_listen,
                tls: k.tls.clone(),
                store_path: store_path.clone(),
            })?;
            cert_not_after_unix = cert_not_after(&k.tls);
            println!("{name}: kme listening on {}", h.handle().api_addr);
            if let Some(a) = h.handle().ops_addr {
                println!("{name}: ops listening on {a}");
            }
            Sink::Kme(h)
        }
    };
    check_store(&mut sink, &o, &committed, pending.as_ref())?;
    let feed = open_feed(&o)?;
    let link = link_uuid(&o.link_name);
    let o_state_dir = o.state_dir.clone();
    let mut r = RoleRun {
        o,
        state,
        keeper,
        committed,
        pending,
        feed,
        sink,
        link,
        summary: RoleSummary::default(),
        last_qber: None,
        last_key_block: None,
        pads: None,
        history: match crate::history::History::open(&o_state_dir) {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "no per-block history will be kept");
                None
            }
        },
        alarms: Vec::new(),
        paused: None,
        held: None,
        t0: Instant::now(),
        last_progress: Instant::now(),
        cert_not_after: cert_not_after_unix,
    };
    let result = r.run();
    r.summary.committed_blocks = r.committed.next_block;
    r.summary.wall_seconds = r.t0.elapsed().as_secs_f64();
    if let Ok(c) = KeyPool::import(&r.committed.pool) {
        r.summary.pool_pads = (c.send_pads() as u64, c.recv_pads() as u64);
    }
    result?;
    if r.o.serve_after_end && matches!(r.sink, Sink::Kme(_)) {
        tracing::info!("link ended; serving the key store until killed");
        println!("{}", serde_json::to_string(&r.summary).unwrap_or_default());
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    Ok(r.summary)
}

/// The key store's last block of the link against `pool.committed` (and
/// `pool.pending`): equal, or the pending block appended before a crash
/// (its commit completes at the next SYNC). A store behind the state (lost,
/// or an older copy) or ahead of it (the state files lost or older) is
/// refused with an error naming the files.
fn check_store(
    sink: &mut Sink,
    o: &RoleOptions,
    committed: &Committed,
    pending: Option<&Pending>,
) -> Result<(), RoleError> {
    let last = sink.last_block(&o.master_sae, &o.slave_sae);
    let pend = pending.map(|p| p.block);
    let path = sink.path();
    let expected = match committed.last_stored {
        LastStored::Block(b) => Some(b),
        LastStored::Nothing => None,
        // An earlier-version pool.committed: the store may not be ahead.
        LastStored::Unknown => match last {
            Some(l) if l >= committed.next_block && Some(l) != pend => {
                return Err(store_ahead(&path, l, committed, o));
            }
            _ => return Ok(()),
        },
    };
    if last == expected || (last.is_some() && last == pend && last > expected) {
        return Ok(());
    }
    if last < expected {
        let has = last.map_or("no block".to_string(), |l| format!("block {l}"));
        return Err(RoleError::StoreState(format!(
            "key store {} has {has} of link {} -> {} last, but pool.committed records block {} \
             as stored: the store was replaced by an older copy, or belongs to other SAE IDs \
             (--master-sae/--slave-sae). Restore the key store from the same backup as \
             pool.committed, or start the link over with empty state directories at both ends",
            path.display(),
            o.master_sae,
            o.slave_sae,
            expected.unwrap_or_default()
        )));
    }
    Err(store_ahead(&path, last.unwrap_or_default(), committed, o))
}

fn store_ahead(path: &std::path::Path, l: u64, c: &Committed, o: &RoleOptions) -> RoleError {
    RoleError::StoreState(format!(
        "key store {} holds block {l} of link {} -> {} that pool.committed (next block {}) and \
         pool.pending do not record: pool.committed or pool.pending in {} was lost or restored \
         from an older copy. Restore them from the same backup as the key store, or start the \
         link over with empty state directories at both ends",
        path.display(),
        o.master_sae,
        o.slave_sae,
        c.next_block,
        o.state_dir.display()
    ))
}

impl RoleRun {
    /// Bob: keep the link epoch of Alice's first authenticated HELLO; any
    /// other epoch later means the two state directories belong to
    /// different incarnations of the link.
    fn adopt_epoch(&mut self, alice: [u8; 16]) -> Result<(), RoleError> {
        match self.committed.epoch {
            LinkEpoch::Known(e) if e == alice => Ok(()),
            LinkEpoch::Known(_) => Err(RoleError::StoreState(format!(
                "Alice's link epoch differs from the one in {}: the two ends' state \
                 directories belong to different runs of link '{}' (one was started over). \
                 Start the link over with a new pre-shared key and empty state directories \
                 at both ends",
                self.state.path("pool.committed").display(),
                self.o.link_name
            ))),
            LinkEpoch::Unknown => {
                self.committed.epoch = LinkEpoch::Known(alice);
                self.state.store_committed(&self.committed)?;
                tracing::info!("link epoch learnt from Alice's HELLO");
                Ok(())
            }
        }
    }

    /// The UUID this incarnation's key IDs derive from.
    fn key_ids(&self) -> Result<Uuid, RoleError> {
        match self.committed.epoch {
            LinkEpoch::Known(e) => Ok(key_id_namespace(self.link, e)),
            LinkEpoch::Unknown => Err(RoleError::Inconsistent(
                "a key block before the link epoch is known".into(),
            )),
        }
    }

    fn publish(&self, up: bool) {
        let secs = self.t0.elapsed().as_secs_f64();
        let mut alarms = self.alarms.clone();
        if let Some(p) = self.paused.as_ref().or(self.held.as_ref()) {
            alarms.push(format!("paused: {p}"));
        }
        let last = self.last_key_block.as_ref();
        let bounds = last.and_then(|s| s.bounds.as_ref());
        let (state, state_reason) = match (self.paused.as_ref().or(self.held.as_ref()), up) {
            (Some(p), _) => (qkd_kme::LinkPhase::Paused, Some(p.clone())),
            (None, true) => (qkd_kme::LinkPhase::Up, None),
            (None, false) => (qkd_kme::LinkPhase::Down, None),
        };
        self.sink.set_link(qkd_kme::LinkState {
            link_up: up,
            state: Some(state),
            state_reason,
            alarms,
            qber: self.last_qber,
            qber_x: last.map(|s| {
                let m: u64 = s.m_x.iter().sum();
                let n: u64 = s.n_x.iter().sum();
                m as f64 / n.max(1) as f64
            }),
            phase_error_bound: bounds.map(|b| b.phase_error_bound),
            single_photon_z_detections: bounds.map(|b| b.s_z1),
            vacuum_z_detections: bounds.map(|b| b.s_z0),
            key_rate_bps: (secs > 0.0).then(|| self.summary.stored_bits as f64 / secs),
            blocks_done: self.committed.next_block,
            blocks_aborted: self.summary.aborted_blocks,
            secret_bits_total: self.summary.secret_bits,
            delivered_bits_total: self.summary.stored_bits,
            send_pads: self.pads.map(|p| p.0),
            recv_pads: self.pads.map(|p| p.1),
            cert_expiry_seconds: self
                .cert_not_after
                .map(|t| qkd_kme::certs::seconds_until(t, std::time::SystemTime::now())),
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
                l.set_nonblocking(true).map_err(|source| RoleError::Net {
                    what: "listener".into(),
                    source,
                })?;
                println!("alice: classical channel listening on {a}");
                Some(l)
            }
            Role::Bob => None,
        };
        let mut backoff = BACKOFF_START;
        let mut why = String::from("no connection yet");
        loop {
            if self.held.is_none() && self.last_progress.elapsed() > self.o.reconnect_timeout {
                return Err(RoleError::NoProgress {
                    after: self.o.reconnect_timeout,
                    why,
                });
            }
            let stream = match self.connect(listener.as_ref()) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => {
                    why = e;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_CAP);
                    continue;
                }
            };
            let t_session = Instant::now();
            self.summary.sessions += 1;
            match self.session(stream)? {
                SessionEnd::Done => {
                    tracing::info!(blocks = self.committed.next_block, "link done");
                    self.publish(false);
                    return Ok(());
                }
                SessionEnd::Broken(reason) => {
                    tracing::warn!(%reason, retry_in = ?backoff, "session ended; reconnecting");
                    self.publish(false);
                    if t_session.elapsed() >= BACKOFF_RESET_AFTER {
                        backoff = BACKOFF_START;
                    }
                    why = reason;
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(BACKOFF_CAP);
                }
                SessionEnd::Paused(e) => return self.pause(e),
                SessionEnd::Held => {
                    self.publish(false);
                    self.wait_for_room();
                    backoff = BACKOFF_START;
                }
            }
        }
    }

    /// Whether this end's key store can take the pending block.
    fn has_room(&mut self) -> bool {
        let need = self.pending.as_ref().map_or(0, |p| p.units.len() as u64);
        self.sink.free_key_slots().is_none_or(|f| f >= need)
    }

    /// A held block: wait (serving the key store) until this end's store
    /// can take it, then let the next session retry the commit. Bob
    /// connects and Alice accepts only then, so a hold costs no pads
    /// beyond one session opening when it ends.
    fn wait_for_room(&mut self) {
        let mut logged = false;
        while !self.has_room() {
            if !logged {
                tracing::info!("waiting for applications to fetch keys from this end's store");
                logged = true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.last_progress = Instant::now();
    }

    /// Key production cannot go on: say so, keep serving what is stored
    /// until the reconnect timeout, then give up with the reason.
    fn pause(&mut self, e: RoleError) -> Result<(), RoleError> {
        tracing::warn!(reason = %e, wait = ?self.o.reconnect_timeout, "key production paused");
        self.paused = Some(e.to_string());
        self.publish(false);
        let until = Instant::now() + self.o.reconnect_timeout;
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100).min(until - Instant::now()));
        }
        Err(e)
    }

    /// One connection attempt: Alice polls her listener (`Ok(None)`: no
    /// peer yet), Bob connects once. `Err`: why it failed.
    fn connect(&self, listener: Option<&TcpListener>) -> Result<Option<TcpStream>, String> {
        let s = match listener {
            Some(l) => match l.accept() {
                Ok((s, peer)) => {
                    tracing::info!(%peer, "connection accepted");
                    s
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(50));
                    return Ok(None);
                }
                Err(e) => return Err(format!("accepting: {e}")),
            },
            None => TcpStream::connect(&self.o.addr).map_err(|e| {
                tracing::debug!(error = %e, addr = %self.o.addr, "connect failed");
                format!("connecting to {}: {e}", self.o.addr)
            })?,
        };
        s.set_nonblocking(false)
            .map_err(|e| format!("socket: {e}"))?;
        Ok(Some(s))
    }

    /// One connection: the authenticated opening, SYNC, then blocks until
    /// done, broken or paused.
    fn session(&mut self, stream: TcpStream) -> Result<SessionEnd, RoleError> {
        let mut tcp = match TcpChannel::new(stream) {
            Ok(t) => t,
            Err(e) => return Ok(broken(e)),
        };
        // The newest pool this end holds (the pending block's, if any).
        let mut pool = KeyPool::import(match &self.pending {
            Some(p) => &p.pool,
            None => &self.committed.pool,
        })?;
        let mut progress = durable::lock(&self.keeper).p;
        tcp.set_max_payload(MAX_UNAUTHENTICATED_BYTES);
        let keeper = self.keeper.clone();
        let opened = Opening {
            alice: self.o.role == Role::Alice,
            link: *self.link.as_bytes(),
            epoch: match self.committed.epoch {
                LinkEpoch::Known(e) => e,
                LinkEpoch::Unknown => [0; 16],
            },
            pool: &mut pool,
            progress: &mut progress,
            timeout: self.o.recv_timeout,
        }
        .run(&mut tcp, &mut |p| {
            durable::lock(&keeper).store(p).map_err(|e| e.to_string())
        });
        let opened = match opened {
            Ok(o) => o,
            Err(HelloError::PoolExhausted(_)) => {
                return Ok(SessionEnd::Paused(RoleError::Paused {
                    send_pads: pool.send_pads() as u64,
                    recv_pads: pool.recv_pads() as u64,
                    needed: 1,
                }))
            }
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "session opening refused; nothing changed");
                return Ok(broken(format!("session opening: {e}")));
            }
            Err(e) => return Err(RoleError::Inconsistent(e.to_string())),
        };
        tcp.set_max_payload(MAX_PAYLOAD);
        if self.o.role == Role::Bob {
            self.adopt_epoch(opened.peer_epoch)?;
        }
        self.last_progress = Instant::now();
        let fed = durable::lock(&self.keeper).p.fed_windows;
        let start_window = fed.max(opened.peer_fed_windows);
        let (send, recv) = pool.taken();
        tracing::info!(
            send_pad = send,
            recv_pad = recv,
            new_pads = ?opened.new_pads,
            window = start_window,
            committed = self.committed.next_block,
            pending = ?self.pending.as_ref().map(|p| p.block),
            "session up"
        );
        self.publish(true);
        let chan = CountingChannel {
            inner: tcp,
            keeper: self.keeper.clone(),
            next_send: send,
        };
        let mut auth = AuthChannel::new_deferred(chan, pool);
        if let Some(end) = self.sync(&mut auth)? {
            return Ok(end);
        }
        // From here on both ends use the committed pool at the same position.
        let mut rebuilt = KeyPool::import(&self.committed.pool)?;
        let (ns, nr) = auth.pool().taken();
        let (cs, cr) = rebuilt.taken();
        if ns < cs || nr < cr {
            return Err(RoleError::Inconsistent(
                "committed pool is ahead of the session".into(),
            ));
        }
        rebuilt.advance_to(ns, nr)?;
        *auth.pool_mut() = rebuilt;
        self.feed.skip_to(start_window)?;

        let mut pcfg = PipelineConfig::from_link(&self.o.config);
        pcfg.cascade = qkd_keyproc::cascade::CascadeConfig::option8();
        pcfg.recv_timeout = self.o.recv_timeout;
        match self.o.role {
            Role::Alice => self.blocks(&mut AlicePipeline::new(pcfg, auth)),
            Role::Bob => self.blocks(&mut BobPipeline::new(pcfg, auth)),
        }
    }

    fn blocks<E: End>(&mut self, p: &mut E) -> Result<SessionEnd, RoleError> {
        let mut any_ended = false;
        loop {
            let outcome = p.run_block();
            let pool = p.chan().pool();
            let pads = (pool.send_pads() as u64, pool.recv_pads() as u64);
            self.pads = Some(pads);
            if let (Some(s), Some(h)) = (outcome.summary(), self.history.as_mut()) {
                let ratio = |m: &[u64; 3], n: &[u64; 3]| {
                    m.iter().sum::<u64>() as f64 / n.iter().sum::<u64>().max(1) as f64
                };
                let r = crate::history::BlockRecord {
                    unix_time_s: crate::history::BlockRecord::now_unix_s(),
                    block: self.committed.next_block,
                    qber_z: s.m_z.map(|m| m[0] as f64 / s.n_z[0].max(1) as f64),
                    qber_x: Some(ratio(&s.m_x, &s.n_x)),
                    secret_bits: s.secret_bits,
                    delivered_bits: s.delivered_bits,
                    send_pads: pads.0,
                    recv_pads: pads.1,
                    aborted: s.abort.as_ref().map(|a| a.to_string()),
                };
                if let Err(e) = h.append(&r) {
                    tracing::warn!(error = %e, "writing the per-block history");
                }
            }
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
                BlockOutcome::Paused {
                    send_pads,
                    recv_pads,
                    needed,
                } => {
                    return Ok(SessionEnd::Paused(RoleError::Paused {
                        send_pads,
                        recv_pads,
                        needed,
                    }))
                }
                BlockOutcome::Key(s) => {
                    self.summary.blocks += 1;
                    self.summary.auth_bits += s.auth_consumed_bits;
                    let n: u64 = s.n_z.iter().sum();
                    self.last_qber = s
                        .m_z
                        .map(|m| m.iter().sum::<u64>() as f64 / n.max(1) as f64);
                    self.summary.qber = self.last_qber;
                    self.last_key_block = Some(s.clone());
                    self.on_key(p, &s)?;
                    let discarded = self.summary.discarded_blocks;
                    if let Some(end) = self.sync(p.chan())? {
                        return Ok(end);
                    }
                    self.last_progress = Instant::now();
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
                    if let AbortReason::ReconcilerMismatch { .. } = reason {
                        // Every session would end the same: a configuration error.
                        return Err(RoleError::Config(reason.to_string()));
                    }
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
                    self.summary.auth_bits += s.auth_consumed_bits;
                }
                BlockOutcome::NotEnoughData { .. } => {
                    if any_ended {
                        // The end-of-stream TICKs are authenticated before
                        // the link is declared done.
                        let t = self.o.recv_timeout;
                        let c = p.chan();
                        if let Err(e) = c.send_checkpoint().and_then(|()| c.recv_checkpoint(t)) {
                            return Ok(broken(e));
                        }
                        return Ok(SessionEnd::Done);
                    }
                    let w = self.feed.next_window;
                    let mine_ended = if self.feed.exhausted() {
                        true
                    } else {
                        durable::lock(&self.keeper).reserve_window(w)?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sync_decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_sync(&b);
        }
    }

    #[test]
    fn malformed_sync_is_refused() {
        assert_eq!(parse_sync(&[0; 20]), None);
        let mut m = 5u64.to_le_bytes().to_vec();
        m.extend_from_slice(&NO_PENDING.to_le_bytes());
        m.extend_from_slice(&0u32.to_le_bytes());
        m.push(1);
        let want = commit::Sync {
            committed: 5,
            pending: None,
            room: true,
        };
        assert_eq!(parse_sync(&m), Some(want));
        m[20] = 2;
        assert_eq!(parse_sync(&m), None, "room is 0 or 1");
        m[20] = 0;
        m[16] = 1;
        assert_eq!(parse_sync(&m), None, "keys without a pending block");
        assert_eq!(link_uuid("a"), link_uuid("a"));
        assert_ne!(link_uuid("a"), link_uuid("b"));
    }

    /// Issue 18: a link started over under the same name (a new random
    /// epoch) derives other key IDs; the legacy epoch keeps the IDs of a
    /// state directory from before epochs.
    #[test]
    fn key_ids_of_two_incarnations_of_a_link_differ() {
        let link = link_uuid("metro-1");
        let LinkEpoch::Known(e1) = LinkEpoch::random() else {
            unreachable!()
        };
        let LinkEpoch::Known(e2) = LinkEpoch::random() else {
            unreachable!()
        };
        let ids = |e| {
            (0..3u64)
                .flat_map(|g| (0..4u32).map(move |i| (g, i)))
                .map(|(g, i)| qkd_kme::derive_key_id(key_id_namespace(link, e), g, i))
                .collect::<std::collections::HashSet<_>>()
        };
        assert_eq!(ids(e1).len(), 12);
        assert!(ids(e1).is_disjoint(&ids(e2)));
        assert!(ids(e1).is_disjoint(&ids([0; 16])));
        assert_eq!(key_id_namespace(link, [0; 16]), link);
        assert_eq!(ids(e1), ids(e1));
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The block pipeline (issue 6): sifting -> parameter estimation (Lim et
//! al., PRA 89, 022307, 2014, Eqs. (1)-(5)) -> error correction (Cascade,
//! `qkd_keyproc::cascade`, or blind LDPC, `qkd_keyproc::ldpc`, per
//! `postprocessing.reconciliation`) -> verification (POLYVAL universal hash,
//! `qkd_keyproc::verify`) -> privacy amplification (Toeplitz hashing,
//! `qkd_keyproc::privacy`) -> in-memory key store.
//!
//! Alice and Bob are two objects, [`AlicePipeline`] and [`BobPipeline`],
//! that talk only through a Wegman-Carter authenticated
//! `qkd_keyproc::auth::AuthChannel` in transcript mode
//! (`AuthChannel::new_deferred`). Each call of `run_block` on both sides
//! (concurrently, e.g. one thread or one host each) ends in identical keys,
//! a recorded abort with a reason, "not enough data yet", or "paused" when
//! the pad pool cannot pay for a block.
//!
//! Messages of one block (B = Bob, A = Alice):
//! ```text
//!  B->A SIFT_ANNOUNCE   (slot, basis) of Bob's detections     } repeated until the
//!  A->B SIFT_REPLY      match/intensity code per slot         } ledger holds n_Z bits
//!  B->A TEST_BITS       Bob's X-basis bits of the block, his reconciliation setting
//!  A->B ESTIMATE        m_{X,k}, Alice's estimation verdict, her reconciliation setting
//!  B->A EC_REQUEST / A->B EC_REPLY   reconciliation rounds (leak counted exactly);
//!                       each request starts with the reconciler Bob chose for the block
//!  B->A VERIFY          hash points, Bob's tag, m_{Z,k} (monitoring)
//!  A->B VERIFY_RESULT   match flag, secret length ell, Toeplitz seed
//!  B->A BLOCK_ACK       Bob's agreement on ell; both store the key
//!  either   ABORT       reason text, sent instead of the next message
//! ```
//!
//! Authentication of the transcript (`keyproc/README.md`, "Transcript
//! authentication", gives the security argument and its sources): each end
//! sends a checkpoint tag over everything it sent since its last one, and
//! verifies the peer's, at three decision points of a key block:
//! ```text
//!  CP1  after ESTIMATE, before the estimate is used for error correction
//!  CP2  after error correction, before verification
//!  CP3  after BLOCK_ACK, before the key is stored or refills the pool
//! ```
//! An aborted block closes with one checkpoint exchange, so tampering is
//! found in the block it touched. A block costs at most three 128-bit pads
//! per direction, whatever the reconciler's round trips; a failed checkpoint
//! poisons the channel (the session is over, nothing of the block is kept).
//! The secret length is Eq. (1) with lambda_EC = the bits the reconciler really
//! disclosed, and the verification term taken as max(tag bits,
//! log2(2/eps_cor)). After each key, both ends top their pad pools up to
//! the reserve (`PipelineConfig::reserve_pads` per direction) from the new
//! key (`KeyPool::replenish`) before storing the rest for delivery; a
//! block does not start unless the pool holds
//! `budget::MAX_PADS_PER_BLOCK` pads per direction.

use crate::block_messages::{
    decode_block_ack, Estimate, MessageError, Verdict, Verify, VerifyResult, BLOCK_ACK,
};
use crate::budget::{MAX_PADS_PER_BLOCK, PAD_BYTES};
use crate::config::{LinkConfig, Reconciliation};
use crate::estimation::{self, Bounds, DecoyCounts, DecoyParams, EstimationAbort};
use crate::sifting::{
    AliceSifter, BobSifter, SiftAnnounce, SiftError, SiftLedger, SiftReply, SiftStats, SiftedBlock,
};
use qkd_abi::records::Record;
use qkd_keyproc::auth::{AuthChannel, KeyPool};
use qkd_keyproc::bits::BitVec;
use qkd_keyproc::cascade::{Cascade, CascadeConfig, CascadeResponder};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame};
use qkd_keyproc::key::SecretKey;
use qkd_keyproc::ldpc::{Ldpc, LdpcConfig, LdpcResponder, ReconcilerKind};
use qkd_keyproc::privacy::{smooth_fft_len, ToeplitzHasher};
use qkd_keyproc::reconcile::{ReconcileError, ReconcilePeer, ReconcileResponder, Reconciler};
use qkd_keyproc::verify::{TagLayout, VerifyChallenge};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

/// Message types of the pipeline protocol (host range 0x06xx).
pub mod msg {
    /// Bob -> Alice: [`crate::sifting::SiftAnnounce`].
    pub const SIFT_ANNOUNCE: u16 = 0x0601;
    /// Alice -> Bob: [`crate::sifting::SiftReply`].
    pub const SIFT_REPLY: u16 = 0x0602;
    /// Bob -> Alice: X-basis bits of the block.
    pub const TEST_BITS: u16 = 0x0603;
    /// Alice -> Bob: m_{X,k} and verdict.
    pub const ESTIMATE: u16 = 0x0604;
    /// Bob -> Alice: reconciliation request (reconciler code, request).
    pub const EC_REQUEST: u16 = 0x0610;
    /// Alice -> Bob: reconciliation reply.
    pub const EC_REPLY: u16 = 0x0611;
    /// Bob -> Alice: verification challenge and tag.
    pub const VERIFY: u16 = 0x0620;
    /// Alice -> Bob: verification result, ell, Toeplitz seed.
    pub const VERIFY_RESULT: u16 = 0x0621;
    /// Bob -> Alice: final agreement.
    pub const BLOCK_ACK: u16 = 0x0622;
    /// Either way: the sender aborted the block (payload: UTF-8 reason).
    pub const ABORT: u16 = 0x06FF;
}

/// Pipeline settings shared by both ends.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Intensities, probabilities, eps_sec, eps_cor, phase-error tolerance.
    pub decoy: DecoyParams,
    /// n_Z per block.
    pub block_bits: u64,
    /// Cascade variant.
    pub cascade: CascadeConfig,
    /// `postprocessing.reconciliation`; both ends must hold the same.
    pub reconciliation: Reconciliation,
    /// Classical round-trip time, ms, for `Reconciliation::Auto`.
    pub rtt_ms: f64,
    /// Most detections per SIFT_ANNOUNCE.
    pub announce_chunk: usize,
    /// How long to wait for the peer's next message.
    pub recv_timeout: Duration,
    /// Seed for protocol randomness (tests); `None` = OS entropy.
    pub rng_seed: Option<u64>,
    /// Pads per direction kept in the pool and refilled from each block
    /// before any key is delivered.
    pub reserve_pads: u64,
}

impl PipelineConfig {
    /// From the link configuration (reconciliation setting and RTT
    /// included), with Cascade option (7) and a 60 s timeout.
    pub fn from_link(cfg: &LinkConfig) -> PipelineConfig {
        PipelineConfig {
            decoy: DecoyParams::from_config(cfg),
            block_bits: cfg.block_bits(),
            cascade: CascadeConfig::option7(),
            reconciliation: cfg.postprocessing.reconciliation,
            rtt_ms: crate::latency::rtt_ms(cfg),
            announce_chunk: 1 << 20,
            recv_timeout: Duration::from_secs(60),
            rng_seed: None,
            reserve_pads: cfg.postprocessing.auth_reserve_pads,
        }
    }
}

/// Why a block ended without key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum AbortReason {
    /// Parameter estimation refused the block.
    #[error("parameter estimation: {0}")]
    Estimation(EstimationAbort),
    /// Error correction failed.
    #[error("error correction: {0}")]
    Reconciliation(String),
    /// The two ends' `postprocessing.reconciliation` differ; the session
    /// ends (closed with a checkpoint exchange) and no block can be made.
    #[error("postprocessing.reconciliation differs: Alice {alice:?}, Bob {bob:?} (both ends must use the same)")]
    ReconcilerMismatch {
        /// Alice's setting.
        alice: String,
        /// Bob's setting.
        bob: String,
    },
    /// The keys differ after error correction (verification hash mismatch).
    #[error("verification failed: keys differ after error correction")]
    VerificationFailed,
    /// Privacy amplification refused its result.
    #[error("privacy amplification: {0}")]
    PrivacyAmplification(String),
    /// The two ends disagree on the secret length.
    #[error("secret length mismatch: Alice {alice}, Bob {bob}")]
    LengthMismatch {
        /// Alice's ell.
        alice: u64,
        /// Bob's ell.
        bob: u64,
    },
    /// The channel failed (authentication, timeout, disconnect); the session is over.
    #[error("classical channel: {0}")]
    Channel(String),
    /// A malformed or unexpected message; the session is over.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The peer aborted the block.
    #[error("peer aborted: {0}")]
    PeerAborted(String),
    /// An earlier channel or protocol failure ended the session.
    #[error("session broken by an earlier failure; build new pipelines")]
    SessionBroken,
}

/// A checkpoint exchange that met the peer's ABORT: the reason, and the
/// transcript is closed (nothing more to authenticate for this block).
type PeerAbort = Option<String>;

impl AbortReason {
    fn breaks_session(&self) -> bool {
        matches!(
            self,
            AbortReason::Channel(_) | AbortReason::Protocol(_) | AbortReason::SessionBroken
        )
    }

    /// Ends the session after the block is closed normally (the channel
    /// still works, but every further block would fail the same way).
    fn ends_session(&self) -> bool {
        self.breaks_session() || matches!(self, AbortReason::ReconcilerMismatch { .. })
    }
}

/// What one block did (both ends fill the same fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BlockSummary {
    /// Block number in this session (0-based, counts aborted blocks too).
    pub block_index: u64,
    /// First slot of the block.
    pub first_slot: u64,
    /// Last slot of the block.
    pub last_slot: u64,
    /// n_{Z,k}.
    pub n_z: [u64; 3],
    /// n_{X,k}.
    pub n_x: [u64; 3],
    /// m_{X,k}.
    pub m_x: [u64; 3],
    /// m_{Z,k} (errors corrected by EC; known once EC has run).
    pub m_z: Option<[u64; 3]>,
    /// QBER per intensity in X (NaN where n = 0).
    pub qber_x: [f64; 3],
    /// QBER per intensity in Z (after EC).
    pub qber_z: Option<[f64; 3]>,
    /// Bounds of Eqs. (2)-(5).
    pub bounds: Option<Bounds>,
    /// The reconciler of the block (known once error correction started).
    pub reconciler: Option<ReconcilerKind>,
    /// Bits error correction disclosed (lambda_EC).
    pub leak_ec_bits: u64,
    /// Error-correction round trips.
    pub ec_round_trips: u32,
    /// Verification tag bits.
    pub verify_tag_bits: u64,
    /// ell, the privacy-amplified length.
    pub secret_bits: u64,
    /// Of which moved to the authentication pad pool.
    pub auth_replenished_bits: u64,
    /// Of which stored for delivery.
    pub delivered_bits: u64,
    /// Authentication pads used by this block (both directions), x 128 bits.
    pub auth_consumed_bits: u64,
    /// Why the block aborted, if it did.
    pub abort: Option<AbortReason>,
}

/// Result of one `run_block` call.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockOutcome {
    /// Identical keys were produced (and stored).
    Key(BlockSummary),
    /// The block was aborted; `summary.abort` says why.
    Aborted(BlockSummary),
    /// Fewer than `block_bits` sifted Z bits are available; nothing consumed
    /// but one sifting round trip.
    NotEnoughData {
        /// Sifted Z bits waiting.
        z_bits_waiting: u64,
    },
    /// The pad pool cannot pay for a block: key production is paused and
    /// nothing was sent (both ends decide alike: their pools are equal).
    Paused {
        /// Pads left to send with.
        send_pads: u64,
        /// Pads left to receive with.
        recv_pads: u64,
        /// Pads per direction a block needs.
        needed: u64,
    },
}

impl BlockOutcome {
    /// The summary, if a block was processed.
    pub fn summary(&self) -> Option<&BlockSummary> {
        match self {
            BlockOutcome::Key(s) | BlockOutcome::Aborted(s) => Some(s),
            BlockOutcome::NotEnoughData { .. } | BlockOutcome::Paused { .. } => None,
        }
    }
    /// The abort reason, if aborted.
    pub fn abort_reason(&self) -> Option<&AbortReason> {
        self.summary().and_then(|s| s.abort.as_ref())
    }
}

/// Produced keys, in memory, in block order.
#[derive(Debug, Default)]
pub struct KeyStore {
    keys: VecDeque<(u64, SecretKey)>,
    total_bits: u64,
}

impl KeyStore {
    /// Keys stored and not yet taken.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Bits stored over the store's life.
    pub fn total_bits(&self) -> u64 {
        self.total_bits
    }
    /// Oldest key and its block index.
    pub fn pop(&mut self) -> Option<(u64, SecretKey)> {
        self.keys.pop_front()
    }
    /// Stored keys.
    pub fn iter(&self) -> impl Iterator<Item = &(u64, SecretKey)> {
        self.keys.iter()
    }
    fn push(&mut self, block: u64, key: SecretKey) {
        self.total_bits += key.len_bits().get();
        self.keys.push_back((block, key));
    }
}

// ---- Wire helpers ----

fn pack_bits(bits: &[u8]) -> BitVec {
    let mut words = vec![0u64; bits.len().div_ceil(64)];
    for (i, b) in bits.iter().enumerate() {
        words[i / 64] |= u64::from(*b & 1) << (i % 64);
    }
    BitVec::from_words(words, bits.len()).unwrap_or_default()
}

fn chan_err(e: ChannelError) -> AbortReason {
    AbortReason::Channel(e.to_string() + &source_chain(&e))
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = String::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn sift_err(e: SiftError) -> AbortReason {
    AbortReason::Protocol(e.to_string())
}

/// State and helpers common to both ends.
struct Link<C: ClassicalChannel> {
    chan: AuthChannel<C>,
    cfg: PipelineConfig,
    ledger: SiftLedger,
    rng: ChaCha20Rng,
    keys: KeyStore,
    block_index: u64,
    broken: bool,
    /// The peer already knows this block aborted (verdict or result code sent/received).
    peer_informed: bool,
    /// This block's transcript is closed by a checkpoint exchange made
    /// after both ends knew it aborted.
    closed: bool,
    /// The session's Toeplitz hasher: while blocks need the same FFT
    /// length, its plans and buffers are kept and a block only reseeds it
    /// (one forward FFT of its seed); another length replaces it, so that
    /// plans of past lengths do not pile up.
    hasher: Option<ToeplitzHasher>,
}

impl<C: ClassicalChannel> Link<C> {
    fn new(chan: AuthChannel<C>, cfg: PipelineConfig, salt: u64) -> Self {
        let rng = match cfg.rng_seed {
            Some(s) => ChaCha20Rng::seed_from_u64(s ^ salt),
            None => ChaCha20Rng::from_os_rng(),
        };
        Link {
            chan,
            cfg,
            ledger: SiftLedger::default(),
            rng,
            keys: KeyStore::default(),
            block_index: 0,
            broken: false,
            peer_informed: false,
            closed: false,
            hasher: None,
        }
    }

    /// Privacy amplification of `key` (n bits) to `ell` bits with `seed`
    /// (n + ell - 1 bits) on the session's hasher.
    fn amplify(&mut self, seed: &BitVec, key: &BitVec, ell: usize) -> Result<BitVec, AbortReason> {
        let n = key.len();
        let nfft = smooth_fft_len(n + ell - 1);
        let r = match &mut self.hasher {
            Some(h) if h.fft_len() == nfft && h.chunk_count() == 1 => {
                h.reseed(seed, n, ell).map(|()| h)
            }
            _ => {
                self.hasher = None;
                ToeplitzHasher::new(seed, n, ell).map(|h| self.hasher.insert(h))
            }
        };
        r.and_then(|h| h.hash(key))
            .map_err(|e| AbortReason::PrivacyAmplification(e.to_string()))
    }

    /// Pads of the pool taken so far (send, receive).
    fn taken(&self) -> (u64, u64) {
        self.chan.pool().taken()
    }

    /// `Paused` if the pool cannot pay for one more block.
    fn check_budget(&self) -> Option<BlockOutcome> {
        let p = self.chan.pool();
        let (send_pads, recv_pads) = (p.send_pads() as u64, p.recv_pads() as u64);
        (send_pads.min(recv_pads) < MAX_PADS_PER_BLOCK).then_some(BlockOutcome::Paused {
            send_pads,
            recv_pads,
            needed: MAX_PADS_PER_BLOCK,
        })
    }

    /// Checkpoint exchange: tag everything sent since the last checkpoint,
    /// then wait for and verify the peer's tag. An ABORT from the peer on
    /// the way is returned (after its checkpoint verified).
    fn checkpoint(&mut self) -> Result<PeerAbort, AbortReason> {
        self.chan.send_checkpoint().map_err(chan_err)?;
        let mut peer_abort = None;
        loop {
            match self
                .chan
                .recv_frame_or_checkpoint(self.cfg.recv_timeout)
                .map_err(chan_err)?
            {
                None => return Ok(peer_abort),
                Some(f) if f.msg_type == msg::ABORT && peer_abort.is_none() => {
                    peer_abort = Some(String::from_utf8_lossy(&f.payload).into_owned());
                }
                Some(f) => {
                    return Err(AbortReason::Protocol(format!(
                        "unexpected message type {:#06x} at a checkpoint",
                        f.msg_type
                    )))
                }
            }
        }
    }

    /// A checkpoint at a decision point of a key block: an ABORT met there
    /// ends the block (its transcript already closed).
    fn decision_checkpoint(&mut self) -> Result<(), AbortReason> {
        match self.checkpoint()? {
            None => Ok(()),
            Some(reason) => {
                self.closed = true;
                self.peer_informed = true;
                Err(AbortReason::PeerAborted(reason))
            }
        }
    }

    fn send(&mut self, msg_type: u16, payload: Vec<u8>) -> Result<(), AbortReason> {
        self.chan
            .send(&Frame::new(msg_type, payload))
            .map_err(chan_err)
    }

    fn recv(&mut self, expected: u16) -> Result<Vec<u8>, AbortReason> {
        let f = self.chan.recv(self.cfg.recv_timeout).map_err(chan_err)?;
        if f.msg_type == msg::ABORT {
            return Err(AbortReason::PeerAborted(
                String::from_utf8_lossy(&f.payload).into_owned(),
            ));
        }
        if f.msg_type != expected {
            return Err(AbortReason::Protocol(format!(
                "unexpected message type {:#06x}, expected {expected:#06x}",
                f.msg_type
            )));
        }
        Ok(f.payload)
    }

    /// Pads (both directions) taken since `start` (a [`Self::taken`]).
    fn pads_used(&self, start: (u64, u64)) -> u64 {
        let (s, r) = self.taken();
        (s - start.0) + (r - start.1)
    }

    /// Finish a block: tell the peer on local aborts and close the aborted
    /// block's transcript with a checkpoint exchange, mark the session
    /// broken on channel/protocol failures, log, wrap.
    fn finish(
        &mut self,
        mut summary: BlockSummary,
        mut result: Result<(), AbortReason>,
        start: (u64, u64),
        tell_peer: bool,
    ) -> BlockOutcome {
        if let Err(reason) = &result {
            if !reason.breaks_session() && tell_peer && !self.closed {
                if !self.peer_informed && !matches!(reason, AbortReason::PeerAborted(_)) {
                    let _ = self.send(msg::ABORT, reason.to_string().into_bytes());
                }
                if let Err(e) = self.checkpoint() {
                    tracing::warn!(block = summary.block_index, error = %e, "closing an aborted block failed");
                    result = Err(e);
                }
            }
        }
        summary.auth_consumed_bits = 128 * self.pads_used(start);
        self.block_index += 1;
        match result {
            Ok(()) => {
                tracing::info!(
                    block = summary.block_index,
                    secret_bits = summary.secret_bits,
                    leak_ec = summary.leak_ec_bits,
                    "block produced key"
                );
                BlockOutcome::Key(summary)
            }
            Err(reason) => {
                if reason.ends_session() {
                    self.broken = true;
                }
                tracing::warn!(block = summary.block_index, %reason, "block aborted");
                summary.abort = Some(reason);
                BlockOutcome::Aborted(summary)
            }
        }
    }

    /// Top the pad pool up to the reserve from the new key (both ends hold
    /// equal pools and keys here, so they take the same bits), then store
    /// the rest for delivery.
    fn store_key(&mut self, key: BitVec, summary: &mut BlockSummary) {
        let p = self.chan.pool();
        let level = (p.send_pads() as u64).min(p.recv_pads() as u64);
        let short_pads = self.cfg.reserve_pads.saturating_sub(level);
        // Pads alternate between the directions: 2 per direction-pad.
        let need_bits = 2 * short_pads as usize * PAD_BYTES * 8;
        let to_pool = need_bits.min(key.len()) / 256 * 256;
        if to_pool > 0 {
            if let Some(p) = key.prefix(to_pool) {
                self.chan.pool_mut().replenish(&SecretKey::new(p));
            }
        }
        summary.auth_replenished_bits = to_pool as u64;
        let rest = key.len() - to_pool;
        summary.delivered_bits = rest as u64;
        if rest > 0 {
            if let Some(k) = key.slice(to_pool, rest) {
                self.keys.push(summary.block_index, SecretKey::new(k));
            }
        }
    }
}

fn counts_of(block: &SiftedBlock, m_x: [u64; 3]) -> DecoyCounts {
    DecoyCounts {
        n_z: block.counts.n[0].map(|v| v as f64),
        n_x: block.counts.n[1].map(|v| v as f64),
        m_x: m_x.map(|v| v as f64),
    }
}

fn ratio(m: [u64; 3], n: [u64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|k| {
        if n[k] == 0 {
            f64::NAN
        } else {
            m[k] as f64 / n[k] as f64
        }
    })
}

fn summary_of(index: u64, block: &SiftedBlock) -> BlockSummary {
    BlockSummary {
        block_index: index,
        first_slot: block.first_slot,
        last_slot: block.last_slot,
        n_z: block.counts.n[0],
        n_x: block.counts.n[1],
        qber_x: [f64::NAN; 3],
        ..BlockSummary::default()
    }
}

/// Eqs. (2)-(5) on the block, then Eq. (1) with the Shannon-limit leak
/// n_Z h(E_X) (E_X the test-basis error rate) as a feasibility check: if
/// even perfect error correction could leave no key, the block aborts
/// before spending Cascade rounds on it. The key length itself is computed
/// later from the leak Cascade really reports.
fn estimate_block(
    p: &DecoyParams,
    block: &SiftedBlock,
    m_x: [u64; 3],
) -> Result<Bounds, EstimationAbort> {
    let b = estimation::estimate(p, &counts_of(block, m_x))?;
    let n_z = block.z_bits.len() as f64;
    let n_x: u64 = block.counts.n[1].iter().sum();
    let e_x = m_x.iter().sum::<u64>() as f64 / n_x.max(1) as f64;
    let best_case =
        estimation::key_length_real(p, &b, n_z * estimation::binary_entropy(e_x.min(0.5)));
    if best_case < 1.0 {
        return Err(EstimationAbort::BoundNotPositive {
            bound: "ell with a Shannon-limit leak n_Z h(E_X)".into(),
            value: best_case,
        });
    }
    Ok(b)
}

/// Eq. (1) with the verification term max(tag bits, log2(2/eps_cor)).
fn secret_length(
    p: &DecoyParams,
    b: &Bounds,
    leak_ec: u64,
    tag_bits: u64,
    n: usize,
) -> Result<u64, AbortReason> {
    let extra = (tag_bits as f64 - (2.0 / p.eps_cor).log2()).max(0.0);
    let ell = estimation::secret_key_bits(p, b, leak_ec as f64 + extra)
        .map_err(AbortReason::Estimation)?;
    Ok(ell.min(n as u64))
}

fn protocol(e: MessageError) -> AbortReason {
    AbortReason::Protocol(e.to_string())
}

/// Both ends' `postprocessing.reconciliation` must be equal.
fn check_settings(alice: Reconciliation, bob: Reconciliation) -> Result<(), AbortReason> {
    if alice == bob {
        return Ok(());
    }
    Err(AbortReason::ReconcilerMismatch {
        alice: alice.to_string(),
        bob: bob.to_string(),
    })
}

/// `postprocessing.reconciliation` on the wire (last byte of TEST_BITS).
fn setting_code(r: Reconciliation) -> u8 {
    match r {
        Reconciliation::Cascade => 0,
        Reconciliation::Ldpc => 1,
        Reconciliation::Auto => 2,
    }
}

/// Reconciler codes leading every EC_REQUEST.
const EC_CASCADE: u8 = 0;
const EC_LDPC: u8 = 1;

// ---- Alice ----

/// Alice's end of the pipeline.
pub struct AlicePipeline<C: ClassicalChannel> {
    link: Link<C>,
    sifter: AliceSifter,
    /// The session's Cascade responder, reset to each block's key: its
    /// shuffle cache (one permutation per pass, keyed by Bob's session
    /// seed and n) is built by the first block only.
    cascade: CascadeResponder,
    /// The session's LDPC responder (made at the first LDPC block).
    ldpc: Option<LdpcResponder>,
}

impl<C: ClassicalChannel> AlicePipeline<C> {
    /// Alice over an authenticated channel (role Initiator).
    pub fn new(cfg: PipelineConfig, chan: AuthChannel<C>) -> Self {
        AlicePipeline {
            link: Link::new(chan, cfg, 0xA11CE),
            sifter: AliceSifter::new(),
            cascade: CascadeResponder::new(BitVec::zeros(0)),
            ldpc: None,
        }
    }

    /// Feed records from Alice's device stream (ALICE_SYMBOLS, EPOCH, GAP).
    pub fn push_records(&mut self, records: &[Record]) -> Result<(), SiftError> {
        self.sifter.push_records(records)
    }

    /// Sifting counters.
    pub fn sift_stats(&self) -> &SiftStats {
        &self.sifter.stats
    }
    /// Produced keys.
    pub fn keys(&mut self) -> &mut KeyStore {
        &mut self.link.keys
    }
    /// The authenticated channel (pool state, sequence numbers).
    pub fn channel(&mut self) -> &mut AuthChannel<C> {
        &mut self.link.chan
    }
    /// The pad pool, to go on into the next session after this one ends.
    pub fn into_pool(self) -> KeyPool {
        self.link.chan.into_parts().1
    }

    /// Run one block with Bob (who must call `BobPipeline::run_block` at the same time).
    pub fn run_block(&mut self) -> BlockOutcome {
        if self.link.broken {
            return BlockOutcome::Aborted(BlockSummary {
                abort: Some(AbortReason::SessionBroken),
                ..BlockSummary::default()
            });
        }
        if let Some(paused) = self.link.check_budget() {
            return paused;
        }
        let start = self.link.taken();
        self.link.peer_informed = false;
        self.link.closed = false;
        let block_bits = self.link.cfg.block_bits;
        while self.link.ledger.z_count() < block_bits {
            let r = self.sift_round();
            match r {
                Ok(true) => {}
                Ok(false) => {
                    return BlockOutcome::NotEnoughData {
                        z_bits_waiting: self.link.ledger.z_count(),
                    }
                }
                Err(e) => {
                    let s = BlockSummary {
                        block_index: self.link.block_index,
                        ..BlockSummary::default()
                    };
                    return self.link.finish(s, Err(e), start, false);
                }
            }
        }
        let Some(block) = self.link.ledger.cut(block_bits) else {
            return BlockOutcome::NotEnoughData {
                z_bits_waiting: self.link.ledger.z_count(),
            };
        };
        let mut summary = summary_of(self.link.block_index, &block);
        let r = self.process(&block, &mut summary);
        self.link.finish(summary, r, start, true)
    }

    /// One announce/reply round; Ok(false) when Bob has nothing more.
    fn sift_round(&mut self) -> Result<bool, AbortReason> {
        let bytes = self.link.recv(msg::SIFT_ANNOUNCE)?;
        let ann = SiftAnnounce::decode(&bytes).map_err(sift_err)?;
        // Matches go straight into the ledger (no temporary copy of key bits).
        let mut reply = SiftReply::default();
        self.sifter
            .answer_into(&ann, &mut reply, &mut self.link.ledger);
        self.link.send(msg::SIFT_REPLY, reply.encode())?;
        Ok(self.link.ledger.z_count() >= self.link.cfg.block_bits || !ann.last)
    }

    fn process(&mut self, block: &SiftedBlock, s: &mut BlockSummary) -> Result<(), AbortReason> {
        let l = &mut self.link;
        // Test bits -> m_{X,k}.
        let tb = l.recv(msg::TEST_BITS)?;
        let bad_len = || {
            AbortReason::Protocol(format!(
                "TEST_BITS has {} bytes for {} bits and the setting",
                tb.len(),
                block.x_bits.len()
            ))
        };
        let (&bob_setting, tb_bits) = tb.split_last().ok_or_else(bad_len)?;
        let bob_x = BitVec::from_bytes(tb_bits, block.x_bits.len())
            .filter(|_| tb_bits.len() == block.x_bits.len().div_ceil(8))
            .ok_or_else(bad_len)?;
        let mut m_x = [0u64; 3];
        for (i, (&a, &k)) in block.x_bits.iter().zip(&block.x_intensity).enumerate() {
            if (a != 0) != bob_x.get(i) {
                m_x[usize::from(k.min(2))] += 1;
            }
        }
        s.m_x = m_x;
        s.qber_x = ratio(m_x, s.n_x);
        let est = estimate_block(&l.cfg.decoy, block, m_x);
        let verdict = if est.is_ok() {
            Verdict::Ok
        } else {
            Verdict::Abort
        };
        let my_setting = l.cfg.reconciliation;
        let e = Estimate {
            m_x,
            verdict,
            reconciliation: my_setting,
        };
        l.send(msg::ESTIMATE, e.encode())?;
        // Bob checks the settings on ESTIMATE as Alice does here.
        l.peer_informed = true;
        let bob_setting = [
            Reconciliation::Cascade,
            Reconciliation::Ldpc,
            Reconciliation::Auto,
        ]
        .into_iter()
        .find(|r| setting_code(*r) == bob_setting)
        .ok_or_else(|| AbortReason::Protocol(format!("TEST_BITS setting {bob_setting}")))?;
        check_settings(my_setting, bob_setting)?;
        l.peer_informed = est.is_err();
        let bounds = est.map_err(AbortReason::Estimation)?;
        s.bounds = Some(bounds);
        l.decision_checkpoint()?; // CP1

        // Error correction: answer the requests of the reconciler Bob
        // chose (named by each request's first byte) until Bob closes.
        let key = pack_bits(&block.z_bits);
        let n = key.len();
        let mut kind = None;
        loop {
            let req = l.recv(msg::EC_REQUEST)?;
            let (&code, body) = req
                .split_first()
                .ok_or_else(|| AbortReason::Protocol("EC_REQUEST is empty".into()))?;
            let k = match (code, l.cfg.reconciliation) {
                (EC_CASCADE, Reconciliation::Cascade | Reconciliation::Auto) => {
                    ReconcilerKind::Cascade
                }
                (EC_LDPC, Reconciliation::Ldpc | Reconciliation::Auto) => ReconcilerKind::Ldpc,
                (c, r) => {
                    return Err(AbortReason::Protocol(format!(
                        "EC_REQUEST names reconciler {c}, not allowed by reconciliation = {r:?}"
                    )))
                }
            };
            match kind {
                None => {
                    kind = Some(k);
                    s.reconciler = Some(k);
                    match (k, &mut self.ldpc) {
                        (ReconcilerKind::Cascade, _) => self.cascade.reset(key.clone()),
                        (ReconcilerKind::Ldpc, Some(r)) => r.reset(key.clone()),
                        (ReconcilerKind::Ldpc, slot @ None) => {
                            // Punctured bits come from the pipeline's
                            // generator, seeded at the session's first
                            // LDPC block.
                            let mut seed = [0u8; 32];
                            l.rng.fill_bytes(&mut seed);
                            *slot = Some(LdpcResponder::with_seed(key.clone(), seed));
                        }
                    }
                }
                Some(prev) if prev != k => {
                    return Err(AbortReason::Protocol(format!(
                        "EC_REQUEST switches reconciler from {prev} to {k} within a block"
                    )))
                }
                Some(_) => {}
            }
            let responder: &mut dyn ReconcileResponder = match (k, self.ldpc.as_mut()) {
                (ReconcilerKind::Cascade, _) => &mut self.cascade,
                (ReconcilerKind::Ldpc, Some(r)) => r,
                (ReconcilerKind::Ldpc, None) => {
                    return Err(AbortReason::Protocol("no LDPC responder".into()))
                }
            };
            let reply = responder
                .respond(body)
                .map_err(|e| AbortReason::Reconciliation(e.to_string() + &source_chain(&e)))?;
            l.send(msg::EC_REPLY, reply)?;
            s.ec_round_trips += 1;
            if responder.is_finished() {
                s.leak_ec_bits = responder.leaked().get();
                break;
            }
        }
        l.decision_checkpoint()?; // CP2

        // Verification.
        let v = Verify::decode(&l.recv(msg::VERIFY)?).map_err(protocol)?;
        let (their_tag, m_z, tag_bits) = (v.tag, v.m_z, u64::from(v.tag_bits));
        let challenge = VerifyChallenge {
            hash_keys: v.hash_keys,
            tag_bits: v.tag_bits,
        };
        challenge
            .check(n, l.cfg.decoy.eps_cor)
            .map_err(|e| AbortReason::Protocol(e.to_string()))?;
        s.verify_tag_bits = tag_bits;
        s.m_z = Some(m_z);
        s.qber_z = Some(ratio(m_z, s.n_z));
        let same = challenge
            .verify(&key, &their_tag)
            .map_err(|e| AbortReason::Protocol(e.to_string()))?;
        let ell = if same {
            secret_length(&l.cfg.decoy, &bounds, s.leak_ec_bits, tag_bits, n)
        } else {
            Err(AbortReason::VerificationFailed)
        };
        // Privacy amplification before answering, so that a refused result
        // is announced in VERIFY_RESULT rather than after Bob stored his key.
        let pa = ell.and_then(|ell| {
            let ell = ell as usize;
            let seed_words: Vec<u64> = (0..(n + ell - 1).div_ceil(64))
                .map(|_| l.rng.next_u64())
                .collect();
            let seed = BitVec::from_words(seed_words, n + ell - 1).unwrap_or_default();
            let out = l.amplify(&seed, &key, ell)?;
            Ok((ell, seed, out))
        });
        match pa {
            Ok((ell, seed, out)) => {
                let r = VerifyResult::Key {
                    secret_bits: ell as u64,
                    seed: seed.to_bytes(),
                };
                l.send(msg::VERIFY_RESULT, r.encode())?;
                decode_block_ack(&l.recv(msg::BLOCK_ACK)?).map_err(protocol)?;
                s.secret_bits = ell as u64;
                l.decision_checkpoint()?; // CP3
                l.store_key(out, s);
                Ok(())
            }
            Err(e) => {
                let r = match e {
                    AbortReason::VerificationFailed => VerifyResult::Mismatch,
                    AbortReason::PrivacyAmplification(_) => VerifyResult::PaFailed,
                    _ => VerifyResult::NoKey,
                };
                l.send(msg::VERIFY_RESULT, r.encode())?;
                l.peer_informed = true;
                Err(e)
            }
        }
    }
}

// ---- Bob ----

/// Bob's end of the pipeline.
pub struct BobPipeline<C: ClassicalChannel> {
    link: Link<C>,
    sifter: BobSifter,
    cascade: Cascade,
    /// The session's LDPC corrector (decoder buffers reused across blocks).
    ldpc: Ldpc,
}

/// Reconciliation requests and replies carried over the authenticated
/// channel, each request led by the reconciler's code.
struct ChannelPeer<'a, C: ClassicalChannel> {
    link: &'a mut Link<C>,
    /// `EC_CASCADE` or `EC_LDPC`.
    code: u8,
    round_trips: u32,
    /// Why the transport failed, kept typed for the block summary.
    failure: Option<AbortReason>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PeerFailure(String);

impl<C: ClassicalChannel> ReconcilePeer for ChannelPeer<'_, C> {
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        self.round_trips += 1;
        let mut wire = Vec::with_capacity(request.len() + 1);
        wire.push(self.code);
        wire.extend_from_slice(request);
        self.link
            .send(msg::EC_REQUEST, wire)
            .and_then(|()| self.link.recv(msg::EC_REPLY))
            .map_err(|e| {
                let text = e.to_string();
                self.failure = Some(e);
                ReconcileError::Transport(Box::new(PeerFailure(text)))
            })
    }
}

impl<C: ClassicalChannel> BobPipeline<C> {
    /// Bob over an authenticated channel (role Responder).
    pub fn new(cfg: PipelineConfig, chan: AuthChannel<C>) -> Self {
        let sifter = match cfg.rng_seed {
            Some(s) => BobSifter::with_seed(s ^ 0xB0B5),
            None => BobSifter::new(),
        };
        let mut link = Link::new(chan, cfg, 0xB0B);
        let mut seed = [0u8; 32];
        link.rng.fill_bytes(&mut seed);
        let cascade = Cascade::new(link.cfg.cascade, seed);
        BobPipeline {
            link,
            sifter,
            cascade,
            ldpc: Ldpc::new(LdpcConfig::default()),
        }
    }

    /// Feed records from Bob's device stream (DETECTION, EPOCH, STATUS).
    pub fn push_records(&mut self, records: &[Record]) {
        self.sifter.push_records(records)
    }

    /// Feed one batch of the driver's stream decoder as it is (detections
    /// in the decoder's compact form; see `BobSifter::push_batch`).
    pub fn push_batch(&mut self, batch: &qkd_driver::Batch) {
        self.sifter.push_batch(batch)
    }

    /// Sifting counters.
    pub fn sift_stats(&self) -> &SiftStats {
        &self.sifter.stats
    }
    /// Produced keys.
    pub fn keys(&mut self) -> &mut KeyStore {
        &mut self.link.keys
    }
    /// The authenticated channel.
    pub fn channel(&mut self) -> &mut AuthChannel<C> {
        &mut self.link.chan
    }
    /// The pad pool, to go on into the next session after this one ends.
    pub fn into_pool(self) -> KeyPool {
        self.link.chan.into_parts().1
    }

    /// Run one block with Alice (who must call `AlicePipeline::run_block` at the same time).
    pub fn run_block(&mut self) -> BlockOutcome {
        if self.link.broken {
            return BlockOutcome::Aborted(BlockSummary {
                abort: Some(AbortReason::SessionBroken),
                ..BlockSummary::default()
            });
        }
        if let Some(paused) = self.link.check_budget() {
            return paused;
        }
        let start = self.link.taken();
        self.link.peer_informed = false;
        self.link.closed = false;
        let block_bits = self.link.cfg.block_bits;
        while self.link.ledger.z_count() < block_bits {
            match self.sift_round() {
                Ok(true) => {}
                Ok(false) => {
                    return BlockOutcome::NotEnoughData {
                        z_bits_waiting: self.link.ledger.z_count(),
                    }
                }
                Err(e) => {
                    let s = BlockSummary {
                        block_index: self.link.block_index,
                        ..BlockSummary::default()
                    };
                    return self.link.finish(s, Err(e), start, false);
                }
            }
        }
        let Some(block) = self.link.ledger.cut(block_bits) else {
            return BlockOutcome::NotEnoughData {
                z_bits_waiting: self.link.ledger.z_count(),
            };
        };
        let mut summary = summary_of(self.link.block_index, &block);
        let r = self.process(&block, &mut summary);
        self.link.finish(summary, r, start, true)
    }

    fn sift_round(&mut self) -> Result<bool, AbortReason> {
        let mut wire = Vec::new();
        let last = self
            .sifter
            .announce_encoded(self.link.cfg.announce_chunk, &mut wire);
        self.link.send(msg::SIFT_ANNOUNCE, wire)?;
        let bytes = self.link.recv(msg::SIFT_REPLY)?;
        let reply = SiftReply::decode(&bytes).map_err(sift_err)?;
        self.sifter
            .apply_reply_into(&reply, &mut self.link.ledger)
            .map_err(sift_err)?;
        Ok(self.link.ledger.z_count() >= self.link.cfg.block_bits || !last)
    }

    fn process(&mut self, block: &SiftedBlock, s: &mut BlockSummary) -> Result<(), AbortReason> {
        let l = &mut self.link;
        let my_setting = l.cfg.reconciliation;
        let mut tb = pack_bits(&block.x_bits).to_bytes();
        tb.push(setting_code(my_setting));
        l.send(msg::TEST_BITS, tb)?;
        let Estimate {
            m_x,
            verdict,
            reconciliation: alice_setting,
        } = Estimate::decode(&l.recv(msg::ESTIMATE)?).map_err(protocol)?;
        // Alice checked the same on TEST_BITS and knows.
        l.peer_informed = true;
        check_settings(alice_setting, my_setting)?;
        l.peer_informed = false;
        s.m_x = m_x;
        s.qber_x = ratio(m_x, s.n_x);
        let est = estimate_block(&l.cfg.decoy, block, m_x);
        match (&est, verdict) {
            (Err(e), Verdict::Abort) => {
                l.peer_informed = true;
                return Err(AbortReason::Estimation(e.clone()));
            }
            (Ok(_), Verdict::Abort) => {
                return Err(AbortReason::PeerAborted(
                    "Alice's estimation aborted the block".into(),
                ))
            }
            (_, Verdict::Ok) => {}
        }
        let bounds = est.map_err(AbortReason::Estimation)?;
        s.bounds = Some(bounds);
        l.decision_checkpoint()?; // CP1

        // Error correction with the X-basis error rate as the QBER estimate,
        // by the reconciler the setting gives for this block.
        let n_x: u64 = s.n_x.iter().sum();
        let qber_est = (m_x.iter().sum::<u64>() as f64 / n_x.max(1) as f64).clamp(0.0, 0.45);
        let raw = pack_bits(&block.z_bits);
        let mut key = raw.clone();
        let n = key.len();
        let kind = crate::latency::resolve(l.cfg.reconciliation, n, qber_est, l.cfg.rtt_ms);
        s.reconciler = Some(kind);
        // The LDPC codes are planned for QBER >= 0.5 % (a block without
        // a single test-bit error would otherwise have no code).
        let (code, reconciler, qber_ec): (u8, &mut dyn Reconciler, f64) = match kind {
            ReconcilerKind::Cascade => (EC_CASCADE, &mut self.cascade, qber_est),
            ReconcilerKind::Ldpc => (EC_LDPC, &mut self.ldpc, qber_est.max(0.005)),
        };
        let mut peer = ChannelPeer {
            link: l,
            code,
            round_trips: 0,
            failure: None,
        };
        let report = reconciler.reconcile(&mut key, qber_ec, &mut peer);
        let (round_trips, failure) = (peer.round_trips, peer.failure.take());
        let report = report.map_err(|e| match failure {
            Some(reason) => reason,
            None => AbortReason::Reconciliation(e.to_string() + &source_chain(&e)),
        })?;
        s.ec_round_trips = round_trips;
        s.leak_ec_bits = report.leaked.get();
        l.decision_checkpoint()?; // CP2
        let mut m_z = [0u64; 3];
        for (i, &k) in block.z_intensity.iter().enumerate() {
            if key.get(i) != raw.get(i) {
                m_z[usize::from(k.min(2))] += 1;
            }
        }
        s.m_z = Some(m_z);
        s.qber_z = Some(ratio(m_z, s.n_z));

        // Verification: fresh hash points, Bob's tag.
        let layout = TagLayout::for_key(n, l.cfg.decoy.eps_cor)
            .map_err(|e| AbortReason::Protocol(e.to_string()))?;
        let mut hash_keys = vec![[0u8; 16]; layout.repetitions];
        for h in hash_keys.iter_mut() {
            l.rng.fill_bytes(h);
        }
        let challenge = VerifyChallenge {
            hash_keys,
            tag_bits: layout.tag_bits,
        };
        let tag = challenge.tag(&key);
        s.verify_tag_bits = u64::from(layout.tag_bits);
        let v = Verify {
            tag_bits: challenge.tag_bits,
            hash_keys: challenge.hash_keys.clone(),
            tag,
            m_z,
        };
        l.send(msg::VERIFY, v.encode())?;

        let r = VerifyResult::decode(&l.recv(msg::VERIFY_RESULT)?).map_err(protocol)?;
        if !matches!(r, VerifyResult::Key { .. }) {
            l.peer_informed = true;
        }
        let (ell_alice, seed_bytes) = match r {
            VerifyResult::Key { secret_bits, seed } => (secret_bits, seed),
            VerifyResult::Mismatch => return Err(AbortReason::VerificationFailed),
            VerifyResult::NoKey => {
                // Alice found no positive length: reproduce her reason.
                let mine =
                    secret_length(&l.cfg.decoy, &bounds, s.leak_ec_bits, s.verify_tag_bits, n);
                return Err(mine.err().unwrap_or(AbortReason::PeerAborted(
                    "Alice found no positive key length".into(),
                )));
            }
            VerifyResult::PaFailed => {
                return Err(AbortReason::PeerAborted(
                    "Alice's privacy amplification refused its result".into(),
                ))
            }
        };
        let ell_bob =
            secret_length(&l.cfg.decoy, &bounds, s.leak_ec_bits, s.verify_tag_bits, n).unwrap_or(0);
        if ell_alice == 0 || ell_alice > n as u64 || ell_alice.abs_diff(ell_bob) > 1 {
            return Err(AbortReason::LengthMismatch {
                alice: ell_alice,
                bob: ell_bob,
            });
        }
        let ell = ell_alice as usize;
        if seed_bytes.len() != (n + ell - 1).div_ceil(8) {
            return Err(AbortReason::Protocol(format!(
                "VERIFY_RESULT seed has {} bytes for {} bits",
                seed_bytes.len(),
                n + ell - 1
            )));
        }
        let seed = BitVec::from_bytes(&seed_bytes, n + ell - 1)
            .ok_or_else(|| AbortReason::Protocol("VERIFY_RESULT seed".into()))?;
        let out = l.amplify(&seed, &key, ell)?;
        l.send(msg::BLOCK_ACK, BLOCK_ACK.to_vec())?;
        s.secret_bits = ell as u64;
        l.decision_checkpoint()?; // CP3
        l.store_key(out, s);
        Ok(())
    }
}

/// A fresh random pre-shared key of `bytes` bytes (tests and simulation).
pub fn random_psk(seed: u64, bytes: usize) -> SecretKey {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut v = vec![0u8; bytes];
    rng.fill(&mut v[..]);
    let k = SecretKey::from_bytes(&v);
    zeroize::Zeroize::zeroize(&mut v);
    k
}

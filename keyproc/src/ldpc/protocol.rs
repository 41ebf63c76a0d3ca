// SPDX-License-Identifier: MIT OR Apache-2.0
//! Blind rate-adaptive LDPC reconciliation (Martinez-Mateo, Elkouss and
//! Martin, "Blind reconciliation", QIC 12 (2012) 791, with the
//! least-reliable-bit disclosure of Kiktenko et al., "Symmetric blind
//! information reconciliation for quantum key distribution", Phys. Rev.
//! Applied 8, 044017 (2017), done by Alice only).
//!
//! ```text
//!  Bob (Reconciler)                              Alice (ReconcileResponder)
//!  Setup{code, (k_i, p_i) per frame}  ------->   frame_i = key bits | p_i random | s_i zeros
//!                                      <-------   syndromes H frame_i, leak
//!  decode every frame (layered min-sum)
//!  Reveal{frame, positions} (failed)  ------->   values (punctured bits first,
//!                                      <-------   then Bob's least reliable key bits)
//!  ... at most `max_reveal_rounds` ...
//!  Close{abort}                       ------->   leak count (cross-checked)
//! ```
//!
//! The key of n bits is split into F = ceil(n / (N - p_max)) frames of
//! N = 32,768 bits holding k_i key bits, p_i punctured (random, secret)
//! bits and s_i = N - k_i - p_i shortened (zero) bits. The code and p_i are
//! chosen so that the first message leaks m - p_i = f_start k_i h(QBER)
//! (the leak of a punctured syndrome, Elkouss et al., QIC 11 (2011) 226,
//! Eq. (5): punctured columns are independent, so the syndrome tells
//! m - p bits about the key). Each revealed bit adds one:
//! leak = sum_i (m - p_i + d_i), counted by both sides and cross-checked.
//! A frame still failing after the last round makes `reconcile` fail with
//! [`ReconcileError::DecodeFailure`] after closing the session with `abort`;
//! a frame that converges to a wrong word is left for the pipeline's
//! verification hash.

use super::code::{family, QcCode, BASE_COLS, FRAME_BITS, LIFT};
use super::decoder::{channel_llr, Decoder, LLR_KNOWN};
use crate::bits::{BitVec, Bits};
use crate::reconcile::{
    binary_entropy, ReconcileError, ReconcilePeer, ReconcileReport, ReconcileResponder, Reconciler,
    WireError,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use zeroize::Zeroize;

/// Parameters of the blind protocol.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LdpcConfig {
    /// Efficiency f of the first (syndrome) message.
    pub f_start: f64,
    /// Efficiency added to a failing frame per reveal round.
    pub f_step: f64,
    /// Reveal rounds before the block is given up.
    pub max_reveal_rounds: u32,
    /// Decoder iterations per attempt.
    pub max_iterations: u32,
    /// Preferred fraction p / p_max when choosing the mother code.
    pub puncture_target: f64,
}

impl Default for LdpcConfig {
    fn default() -> Self {
        Self {
            f_start: 1.3,
            f_step: 0.08,
            max_reveal_rounds: 10,
            max_iterations: 50,
            puncture_target: 0.6,
        }
    }
}

const TAG_SETUP: u8 = 1;
const TAG_REVEAL: u8 = 2;
const TAG_CLOSE: u8 = 3;
const WIRE_VERSION: u8 = 1;

/// Frame plan shared by both sides: mother code and (k_i, p_i) per frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Index into the code family.
    pub code: u8,
    /// Key bits and punctured bits of each frame.
    pub frames: Vec<(u32, u32)>,
}

impl Plan {
    /// Choose the code and frame split for `n_bits` key bits at `qber`.
    pub fn choose(n_bits: usize, qber: f64, config: &LdpcConfig) -> Result<Self, ReconcileError> {
        if n_bits == 0 {
            return Err(ReconcileError::Parameter("empty key".into()));
        }
        if !(qber > 0.0 && qber < 0.5) {
            return Err(ReconcileError::Parameter(format!(
                "QBER estimate {qber} outside (0, 0.5)"
            )));
        }
        let h = binary_entropy(qber);
        let mut best: Option<(f64, Plan)> = None;
        for (ci, code) in family().iter().enumerate() {
            let (m, pmax) = (code.m(), code.max_punctured());
            let cap = FRAME_BITS - pmax;
            let nf = n_bits.div_ceil(cap);
            let mut frames = Vec::with_capacity(nf);
            let mut miss = 0.0f64;
            let mut frac = 0.0f64;
            for i in 0..nf {
                let k = n_bits / nf + usize::from(i < n_bits % nf);
                let target = (config.f_start * k as f64 * h).ceil();
                let p = (m as f64 - target).clamp(0.0, pmax as f64);
                miss += (m as f64 - p - target).abs();
                frac += (p / pmax.max(1) as f64 - config.puncture_target).abs();
                frames.push((k as u32, p as u32));
            }
            let score = miss * 1e3 / n_bits as f64 + frac / nf as f64;
            if best.as_ref().is_none_or(|(s, _)| score < *s) {
                best = Some((
                    score,
                    Plan {
                        code: ci as u8,
                        frames,
                    },
                ));
            }
        }
        Ok(best.expect("family is not empty").1)
    }

    fn code(&self) -> Result<&'static QcCode, ReconcileError> {
        family()
            .get(self.code as usize)
            .ok_or_else(|| ReconcileError::BadRequest(format!("unknown code {}", self.code)))
    }

    /// Key bits in total.
    pub fn key_bits(&self) -> u64 {
        self.frames.iter().map(|&(k, _)| u64::from(k)).sum()
    }

    /// Leak of the syndrome message: sum of m - p_i.
    pub fn syndrome_leak(&self) -> Result<u64, ReconcileError> {
        let m = self.code()?.m() as u64;
        Ok(self.frames.iter().map(|&(_, p)| m - u64::from(p)).sum())
    }

    fn validate(&self) -> Result<&'static QcCode, ReconcileError> {
        let code = self.code()?;
        for (i, &(k, p)) in self.frames.iter().enumerate() {
            let (k, p) = (k as usize, p as usize);
            if k == 0 || p > code.max_punctured() || k + p > FRAME_BITS {
                return Err(ReconcileError::BadRequest(format!(
                    "frame {i}: {k} key bits and {p} punctured do not fit code {}",
                    self.code
                )));
            }
        }
        Ok(code)
    }
}

/// Role of a frame position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Role {
    Key = 0,
    Punctured = 1,
    Shortened = 2,
}

/// Roles of all positions of a frame with `k` key bits and `p` punctured.
fn frame_roles(code: &QcCode, k: usize, p: usize, roles: &mut Vec<Role>) {
    roles.clear();
    roles.resize(FRAME_BITS, Role::Key);
    for &v in &code.puncture_order()[..p] {
        roles[v as usize] = Role::Punctured;
    }
    let s = FRAME_BITS - k - p;
    for &v in &code.shorten_order()[..s] {
        roles[v as usize] = Role::Shortened;
    }
}

// ---- wire ----

/// A request from Bob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdpcRequest {
    /// Plan of the block; Alice answers with the syndromes.
    Setup(Plan),
    /// Reveal the values of these frame positions.
    Reveal(Vec<(u32, Vec<u32>)>),
    /// End of the session (`abort` when a frame failed).
    Close {
        /// Bob gives the block up.
        abort: bool,
    },
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], WireError> {
        if self.b.len() - self.at < n {
            return Err(WireError::Truncated { at: self.at, what });
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4"),
        ))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(
            self.take(8, what)?.try_into().expect("8"),
        ))
    }
    fn count(&mut self, what: &'static str, unit: usize) -> Result<usize, WireError> {
        let c = self.u32(what)?;
        if (c as usize).saturating_mul(unit) > self.b.len() - self.at {
            return Err(WireError::Count {
                what,
                count: u64::from(c),
                len: self.b.len(),
            });
        }
        Ok(c as usize)
    }
    fn end(&self) -> Result<(), WireError> {
        match self.b.len() - self.at {
            0 => Ok(()),
            n => Err(WireError::Trailing(n)),
        }
    }
}

impl LdpcRequest {
    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            LdpcRequest::Setup(plan) => {
                out.extend_from_slice(&[TAG_SETUP, WIRE_VERSION, plan.code]);
                out.extend_from_slice(&(plan.frames.len() as u32).to_le_bytes());
                for &(k, p) in &plan.frames {
                    out.extend_from_slice(&k.to_le_bytes());
                    out.extend_from_slice(&p.to_le_bytes());
                }
            }
            LdpcRequest::Reveal(items) => {
                out.push(TAG_REVEAL);
                out.extend_from_slice(&(items.len() as u32).to_le_bytes());
                for (f, pos) in items {
                    out.extend_from_slice(&f.to_le_bytes());
                    out.extend_from_slice(&(pos.len() as u32).to_le_bytes());
                    for p in pos {
                        out.extend_from_slice(&p.to_le_bytes());
                    }
                }
            }
            LdpcRequest::Close { abort } => out.extend_from_slice(&[TAG_CLOSE, u8::from(*abort)]),
        }
        out
    }

    /// Parse the wire form.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader { b, at: 0 };
        let req = match r.u8("tag")? {
            TAG_SETUP => {
                let v = r.u8("version")?;
                if v != WIRE_VERSION {
                    return Err(WireError::UnknownTag {
                        what: "ldpc wire version",
                        tag: v,
                    });
                }
                let code = r.u8("code")?;
                let nf = r.count("frames", 8)?;
                let mut frames = Vec::with_capacity(nf);
                for _ in 0..nf {
                    frames.push((r.u32("key bits")?, r.u32("punctured")?));
                }
                LdpcRequest::Setup(Plan { code, frames })
            }
            TAG_REVEAL => {
                let ni = r.count("reveal items", 8)?;
                let mut items = Vec::with_capacity(ni);
                for _ in 0..ni {
                    let f = r.u32("frame")?;
                    let np = r.count("positions", 4)?;
                    let mut pos = Vec::with_capacity(np);
                    for _ in 0..np {
                        pos.push(r.u32("position")?);
                    }
                    items.push((f, pos));
                }
                LdpcRequest::Reveal(items)
            }
            TAG_CLOSE => match r.u8("abort")? {
                0 => LdpcRequest::Close { abort: false },
                1 => LdpcRequest::Close { abort: true },
                t => {
                    return Err(WireError::UnknownTag {
                        what: "abort flag",
                        tag: t,
                    })
                }
            },
            t => {
                return Err(WireError::UnknownTag {
                    what: "ldpc request",
                    tag: t,
                })
            }
        };
        r.end()?;
        Ok(req)
    }
}

/// Alice's reply: her leak count and a payload (syndromes as u128 words,
/// or revealed bits packed LSB first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdpcReply {
    /// Bits disclosed so far, by Alice's count.
    pub leaked: u64,
    /// Payload.
    pub payload: Vec<u8>,
}

impl LdpcReply {
    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(12 + self.payload.len());
        out.extend_from_slice(&self.leaked.to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
    /// Parse the wire form.
    pub fn decode(b: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader { b, at: 0 };
        let leaked = r.u64("leak")?;
        let n = r.count("payload", 1)?;
        let payload = r.take(n, "payload")?.to_vec();
        r.end()?;
        Ok(Self { leaked, payload })
    }
}

// ---- Alice ----

struct AliceFrame {
    words: Vec<u128>,
    revealed: Vec<bool>,
    roles: Vec<Role>,
}

impl Drop for AliceFrame {
    fn drop(&mut self) {
        self.words.zeroize();
    }
}

/// Alice's side: computes syndromes and reveals requested bits.
pub struct LdpcResponder {
    key: BitVec,
    rng: ChaCha20Rng,
    plan: Option<Plan>,
    frames: Vec<AliceFrame>,
    leaked: u64,
    finished: bool,
    aborted: bool,
}

impl std::fmt::Debug for LdpcResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdpcResponder")
            .field("n", &self.key.len())
            .field("plan", &self.plan)
            .field("leaked", &self.leaked)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl LdpcResponder {
    /// Responder for `key`; punctured bits come from an OS-seeded generator.
    pub fn new(key: BitVec) -> Self {
        let mut rng = ChaCha20Rng::from_os_rng();
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let r = Self::with_seed(key, seed);
        seed.zeroize();
        r
    }

    /// Responder whose punctured bits come from `seed` (tests).
    pub fn with_seed(key: BitVec, seed: [u8; 32]) -> Self {
        Self {
            key,
            rng: ChaCha20Rng::from_seed(seed),
            plan: None,
            frames: Vec::new(),
            leaked: 0,
            finished: false,
            aborted: false,
        }
    }

    /// Start a new block with `key`.
    pub fn reset(&mut self, key: BitVec) {
        self.key = key;
        self.plan = None;
        self.frames.clear();
        self.leaked = 0;
        self.finished = false;
        self.aborted = false;
    }

    /// True when Bob closed the session because a frame failed.
    pub fn aborted(&self) -> bool {
        self.aborted
    }

    /// Answer a typed request.
    pub fn answer(&mut self, req: &LdpcRequest) -> Result<LdpcReply, ReconcileError> {
        if self.finished {
            return Err(ReconcileError::BadRequest("session already closed".into()));
        }
        match req {
            LdpcRequest::Setup(plan) => {
                if self.plan.is_some() {
                    return Err(ReconcileError::BadRequest("second setup".into()));
                }
                let code = plan.validate()?;
                if plan.key_bits() != self.key.len() as u64 {
                    return Err(ReconcileError::BadRequest(format!(
                        "plan covers {} key bits, responder key has {}",
                        plan.key_bits(),
                        self.key.len()
                    )));
                }
                let mut payload = Vec::with_capacity(plan.frames.len() * code.m() / 8);
                let mut offset = 0usize;
                for &(k, p) in &plan.frames {
                    let (k, p) = (k as usize, p as usize);
                    let mut roles = Vec::new();
                    frame_roles(code, k, p, &mut roles);
                    let mut words = vec![0u128; BASE_COLS];
                    let mut at = offset;
                    for (v, role) in roles.iter().enumerate() {
                        let bit = match role {
                            Role::Key => {
                                at += 1;
                                self.key.get(at - 1)
                            }
                            Role::Punctured => self.rng.next_u32() & 1 == 1,
                            Role::Shortened => false,
                        };
                        words[v / LIFT] |= u128::from(bit) << (v % LIFT);
                    }
                    offset = at;
                    for s in code.syndrome(&words) {
                        payload.extend_from_slice(&s.to_le_bytes());
                    }
                    self.frames.push(AliceFrame {
                        words,
                        revealed: vec![false; FRAME_BITS],
                        roles,
                    });
                }
                self.leaked = plan.syndrome_leak()?;
                self.plan = Some(plan.clone());
                Ok(LdpcReply {
                    leaked: self.leaked,
                    payload,
                })
            }
            LdpcRequest::Reveal(items) => {
                if self.plan.is_none() {
                    return Err(ReconcileError::BadRequest("reveal before setup".into()));
                }
                let total: usize = items.iter().map(|(_, p)| p.len()).sum();
                let mut bits = BitVec::zeros(total);
                let mut at = 0usize;
                for (f, pos) in items {
                    let nf = self.frames.len();
                    let fr = self
                        .frames
                        .get_mut(*f as usize)
                        .ok_or_else(|| ReconcileError::BadRequest(format!("frame {f} of {nf}")))?;
                    for &v in pos {
                        let v = v as usize;
                        if v >= FRAME_BITS || fr.roles[v] == Role::Shortened || fr.revealed[v] {
                            return Err(ReconcileError::BadRequest(format!(
                                "position {v} of frame {f} is not an undisclosed bit"
                            )));
                        }
                        fr.revealed[v] = true;
                        bits.set(at, (fr.words[v / LIFT] >> (v % LIFT)) & 1 == 1);
                        at += 1;
                    }
                }
                self.leaked += total as u64;
                Ok(LdpcReply {
                    leaked: self.leaked,
                    payload: bits.to_bytes(),
                })
            }
            LdpcRequest::Close { abort } => {
                self.finished = true;
                self.aborted = *abort;
                Ok(LdpcReply {
                    leaked: self.leaked,
                    payload: Vec::new(),
                })
            }
        }
    }
}

impl ReconcileResponder for LdpcResponder {
    fn respond(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        let req = LdpcRequest::decode(request)?;
        Ok(self.answer(&req)?.encode())
    }
    fn leaked(&self) -> Bits {
        Bits(self.leaked)
    }
    fn is_finished(&self) -> bool {
        self.finished
    }
}

// ---- Bob ----

/// Bob's side: blind LDPC reconciliation.
#[derive(Debug, Default)]
pub struct Ldpc {
    config: LdpcConfig,
    decoder: Decoder,
    llr: Vec<i16>,
    roles: Vec<Role>,
}

struct BobFrame {
    offset: usize,
    k: usize,
    p: usize,
    syndrome: Vec<u128>,
    /// Revealed positions and values.
    known: Vec<(u32, bool)>,
    revealed: Vec<bool>,
    /// Punctured positions not yet revealed (the first `punct_left` of the order).
    punct_left: usize,
    done: bool,
    /// Decoded key bits (k), once converged.
    decoded: Option<BitVec>,
}

impl Ldpc {
    /// Corrector with `config`.
    pub fn new(config: LdpcConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Configuration.
    pub fn config(&self) -> &LdpcConfig {
        &self.config
    }

    fn exchange(
        peer: &mut dyn ReconcilePeer,
        req: &LdpcRequest,
        report: &mut ReconcileReport,
    ) -> Result<LdpcReply, ReconcileError> {
        let bytes = req.encode();
        let reply = peer.exchange(&bytes)?;
        report.round_trips += 1;
        report.message_bytes += (bytes.len() + reply.len()) as u64;
        Ok(LdpcReply::decode(&reply)?)
    }

    /// Decode frame `fr` from Bob's `key`; true on convergence.
    fn try_frame(&mut self, code: &QcCode, fr: &mut BobFrame, key: &BitVec, c: i16) -> bool {
        frame_roles(code, fr.k, fr.p, &mut self.roles);
        self.llr.clear();
        self.llr.resize(FRAME_BITS, 0);
        let mut at = fr.offset;
        for (v, role) in self.roles.iter().enumerate() {
            self.llr[v] = match role {
                Role::Key => {
                    at += 1;
                    if key.get(at - 1) {
                        -c
                    } else {
                        c
                    }
                }
                Role::Punctured => 0,
                Role::Shortened => LLR_KNOWN,
            };
        }
        for &(v, b) in &fr.known {
            self.llr[v as usize] = if b { -LLR_KNOWN } else { LLR_KNOWN };
        }
        let out = self
            .decoder
            .decode(code, &self.llr, &fr.syndrome, self.config.max_iterations);
        if out.converged {
            let mut bits = BitVec::zeros(fr.k);
            let mut i = 0usize;
            for (v, role) in self.roles.iter().enumerate() {
                if *role == Role::Key {
                    if self.decoder.bit(v) {
                        bits.set(i, true);
                    }
                    i += 1;
                }
            }
            fr.decoded = Some(bits);
            fr.done = true;
        }
        out.converged
    }

    /// Positions to reveal for a failed frame: `d` bits, punctured ones
    /// first, then the key bits with the least reliable posteriors.
    fn reveal_choice(&self, code: &QcCode, fr: &mut BobFrame, h: f64) -> Vec<u32> {
        let d = (self.config.f_step * fr.k as f64 * h).ceil().max(1.0) as usize;
        let mut out = Vec::with_capacity(d);
        while out.len() < d && fr.punct_left > 0 {
            fr.punct_left -= 1;
            out.push(code.puncture_order()[fr.punct_left]);
        }
        if out.len() < d {
            // Roles of this frame (self.roles holds the last decoded frame's).
            let post = self.decoder.posterior();
            let mut cand: Vec<(i16, u32)> = self
                .roles
                .iter()
                .enumerate()
                .filter(|&(v, r)| *r == Role::Key && !fr.revealed[v])
                .map(|(v, _)| (post[v].saturating_abs(), v as u32))
                .collect();
            let need = (d - out.len()).min(cand.len());
            if need > 0 {
                cand.select_nth_unstable(need - 1);
                out.extend(cand[..need].iter().map(|&(_, v)| v));
            }
        }
        for &v in &out {
            fr.revealed[v as usize] = true;
        }
        out
    }
}

impl Reconciler for Ldpc {
    fn name(&self) -> String {
        "ldpc-blind-qc32768".into()
    }

    fn reconcile(
        &mut self,
        key: &mut BitVec,
        qber_estimate: f64,
        peer: &mut dyn ReconcilePeer,
    ) -> Result<ReconcileReport, ReconcileError> {
        let plan = Plan::choose(key.len(), qber_estimate, &self.config)?;
        let code = plan.validate()?;
        // Normalisation tuned per rate (examples/ldpc_probe.rs): 13/16 at
        // rate <= 0.8, 11/16 for the high-rate members.
        self.decoder.scale_16 = if code.rate() > 0.8 { 11 } else { 13 };
        let mut report = ReconcileReport::default();
        let reply = Self::exchange(peer, &LdpcRequest::Setup(plan.clone()), &mut report)?;
        let mb = code.rows().len();
        let want = plan.frames.len() * mb * 16;
        if reply.payload.len() != want {
            return Err(ReconcileError::ReplyLength {
                got: reply.payload.len() * 8,
                expected: want * 8,
            });
        }
        let mut leak = plan.syndrome_leak()?;
        let mut frames = Vec::with_capacity(plan.frames.len());
        let mut offset = 0usize;
        for (i, &(k, p)) in plan.frames.iter().enumerate() {
            let syndrome = reply.payload[i * mb * 16..(i + 1) * mb * 16]
                .chunks_exact(16)
                .map(|c| u128::from_le_bytes(c.try_into().expect("16 bytes")))
                .collect();
            frames.push(BobFrame {
                offset,
                k: k as usize,
                p: p as usize,
                syndrome,
                known: Vec::new(),
                revealed: vec![false; FRAME_BITS],
                punct_left: p as usize,
                done: false,
                decoded: None,
            });
            offset += k as usize;
        }
        let c = channel_llr(qber_estimate);
        let h = binary_entropy(qber_estimate);
        let mut requests: Vec<(u32, Vec<u32>)> = Vec::new();
        for (i, fr) in frames.iter_mut().enumerate() {
            if !self.try_frame(code, fr, key, c) {
                let pos = self.reveal_choice(code, fr, h);
                requests.push((i as u32, pos));
            }
        }
        let mut rounds = 0u32;
        while !requests.is_empty() && rounds < self.config.max_reveal_rounds {
            rounds += 1;
            let sent = LdpcRequest::Reveal(std::mem::take(&mut requests));
            let reply = Self::exchange(peer, &sent, &mut report)?;
            let LdpcRequest::Reveal(items) = sent else {
                unreachable!("built as a reveal")
            };
            let total: usize = items.iter().map(|(_, p)| p.len()).sum();
            if reply.payload.len() != total.div_ceil(8) {
                return Err(ReconcileError::ReplyLength {
                    got: reply.payload.len() * 8,
                    expected: total,
                });
            }
            let bits =
                BitVec::from_bytes(&reply.payload, total).ok_or(ReconcileError::ReplyLength {
                    got: reply.payload.len() * 8,
                    expected: total,
                })?;
            leak += total as u64;
            let mut at = 0usize;
            for (i, pos) in &items {
                let fr = &mut frames[*i as usize];
                for &v in pos {
                    fr.known.push((v, bits.get(at)));
                    at += 1;
                }
            }
            for (i, _) in &items {
                let fr = &mut frames[*i as usize];
                if !self.try_frame(code, fr, key, c) {
                    let pos = self.reveal_choice(code, fr, h);
                    if !pos.is_empty() {
                        requests.push((*i, pos));
                    }
                }
            }
        }
        let failed = frames.iter().filter(|f| !f.done).count();
        if failed > 0 {
            Self::exchange(peer, &LdpcRequest::Close { abort: true }, &mut report)?;
            return Err(ReconcileError::DecodeFailure {
                failed: failed as u32,
                frames: frames.len() as u32,
                rounds,
            });
        }
        let reply = Self::exchange(peer, &LdpcRequest::Close { abort: false }, &mut report)?;
        if reply.leaked != leak {
            return Err(ReconcileError::LeakMismatch {
                ours: Bits(leak),
                theirs: Bits(reply.leaked),
            });
        }
        let mut corrected = BitVec::zeros(0);
        for fr in &frames {
            corrected.extend_from(fr.decoded.as_ref().expect("done frames are decoded"));
        }
        report.corrected_bits = corrected.hamming_distance(key).unwrap_or(0) as u64;
        report.leaked = Bits(leak);
        *key = corrected;
        Ok(report)
    }
}

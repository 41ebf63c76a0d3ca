// SPDX-License-Identifier: MIT OR Apache-2.0
//! Wegman-Carter message authentication (Wegman & Carter, JCSS 22, 265, 1981)
//! for the classical channel: tag = POLYVAL_K(header || body) XOR r_i, with a
//! long-term secret hash key K and a fresh 128-bit one-time pad r_i per
//! message taken from a [`KeyPool`]. POLYVAL with a length block is
//! eps-almost-XOR-universal with eps = L / 2^128 for L-block messages, so a
//! forgery succeeds with probability <= L / 2^128 per attempt.
//!
//! Every message carries a 64-bit sequence number, covered by the MAC; the
//! pad for message i of a direction is the i-th pad of that direction, so
//! both ends consume pads in lock-step. Tampered, replayed, reordered and
//! truncated messages are rejected with typed [`AuthError`]s, comparison is
//! constant-time (`subtle`), and after any failure the channel refuses all
//! further traffic (the block and the session abort).
//!
//! Pool layout: the pre-shared key's first 16 bytes are K; the remaining
//! 16-byte chunks alternate between the initiator->responder and the
//! responder->initiator pad queues. `replenish` splits fresh key the same way.

use crate::channel::{ChannelError, ClassicalChannel, Frame};
use crate::key::SecretKey;
use polyval::universal_hash::{KeyInit, UniversalHash};
use polyval::Polyval;
use std::collections::VecDeque;
use std::time::Duration;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Bytes of MAC tag per message.
pub const TAG_LEN: usize = 16;
/// Bytes of sequence number per message.
pub const SEQ_LEN: usize = 8;
/// Reserved message type of transcript checkpoints (not usable by callers).
pub const MSG_CHECKPOINT: u16 = 0xFFFF;

/// Which end of the link this is (decides pad-queue directions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Alice / the connecting side.
    Initiator,
    /// Bob / the accepting side.
    Responder,
}

/// Authentication errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The MAC did not verify (tampered message or wrong key).
    #[error("MAC mismatch on message {seq}: message tampered or keys differ")]
    BadMac {
        /// Sequence number claimed.
        seq: u64,
    },
    /// A message with an already-used sequence number.
    #[error("replayed message: sequence {got}, expected {expected}")]
    Replayed {
        /// Sequence received.
        got: u64,
        /// Sequence expected.
        expected: u64,
    },
    /// A message from the future (an earlier one was dropped or reordered).
    #[error("out-of-order message: sequence {got}, expected {expected}")]
    Reordered {
        /// Sequence received.
        got: u64,
        /// Sequence expected.
        expected: u64,
    },
    /// The message is shorter than sequence number plus tag.
    #[error("authenticated message truncated: {len} bytes, need at least {min}")]
    Truncated {
        /// Bytes received.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// No one-time pad left in a direction.
    #[error("key pool exhausted: no {direction} one-time pad left; replenish from produced key")]
    PoolExhausted {
        /// "send" or "receive".
        direction: &'static str,
    },
    /// The pre-shared key is too short to hold the hash key.
    #[error("pre-shared key has {bytes} bytes, need at least 16 for the hash key plus pads")]
    ShortKey {
        /// Bytes given.
        bytes: usize,
    },
    /// An earlier authentication failure disabled this channel.
    #[error("channel disabled after an earlier authentication failure")]
    Poisoned,
    /// A pad position this end has already passed (a replayed or stale message).
    #[error("pad position {pos} already passed (next unused: {next})")]
    PadPassed {
        /// Position named.
        pos: u64,
        /// This end's next unused position.
        next: u64,
    },
    /// Bytes given to [`KeyPool::import`] are not an exported pool.
    #[error("stored key pool is malformed: {why}")]
    BadPoolState {
        /// What was wrong.
        why: &'static str,
    },
}

/// Pool of authentication key material: hash key and per-direction pads.
pub struct KeyPool {
    role: Role,
    hash_key: Zeroizing<[u8; 16]>,
    /// Pads for initiator -> responder messages.
    i2r: VecDeque<[u8; 16]>,
    /// Pads for responder -> initiator messages.
    r2i: VecDeque<[u8; 16]>,
    next_is_i2r: bool,
    /// Pads taken (used or discarded) over the pool's life: [send, receive].
    taken: [u64; 2],
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        for p in self.i2r.iter_mut().chain(self.r2i.iter_mut()) {
            p.zeroize();
        }
    }
}

impl std::fmt::Debug for KeyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeyPool {{ role: {:?}, send_pads: {}, recv_pads: {}, keys: <redacted> }}",
            self.role,
            self.send_pads(),
            self.recv_pads()
        )
    }
}

impl KeyPool {
    /// Bootstrap from a pre-shared key (both ends use the same key, opposite roles).
    pub fn bootstrap(psk: &SecretKey, role: Role) -> Result<Self, AuthError> {
        let bytes = psk.to_bytes();
        if bytes.len() < 16 {
            return Err(AuthError::ShortKey { bytes: bytes.len() });
        }
        let mut hk = Zeroizing::new([0u8; 16]);
        hk.copy_from_slice(&bytes[..16]);
        let mut pool = KeyPool {
            role,
            hash_key: hk,
            i2r: VecDeque::new(),
            r2i: VecDeque::new(),
            next_is_i2r: true,
            taken: [0, 0],
        };
        pool.add_pads(&bytes[16..]);
        Ok(pool)
    }

    fn add_pads(&mut self, bytes: &[u8]) {
        for c in bytes.chunks_exact(16) {
            let mut p = [0u8; 16];
            p.copy_from_slice(c);
            if self.next_is_i2r {
                self.i2r.push_back(p);
            } else {
                self.r2i.push_back(p);
            }
            self.next_is_i2r = !self.next_is_i2r;
        }
    }

    /// Add fresh pads from produced key (both ends must call this with the
    /// same key at the same point of the protocol). Whole 16-byte chunks are
    /// used; the remainder is discarded.
    pub fn replenish(&mut self, key: &SecretKey) {
        let bytes = key.to_bytes();
        self.add_pads(&bytes);
    }

    /// Pads left for sending.
    pub fn send_pads(&self) -> usize {
        match self.role {
            Role::Initiator => self.i2r.len(),
            Role::Responder => self.r2i.len(),
        }
    }
    /// Pads left for receiving.
    pub fn recv_pads(&self) -> usize {
        match self.role {
            Role::Initiator => self.r2i.len(),
            Role::Responder => self.i2r.len(),
        }
    }
    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    fn take_send(&mut self) -> Result<Zeroizing<[u8; 16]>, AuthError> {
        let q = match self.role {
            Role::Initiator => &mut self.i2r,
            Role::Responder => &mut self.r2i,
        };
        let p = q
            .pop_front()
            .map(Zeroizing::new)
            .ok_or(AuthError::PoolExhausted { direction: "send" })?;
        self.taken[0] += 1;
        Ok(p)
    }
    fn take_recv(&mut self) -> Result<Zeroizing<[u8; 16]>, AuthError> {
        let q = match self.role {
            Role::Initiator => &mut self.r2i,
            Role::Responder => &mut self.i2r,
        };
        let p = q
            .pop_front()
            .map(Zeroizing::new)
            .ok_or(AuthError::PoolExhausted {
                direction: "receive",
            })?;
        self.taken[1] += 1;
        Ok(p)
    }

    /// Pads taken (used or discarded) since the pre-shared key, as
    /// (send, receive): the absolute position of this end in each
    /// direction's pad sequence. The peer's receive count equals this send
    /// count (and vice versa) when no message was lost.
    pub fn taken(&self) -> (u64, u64) {
        (self.taken[0], self.taken[1])
    }

    /// Drop `send` send pads and `recv` receive pads unused, to bring this
    /// end to the peer's position after a lost connection (pads are never
    /// reused, so the lagging end skips ahead). Nothing is dropped if either
    /// queue holds fewer pads.
    pub fn discard(&mut self, send: u64, recv: u64) -> Result<(), AuthError> {
        if (self.send_pads() as u64) < send {
            return Err(AuthError::PoolExhausted { direction: "send" });
        }
        if (self.recv_pads() as u64) < recv {
            return Err(AuthError::PoolExhausted {
                direction: "receive",
            });
        }
        for _ in 0..send {
            self.take_send()?;
        }
        for _ in 0..recv {
            self.take_recv()?;
        }
        Ok(())
    }

    /// Move this end to the absolute positions `send_to` / `recv_to` of
    /// each direction's pad sequence, dropping the pads in between unused
    /// (pads are never reused). A position already passed is left as it
    /// is; nothing is dropped if either queue is too short.
    pub fn advance_to(&mut self, send_to: u64, recv_to: u64) -> Result<(), AuthError> {
        let (s, r) = self.taken();
        self.discard(send_to.saturating_sub(s), recv_to.saturating_sub(r))
    }

    fn pad_at(&self, send: bool, pos: u64) -> Result<&[u8; 16], AuthError> {
        let initiator_queue = send == (self.role == Role::Initiator);
        let (q, taken, direction) = match (initiator_queue, send) {
            (true, true) => (&self.i2r, self.taken[0], "send"),
            (false, true) => (&self.r2i, self.taken[0], "send"),
            (true, false) => (&self.i2r, self.taken[1], "receive"),
            (false, false) => (&self.r2i, self.taken[1], "receive"),
        };
        let Some(i) = pos.checked_sub(taken) else {
            return Err(AuthError::PadPassed { pos, next: taken });
        };
        usize::try_from(i)
            .ok()
            .and_then(|i| q.get(i))
            .ok_or(AuthError::PoolExhausted { direction })
    }

    /// Tag `body` with the send pad at absolute position `pos` without
    /// taking it (the caller advances past it with [`Self::advance_to`] and
    /// must never tag a different message with the same position). Used
    /// for the session-opening message, whose pad position it names itself.
    pub fn tag_at(&self, pos: u64, msg_type: u16, body: &[u8]) -> Result<[u8; 16], AuthError> {
        let pad = self.pad_at(true, pos)?;
        Ok(wc_tag(&self.hash_key, pad, msg_type, pos, body))
    }

    /// Check a tag made by the peer's [`Self::tag_at`] with the receive pad
    /// at absolute position `pos`, without taking it. Constant-time compare.
    pub fn verify_at(
        &self,
        pos: u64,
        msg_type: u16,
        body: &[u8],
        tag: &[u8],
    ) -> Result<(), AuthError> {
        let pad = self.pad_at(false, pos)?;
        let mine = wc_tag(&self.hash_key, pad, msg_type, pos, body);
        if tag.len() == TAG_LEN && bool::from(mine.ct_eq(tag)) {
            Ok(())
        } else {
            Err(AuthError::BadMac { seq: pos })
        }
    }

    /// Serialise the whole pool (hash key, pads, position) for durable
    /// storage; the bytes are secret (store them 0600, zeroized on drop).
    /// Layout: `QKDPOOL1 | role u8 | next_is_i2r u8 | taken_send u64 |
    /// taken_recv u64 | n_i2r u64 | n_r2i u64 | hash key | i2r pads | r2i pads`
    /// (integers little-endian).
    pub fn export(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(Vec::with_capacity(
            58 + 16 * (self.i2r.len() + self.r2i.len()),
        ));
        v.extend_from_slice(POOL_MAGIC);
        v.push(u8::from(self.role == Role::Responder));
        v.push(u8::from(self.next_is_i2r));
        for x in [
            self.taken[0],
            self.taken[1],
            self.i2r.len() as u64,
            self.r2i.len() as u64,
        ] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&self.hash_key[..]);
        for p in self.i2r.iter().chain(self.r2i.iter()) {
            v.extend_from_slice(p);
        }
        v
    }

    /// Rebuild a pool from [`KeyPool::export`] bytes.
    pub fn import(bytes: &[u8]) -> Result<Self, AuthError> {
        let bad = |why: &'static str| AuthError::BadPoolState { why };
        let head = 8 + 2 + 32 + 16;
        if bytes.len() < head || &bytes[..8] != POOL_MAGIC {
            return Err(bad("missing QKDPOOL1 header"));
        }
        let u = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[10 + 8 * i..18 + 8 * i]);
            u64::from_le_bytes(b)
        };
        let role = match bytes[8] {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(bad("role byte")),
        };
        let next_is_i2r = match bytes[9] {
            0 => false,
            1 => true,
            _ => return Err(bad("next_is_i2r byte")),
        };
        let (n_i2r, n_r2i) = (u(2), u(3));
        let pads = n_i2r
            .checked_add(n_r2i)
            .and_then(|n| n.checked_mul(16))
            .ok_or(bad("pad counts overflow"))?;
        if (bytes.len() - head) as u64 != pads {
            return Err(bad("length does not match the pad counts"));
        }
        let mut hk = Zeroizing::new([0u8; 16]);
        hk.copy_from_slice(&bytes[42..58]);
        let mut pool = KeyPool {
            role,
            hash_key: hk,
            i2r: VecDeque::with_capacity(n_i2r as usize),
            r2i: VecDeque::with_capacity(n_r2i as usize),
            next_is_i2r,
            taken: [u(0), u(1)],
        };
        for (i, c) in bytes[head..].chunks_exact(16).enumerate() {
            let mut p = [0u8; 16];
            p.copy_from_slice(c);
            if (i as u64) < n_i2r {
                pool.i2r.push_back(p);
            } else {
                pool.r2i.push_back(p);
            }
        }
        Ok(pool)
    }
}

const POOL_MAGIC: &[u8; 8] = b"QKDPOOL1";

/// POLYVAL_K over (msg_type, seq, body length) block, then the body, zero
/// padded, then XOR with the pad.
pub fn wc_tag(
    hash_key: &[u8; 16],
    pad: &[u8; 16],
    msg_type: u16,
    seq: u64,
    body: &[u8],
) -> [u8; 16] {
    let mut ph = Polyval::new(hash_key.into());
    let mut hdr = polyval::Block::default();
    hdr[..2].copy_from_slice(&msg_type.to_le_bytes());
    hdr[2..10].copy_from_slice(&seq.to_le_bytes());
    hdr[10..16].copy_from_slice(&(body.len() as u64).to_le_bytes()[..6]);
    ph.update(std::slice::from_ref(&hdr));
    ph.update_padded(body);
    let mut t: [u8; 16] = ph.finalize().into();
    for (a, b) in t.iter_mut().zip(pad) {
        *a ^= b;
    }
    t
}

/// A [`ClassicalChannel`] whose messages are Wegman-Carter authenticated.
/// Wire payload: `seq: u64 LE | body | tag: [u8; 16]`.
pub struct AuthChannel<C> {
    inner: C,
    pool: KeyPool,
    send_seq: u64,
    recv_seq: u64,
    poisoned: bool,
    /// Deferred (transcript) mode: running hashes per direction.
    transcript: Option<(Polyval, Polyval)>,
    unverified_recv: u64,
}

impl<C> std::fmt::Debug for AuthChannel<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthChannel")
            .field("pool", &self.pool)
            .field("send_seq", &self.send_seq)
            .field("recv_seq", &self.recv_seq)
            .field("poisoned", &self.poisoned)
            .finish()
    }
}

impl<C: ClassicalChannel> AuthChannel<C> {
    /// Wrap a raw channel with a key pool.
    pub fn new(inner: C, pool: KeyPool) -> Self {
        Self {
            inner,
            pool,
            send_seq: 0,
            recv_seq: 0,
            poisoned: false,
            transcript: None,
            unverified_recv: 0,
        }
    }
    /// The key pool (to replenish or inspect).
    pub fn pool_mut(&mut self) -> &mut KeyPool {
        &mut self.pool
    }
    /// The key pool.
    pub fn pool(&self) -> &KeyPool {
        &self.pool
    }
    /// Next sequence numbers (send, receive).
    pub fn sequence(&self) -> (u64, u64) {
        (self.send_seq, self.recv_seq)
    }
    /// True after an authentication failure.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
    /// The wrapped channel.
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Take the channel apart (after a broken session: the pool goes on
    /// into the next one).
    pub fn into_parts(self) -> (C, KeyPool) {
        (self.inner, self.pool)
    }

    /// True in transcript mode ([`Self::new_deferred`]).
    pub fn is_transcript(&self) -> bool {
        self.transcript.is_some()
    }

    /// Transcript mode: receive the next frame, verifying a checkpoint if
    /// that is what arrives. `Ok(None)`: a checkpoint verified (everything
    /// the peer sent before it is authenticated); `Ok(Some(frame))`: an
    /// application message, not yet authenticated.
    pub fn recv_frame_or_checkpoint(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Frame>, ChannelError> {
        let f = self.recv_checked(timeout)?;
        if self.transcript.is_some() && f.msg_type == MSG_CHECKPOINT {
            Ok(None)
        } else {
            Ok(Some(f))
        }
    }

    /// Transcript mode: messages carry sequence numbers but no tag; each
    /// direction's messages are absorbed into a running POLYVAL transcript
    /// that is authenticated by [`Self::send_checkpoint`] /
    /// [`Self::recv_checkpoint`] with one pad per checkpoint (instead of one
    /// per message). Nothing received since the last verified checkpoint may
    /// be acted on irreversibly (output key only after the checkpoint).
    pub fn new_deferred(inner: C, pool: KeyPool) -> Self {
        let h = *pool.hash_key;
        let mut c = Self::new(inner, pool);
        c.transcript = Some((Polyval::new(&h.into()), Polyval::new(&h.into())));
        c
    }

    /// Received messages not yet covered by a verified checkpoint.
    pub fn unverified_received(&self) -> u64 {
        self.unverified_recv
    }

    fn absorb(ph: &mut Polyval, msg_type: u16, seq: u64, body: &[u8]) {
        let mut hdr = polyval::Block::default();
        hdr[..2].copy_from_slice(&msg_type.to_le_bytes());
        hdr[2..10].copy_from_slice(&seq.to_le_bytes());
        hdr[10..16].copy_from_slice(&(body.len() as u64).to_le_bytes()[..6]);
        ph.update(std::slice::from_ref(&hdr));
        ph.update_padded(body);
    }

    fn fresh(&self) -> Polyval {
        Polyval::new((&*self.pool.hash_key).into())
    }

    /// Transcript mode: authenticate everything sent since the last
    /// checkpoint (one pad).
    pub fn send_checkpoint(&mut self) -> Result<(), ChannelError> {
        if self.poisoned {
            return Err(ChannelError::Auth(AuthError::Poisoned));
        }
        let fresh = self.fresh();
        let Some((tx, _)) = self.transcript.as_mut() else {
            return Ok(()); // per-message mode: every message is already tagged
        };
        let pad = self.pool.take_send().map_err(ChannelError::Auth)?;
        let seq = self.send_seq;
        Self::absorb(tx, MSG_CHECKPOINT, seq, &[]);
        let ph = std::mem::replace(tx, fresh);
        let mut tag: [u8; 16] = ph.finalize().into();
        for (a, b) in tag.iter_mut().zip(pad.iter()) {
            *a ^= b;
        }
        let mut p = Vec::with_capacity(SEQ_LEN + TAG_LEN);
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&tag);
        self.send_seq += 1;
        self.inner.send(&Frame::new(MSG_CHECKPOINT, p))
    }

    /// Transcript mode: wait for the peer's checkpoint and verify it.
    pub fn recv_checkpoint(&mut self, timeout: Duration) -> Result<(), ChannelError> {
        if self.transcript.is_none() {
            return Ok(());
        }
        let f = self.recv_checked(timeout)?;
        if f.msg_type != MSG_CHECKPOINT {
            return Err(ChannelError::UnexpectedType {
                got: f.msg_type,
                expected: MSG_CHECKPOINT,
            });
        }
        Ok(())
    }

    /// Receive one frame, check sequence (and tag or transcript), verify
    /// checkpoints. Returns the frame (checkpoints with empty payload).
    fn recv_checked(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        if self.poisoned {
            return Err(ChannelError::Auth(AuthError::Poisoned));
        }
        let f = match self.inner.recv(timeout) {
            Ok(f) => f,
            Err(ChannelError::Frame(e)) => {
                self.poisoned = true;
                return Err(ChannelError::Frame(e));
            }
            Err(e) => return Err(e),
        };
        let tagged = self.transcript.is_none() || f.msg_type == MSG_CHECKPOINT;
        let min = if tagged { SEQ_LEN + TAG_LEN } else { SEQ_LEN };
        if f.payload.len() < min
            || (self.transcript.is_some() && f.msg_type == MSG_CHECKPOINT && f.payload.len() != min)
        {
            return Err(self.fail(AuthError::Truncated {
                len: f.payload.len(),
                min,
            }));
        }
        let mut sb = [0u8; 8];
        sb.copy_from_slice(&f.payload[..SEQ_LEN]);
        let seq = u64::from_le_bytes(sb);
        let expected = self.recv_seq;
        if seq < expected {
            return Err(self.fail(AuthError::Replayed { got: seq, expected }));
        }
        if seq > expected {
            return Err(self.fail(AuthError::Reordered { got: seq, expected }));
        }
        let fresh = self.fresh();
        match (self.transcript.as_mut(), tagged) {
            (None, _) => {
                let body = &f.payload[SEQ_LEN..f.payload.len() - TAG_LEN];
                let their = &f.payload[f.payload.len() - TAG_LEN..];
                let pad = self.pool.take_recv().map_err(ChannelError::Auth)?;
                let mine = wc_tag(&self.pool.hash_key, &pad, f.msg_type, seq, body);
                if !bool::from(mine.ct_eq(their)) {
                    return Err(self.fail(AuthError::BadMac { seq }));
                }
                self.recv_seq += 1;
                Ok(Frame::new(f.msg_type, body.to_vec()))
            }
            (Some((_, rx)), true) => {
                Self::absorb(rx, MSG_CHECKPOINT, seq, &[]);
                let ph = std::mem::replace(rx, fresh);
                let pad = self.pool.take_recv().map_err(ChannelError::Auth)?;
                let mut mine: [u8; 16] = ph.finalize().into();
                for (a, b) in mine.iter_mut().zip(pad.iter()) {
                    *a ^= b;
                }
                if !bool::from(mine.ct_eq(&f.payload[SEQ_LEN..])) {
                    return Err(self.fail(AuthError::BadMac { seq }));
                }
                self.recv_seq += 1;
                self.unverified_recv = 0;
                Ok(Frame::new(MSG_CHECKPOINT, Vec::new()))
            }
            (Some((_, rx)), false) => {
                let body = &f.payload[SEQ_LEN..];
                Self::absorb(rx, f.msg_type, seq, body);
                self.recv_seq += 1;
                self.unverified_recv += 1;
                Ok(Frame::new(f.msg_type, body.to_vec()))
            }
        }
    }

    fn fail(&mut self, e: AuthError) -> ChannelError {
        self.poisoned = true;
        tracing::warn!(error = %e, "authentication failure; channel disabled");
        ChannelError::Auth(e)
    }
}

impl<C: ClassicalChannel> ClassicalChannel for AuthChannel<C> {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        if self.poisoned {
            return Err(ChannelError::Auth(AuthError::Poisoned));
        }
        if frame.msg_type == MSG_CHECKPOINT {
            return Err(ChannelError::UnexpectedType {
                got: MSG_CHECKPOINT,
                expected: 0,
            });
        }
        let seq = self.send_seq;
        let mut p = Vec::with_capacity(SEQ_LEN + frame.payload.len() + TAG_LEN);
        p.extend_from_slice(&seq.to_le_bytes());
        p.extend_from_slice(&frame.payload);
        if let Some((tx, _)) = self.transcript.as_mut() {
            Self::absorb(tx, frame.msg_type, seq, &frame.payload);
        } else {
            let pad = self.pool.take_send().map_err(ChannelError::Auth)?;
            let tag = wc_tag(
                &self.pool.hash_key,
                &pad,
                frame.msg_type,
                seq,
                &frame.payload,
            );
            p.extend_from_slice(&tag);
        }
        self.send_seq += 1;
        self.inner.send(&Frame::new(frame.msg_type, p))
    }

    /// Receive the next application message. In transcript mode,
    /// checkpoints arriving in between are verified and skipped.
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        loop {
            let f = self.recv_checked(timeout)?;
            if self.transcript.is_none() || f.msg_type != MSG_CHECKPOINT {
                return Ok(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::InProcChannel;

    const T: Duration = Duration::from_secs(5);

    fn psk(len: usize) -> SecretKey {
        let b: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_mul(151).wrapping_add(7))
            .collect();
        SecretKey::from_bytes(&b)
    }

    fn pair(pads: usize) -> (AuthChannel<InProcChannel>, AuthChannel<InProcChannel>) {
        let k = psk(16 + 16 * pads);
        let (a, b) = InProcChannel::pair();
        (
            AuthChannel::new(a, KeyPool::bootstrap(&k, Role::Initiator).unwrap()),
            AuthChannel::new(b, KeyPool::bootstrap(&k, Role::Responder).unwrap()),
        )
    }

    #[test]
    fn both_directions_in_lockstep() {
        let (mut a, mut b) = pair(8);
        assert_eq!(a.pool().send_pads(), 4);
        assert_eq!(b.pool().recv_pads(), 4);
        for i in 0..3u8 {
            a.send(&Frame::new(1, vec![i; 40])).unwrap();
            b.send(&Frame::new(2, vec![i; 3])).unwrap();
            assert_eq!(b.recv(T).unwrap(), Frame::new(1, vec![i; 40]));
            assert_eq!(a.recv(T).unwrap(), Frame::new(2, vec![i; 3]));
        }
        assert_eq!(a.sequence(), (3, 3));
    }

    #[test]
    fn tampered_message_rejected() {
        let (mut a, mut b) = pair(4);
        a.send(&Frame::new(1, vec![0; 33])).unwrap();
        let mut raw = b.inner_mut().recv_raw(T).unwrap();
        raw[7 + 8 + 5] ^= 0x01; // flip one body bit
        b.inner_mut().inject_incoming(raw);
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::BadMac { seq: 0 }))
        ));
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::Poisoned))
        ));
    }

    #[test]
    fn tampered_type_rejected() {
        let (mut a, mut b) = pair(4);
        a.send(&Frame::new(1, vec![0; 3])).unwrap();
        let mut raw = b.inner_mut().recv_raw(T).unwrap();
        raw[1] ^= 0x02;
        b.inner_mut().inject_incoming(raw);
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::BadMac { .. }))
        ));
    }

    #[test]
    fn replayed_message_rejected() {
        let (mut a, mut b) = pair(6);
        a.send(&Frame::new(1, vec![1])).unwrap();
        let raw = b.inner_mut().recv_raw(T).unwrap();
        b.inner_mut().inject_incoming(raw.clone());
        b.recv(T).unwrap();
        b.inner_mut().inject_incoming(raw);
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::Replayed {
                got: 0,
                expected: 1
            }))
        ));
    }

    #[test]
    fn reordered_message_rejected() {
        let (mut a, mut b) = pair(6);
        a.send(&Frame::new(1, vec![1])).unwrap();
        a.send(&Frame::new(1, vec![2])).unwrap();
        let first = b.inner_mut().recv_raw(T).unwrap();
        let second = b.inner_mut().recv_raw(T).unwrap();
        b.inner_mut().inject_incoming(second);
        b.inner_mut().inject_incoming(first);
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::Reordered {
                got: 1,
                expected: 0
            }))
        ));
    }

    #[test]
    fn truncated_message_rejected() {
        let (mut a, mut b) = pair(6);
        a.send(&Frame::new(1, vec![9; 50])).unwrap();
        let raw = b.inner_mut().recv_raw(T).unwrap();
        // Cut inside the payload but keep the frame header consistent: the
        // tag check must fail.
        let mut f = Frame::decode(&raw).unwrap();
        f.payload.truncate(40);
        b.inner_mut().inject_incoming(f.encode().unwrap());
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::BadMac { .. }))
        ));
        // A frame shorter than seq + tag.
        let (mut a, mut b) = pair(6);
        a.send(&Frame::new(1, vec![])).unwrap();
        let _ = b.inner_mut().recv_raw(T).unwrap();
        b.inner_mut()
            .inject_incoming(Frame::new(1, vec![0; 20]).encode().unwrap());
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::Truncated {
                len: 20,
                min: 24
            }))
        ));
        // A raw frame cut short.
        let (mut a, mut b) = pair(6);
        a.send(&Frame::new(1, vec![3; 10])).unwrap();
        let raw = b.inner_mut().recv_raw(T).unwrap();
        b.inner_mut().inject_incoming(raw[..raw.len() - 3].to_vec());
        assert!(matches!(b.recv(T), Err(ChannelError::Frame(_))));
    }

    fn deferred_pair(pads: usize) -> (AuthChannel<InProcChannel>, AuthChannel<InProcChannel>) {
        let k = psk(16 + 16 * pads);
        let (a, b) = InProcChannel::pair();
        (
            AuthChannel::new_deferred(a, KeyPool::bootstrap(&k, Role::Initiator).unwrap()),
            AuthChannel::new_deferred(b, KeyPool::bootstrap(&k, Role::Responder).unwrap()),
        )
    }

    #[test]
    fn deferred_mode_one_pad_per_checkpoint() {
        let (mut a, mut b) = deferred_pair(4);
        for i in 0..100u8 {
            a.send(&Frame::new(1, vec![i; 7])).unwrap();
            assert_eq!(b.recv(T).unwrap(), Frame::new(1, vec![i; 7]));
        }
        assert_eq!(b.unverified_received(), 100);
        a.send_checkpoint().unwrap();
        b.recv_checkpoint(T).unwrap();
        assert_eq!(b.unverified_received(), 0);
        assert_eq!(a.pool().send_pads(), 1);
        assert_eq!(b.pool().recv_pads(), 1);
        // a checkpoint arriving during recv() is verified and skipped
        a.send(&Frame::new(2, vec![1])).unwrap();
        a.send_checkpoint().unwrap();
        a.send(&Frame::new(3, vec![2])).unwrap();
        assert_eq!(b.recv(T).unwrap().msg_type, 2);
        assert_eq!(b.recv(T).unwrap().msg_type, 3);
        assert_eq!(b.unverified_received(), 1);
    }

    #[test]
    fn deferred_mode_detects_tampering_at_checkpoint() {
        let (mut a, mut b) = deferred_pair(4);
        a.send(&Frame::new(1, vec![5; 30])).unwrap();
        a.send_checkpoint().unwrap();
        let mut raw = b.inner_mut().recv_raw(T).unwrap();
        raw[7 + 8 + 3] ^= 0x80;
        b.inner_mut().inject_incoming(raw);
        b.recv(T).unwrap(); // not yet detectable
        assert!(matches!(
            b.recv_checkpoint(T),
            Err(ChannelError::Auth(AuthError::BadMac { seq: 1 }))
        ));
        assert!(b.is_poisoned());
        // a dropped message shows up as a sequence gap
        let (mut a, mut b) = deferred_pair(4);
        a.send(&Frame::new(1, vec![1])).unwrap();
        a.send(&Frame::new(1, vec![2])).unwrap();
        let _dropped = b.inner_mut().recv_raw(T).unwrap();
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::Reordered {
                got: 1,
                expected: 0
            }))
        ));
    }

    #[test]
    fn wrong_key_rejected_and_pool_exhaustion() {
        let (a0, b0) = InProcChannel::pair();
        let mut a = AuthChannel::new(a0, KeyPool::bootstrap(&psk(64), Role::Initiator).unwrap());
        let mut other = psk(64).to_bytes().to_vec();
        other[0] ^= 1;
        let mut b = AuthChannel::new(
            b0,
            KeyPool::bootstrap(&SecretKey::from_bytes(&other), Role::Responder).unwrap(),
        );
        a.send(&Frame::new(1, vec![1])).unwrap();
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::BadMac { .. }))
        ));
        // 64 bytes = hash key + 3 pads: i2r gets 2, r2i gets 1.
        a.send(&Frame::new(1, vec![1])).unwrap();
        assert!(matches!(
            a.send(&Frame::new(1, vec![1])),
            Err(ChannelError::Auth(AuthError::PoolExhausted {
                direction: "send"
            }))
        ));
        a.pool_mut().replenish(&psk(32));
        a.send(&Frame::new(1, vec![1])).unwrap();
    }

    #[test]
    fn export_import_and_discard_resynchronise_after_a_lost_message() {
        let (ca, cb) = InProcChannel::pair();
        let mut a = AuthChannel::new(
            ca,
            KeyPool::bootstrap(&psk(16 + 16 * 40), Role::Initiator).unwrap(),
        );
        let mut b = AuthChannel::new(
            cb,
            KeyPool::bootstrap(&psk(16 + 16 * 40), Role::Responder).unwrap(),
        );
        a.send(&Frame::new(1, vec![1])).unwrap();
        b.recv(T).unwrap();
        // A message Bob never receives (lost with the connection).
        a.send(&Frame::new(1, vec![2])).unwrap();
        assert_eq!(a.pool().taken(), (2, 0));
        assert_eq!(b.pool().taken(), (0, 1));
        // Persist both pools, rebuild, skip the lagging end ahead.
        let pa = KeyPool::import(&a.pool().export()).unwrap();
        let mut pb = KeyPool::import(&b.pool().export()).unwrap();
        assert_eq!(pa.taken(), (2, 0));
        assert_eq!(pa.send_pads(), 18);
        let (a_send, a_recv) = pa.taken();
        let (b_send, b_recv) = pb.taken();
        pb.discard(a_recv.max(b_send) - b_send, a_send.max(b_recv) - b_recv)
            .unwrap();
        assert_eq!(pb.taken(), (0, 2));
        let (ca, cb) = InProcChannel::pair();
        let mut a = AuthChannel::new(ca, pa);
        let mut b = AuthChannel::new(cb, pb);
        a.send(&Frame::new(3, vec![3])).unwrap();
        assert_eq!(b.recv(T).unwrap().payload, vec![3]);
        b.send(&Frame::new(4, vec![4])).unwrap();
        assert_eq!(a.recv(T).unwrap().payload, vec![4]);
        // Without the discard, the same exchange fails authentication.
        let pa = KeyPool::bootstrap(&psk(16 + 16 * 40), Role::Initiator).unwrap();
        let mut pb = KeyPool::bootstrap(&psk(16 + 16 * 40), Role::Responder).unwrap();
        let mut pa = pa;
        pa.discard(1, 0).unwrap();
        pb.discard(0, 0).unwrap();
        let (ca, cb) = InProcChannel::pair();
        let mut a = AuthChannel::new(ca, pa);
        let mut b = AuthChannel::new(cb, pb);
        a.send(&Frame::new(3, vec![3])).unwrap();
        assert!(matches!(
            b.recv(T),
            Err(ChannelError::Auth(AuthError::BadMac { .. }))
        ));
        // Discarding more than is left drops nothing.
        let mut p = KeyPool::bootstrap(&psk(16 + 16 * 4), Role::Initiator).unwrap();
        assert!(p.discard(3, 0).is_err());
        assert_eq!(p.taken(), (0, 0));
        assert_eq!(p.send_pads(), 2);
    }

    proptest::proptest! {
        #[test]
        fn import_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = KeyPool::import(&bytes);
            let mut v = POOL_MAGIC.to_vec();
            v.extend_from_slice(&bytes);
            let _ = KeyPool::import(&v);
        }
    }
}

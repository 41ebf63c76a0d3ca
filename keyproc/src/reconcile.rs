// SPDX-License-Identifier: MIT OR Apache-2.0
//! Reconciler interface shared by all information-reconciliation protocols
//! (Cascade, LDPC): the correcting party (Bob) runs a
//! [`Reconciler`] over a byte-level [`ReconcilePeer`]; the other party (Alice)
//! answers with a [`ReconcileResponder`]. Every disclosed bit is counted in
//! [`ReconcileReport::leaked`] (AIT `nDisclosedBits` habit, STYLE.md 21), so
//! the finite-key step can subtract lambda_EC exactly.

use crate::bits::{BitVec, Bits};
use crate::channel::{ClassicalChannel, Frame};
use std::time::Duration;

/// Errors of reconciliation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// The peer's answers contradict each other (more bits flipped than
    /// the key has): a tampered or broken peer.
    #[error("the peer's parities are inconsistent: {flips} flips for {bits} bits")]
    Inconsistent {
        /// Flips made.
        flips: usize,
        /// Key bits.
        bits: usize,
    },
    /// The transport to the peer failed.
    #[error("reconciliation transport")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A protocol message could not be decoded.
    #[error("malformed reconciliation message: {0}")]
    Decode(#[from] WireError),
    /// The peer asked for something outside the agreed key or passes.
    #[error("invalid reconciliation request: {0}")]
    BadRequest(String),
    /// The peer's reply does not match the request.
    #[error("reconciliation reply has {got} parities, expected {expected}")]
    ReplyLength {
        /// Parities received.
        got: usize,
        /// Parities expected.
        expected: usize,
    },
    /// Parameters out of range (QBER, lengths).
    #[error("invalid reconciliation parameter: {0}")]
    Parameter(String),
    /// Frames the decoder could not correct; the block must be discarded.
    #[error("{failed} of {frames} LDPC frames did not decode after {rounds} reveal rounds")]
    DecodeFailure {
        /// Frames still failing.
        failed: u32,
        /// Frames in the block.
        frames: u32,
        /// Reveal rounds used.
        rounds: u32,
    },
    /// The two ends disagree on the number of leaked bits.
    #[error("leak accounting mismatch: corrector counted {ours}, responder {theirs}")]
    LeakMismatch {
        /// Corrector's count.
        ours: Bits,
        /// Responder's count.
        theirs: Bits,
    },
}

/// Decoding errors of reconciliation wire messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Message ended early.
    #[error("message truncated at byte {at} while reading {what}")]
    Truncated {
        /// Offset.
        at: usize,
        /// Field being read.
        what: &'static str,
    },
    /// Unknown message kind or query tag.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// Field.
        what: &'static str,
        /// Value.
        tag: u8,
    },
    /// A count field is larger than the message could hold.
    #[error("{what} count {count} is implausible for a {len}-byte message")]
    Count {
        /// Field.
        what: &'static str,
        /// Value.
        count: u64,
        /// Message length.
        len: usize,
    },
    /// Bytes after the end of the message.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// Bits set past the last packed bit (the encoder leaves them zero).
    #[error("{what}: padding bits {bits:#04x} set past the last bit")]
    Padding {
        /// Field.
        what: &'static str,
        /// The last byte's bits past the end.
        bits: u8,
    },
}

/// Outcome of one reconciliation run (corrector side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileReport {
    /// Bits of information about the key disclosed to the public channel.
    pub leaked: Bits,
    /// Request/response round trips used (including the closing one).
    pub round_trips: u32,
    /// Bits flipped in the corrector's key.
    pub corrected_bits: u64,
    /// Protocol messages' payload bytes sent plus received.
    pub message_bytes: u64,
}

impl ReconcileReport {
    /// Efficiency f = leaked / (n h(qber)) for a key of `n_bits` and a
    /// (true or estimated) QBER. Returns infinity for qber = 0.
    pub fn efficiency(&self, n_bits: usize, qber: f64) -> f64 {
        self.leaked.get() as f64 / (n_bits as f64 * binary_entropy(qber))
    }
}

/// Binary entropy h(p) = -p log2 p - (1-p) log2 (1-p).
pub fn binary_entropy(p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    -p * p.log2() - (1.0 - p) * (1.0 - p).log2()
}

/// Byte-level transport from the corrector to the responder: one call is
/// one round trip (the request goes out, the response comes back).
pub trait ReconcilePeer {
    /// Send `request`, return the response.
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError>;
}

impl<P: ReconcilePeer + ?Sized> ReconcilePeer for &mut P {
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        (**self).exchange(request)
    }
}

/// Responder (Alice) side of a reconciliation protocol, holding the
/// reference key.
pub trait ReconcileResponder {
    /// Answer one request.
    fn respond(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError>;
    /// Bits disclosed so far.
    fn leaked(&self) -> Bits;
    /// True once the corrector has closed the session.
    fn is_finished(&self) -> bool;
}

impl<R: ReconcileResponder + ?Sized> ReconcileResponder for Box<R> {
    fn respond(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        (**self).respond(request)
    }
    fn leaked(&self) -> Bits {
        (**self).leaked()
    }
    fn is_finished(&self) -> bool {
        (**self).is_finished()
    }
}

/// Corrector (Bob) side of a reconciliation protocol.
pub trait Reconciler {
    /// Protocol name (e.g. "cascade-option7").
    fn name(&self) -> String;
    /// Correct `key` in place toward the responder's key. `qber_estimate`
    /// is the error rate estimate from parameter estimation.
    fn reconcile(
        &mut self,
        key: &mut BitVec,
        qber_estimate: f64,
        peer: &mut dyn ReconcilePeer,
    ) -> Result<ReconcileReport, ReconcileError>;
}

/// In-memory byte-level peer wrapping a responder (tests, simulation).
#[derive(Debug)]
pub struct LocalPeer<R> {
    /// The responder.
    pub responder: R,
}

impl<R: ReconcileResponder> ReconcilePeer for LocalPeer<R> {
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        self.responder.respond(request)
    }
}

/// Message type of reconciliation requests on a [`ClassicalChannel`].
pub const MSG_RECONCILE_REQUEST: u16 = 0x0201;
/// Message type of reconciliation replies on a [`ClassicalChannel`].
pub const MSG_RECONCILE_REPLY: u16 = 0x0202;

/// [`ReconcilePeer`] over a [`ClassicalChannel`] (e.g. an authenticated
/// one): each exchange sends one [`MSG_RECONCILE_REQUEST`] frame and waits
/// for one [`MSG_RECONCILE_REPLY`].
#[derive(Debug)]
pub struct ChannelPeer<C> {
    /// The channel.
    pub channel: C,
    /// Reply timeout.
    pub timeout: Duration,
}

impl<C: ClassicalChannel> ReconcilePeer for ChannelPeer<C> {
    fn exchange(&mut self, request: &[u8]) -> Result<Vec<u8>, ReconcileError> {
        self.channel
            .send(&Frame::new(MSG_RECONCILE_REQUEST, request.to_vec()))
            .map_err(|e| ReconcileError::Transport(Box::new(e)))?;
        self.channel
            .recv_type(MSG_RECONCILE_REPLY, self.timeout)
            .map_err(|e| ReconcileError::Transport(Box::new(e)))
    }
}

/// Responder loop: answer [`MSG_RECONCILE_REQUEST`] frames from `channel`
/// until the corrector closes the session. Returns the bits disclosed.
pub fn serve_reconciliation<C: ClassicalChannel + ?Sized, R: ReconcileResponder + ?Sized>(
    channel: &mut C,
    responder: &mut R,
    timeout: Duration,
) -> Result<Bits, ReconcileError> {
    while !responder.is_finished() {
        let req = channel
            .recv_type(MSG_RECONCILE_REQUEST, timeout)
            .map_err(|e| ReconcileError::Transport(Box::new(e)))?;
        let reply = responder.respond(&req)?;
        channel
            .send(&Frame::new(MSG_RECONCILE_REPLY, reply))
            .map_err(|e| ReconcileError::Transport(Box::new(e)))?;
    }
    Ok(responder.leaked())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_values() {
        assert!((binary_entropy(0.5) - 1.0).abs() < 1e-12);
        assert!((binary_entropy(0.02) - 0.141_440_542).abs() < 1e-8);
        assert_eq!(binary_entropy(0.0), 0.0);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The fixed-layout messages of one key block (`pipeline`) after sifting:
//! ESTIMATE (Alice's X-basis error counts, verdict and reconciliation
//! setting), VERIFY (Bob's
//! verification challenge and tag, universal hashing after Carter-Wegman
//! as in `qkd_keyproc::verify`, and his Z-basis error counts), VERIFY_RESULT
//! (Alice's outcome, the secret length and the Toeplitz seed) and
//! BLOCK_ACK. Integers are little-endian.
//!
//! These are decoded before the block's transcript checkpoint verifies
//! them (`keyproc::auth`, deferred mode), so each decoder takes arbitrary
//! bytes: it never panics, never allocates more than the message holds,
//! and accepts only the canonical encoding (`decode(b)` succeeds only if
//! `encode` gives `b` back); what the values mean is checked by the
//! pipeline.

use crate::config::Reconciliation;

/// Why a block message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// Fewer bytes than the layout needs.
    #[error("{0} truncated")]
    Truncated(&'static str),
    /// Bytes past the end of the layout.
    #[error("{what} has {extra} trailing bytes")]
    Trailing {
        /// The message.
        what: &'static str,
        /// How many.
        extra: usize,
    },
    /// A field outside its range.
    #[error("{what}: {field} {value} out of range")]
    Field {
        /// The message.
        what: &'static str,
        /// The field.
        field: &'static str,
        /// The value received.
        value: u64,
    },
}

/// A reader over a message's bytes.
struct Rd<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MessageError> {
        if self.b.len() < n {
            return Err(MessageError::Truncated(self.what));
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u64(&mut self) -> Result<u64, MessageError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn u64s(&mut self) -> Result<[u64; 3], MessageError> {
        Ok([self.u64()?, self.u64()?, self.u64()?])
    }
    fn u8(&mut self) -> Result<u8, MessageError> {
        Ok(self.take(1)?[0])
    }
    fn done(&self) -> Result<(), MessageError> {
        if self.b.is_empty() {
            Ok(())
        } else {
            Err(MessageError::Trailing {
                what: self.what,
                extra: self.b.len(),
            })
        }
    }
    fn field(&self, field: &'static str, value: u64) -> MessageError {
        MessageError::Field {
            what: self.what,
            field,
            value,
        }
    }
}

fn put_u64s(out: &mut Vec<u8>, v: &[u64]) {
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Alice's verdict on the parameter estimation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The bounds hold: go on.
    Ok = 0,
    /// Alice's estimation aborted the block.
    Abort = 1,
}

/// A->B ESTIMATE: `m_x[3] u64 | verdict u8 | reconciliation u8`, 26
/// bytes (reconciliation: 0 cascade, 1 ldpc, 2 auto).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    /// X-basis errors per intensity (signal, decoy, vacuum).
    pub m_x: [u64; 3],
    /// Alice's verdict.
    pub verdict: Verdict,
    /// Alice's `postprocessing.reconciliation` (Bob checks it equals his).
    pub reconciliation: Reconciliation,
}

const RECONCILIATIONS: [Reconciliation; 3] = [
    Reconciliation::Cascade,
    Reconciliation::Ldpc,
    Reconciliation::Auto,
];

impl Estimate {
    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(26);
        put_u64s(&mut p, &self.m_x);
        p.push(self.verdict as u8);
        p.push(
            RECONCILIATIONS
                .iter()
                .position(|r| *r == self.reconciliation)
                .unwrap_or(0) as u8,
        );
        p
    }

    /// Parse the wire form.
    pub fn decode(b: &[u8]) -> Result<Estimate, MessageError> {
        let mut rd = Rd {
            b,
            what: "ESTIMATE",
        };
        let m_x = rd.u64s()?;
        let verdict = match rd.u8()? {
            0 => Verdict::Ok,
            1 => Verdict::Abort,
            v => return Err(rd.field("verdict", v.into())),
        };
        let r = rd.u8()?;
        let reconciliation = *RECONCILIATIONS
            .get(usize::from(r))
            .ok_or_else(|| rd.field("reconciliation", r.into()))?;
        rd.done()?;
        Ok(Estimate {
            m_x,
            verdict,
            reconciliation,
        })
    }
}

/// B->A VERIFY: `repetitions u8 | tag_bits u64 | hash keys [16] x
/// repetitions | tag (tag_bits rounded up to bytes) | m_z[3] u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verify {
    /// Bob's fresh hash points, one per repetition.
    pub hash_keys: Vec<[u8; 16]>,
    /// Bits of the verification tag.
    pub tag_bits: u32,
    /// Bob's tag of his corrected key.
    pub tag: Vec<u8>,
    /// Z-basis errors per intensity that Cascade corrected.
    pub m_z: [u64; 3],
}

impl Verify {
    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(33 + 16 * self.hash_keys.len() + self.tag.len());
        p.push(self.hash_keys.len() as u8);
        p.extend_from_slice(&u64::from(self.tag_bits).to_le_bytes());
        for h in &self.hash_keys {
            p.extend_from_slice(h);
        }
        p.extend_from_slice(&self.tag);
        put_u64s(&mut p, &self.m_z);
        p
    }

    /// Parse the wire form (the challenge's validity for the key length is
    /// `VerifyChallenge::check`'s).
    pub fn decode(b: &[u8]) -> Result<Verify, MessageError> {
        let mut rd = Rd { b, what: "VERIFY" };
        let reps = rd.u8()?;
        let tag_bits = rd.u64()?;
        let tag_bits = u32::try_from(tag_bits).map_err(|_| rd.field("tag_bits", tag_bits))?;
        let keys = rd.take(16 * usize::from(reps))?;
        let hash_keys = keys
            .chunks_exact(16)
            .map(|c| {
                let mut h = [0u8; 16];
                h.copy_from_slice(c);
                h
            })
            .collect();
        let tag = rd.take((tag_bits as usize).div_ceil(8))?.to_vec();
        let m_z = rd.u64s()?;
        rd.done()?;
        Ok(Verify {
            hash_keys,
            tag_bits,
            tag,
            m_z,
        })
    }
}

/// A->B VERIFY_RESULT: `code u8`, then for [`VerifyResult::Key`]
/// `secret_bits u64 | Toeplitz seed` (the seed's length follows from the
/// key length, which the pipeline checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyResult {
    /// The tags differ: no key.
    Mismatch,
    /// Verified: the secret length and the privacy-amplification seed.
    Key {
        /// Secret key bits.
        secret_bits: u64,
        /// The Toeplitz seed, packed bits.
        seed: Vec<u8>,
    },
    /// Verified, but the finite-key length is not positive.
    NoKey,
    /// Alice's privacy amplification refused its result.
    PaFailed,
}

impl VerifyResult {
    const MISMATCH: u8 = 0;
    const KEY: u8 = 1;
    const NO_KEY: u8 = 2;
    const PA_FAILED: u8 = 3;

    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            VerifyResult::Mismatch => vec![Self::MISMATCH],
            VerifyResult::NoKey => vec![Self::NO_KEY],
            VerifyResult::PaFailed => vec![Self::PA_FAILED],
            VerifyResult::Key { secret_bits, seed } => {
                let mut p = Vec::with_capacity(9 + seed.len());
                p.push(Self::KEY);
                p.extend_from_slice(&secret_bits.to_le_bytes());
                p.extend_from_slice(seed);
                p
            }
        }
    }

    /// Parse the wire form.
    pub fn decode(b: &[u8]) -> Result<VerifyResult, MessageError> {
        let mut rd = Rd {
            b,
            what: "VERIFY_RESULT",
        };
        let r = match rd.u8()? {
            Self::MISMATCH => VerifyResult::Mismatch,
            Self::NO_KEY => VerifyResult::NoKey,
            Self::PA_FAILED => VerifyResult::PaFailed,
            Self::KEY => {
                let secret_bits = rd.u64()?;
                let seed = rd.take(rd.b.len())?.to_vec();
                VerifyResult::Key { secret_bits, seed }
            }
            c => return Err(rd.field("code", c.into())),
        };
        rd.done()?;
        Ok(r)
    }
}

/// B->A BLOCK_ACK: the single byte 1 (Bob derived and holds the key).
pub const BLOCK_ACK: [u8; 1] = [1];

/// Check a BLOCK_ACK.
pub fn decode_block_ack(b: &[u8]) -> Result<(), MessageError> {
    match b {
        [1] => Ok(()),
        [v] => Err(MessageError::Field {
            what: "BLOCK_ACK",
            field: "value",
            value: (*v).into(),
        }),
        [] => Err(MessageError::Truncated("BLOCK_ACK")),
        _ => Err(MessageError::Trailing {
            what: "BLOCK_ACK",
            extra: b.len() - 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_round_trips() {
        for reconciliation in RECONCILIATIONS {
            let e = Estimate {
                m_x: [1, 2, u64::MAX],
                verdict: Verdict::Abort,
                reconciliation,
            };
            assert_eq!(Estimate::decode(&e.encode()), Ok(e));
            assert_eq!(e.encode().len(), 26);
        }
        let v = Verify {
            hash_keys: vec![[7; 16], [8; 16]],
            tag_bits: 13,
            tag: vec![1, 2],
            m_z: [4, 5, 6],
        };
        assert_eq!(Verify::decode(&v.encode()), Ok(v));
        for r in [
            VerifyResult::Mismatch,
            VerifyResult::NoKey,
            VerifyResult::PaFailed,
            VerifyResult::Key {
                secret_bits: 99,
                seed: vec![3; 40],
            },
        ] {
            assert_eq!(VerifyResult::decode(&r.encode()), Ok(r));
        }
        assert_eq!(decode_block_ack(&BLOCK_ACK), Ok(()));
    }

    #[test]
    fn bad_fields_are_named() {
        let mut b = Estimate {
            m_x: [0; 3],
            verdict: Verdict::Ok,
            reconciliation: Reconciliation::Auto,
        }
        .encode();
        b[24] = 2;
        assert_eq!(
            Estimate::decode(&b).unwrap_err().to_string(),
            "ESTIMATE: verdict 2 out of range"
        );
        b[24] = 0;
        b[25] = 3;
        assert_eq!(
            Estimate::decode(&b).unwrap_err().to_string(),
            "ESTIMATE: reconciliation 3 out of range"
        );
        assert_eq!(
            VerifyResult::decode(&[1, 0, 0]).unwrap_err(),
            MessageError::Truncated("VERIFY_RESULT")
        );
        assert_eq!(
            VerifyResult::decode(&[0, 0]).unwrap_err().to_string(),
            "VERIFY_RESULT has 1 trailing bytes"
        );
        // A tag length past u32 is refused before anything is taken.
        let mut v = vec![0u8];
        v.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            Verify::decode(&v),
            Err(MessageError::Field {
                field: "tag_bits",
                ..
            })
        ));
        assert!(decode_block_ack(&[2]).is_err());
        assert!(decode_block_ack(&[1, 1]).is_err());
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Key verification after error correction: a polynomial universal hash over
//! GF(2^128) (POLYVAL, RFC 8452 Sec. 3, via the `polyval` crate) keyed with a
//! fresh random point H. For two different keys padded to L-1 128-bit blocks
//! plus one length block, the difference polynomial has degree <= L, so
//! P[tags collide] <= L / 2^128 (Wegman & Carter, JCSS 22, 1981; den Boer /
//! Bierbrauer et al. polynomial evaluation hash). Truncated to t bits the
//! bound is L / 2^t (each of the 2^(128-t) preimage values has <= L roots).
//! With r independent full-width hashes it is (L / 2^128)^r. The tag length
//! is chosen so that this bound is <= eps_cor, and the tag bits are returned
//! as leaked information.

use crate::bits::{BitVec, Bits};
use polyval::universal_hash::{KeyInit, UniversalHash};
use polyval::Polyval;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Errors of verification parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// eps_cor must be in (0, 1).
    #[error("eps_cor = {eps_cor} is outside (0, 1)")]
    BadEpsilon {
        /// The value given.
        eps_cor: f64,
    },
    /// The challenge carries a different number of hash keys or tag bits than
    /// the key length and eps_cor require.
    #[error("verification challenge has {got_keys} hash keys / {got_bits} tag bits, expected {want_keys} / {want_bits}")]
    ChallengeMismatch {
        /// Keys in the challenge.
        got_keys: usize,
        /// Tag bits in the challenge.
        got_bits: u32,
        /// Keys required.
        want_keys: usize,
        /// Tag bits required.
        want_bits: u32,
    },
    /// A wire message could not be decoded.
    #[error("verification message malformed: {0}")]
    Malformed(&'static str),
    /// The tag has the wrong number of bytes.
    #[error("verification tag has {got} bytes, expected {want}")]
    TagLength {
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
}

/// Number of POLYVAL input blocks for a key of `len_bits` (data + length block).
pub fn hash_blocks(len_bits: usize) -> u64 {
    (len_bits as u64).div_ceil(128) + 1
}

/// Tag layout chosen for a key length and eps_cor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagLayout {
    /// Number of independent hash keys (repetitions).
    pub repetitions: usize,
    /// Total tag bits (= leaked bits).
    pub tag_bits: u32,
}

impl TagLayout {
    /// Choose the shortest tag with collision probability <= `eps_cor` for a
    /// key of `len_bits`: one hash truncated to t = ceil(log2 L + log2 1/eps)
    /// bits if t <= 128, else r full hashes with (L/2^128)^r <= eps.
    pub fn for_key(len_bits: usize, eps_cor: f64) -> Result<Self, VerifyError> {
        if !(eps_cor > 0.0 && eps_cor < 1.0) {
            return Err(VerifyError::BadEpsilon { eps_cor });
        }
        let log_l = (hash_blocks(len_bits) as f64).log2();
        let need = -eps_cor.log2();
        let t = (log_l + need).ceil().max(1.0);
        if t <= 128.0 {
            return Ok(Self {
                repetitions: 1,
                tag_bits: t as u32,
            });
        }
        let per = 128.0 - log_l;
        let r = (need / per).ceil() as usize;
        Ok(Self {
            repetitions: r,
            tag_bits: (r * 128) as u32,
        })
    }
    /// Bits leaked by publishing the tag.
    pub fn leaked(&self) -> Bits {
        Bits(u64::from(self.tag_bits))
    }
    /// Tag size in bytes.
    pub fn tag_bytes(&self) -> usize {
        (self.tag_bits as usize).div_ceil(8)
    }
    /// Collision-probability bound for a key of `len_bits` with this layout.
    pub fn collision_bound(&self, len_bits: usize) -> f64 {
        let l = hash_blocks(len_bits) as f64;
        if self.repetitions == 1 {
            l / 2f64.powi(self.tag_bits as i32)
        } else {
            (l / 2f64.powi(128)).powi(self.repetitions as i32)
        }
    }
}

/// Public challenge: random hash points, sent by the verifying party together
/// with its tag. The points are public; they must be fresh for each key.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct VerifyChallenge {
    /// Hash keys H_1..H_r (16 bytes each).
    pub hash_keys: Vec<[u8; 16]>,
    /// Tag length in bits.
    pub tag_bits: u32,
}

impl std::fmt::Debug for VerifyChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "VerifyChallenge {{ repetitions: {}, tag_bits: {} }}",
            self.hash_keys.len(),
            self.tag_bits
        )
    }
}

impl VerifyChallenge {
    /// Fresh challenge for a key of `len_bits` at `eps_cor`.
    pub fn random<R: rand_core::RngCore + rand_core::CryptoRng + ?Sized>(
        rng: &mut R,
        len_bits: usize,
        eps_cor: f64,
    ) -> Result<Self, VerifyError> {
        let layout = TagLayout::for_key(len_bits, eps_cor)?;
        let mut hash_keys = vec![[0u8; 16]; layout.repetitions];
        for k in hash_keys.iter_mut() {
            rng.fill_bytes(k);
        }
        Ok(Self {
            hash_keys,
            tag_bits: layout.tag_bits,
        })
    }

    /// Check that the challenge meets the layout required for this key length
    /// and eps_cor (the receiving party must not accept a weaker tag).
    pub fn check(&self, len_bits: usize, eps_cor: f64) -> Result<(), VerifyError> {
        let want = TagLayout::for_key(len_bits, eps_cor)?;
        if want.repetitions != self.hash_keys.len() || want.tag_bits != self.tag_bits {
            return Err(VerifyError::ChallengeMismatch {
                got_keys: self.hash_keys.len(),
                got_bits: self.tag_bits,
                want_keys: want.repetitions,
                want_bits: want.tag_bits,
            });
        }
        Ok(())
    }

    /// Wire form of challenge plus tag: `r: u8 | tag_bits: u32 LE | r x 16-byte
    /// hash keys | tag bytes`.
    pub fn encode_with_tag(&self, tag: &[u8]) -> Vec<u8> {
        let mut o = Vec::with_capacity(5 + 16 * self.hash_keys.len() + tag.len());
        o.push(self.hash_keys.len() as u8);
        o.extend_from_slice(&self.tag_bits.to_le_bytes());
        for k in &self.hash_keys {
            o.extend_from_slice(k);
        }
        o.extend_from_slice(tag);
        o
    }

    /// Decode [`Self::encode_with_tag`]; never panics on arbitrary input.
    pub fn decode_with_tag(b: &[u8]) -> Result<(Self, Vec<u8>), VerifyError> {
        let (&r, rest) = b.split_first().ok_or(VerifyError::Malformed("empty"))?;
        if r == 0 || rest.len() < 4 {
            return Err(VerifyError::Malformed("header"));
        }
        let tag_bits = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let rest = &rest[4..];
        let keys_len = 16 * r as usize;
        let tag_len = (tag_bits as usize).div_ceil(8);
        if rest.len() != keys_len + tag_len {
            return Err(VerifyError::TagLength {
                got: rest.len().saturating_sub(keys_len),
                want: tag_len,
            });
        }
        let hash_keys = rest[..keys_len]
            .chunks_exact(16)
            .map(|c| {
                let mut k = [0u8; 16];
                k.copy_from_slice(c);
                k
            })
            .collect();
        Ok((
            Self {
                hash_keys,
                tag_bits,
            },
            rest[keys_len..].to_vec(),
        ))
    }

    /// Bits leaked by the tag.
    pub fn leaked(&self) -> Bits {
        Bits(u64::from(self.tag_bits))
    }

    /// Tag of `key` (`ceil(tag_bits/8)` bytes; unused high bits zero).
    pub fn tag(&self, key: &BitVec) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.hash_keys.len() * 16);
        for h in &self.hash_keys {
            out.extend_from_slice(&poly_hash(h, key));
        }
        let nbytes = (self.tag_bits as usize).div_ceil(8);
        out.truncate(nbytes);
        let r = self.tag_bits % 8;
        if r != 0 {
            if let Some(last) = out.last_mut() {
                *last &= (1u8 << r) - 1;
            }
        }
        out
    }

    /// Constant-time comparison of the tag of `key` with `their_tag`.
    /// `Ok(true)` when equal.
    pub fn verify(&self, key: &BitVec, their_tag: &[u8]) -> Result<bool, VerifyError> {
        let mine = self.tag(key);
        if mine.len() != their_tag.len() {
            return Err(VerifyError::TagLength {
                got: their_tag.len(),
                want: mine.len(),
            });
        }
        Ok(bool::from(mine.ct_eq(their_tag)))
    }
}

/// POLYVAL_H(key blocks || length block): the key's words in little-endian
/// order, zero padded to 16 bytes, then a block holding the bit length.
pub fn poly_hash(h: &[u8; 16], key: &BitVec) -> [u8; 16] {
    let mut ph = Polyval::new(h.into());
    let words = key.words();
    let mut chunks = words.chunks_exact(2);
    let mut block = polyval::Block::default();
    for c in &mut chunks {
        block[..8].copy_from_slice(&c[0].to_le_bytes());
        block[8..].copy_from_slice(&c[1].to_le_bytes());
        ph.update(std::slice::from_ref(&block));
    }
    if let [w] = chunks.remainder() {
        block[..8].copy_from_slice(&w.to_le_bytes());
        block[8..].fill(0);
        ph.update(std::slice::from_ref(&block));
    }
    block.fill(0);
    block[..8].copy_from_slice(&(key.len() as u64).to_le_bytes());
    ph.update(std::slice::from_ref(&block));
    block.zeroize();
    ph.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn layout_meets_eps() {
        for &(n, eps) in &[(1usize << 20, 1e-15), (1000, 1e-9), (10_000_000, 1e-30)] {
            let l = TagLayout::for_key(n, eps).unwrap();
            assert!(l.collision_bound(n) <= eps, "{n} {eps} {l:?}");
            assert_eq!(l.repetitions, 1);
        }
        // 1e6 bits -> L = 7814 (< 2^13), eps 1e-15 (2^-49.8) -> 63 bits.
        assert_eq!(TagLayout::for_key(1_000_000, 1e-15).unwrap().tag_bits, 63);
        let big = TagLayout::for_key(1 << 20, 1e-40).unwrap();
        assert_eq!(big.repetitions, 2);
        assert!(big.collision_bound(1 << 20) <= 1e-40);
        assert!(TagLayout::for_key(10, 0.0).is_err());
    }

    #[test]
    fn equal_keys_pass_different_keys_fail() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x7665_7269_6679);
        let a = BitVec::random(&mut rng, 100_003);
        let ch = VerifyChallenge::random(&mut rng, a.len(), 1e-15).unwrap();
        let t = ch.tag(&a);
        assert!(ch.verify(&a, &t).unwrap());
        for pos in [0usize, 64, 127, 128, 100_002] {
            let mut b = a.clone();
            b.flip(pos);
            assert!(!ch.verify(&b, &t).unwrap());
        }
        // A different length (trailing zero appended) must differ too.
        let mut c = a.clone();
        c.extend_from(&BitVec::zeros(1));
        let ch2 = ch.clone();
        assert_ne!(
            poly_hash(&ch2.hash_keys[0], &c),
            poly_hash(&ch2.hash_keys[0], &a)
        );
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let _ = VerifyChallenge::decode_with_tag(&bytes);
        }
    }

    #[test]
    fn wire_roundtrip() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x7769_7265);
        let key = BitVec::random(&mut rng, 5000);
        let ch = VerifyChallenge::random(&mut rng, key.len(), 1e-12).unwrap();
        let t = ch.tag(&key);
        let (d, dt) = VerifyChallenge::decode_with_tag(&ch.encode_with_tag(&t)).unwrap();
        assert_eq!(d, ch);
        assert_eq!(dt, t);
        d.check(key.len(), 1e-12).unwrap();
        assert!(d.verify(&key, &dt).unwrap());
        let enc = ch.encode_with_tag(&t);
        assert!(VerifyChallenge::decode_with_tag(&enc[..enc.len() - 1]).is_err());
    }

    /// Golden value: POLYVAL test vector of RFC 8452 Appendix A
    /// (H = 25629347589242761d31f826ba4b757b, X_1 = 4f4f95668c83dfb6401762bb2d01a262,
    /// X_2 = d1a24ddd2721d006bbe45f20d3c9f362, result f7a3b47b846119fae5b7866cf5e5b77e).
    #[test]
    fn polyval_rfc8452_vector() {
        let h: [u8; 16] = hex16("25629347589242761d31f826ba4b757b");
        let x1 = hex16("4f4f95668c83dfb6401762bb2d01a262");
        let x2 = hex16("d1a24ddd2721d006bbe45f20d3c9f362");
        let mut p = Polyval::new(&h.into());
        p.update(&[x1.into(), x2.into()]);
        let out: [u8; 16] = p.finalize().into();
        assert_eq!(out, hex16("f7a3b47b846119fae5b7866cf5e5b77e"));
    }

    fn hex16(s: &str) -> [u8; 16] {
        let mut o = [0u8; 16];
        for i in 0..16 {
            o[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        o
    }
}

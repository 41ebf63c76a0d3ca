// SPDX-License-Identifier: MIT OR Apache-2.0
//! Key-material types: [`SecretKey`] (final, privacy-amplified key) and
//! [`RawKey`] (sifted / reconciled key before privacy amplification). Both
//! zeroize on drop (their `BitVec` does) and have a redacting `Debug`;
//! neither implements `Display`. Writing to disk is in [`crate::keyfile`].

use crate::bits::{BitVec, Bits};
use std::fmt;

/// Final secret key bits (output of privacy amplification, or pre-shared
/// authentication key). Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    bits: BitVec,
}

impl SecretKey {
    /// Wrap bits as a secret key.
    pub fn new(bits: BitVec) -> Self {
        Self { bits }
    }
    /// Secret key from bytes (all `8 * bytes.len()` bits).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self {
            bits: BitVec::from_bytes(bytes, bytes.len() * 8).expect("length matches bytes"),
        }
    }
    /// The key bits.
    pub fn bits(&self) -> &BitVec {
        &self.bits
    }
    /// Length of the key.
    pub fn len_bits(&self) -> Bits {
        self.bits.bits()
    }
    /// True when the key holds no bits.
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
    /// Key bytes (LSB-first); the returned buffer is zeroized on drop.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(self.bits.to_bytes())
    }
    /// Consume into the bit vector.
    pub fn into_bits(self) -> BitVec {
        self.bits
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey {{ len: {}, bits: <redacted> }}",
            self.bits.len()
        )
    }
}

/// Sifted or reconciled key bits (still partially known to Eve before privacy
/// amplification, but secret nonetheless). Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct RawKey {
    bits: BitVec,
}

impl RawKey {
    /// Wrap bits.
    pub fn new(bits: BitVec) -> Self {
        Self { bits }
    }
    /// The bits.
    pub fn bits(&self) -> &BitVec {
        &self.bits
    }
    /// Mutable bits (error correction flips them in place).
    pub fn bits_mut(&mut self) -> &mut BitVec {
        &mut self.bits
    }
    /// Length.
    pub fn len_bits(&self) -> Bits {
        self.bits.bits()
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawKey {{ len: {}, bits: <redacted> }}", self.bits.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_bits() {
        let k = SecretKey::from_bytes(&[0xA5, 0x5A]);
        assert_eq!(format!("{k:?}"), "SecretKey { len: 16, bits: <redacted> }");
        let r = RawKey::new(BitVec::from_bools(&[true; 9]));
        assert_eq!(format!("{r:?}"), "RawKey { len: 9, bits: <redacted> }");
        assert_eq!(k.to_bytes().as_slice(), &[0xA5, 0x5A]);
    }
}

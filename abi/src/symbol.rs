// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice's per-slot symbol: 4 bits = intensity class (2), basis (1), bit (1).
//!
//! Bit layout, as driven on each lane's serializer port and packed into
//! ALICE_SYMBOLS records: `[3:2]` intensity class, `[1]` basis, `[0]` bit.

use serde::{Deserialize, Serialize};

/// Intensity class of one pulse (BB84 with two decoys, Lim et al. 2014).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Intensity {
    /// mu1, the signal intensity.
    Signal = 0,
    /// mu2, the weak decoy.
    Decoy = 1,
    /// mu3, the vacuum (or near-vacuum) decoy.
    Vacuum = 2,
    /// Not a protocol symbol: sync frame, calibration pattern or a slot with
    /// no healthy entropy. The host never uses it for key or estimation.
    NonRandom = 3,
}

impl Intensity {
    /// From the 2-bit class code.
    pub fn from_code(code: u8) -> Intensity {
        match code & 3 {
            0 => Intensity::Signal,
            1 => Intensity::Decoy,
            2 => Intensity::Vacuum,
            _ => Intensity::NonRandom,
        }
    }
    /// Index 0..3 into per-intensity tables (`None` for non-random slots).
    pub fn index(self) -> Option<usize> {
        match self {
            Intensity::NonRandom => None,
            k => Some(k as usize),
        }
    }
}

/// Measurement/preparation basis. Z is the key basis, X the test basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum Basis {
    /// Key basis (encoded as 0).
    Z = 0,
    /// Test basis (encoded as 1).
    X = 1,
}

impl Basis {
    /// From one bit.
    pub fn from_bit(b: bool) -> Basis {
        if b {
            Basis::X
        } else {
            Basis::Z
        }
    }
}

/// One of Alice's symbols, as a packed nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Symbol(pub u8);

impl Symbol {
    /// Build from parts.
    pub fn new(intensity: Intensity, basis: Basis, bit: bool) -> Symbol {
        Symbol(((intensity as u8) << 2) | ((basis as u8) << 1) | bit as u8)
    }
    /// The 4-bit code (upper bits of the byte are ignored).
    pub fn code(self) -> u8 {
        self.0 & 0xF
    }
    /// Intensity class, bits [3:2].
    pub fn intensity(self) -> Intensity {
        Intensity::from_code(self.0 >> 2)
    }
    /// Basis, bit [1].
    pub fn basis(self) -> Basis {
        Basis::from_bit(self.0 & 2 != 0)
    }
    /// Bit value, bit [0].
    pub fn bit(self) -> bool {
        self.0 & 1 != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibble_layout_matches_spec() {
        let s = Symbol::new(Intensity::Vacuum, Basis::X, true);
        assert_eq!(s.code(), 0b1011);
        assert_eq!(s.intensity(), Intensity::Vacuum);
        assert_eq!(s.basis(), Basis::X);
        assert!(s.bit());
        for code in 0..16u8 {
            let s = Symbol(code);
            assert_eq!(Symbol::new(s.intensity(), s.basis(), s.bit()), s);
        }
    }
}

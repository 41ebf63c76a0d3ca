// SPDX-License-Identifier: MIT OR Apache-2.0
//! Register maps of the QKD cores, declared once as data.
//!
//! A core's CSR space is a chain of 256-byte blocks. Block 0 is the
//! self-describing header ([`header`]); every other block starts with a
//! `BLOCK_ID` word (type, major version, index of the next block), in the
//! manner of Corundum's register blocks, so a driver binds by (type, major)
//! and refuses unknown majors. All registers are 32 bits wide and 32-bit
//! aligned; 64-bit counters are split into `_LO`/`_HI`, and reading `_LO`
//! latches `_HI` so that the pair is coherent.

pub mod alice;
pub mod bob;
pub mod common;
pub mod header;

use serde::Serialize;

/// Which end of the link a core implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The transmitter (pulse-pattern generator).
    Alice = 1,
    /// The receiver (APD gating, TDC, protections).
    Bob = 2,
}

impl Role {
    /// Role code as held in the `IDENT.role` field.
    pub fn code(self) -> u32 {
        self as u32
    }
    /// From the `IDENT.role` field.
    pub fn from_code(code: u32) -> Option<Role> {
        match code {
            1 => Some(Role::Alice),
            2 => Some(Role::Bob),
            _ => None,
        }
    }
    /// Lower-case name, as used in file names (`qkd_alice.v`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Alice => "alice",
            Role::Bob => "bob",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "alice" => Ok(Role::Alice),
            "bob" => Ok(Role::Bob),
            other => Err(format!(
                "unknown role '{other}' (expected 'alice' or 'bob')"
            )),
        }
    }
}

/// Register access type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Access {
    /// Read-only; writes are ignored.
    RO,
    /// Read/write.
    RW,
    /// Sticky bits: read returns them, writing 1 to a bit clears it.
    W1C,
    /// Write-only strobe: each bit written as 1 pulses for one fabric clock;
    /// reads return 0.
    Strobe,
}

impl Access {
    /// LiteX `csr.json` mode string (`ro`/`rw`; W1C and strobes are `rw`).
    pub fn litex_mode(self) -> &'static str {
        match self {
            Access::RO => "ro",
            _ => "rw",
        }
    }
    /// Short name used in docs and headers.
    pub fn name(self) -> &'static str {
        match self {
            Access::RO => "RO",
            Access::RW => "RW",
            Access::W1C => "W1C",
            Access::Strobe => "STROBE",
        }
    }
}

/// A bit field of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Upper-case name, unique within the register.
    pub name: &'static str,
    /// Least significant bit.
    pub lsb: u8,
    /// Width in bits (1..=32).
    pub width: u8,
    /// Description, stating width and unit.
    pub doc: &'static str,
}

/// Error of a field insert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("value {value} does not fit field {field} ({width} bits)")]
pub struct FieldRangeError {
    /// Field name.
    pub field: &'static str,
    /// Field width.
    pub width: u8,
    /// Offending value.
    pub value: u32,
}

impl Field {
    /// A field declaration.
    pub const fn new(name: &'static str, lsb: u8, width: u8, doc: &'static str) -> Field {
        assert!(width >= 1 && lsb as u32 + width as u32 <= 32);
        Field {
            name,
            lsb,
            width,
            doc,
        }
    }
    /// Unshifted mask (`width` ones).
    pub const fn max(&self) -> u32 {
        if self.width == 32 {
            u32::MAX
        } else {
            (1u32 << self.width) - 1
        }
    }
    /// Shifted mask within the register.
    pub const fn mask(&self) -> u32 {
        self.max() << self.lsb
    }
    /// Extract this field from a register value.
    pub const fn get(&self, reg: u32) -> u32 {
        (reg >> self.lsb) & self.max()
    }
    /// Insert `value` into `reg`, refusing values wider than the field.
    pub fn set(&self, reg: u32, value: u32) -> Result<u32, FieldRangeError> {
        if value > self.max() {
            return Err(FieldRangeError {
                field: self.name,
                width: self.width,
                value,
            });
        }
        Ok((reg & !self.mask()) | (value << self.lsb))
    }
}

/// One 32-bit register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Register {
    /// Upper-case name, unique within the map.
    pub name: &'static str,
    /// Byte offset from the start of the CSR space.
    pub offset: u32,
    /// Access type.
    pub access: Access,
    /// Value after reset (for RO registers: the constant or initial value;
    /// header registers that depend on generation parameters are resolved
    /// by [`RegisterMap::new`]).
    pub reset: u32,
    /// Bit fields; empty means one 32-bit value.
    pub fields: &'static [Field],
    /// Description, stating width and unit.
    pub doc: &'static str,
}

impl Register {
    /// A register declaration.
    pub const fn new(
        name: &'static str,
        offset: u32,
        access: Access,
        reset: u32,
        fields: &'static [Field],
        doc: &'static str,
    ) -> Register {
        assert!(offset.is_multiple_of(4));
        Register {
            name,
            offset,
            access,
            reset,
            fields,
            doc,
        }
    }
    /// 32-bit word index (`offset / 4`).
    pub const fn word(&self) -> u32 {
        self.offset / 4
    }
    /// Field by name.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }
    /// Bits covered by fields (all ones if the register has no fields).
    pub fn defined_bits(&self) -> u32 {
        if self.fields.is_empty() {
            u32::MAX
        } else {
            self.fields.iter().fold(0, |m, f| m | f.mask())
        }
    }
}

/// A 256-byte register block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterBlock {
    /// Lower-case block name (`control`, `rng`, ...).
    pub name: &'static str,
    /// Block type code (held in `BLOCK_ID.type`).
    pub type_id: u16,
    /// Block major version (held in `BLOCK_ID.major`).
    pub version: u8,
    /// Block index: the block occupies bytes `index*0x100 .. +0x100`.
    pub index: u8,
    /// Registers, in offset order.
    pub registers: Vec<Register>,
    /// One-line description.
    pub doc: &'static str,
}

impl RegisterBlock {
    /// Base byte offset.
    pub fn base(&self) -> u32 {
        u32::from(self.index) * BLOCK_BYTES
    }
}

/// Bytes per register block.
pub const BLOCK_BYTES: u32 = 0x100;

/// Fields of the `BLOCK_ID` word at offset 0 of every block but the header.
pub const BLOCK_ID_FIELDS: &[Field] = &[
    Field::new("TYPE", 0, 16, "16-bit block type code"),
    Field::new("MAJOR", 16, 8, "8-bit block major version"),
    Field::new("NEXT", 24, 8, "8-bit index of the next block (0 = last)"),
];

/// Generation parameters of a core: the arguments the gateware is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GenParams {
    /// Role of the core.
    pub role: Role,
    /// Symbols (slots) per fabric clock: 1, 2, 4 or 8.
    pub lanes: u8,
    /// TDC samples per slot (Bob; Alice reports 0): 4, 8 or 16.
    pub oversample: u8,
    /// Detectors (Bob; Alice reports 0): 1 to 4.
    pub detectors: u8,
    /// Fabric clock in kHz.
    pub fabric_clock_khz: u32,
    /// Build identifier (hash of the generation inputs).
    pub build_id: u32,
}

/// Error of [`GenParams::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// LANES not in {1, 2, 4, 8}.
    #[error("lanes must be 1, 2, 4 or 8, got {0}")]
    Lanes(u8),
    /// OVERSAMPLE not in {4, 8, 16}.
    #[error("oversample must be 4, 8 or 16, got {0}")]
    Oversample(u8),
    /// DETECTORS not in 1..=4.
    #[error("detectors must be 1 to 4, got {0}")]
    Detectors(u8),
}

impl GenParams {
    /// Alice with `lanes` lanes at 312.5 MS/s / 4 * lanes ... (default clock).
    pub fn alice(lanes: u8) -> GenParams {
        GenParams {
            role: Role::Alice,
            lanes,
            oversample: 0,
            detectors: 0,
            fabric_clock_khz: default_clock_khz(lanes),
            build_id: 0,
        }
    }
    /// Bob with the given lanes, oversampling and detector count.
    pub fn bob(lanes: u8, oversample: u8, detectors: u8) -> GenParams {
        GenParams {
            role: Role::Bob,
            lanes,
            oversample,
            detectors,
            fabric_clock_khz: default_clock_khz(lanes),
            build_id: 0,
        }
    }
    /// The defaults of a role (4 lanes at 78.125 MHz; Bob: OVERSAMPLE 8, 2 detectors).
    pub fn default_for(role: Role) -> GenParams {
        match role {
            Role::Alice => GenParams::alice(4),
            Role::Bob => GenParams::bob(4, 8, 2),
        }
    }
    /// Check the parameters are ones the gateware supports.
    pub fn validate(&self) -> Result<(), ParamError> {
        if !matches!(self.lanes, 1 | 2 | 4 | 8) {
            return Err(ParamError::Lanes(self.lanes));
        }
        if self.role == Role::Bob {
            if !matches!(self.oversample, 4 | 8 | 16) {
                return Err(ParamError::Oversample(self.oversample));
            }
            if !(1..=4).contains(&self.detectors) {
                return Err(ParamError::Detectors(self.detectors));
            }
        }
        Ok(())
    }
    /// Symbol rate in symbols per second.
    pub fn symbol_rate_hz(&self) -> f64 {
        f64::from(self.fabric_clock_khz) * 1e3 * f64::from(self.lanes)
    }
}

/// Default fabric clock: 78.125 MHz for up to 4 lanes (312.5 MS/s with 4),
/// 156.25 MHz for 8 lanes (1.25 GS/s).
pub fn default_clock_khz(lanes: u8) -> u32 {
    if lanes >= 8 {
        156_250
    } else {
        78_125
    }
}

/// A role's complete register map for one set of generation parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterMap {
    /// Generation parameters the map was built for.
    pub params: GenParams,
    /// Blocks in index order; block 0 is the header.
    pub blocks: Vec<RegisterBlock>,
}

impl RegisterMap {
    /// Build the map of `params.role`, resolving parameter-dependent reset
    /// values (header IDENT, BUILD_ID, clock) and the `BLOCK_ID` chain.
    pub fn new(params: GenParams) -> RegisterMap {
        let mut blocks = vec![header::block(&params)];
        blocks.extend(match params.role {
            Role::Alice => alice::blocks(),
            Role::Bob => bob::blocks(&params),
        });
        let n = blocks.len();
        for (i, b) in blocks.iter_mut().enumerate().skip(1) {
            // Blocks are laid out at consecutive indices; the last one ends the chain.
            let next = if i + 1 < n { (i + 1) as u32 } else { 0 };
            let b_type = u32::from(b.type_id);
            let b_ver = u32::from(b.version);
            if let Some(id) = b.registers.first_mut() {
                debug_assert_eq!(id.name.rsplit('_').next(), Some("ID"));
                id.reset = b_type | (b_ver << 16) | (next << 24);
            }
        }
        RegisterMap { params, blocks }
    }

    /// Every register in offset order.
    pub fn registers(&self) -> impl Iterator<Item = &Register> {
        self.blocks.iter().flat_map(|b| b.registers.iter())
    }
    /// Register by name.
    pub fn register(&self, name: &str) -> Option<&Register> {
        self.registers().find(|r| r.name == name)
    }
    /// Register at a byte offset.
    pub fn at(&self, offset: u32) -> Option<&Register> {
        self.registers().find(|r| r.offset == offset)
    }
    /// Size of the CSR space in bytes (a power of two).
    pub fn span_bytes(&self) -> u32 {
        (self.blocks.len() as u32 * BLOCK_BYTES).next_power_of_two()
    }
    /// The reset value of a register by name (0 if unknown).
    pub fn reset_of(&self, name: &str) -> u32 {
        self.register(name).map_or(0, |r| r.reset)
    }
}

/// `BLOCK_ID` register of block `index` (value filled in by [`RegisterMap::new`]).
pub const fn block_id(name: &'static str, index: u8) -> Register {
    Register::new(
        name,
        index as u32 * BLOCK_BYTES,
        Access::RO,
        0,
        BLOCK_ID_FIELDS,
        "Block identification: type, major version, next block index",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn maps() -> Vec<RegisterMap> {
        let mut v = vec![];
        for lanes in [1, 2, 4, 8] {
            v.push(RegisterMap::new(GenParams::alice(lanes)));
            for det in 1..=4 {
                v.push(RegisterMap::new(GenParams::bob(lanes, 8, det)));
            }
        }
        v
    }

    #[test]
    fn offsets_unique_aligned_inside_their_block() {
        for m in maps() {
            let mut names = HashSet::new();
            let mut offsets = HashSet::new();
            for b in &m.blocks {
                for r in &b.registers {
                    assert!(names.insert(r.name), "duplicate register {}", r.name);
                    assert!(offsets.insert(r.offset), "duplicate offset {:#x}", r.offset);
                    assert_eq!(r.offset % 4, 0);
                    assert!(
                        r.offset >= b.base() && r.offset < b.base() + BLOCK_BYTES,
                        "{} outside block {}",
                        r.name,
                        b.name
                    );
                }
            }
        }
    }

    #[test]
    fn fields_do_not_overlap_and_resets_fit() {
        for m in maps() {
            for r in m.registers() {
                let mut used = 0u32;
                for f in r.fields {
                    assert_eq!(used & f.mask(), 0, "{}.{} overlaps", r.name, f.name);
                    used |= f.mask();
                }
                if !r.fields.is_empty() {
                    assert_eq!(r.reset & !used, 0, "{} reset sets undefined bits", r.name);
                }
            }
        }
    }

    #[test]
    fn block_chain_is_walkable() {
        for m in maps() {
            let mut idx = m.reset_of("IDENT") >> 24;
            let mut seen = 1;
            while idx != 0 {
                let id = m.at(idx * BLOCK_BYTES).expect("block id register");
                assert_eq!(m.blocks[idx as usize].type_id as u32, id.reset & 0xFFFF);
                idx = id.reset >> 24;
                seen += 1;
            }
            assert_eq!(seen, m.blocks.len());
        }
    }

    #[test]
    fn field_set_refuses_overflow() {
        let f = Field::new("X", 4, 3, "3-bit test");
        assert_eq!(f.set(0, 7).unwrap(), 0x70);
        assert!(f.set(0, 8).is_err());
        assert_eq!(f.get(0xF0), 7);
    }

    #[test]
    fn params_validate() {
        assert!(GenParams::alice(3).validate().is_err());
        assert!(GenParams::bob(4, 5, 2).validate().is_err());
        assert!(GenParams::bob(4, 8, 0).validate().is_err());
        assert!(GenParams::default_for(Role::Bob).validate().is_ok());
        assert_eq!(
            GenParams::default_for(Role::Alice).symbol_rate_hz(),
            312.5e6
        );
    }
}

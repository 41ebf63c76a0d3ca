// SPDX-License-Identifier: MIT OR Apache-2.0
//! Binding to a core: read the self-describing header at offset 0 (MAGIC,
//! ABI_VERSION, IDENT, BUILD_ID, FABRIC_CLOCK_KHZ), refuse a wrong magic,
//! ABI major or role, then walk the `BLOCK_ID` chain and bind each block by
//! (type, major), refusing unknown majors, as Corundum's
//! `mqnic_find_reg_block` does (STYLE.md habit 8).

use crate::error::{Error, Result};
use crate::transport::RegIo;
use qkd_abi::regmap::{header, BLOCK_BYTES, BLOCK_ID_FIELDS};
use qkd_abi::{GenParams, RegisterMap, Role};
use serde::Serialize;

/// The decoded header of a core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceHeader {
    /// MAGIC as read (always [`qkd_abi::MAGIC`] once bound).
    pub magic: u32,
    /// ABI major version.
    pub abi_major: u16,
    /// ABI minor version.
    pub abi_minor: u16,
    /// Role from IDENT.ROLE.
    pub role: Role,
    /// IDENT.LANES: slots per fabric clock.
    pub lanes: u8,
    /// IDENT.OVERSAMPLE: TDC samples per slot (Bob; 0 for Alice).
    pub oversample: u8,
    /// IDENT.DETECTORS (Bob; 0 for Alice).
    pub detectors: u8,
    /// IDENT.FIRST_BLOCK: index of the first block after the header.
    pub first_block: u8,
    /// BUILD_ID.
    pub build_id: u32,
    /// FABRIC_CLOCK_KHZ.
    pub fabric_clock_khz: u32,
}

impl DeviceHeader {
    /// Read and check the header. `expected_role` `None` accepts either role.
    /// Checks in order: magic, ABI major, role code, expected role.
    pub fn read(io: &mut dyn RegIo, expected_role: Option<Role>) -> Result<DeviceHeader> {
        let magic = io.read32(header::MAGIC.offset)?;
        if magic != qkd_abi::MAGIC {
            return Err(Error::BadMagic {
                found: magic,
                expected: qkd_abi::MAGIC,
            });
        }
        let ver = io.read32(header::ABI_VERSION.offset)?;
        let abi_major = (ver >> 16) as u16;
        let abi_minor = ver as u16;
        if abi_major != qkd_abi::ABI_VERSION_MAJOR {
            return Err(Error::AbiMismatch {
                found_major: abi_major,
                found_minor: abi_minor,
                expected_major: qkd_abi::ABI_VERSION_MAJOR,
            });
        }
        let ident = io.read32(header::IDENT.offset)?;
        let f = |name: &str| {
            header::IDENT_FIELDS
                .iter()
                .find(|f| f.name == name)
                .map_or(0, |f| f.get(ident))
        };
        let code = f("ROLE");
        let role = Role::from_code(code).ok_or(Error::UnknownRole { code })?;
        if let Some(expected) = expected_role {
            if role != expected {
                return Err(Error::WrongRole {
                    found: role,
                    expected,
                });
            }
        }
        Ok(DeviceHeader {
            magic,
            abi_major,
            abi_minor,
            role,
            lanes: f("LANES") as u8,
            oversample: f("OVERSAMPLE") as u8,
            detectors: f("DETECTORS") as u8,
            first_block: f("FIRST_BLOCK") as u8,
            build_id: io.read32(header::BUILD_ID.offset)?,
            fabric_clock_khz: io.read32(header::FABRIC_CLOCK_KHZ.offset)?,
        })
    }

    /// The generation parameters the header describes.
    pub fn params(&self) -> GenParams {
        GenParams {
            role: self.role,
            lanes: self.lanes,
            oversample: self.oversample,
            detectors: self.detectors,
            fabric_clock_khz: self.fabric_clock_khz,
            build_id: self.build_id,
        }
    }

    /// Slot period in picoseconds (`1e9 / (clock_kHz * lanes)`), 0 if unknown.
    pub fn slot_period_ps(&self) -> f64 {
        let hz = self.params().symbol_rate_hz();
        if hz > 0.0 {
            1e12 / hz
        } else {
            0.0
        }
    }
}

/// One block found on the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundBlock {
    /// Block index (base = index * 0x100).
    pub index: u8,
    /// Type code from BLOCK_ID.TYPE.
    pub type_id: u16,
    /// Major version from BLOCK_ID.MAJOR.
    pub major: u8,
    /// Name in qkd-abi, or `None` for a block this driver does not know
    /// (a newer minor may add blocks; they are listed, not used).
    pub name: Option<&'static str>,
}

/// Walk the BLOCK_ID chain from `first` and check it against `map`: every
/// block of the map must be present with its major version, at its index.
/// Blocks of unknown type are returned with `name: None`.
pub fn walk_blocks(io: &mut dyn RegIo, first: u8, map: &RegisterMap) -> Result<Vec<FoundBlock>> {
    let (ty, major, next) = (
        &BLOCK_ID_FIELDS[0],
        &BLOCK_ID_FIELDS[1],
        &BLOCK_ID_FIELDS[2],
    );
    let mut found = Vec::new();
    let mut seen = [false; 256];
    let mut idx = first;
    while idx != 0 {
        if std::mem::replace(&mut seen[usize::from(idx)], true) {
            return Err(Error::BlockChain {
                reason: format!("loop: block {idx} visited twice"),
            });
        }
        let offset = u32::from(idx) * BLOCK_BYTES;
        if offset as usize + 4 > io.window_bytes() {
            return Err(Error::BlockChain {
                reason: format!(
                    "block {idx} at {offset:#x} is outside the {}-byte register window",
                    io.window_bytes()
                ),
            });
        }
        let id = io.read32(offset)?;
        let (type_id, maj) = (ty.get(id) as u16, major.get(id) as u8);
        let known = map
            .blocks
            .iter()
            .find(|b| b.type_id == type_id && b.index != 0);
        if let Some(b) = known {
            if b.version != maj {
                return Err(Error::BlockMajor {
                    index: idx,
                    name: b.name,
                    type_id,
                    found_major: maj,
                    expected_major: b.version,
                });
            }
            if b.index != idx {
                return Err(Error::BlockChain {
                    reason: format!("block '{}' (type {type_id:#06x}) found at index {idx}, the register map places it at {}", b.name, b.index),
                });
            }
        }
        found.push(FoundBlock {
            index: idx,
            type_id,
            major: maj,
            name: known.map(|b| b.name),
        });
        idx = next.get(id) as u8;
    }
    for b in map.blocks.iter().skip(1) {
        if !found.iter().any(|f| f.type_id == b.type_id) {
            return Err(Error::BlockChain {
                reason: format!(
                    "block '{}' (type {:#06x}) is missing from the chain",
                    b.name, b.type_id
                ),
            });
        }
    }
    Ok(found)
}

/// Read the header, build the register map it describes and check the
/// block chain: everything needed before touching any other register.
pub fn bind(
    io: &mut dyn RegIo,
    expected_role: Option<Role>,
) -> Result<(DeviceHeader, RegisterMap, Vec<FoundBlock>)> {
    let h = DeviceHeader::read(io, expected_role)?;
    let params = h.params();
    params.validate().map_err(Error::BadParams)?;
    let map = RegisterMap::new(params);
    let blocks = walk_blocks(io, h.first_block, &map)?;
    Ok((h, map, blocks))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::MemRegs;

    fn regs(p: GenParams) -> (MemRegs, RegisterMap) {
        let map = RegisterMap::new(p);
        (MemRegs::from_map(&map), map)
    }

    #[test]
    fn binds_reset_image_of_both_roles() {
        for p in [
            GenParams::alice(4),
            GenParams::bob(8, 16, 4),
            GenParams::bob(1, 4, 1),
        ] {
            let (mut r, map) = regs(p);
            let (h, m, blocks) = bind(&mut r, Some(p.role)).unwrap();
            assert_eq!(h.role, p.role);
            assert_eq!(h.lanes, p.lanes);
            assert_eq!(h.detectors, p.detectors);
            assert_eq!(m.blocks, map.blocks);
            assert_eq!(blocks.len(), map.blocks.len() - 1);
            assert!(blocks.iter().all(|b| b.name.is_some()));
        }
    }

    #[test]
    fn refuses_unknown_block_major_naming_both() {
        let (mut r, map) = regs(GenParams::bob(4, 8, 2));
        let gate = map.register("GATE_ID").unwrap();
        r.set(gate.offset, (gate.reset & !0x00FF_0000) | 2 << 16);
        let e = bind(&mut r, None).unwrap_err();
        assert!(
            matches!(
                e,
                Error::BlockMajor {
                    found_major: 2,
                    expected_major: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("'gate'"), "{e}");
    }

    #[test]
    fn detects_chain_loop_and_missing_block() {
        let (mut r, map) = regs(GenParams::alice(4));
        let id = map.register("STREAM_ID").unwrap();
        r.set(id.offset, (id.reset & 0x00FF_FFFF) | 1 << 24);
        assert!(matches!(bind(&mut r, None), Err(Error::BlockChain { .. })));
        r.set(id.offset, id.reset & 0x00FF_FFFF);
        let e = bind(&mut r, None).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn unknown_block_types_are_listed_not_refused() {
        let p = GenParams::alice(4);
        let map = RegisterMap::new(p);
        let r = MemRegs::new(0x800);
        for reg in map.registers() {
            r.set(reg.offset, reg.reset);
        }
        // Chain the last block (4) to a new block 5 of an unknown type.
        let last = map.register("DECOY_ID").unwrap();
        r.set(last.offset, last.reset | 5 << 24);
        r.set(0x500, 0x0001_7777);
        let (_, _, blocks) = bind(&mut r.clone(), None).unwrap();
        assert_eq!(blocks.last().unwrap().name, None);
        assert_eq!(blocks.last().unwrap().type_id, 0x7777);
    }
}

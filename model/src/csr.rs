// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSR bank model (gateware spec section 7): an AXI4-Lite register file
//! derived from a `qkd_abi::RegisterMap` (ARM IHI 0022 AXI4-Lite responses
//! OKAY / SLVERR), with RW storage and reset values, RO status, W1C sticky
//! bits, write strobes that pulse for one cycle, and `_LO`/`_HI` latching of
//! 64-bit counters.

use qkd_abi::{Access, RegisterMap};
use std::collections::HashMap;

/// AXI4-Lite response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resp {
    /// `OKAY` (0b00).
    Okay,
    /// `SLVERR` (0b10): unmapped or misaligned address.
    SlvErr,
}

/// Errors of the core-side accessors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrError {
    /// No register of that name in the map.
    #[error("no register named {0:?} in the map")]
    UnknownRegister(String),
    /// The register's access type does not allow this core-side operation.
    #[error("register {name} is {access:?}; {op} needs {needed}")]
    WrongAccess {
        /// Register name.
        name: String,
        /// Its access type.
        access: Access,
        /// The operation attempted.
        op: &'static str,
        /// The access type the operation needs.
        needed: &'static str,
    },
}

#[derive(Debug, Clone)]
struct Slot {
    name: &'static str,
    access: Access,
    /// Bits that exist (fields, or all 32 if the register has no fields).
    mask: u32,
    /// RW storage, RO value, or W1C sticky bits.
    value: u32,
    /// Strobe bits pulsed in the current cycle.
    pulse: u32,
    /// For a `_LO` register: index of its `_HI` partner.
    hi: Option<usize>,
    /// For a `_HI` register: value latched by the last `_LO` read.
    latched: u32,
    /// True for the `_HI` half of a latched pair.
    is_hi: bool,
}

/// The register file of one core.
#[derive(Debug, Clone)]
pub struct CsrBank {
    map: RegisterMap,
    slots: Vec<Slot>,
    by_offset: HashMap<u32, usize>,
    by_name: HashMap<&'static str, usize>,
}

impl CsrBank {
    /// The bank of `map`, in its reset state.
    pub fn new(map: RegisterMap) -> CsrBank {
        let regs: Vec<_> = map.registers().copied().collect();
        let mut slots: Vec<Slot> = regs
            .iter()
            .map(|r| Slot {
                name: r.name,
                access: r.access,
                mask: r.defined_bits(),
                value: if r.access == Access::Strobe {
                    0
                } else {
                    r.reset & r.defined_bits()
                },
                pulse: 0,
                hi: None,
                latched: 0,
                is_hi: false,
            })
            .collect();
        let by_name: HashMap<&'static str, usize> =
            slots.iter().enumerate().map(|(i, s)| (s.name, i)).collect();
        let by_offset = regs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.offset, i))
            .collect();
        for i in 0..slots.len() {
            if let Some(stem) = slots[i].name.strip_suffix("_LO") {
                // Only 64-bit counters latch: both halves RO (RNG_SEED_LO/HI
                // are plain RW storage).
                let hi = by_name.get(format!("{stem}_HI").as_str()).copied();
                if let Some(h) =
                    hi.filter(|&h| slots[h].access == Access::RO && slots[i].access == Access::RO)
                {
                    slots[i].hi = Some(h);
                    slots[h].is_hi = true;
                    slots[h].latched = slots[h].value;
                }
            }
        }
        CsrBank {
            map,
            slots,
            by_offset,
            by_name,
        }
    }

    /// The register map.
    pub fn map(&self) -> &RegisterMap {
        &self.map
    }

    fn index(&self, name: &str) -> Result<usize, CsrError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| CsrError::UnknownRegister(name.to_string()))
    }

    // ---- Bus side (AXI4-Lite) ----

    /// A bus read of byte address `addr`.
    pub fn read(&mut self, addr: u32) -> (u32, Resp) {
        let Some(&i) = (if addr.is_multiple_of(4) {
            self.by_offset.get(&addr)
        } else {
            None
        }) else {
            return (0, Resp::SlvErr);
        };
        let s = &self.slots[i];
        let v = match s.access {
            Access::Strobe => 0,
            _ if s.is_hi => s.latched,
            _ => s.value,
        };
        if let Some(h) = s.hi {
            self.slots[h].latched = self.slots[h].value;
        }
        (v, Resp::Okay)
    }

    /// A bus write of `value` to byte address `addr` (byte strobes other
    /// than all ones are treated as all ones, so there is no strobe argument).
    pub fn write(&mut self, addr: u32, value: u32) -> Resp {
        let Some(&i) = (if addr.is_multiple_of(4) {
            self.by_offset.get(&addr)
        } else {
            None
        }) else {
            return Resp::SlvErr;
        };
        let s = &mut self.slots[i];
        match s.access {
            Access::RW => s.value = value & s.mask,
            Access::RO => {}
            Access::W1C => s.value &= !value,
            Access::Strobe => s.pulse |= value & s.mask,
        }
        Resp::Okay
    }

    /// End of a fabric cycle: strobe pulses last one cycle.
    pub fn tick(&mut self) {
        for s in &mut self.slots {
            s.pulse = 0;
        }
    }

    // ---- Core side ----

    /// Current value of a RW register.
    pub fn rw(&self, name: &str) -> Result<u32, CsrError> {
        let s = &self.slots[self.index(name)?];
        if s.access != Access::RW {
            return Err(self.wrong(name, s.access, "rw()", "RW"));
        }
        Ok(s.value)
    }

    /// Strobe bits pulsing in this cycle.
    pub fn strobes(&self, name: &str) -> Result<u32, CsrError> {
        let s = &self.slots[self.index(name)?];
        if s.access != Access::Strobe {
            return Err(self.wrong(name, s.access, "strobes()", "Strobe"));
        }
        Ok(s.pulse)
    }

    /// Set the value a RO register reports.
    pub fn set_ro(&mut self, name: &str, value: u32) -> Result<(), CsrError> {
        let i = self.index(name)?;
        let s = &mut self.slots[i];
        if s.access != Access::RO {
            let a = s.access;
            return Err(self.wrong(name, a, "set_ro()", "RO"));
        }
        s.value = value & s.mask;
        Ok(())
    }

    /// Set sticky bits of a W1C register (the core's alarm inputs).
    pub fn set_sticky(&mut self, name: &str, bits: u32) -> Result<(), CsrError> {
        let i = self.index(name)?;
        let s = &mut self.slots[i];
        if s.access != Access::W1C {
            let a = s.access;
            return Err(self.wrong(name, a, "set_sticky()", "W1C"));
        }
        s.value |= bits & s.mask;
        Ok(())
    }

    /// Current sticky bits of a W1C register.
    pub fn sticky(&self, name: &str) -> Result<u32, CsrError> {
        let s = &self.slots[self.index(name)?];
        if s.access != Access::W1C {
            return Err(self.wrong(name, s.access, "sticky()", "W1C"));
        }
        Ok(s.value)
    }

    /// RW values by name for a model's register struct (`AliceRegs` /
    /// `BobRegs` `from_lookup`): `None` for names not RW in this map.
    pub fn rw_lookup(&self) -> impl Fn(&str) -> Option<u32> + '_ {
        move |n| self.rw(n).ok()
    }

    fn wrong(
        &self,
        name: &str,
        access: Access,
        op: &'static str,
        needed: &'static str,
    ) -> CsrError {
        CsrError::WrongAccess {
            name: name.to_string(),
            access,
            op,
            needed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::GenParams;

    fn maps() -> Vec<RegisterMap> {
        vec![
            RegisterMap::new(GenParams::alice(4)),
            RegisterMap::new(GenParams::alice(8)),
            RegisterMap::new(GenParams::bob(4, 8, 2)),
            RegisterMap::new(GenParams::bob(2, 16, 4)),
        ]
    }

    #[test]
    fn reset_values_read_back() {
        for m in maps() {
            let mut b = CsrBank::new(m.clone());
            for r in m.registers() {
                let (v, resp) = b.read(r.offset);
                assert_eq!(resp, Resp::Okay, "{}", r.name);
                let want = if r.access == Access::Strobe {
                    0
                } else {
                    r.reset
                };
                assert_eq!(v, want, "{} reset", r.name);
            }
            assert_eq!(b.read(0).0, qkd_abi::MAGIC);
        }
    }

    #[test]
    fn rw_ro_w1c_strobe_semantics() {
        let m = RegisterMap::new(GenParams::alice(4));
        let mut b = CsrBank::new(m.clone());
        let off = |n: &str| m.register(n).unwrap().offset;
        // RW with fields keeps only field bits; SCRATCH keeps all 32.
        assert_eq!(b.write(off("ALICE_CTRL"), 0xFFFF_FFFF), Resp::Okay);
        assert_eq!(b.read(off("ALICE_CTRL")).0, 0x3FF3);
        assert_eq!(b.rw("ALICE_CTRL"), Ok(0x3FF3));
        b.write(off("SCRATCH"), 0xDEAD_BEEF);
        assert_eq!(b.read(off("SCRATCH")).0, 0xDEAD_BEEF);
        // RO: writes ignored with OKAY.
        assert_eq!(b.write(off("MAGIC"), 0), Resp::Okay);
        assert_eq!(b.read(off("MAGIC")).0, qkd_abi::MAGIC);
        b.set_ro("ALICE_STATE", 3).unwrap();
        assert_eq!(b.read(off("ALICE_STATE")).0, 3);
        // W1C.
        b.set_sticky("ALICE_ALARMS", 0b1011).unwrap();
        assert_eq!(b.read(off("ALICE_ALARMS")).0, 0b1011);
        b.write(off("ALICE_ALARMS"), 0b0010);
        assert_eq!(b.read(off("ALICE_ALARMS")).0, 0b1001);
        // Strobe: pulses one cycle, reads 0.
        b.write(off("ALICE_CMD"), 0b101);
        assert_eq!(b.strobes("ALICE_CMD"), Ok(0b101));
        assert_eq!(b.read(off("ALICE_CMD")).0, 0);
        b.tick();
        assert_eq!(b.strobes("ALICE_CMD"), Ok(0));
        // Core-side misuse is a typed error.
        assert!(matches!(
            b.set_ro("ALICE_CTRL", 1),
            Err(CsrError::WrongAccess { .. })
        ));
        assert!(matches!(b.rw("NOPE"), Err(CsrError::UnknownRegister(_))));
    }

    #[test]
    fn lo_read_latches_hi() {
        let m = RegisterMap::new(GenParams::bob(4, 8, 2));
        let mut b = CsrBank::new(m.clone());
        let lo = m.register("GATES_LO").unwrap().offset;
        let hi = m.register("GATES_HI").unwrap().offset;
        b.set_ro("GATES_LO", 0xFFFF_FFFF).unwrap();
        b.set_ro("GATES_HI", 1).unwrap();
        assert_eq!(b.read(lo).0, 0xFFFF_FFFF);
        // The counter carries between the two reads; HI still reads the latch.
        b.set_ro("GATES_LO", 0).unwrap();
        b.set_ro("GATES_HI", 2).unwrap();
        assert_eq!(b.read(hi).0, 1);
        assert_eq!(b.read(hi).0, 1);
        assert_eq!(b.read(lo).0, 0);
        assert_eq!(b.read(hi).0, 2);
    }

    #[test]
    fn unmapped_and_misaligned_are_slverr() {
        let m = RegisterMap::new(GenParams::alice(4));
        let mut b = CsrBank::new(m.clone());
        assert_eq!(b.read(0x002), (0, Resp::SlvErr));
        assert_eq!(b.write(0x015, 1), Resp::SlvErr);
        assert_eq!(b.read(0x0FC), (0, Resp::SlvErr));
        assert_eq!(b.read(m.span_bytes() + 0x100), (0, Resp::SlvErr));
        let scratch = m.register("SCRATCH").unwrap().offset;
        assert_eq!(b.write(scratch + 1, 7), Resp::SlvErr);
        assert_eq!(b.read(scratch).0, 0, "misaligned write ignored");
    }

    proptest! {
        #![proptest_config(crate::proptest_config("csr_random_accesses", 256))]
        #[test]
        fn random_accesses_follow_the_map(ops in prop::collection::vec((any::<bool>(), 0u32..0x800, any::<u32>()), 1..200)) {
            let m = RegisterMap::new(GenParams::bob(4, 8, 2));
            let mut b = CsrBank::new(m.clone());
            for (is_write, addr, v) in ops {
                let mapped = addr % 4 == 0 && m.at(addr).is_some();
                if is_write {
                    prop_assert_eq!(b.write(addr, v) == Resp::Okay, mapped);
                    if let Some(r) = m.at(addr).filter(|_| mapped) {
                        if r.access == Access::RW {
                            prop_assert_eq!(b.read(addr).0, v & r.defined_bits());
                        }
                    }
                } else {
                    let (x, resp) = b.read(addr);
                    prop_assert_eq!(resp == Resp::Okay, mapped);
                    if !mapped { prop_assert_eq!(x, 0); }
                }
                b.tick();
            }
        }
    }
}

#[cfg(test)]
mod model_tests {
    use super::*;
    use crate::alice::AliceRegs;
    use crate::bob::BobRegs;
    use qkd_abi::GenParams;

    #[test]
    fn model_registers_come_from_the_bank() {
        let m = RegisterMap::new(GenParams::alice(4));
        let mut b = CsrBank::new(m.clone());
        assert_eq!(AliceRegs::from_lookup(b.rw_lookup()), AliceRegs::reset());
        for n in AliceRegs::NAMES {
            assert!(b.rw(n).is_ok(), "{n} is RW in the Alice map");
        }
        b.write(m.register("DECOY_THRESH_SIGNAL").unwrap().offset, 0x1_1234);
        assert_eq!(
            AliceRegs::from_lookup(b.rw_lookup()).decoy_thresh_signal,
            0x1234
        );
        let m = RegisterMap::new(GenParams::bob(4, 8, 2));
        let b = CsrBank::new(m);
        for n in BobRegs::NAMES {
            assert!(b.rw(n).is_ok(), "{n} is RW in the Bob map");
        }
        assert_eq!(BobRegs::from_lookup(b.rw_lookup()), BobRegs::reset());
    }
}

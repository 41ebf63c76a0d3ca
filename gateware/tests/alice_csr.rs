// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSR bank of `qkd_alice` over AXI4-Lite (spec section 7), against the
//! qkd-abi register map it is built from.
//!
//! ```text
//!  AXI4-Lite master ──► qkd_alice ──► read data / BRESP / RRESP checked
//!  expectations: RegisterMap reset values, access types, field masks
//! ```

mod alice_harness;

use alice_harness::Alice4;
use qkd_abi::Access;

const OKAY: u8 = 0;
const SLVERR: u8 = 2;

/// Value of a live RO register while idle after reset.
fn idle_value(name: &str) -> u32 {
    match name {
        // RUNNING = 0, ENTROPY_OK = 1.
        "ALICE_STATE" => 0b10,
        _ => 0,
    }
}

#[test]
fn reset_values_read_back_over_axi_lite() {
    let mut sim = Alice4::new();
    let regs: Vec<_> = sim.map.registers().cloned().collect();
    for r in regs {
        let (v, resp) = sim.read_addr(r.offset);
        assert_eq!(resp, OKAY, "RRESP of {}", r.name);
        let expect = match r.access {
            Access::RW => r.reset,
            Access::W1C | Access::Strobe => 0,
            Access::RO => {
                let constant = r.offset < 0x100 || r.offset % 0x100 == 0;
                if constant {
                    r.reset
                } else {
                    idle_value(r.name)
                }
            }
        };
        assert_eq!(v, expect, "reset value of {} at {:#x}", r.name, r.offset);
    }
}

#[test]
fn rw_registers_store_their_defined_bits_and_ro_ignore_writes() {
    let mut sim = Alice4::new();
    let regs: Vec<_> = sim.map.registers().cloned().collect();
    let patterns = [0xA5A5_5A5Au32, 0x5A5A_A5A5];
    for r in regs
        .iter()
        .filter(|r| r.access == Access::RW && r.name != "ALICE_CTRL")
    {
        for p in patterns {
            assert_eq!(sim.write_addr(r.offset, p), OKAY, "BRESP of {}", r.name);
            let (v, resp) = sim.read_addr(r.offset);
            assert_eq!(resp, OKAY);
            assert_eq!(v, p & r.defined_bits(), "{} holds its defined bits", r.name);
        }
    }
    for name in ["MAGIC", "IDENT", "RNG_ID", "ALICE_SYMBOLS_LO"] {
        let before = sim.read(name);
        let off = sim.offset(name);
        assert_eq!(
            sim.write_addr(off, 0xFFFF_FFFF),
            OKAY,
            "mapped RO write answers OKAY"
        );
        assert_eq!(sim.read(name), before, "{name} ignores writes");
    }
}

#[test]
fn unmapped_and_misaligned_accesses_answer_slverr() {
    let mut sim = Alice4::new();
    for addr in [0x7F0u32, 0x102, 0x0FFC, 0x320] {
        assert_eq!(sim.read_addr(addr), (0, SLVERR), "read of {addr:#x}");
        assert_eq!(
            sim.write_addr(addr, 0x1234_5678),
            SLVERR,
            "write to {addr:#x}"
        );
    }
    // A misaligned write next to SCRATCH does not touch it.
    sim.write("SCRATCH", 0x0BAD_F00D);
    assert_eq!(sim.write_addr(sim.offset("SCRATCH") + 1, 0), SLVERR);
    assert_eq!(sim.read("SCRATCH"), 0x0BAD_F00D);
}

#[test]
fn partial_writes_are_refused_with_slverr_and_change_nothing() {
    let mut sim = Alice4::new();
    sim.write("SCRATCH", 0x0BAD_F00D);
    let ctrl = sim.read("ALICE_CTRL");
    for wstrb in [0x0u8, 0x1, 0x3, 0x7, 0xE, 0x8] {
        sim.top.s_axil_wstrb.next = u64::from(wstrb).into();
        for name in ["SCRATCH", "ALICE_CTRL"] {
            let addr = sim.offset(name);
            assert_eq!(
                sim.write_addr(addr, 0x1234_5678),
                SLVERR,
                "WSTRB {wstrb:#06b} to {name}"
            );
        }
        sim.top.s_axil_wstrb.next = 0xF.into();
        assert_eq!(sim.read("SCRATCH"), 0x0BAD_F00D, "WSTRB {wstrb:#06b}");
        assert_eq!(sim.read("ALICE_CTRL"), ctrl, "WSTRB {wstrb:#06b}");
    }
    // A full-word write after the refused ones is taken.
    assert_eq!(sim.write_addr(sim.offset("SCRATCH"), 0x1234_5678), OKAY);
    assert_eq!(sim.read("SCRATCH"), 0x1234_5678);
}

#[test]
fn strobe_reads_zero_and_w1c_alarm_sets_and_clears() {
    let mut sim = Alice4::new();
    assert_eq!(sim.read("ALICE_CMD"), 0);
    // QRNG source (reset default) with qrng_valid low: every running cycle
    // is an underrun, which sets the sticky QRNG_UNDERRUN alarm (bit 3).
    sim.write("ALICE_CMD", 1);
    sim.run(4);
    assert_eq!(sim.read("ALICE_STATE") & 1, 1, "RUNNING after START");
    sim.write("ALICE_CMD", 2);
    sim.run(80);
    assert_eq!(
        sim.read("ALICE_STATE") & 1,
        0,
        "stopped at a record boundary"
    );
    let alarms = sim.read("ALICE_ALARMS");
    assert_eq!(alarms & 0b1000, 0b1000, "QRNG_UNDERRUN set");
    // Slots 0..16 are the sync frame (SYNC_LOG2 resets to 16), which wins
    // over the alarm (spec 4.2); all later slots are BLANK.
    assert!(sim.symbols.len() >= 64, "ran to a record boundary");
    for (j, &s) in sim.symbols.iter().take(16).enumerate() {
        let mark = (0x1F35 >> j) & 1 == 1;
        assert_eq!(s, if mark { 0b1101 } else { 0b1100 }, "sync slot {j}");
    }
    assert!(
        sim.symbols[16..].iter().all(|&s| s == 0b1100),
        "underrun slots are BLANK"
    );
    assert_eq!(sim.symbols.len() % 64, 0, "STOP ends at a record boundary");
    // Writing 0 clears nothing; writing 1 clears.
    sim.write("ALICE_ALARMS", 0);
    assert_eq!(sim.read("ALICE_ALARMS"), alarms);
    sim.write("ALICE_ALARMS", 0b1000);
    assert_eq!(sim.read("ALICE_ALARMS"), alarms & !0b1000);
}

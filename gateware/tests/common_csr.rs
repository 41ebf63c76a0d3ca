// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSR helpers: `_LO`/`_HI` coherence latch (spec 7: reading `_LO` latches
//! `_HI`), map-driven cell construction errors, and a cell's `q_next`
//! (the `q` of the next cycle) under random writes and hardware sets.
//!
//! ```text
//!  value (64) ──► HiLatch ──► lo (live), hi (latched at lo_read)
//! ```

mod bob_harness;

use bob_harness::{seed_of, tick, SplitMix64};
use qkd_abi::{GenParams, RegisterMap};
use qkd_gateware::common::csr::{
    cell_from_map, check_coverage, expect_field, CsrBus, CsrError, HiLatch, CSR_BUS_BITS,
};
use rust_hdl::prelude::*;

fn edge(uut: &mut HiLatch) {
    assert!(simulate(uut, 100));
    uut.clock.next = true.into();
    assert!(simulate(uut, 100));
    uut.clock.next = false.into();
    assert!(simulate(uut, 100));
}

#[test]
fn hi_half_is_the_one_at_the_lo_read() {
    let mut uut = HiLatch::default();
    uut.clock.connect();
    uut.value.connect();
    uut.lo_read.connect();
    uut.connect_all();
    uut.value.next = 0x0000_0001_FFFF_FFFFu64.into();
    uut.lo_read.next = true;
    edge(&mut uut);
    uut.lo_read.next = false;
    // The counter carries into the high half after the LO read.
    uut.value.next = 0x0000_0002_0000_0000u64.into();
    edge(&mut uut);
    assert_eq!(uut.lo.val().to_u64(), 0, "LO is live");
    assert_eq!(
        uut.hi.val().to_u64(),
        1,
        "HI is the half latched with the LO read"
    );
    uut.lo_read.next = true;
    edge(&mut uut);
    assert_eq!(uut.hi.val().to_u64(), 2);
}

#[test]
fn map_driven_cells_report_what_is_wrong() {
    let map = RegisterMap::new(GenParams::alice(4));
    assert!(cell_from_map(&map, "ALICE_CTRL").is_ok());
    assert_eq!(
        cell_from_map(&map, "NO_SUCH").err(),
        Some(CsrError::Missing("NO_SUCH".into()))
    );
    match check_coverage(&map, &["MAGIC"]) {
        Err(CsrError::Unimplemented(v)) => assert!(v.contains(&"SCRATCH") && !v.contains(&"MAGIC")),
        other => panic!("expected Unimplemented, got {other:?}"),
    }
    assert!(expect_field(&map, "ALICE_CTRL", "MODE", 0, 2).is_ok());
    assert!(matches!(
        expect_field(&map, "ALICE_CTRL", "MODE", 1, 2),
        Err(CsrError::FieldMoved { .. })
    ));
}

/// `q_next` is, in every cycle, the `q` of the next cycle: RW (BOB_CTRL),
/// W1C (BOB_ALARMS, with hardware sets) and Strobe (BOB_CMD) cells under
/// seeded random writes to their own and to another address. The bus
/// keeps a write's data in the cycle after its pulse (`CsrBus`); the RW
/// cell then holds the written defined bits.
#[test]
fn q_next_is_the_next_q() {
    let map = RegisterMap::new(GenParams::bob(4, 8, 2));
    let mut rng = SplitMix64(seed_of("q_next_is_the_next_q"));
    for name in ["BOB_CTRL", "BOB_ALARMS", "BOB_CMD"] {
        let offset = u64::from(map.register(name).unwrap().offset);
        let mut uut = cell_from_map(&map, name).unwrap();
        uut.clock.connect();
        uut.bus.connect();
        uut.hw_value.connect();
        uut.hw_set.connect();
        uut.connect_all();
        let defined = u64::from(map.register(name).unwrap().defined_bits());
        let mut writes = 0;
        let mut expected: Option<u64> = None;
        // (data of a write in the previous cycle, to own address?)
        let mut held: Option<(u64, bool)> = None;
        let mut stored: Option<u64> = None;
        for cycle in 0..3000 {
            let z = rng.next_u64();
            let write = z.is_multiple_of(3);
            let addr = if z.is_multiple_of(5) {
                offset + 4
            } else {
                offset
            };
            writes += usize::from(write && addr == offset);
            let data = match held {
                Some((d, _)) => d,
                None => z >> 32,
            };
            let bus = data | (addr << CsrBus::ADDR) | (u64::from(write) << CsrBus::WRITE);
            uut.bus.next = bit_cast::<CSR_BUS_BITS, 64>(bus.into());
            let set = if (z >> 8).is_multiple_of(4) {
                rng.next_u64() & 0xFFFF_FFFF
            } else {
                0
            };
            uut.hw_set.next = set.into();
            uut.hw_value.next = 0.into();
            bob_harness::settle(&mut uut);
            if let Some(e) = expected {
                assert_eq!(
                    uut.q.val().to_u64(),
                    e,
                    "{name}, cycle {cycle}: q != last q_next"
                );
            }
            if let (Some(w), "BOB_CTRL") = (stored, name) {
                assert_eq!(
                    uut.q.val().to_u64(),
                    w & defined,
                    "{name}, cycle {cycle}: q is not the written value"
                );
            }
            if let Some((d, true)) = held {
                stored = Some(d);
            }
            held = write.then_some((data, addr == offset));
            expected = Some(uut.q_next.val().to_u64());
            tick(&mut uut, |u| &mut u.clock);
        }
        assert!(writes > 500, "{name}: own-address writes exercised");
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! CSR helpers: `_LO`/`_HI` coherence latch (spec 7: reading `_LO` latches
//! `_HI`) and map-driven cell construction errors.
//!
//! ```text
//!  value (64) ──► HiLatch ──► lo (live), hi (latched at lo_read)
//! ```

use qkd_abi::{GenParams, RegisterMap};
use qkd_gateware::common::csr::{cell_from_map, check_coverage, expect_field, CsrError, HiLatch};
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

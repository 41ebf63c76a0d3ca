// SPDX-License-Identifier: MIT OR Apache-2.0
//! The saturating carry-select adder (`qkd_gateware::common::sat_add`)
//! against `u32::saturating_add`: every low byte with every increment at
//! the carry boundaries of the high part, and seeded random operands.
//!
//! ```text
//!  a (32), b (8) ──► SatAdd32x8 ──► sum == a.saturating_add(b)
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle, SplitMix64};
use qkd_gateware::common::sat_add::SatAdd32x8;
use rust_hdl::prelude::*;

fn add(uut: &mut SatAdd32x8, a: u32, b: u8) -> u64 {
    uut.a.next = u64::from(a).into();
    uut.b.next = u64::from(b).into();
    settle(uut);
    uut.sum.val().to_u64()
}

#[test]
fn sat_add_matches_saturating_add() {
    let mut uut = SatAdd32x8::default();
    uut.a.connect();
    uut.b.connect();
    uut.connect_all();
    let mut cases: Vec<(u32, u8)> = Vec::new();
    // high parts where the increment carries far or saturates
    for hi in [0u32, 1, 0x7F, 0xFF, 0xFFFF, 0x7F_FFFF, 0xFF_FFFE, 0xFF_FFFF] {
        for lo in 0..=255u32 {
            for b in [0u8, 1, 2, 0x7F, 0x80, 0xFE, 0xFF] {
                cases.push(((hi << 8) | lo, b));
            }
        }
    }
    let mut rng = SplitMix64(seed_of("sat_add_matches_saturating_add"));
    for _ in 0..4000 {
        let z = rng.next_u64();
        cases.push((z as u32, (z >> 32) as u8));
    }
    for (a, b) in cases {
        assert_eq!(
            add(&mut uut, a, b),
            u64::from(a.saturating_add(u32::from(b))),
            "a = {a:#010x}, b = {b:#04x}"
        );
    }
}

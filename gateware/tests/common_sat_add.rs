// SPDX-License-Identifier: MIT OR Apache-2.0
//! The saturating carry-select adder (`qkd_gateware::common::sat_add`)
//! against `u32::saturating_add`: every low byte with every increment at
//! the carry boundaries of the high part, and seeded random operands.
//!
//! ```text
//!  a (32), b (8) ──► SatAdd32x8 ──► sum == a.saturating_add(b)
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle};
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
    let mut s = seed_of("sat_add_matches_saturating_add");
    for _ in 0..4000 {
        // splitmix64
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
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

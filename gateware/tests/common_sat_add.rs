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

/// `Add48x8` (`qkd_gateware::common::add48`) against `u64::wrapping_add`
/// modulo 2^48: every low byte with increments at the carry boundaries of
/// the high part (including the wrap of all ones), and seeded random operands.
#[test]
fn add48_matches_wrapping_add() {
    use qkd_gateware::common::add48::Add48x8;
    let mut uut = Add48x8::default();
    uut.a.connect();
    uut.b.connect();
    uut.connect_all();
    let mask = (1u64 << 48) - 1;
    let mut cases: Vec<(u64, u8)> = Vec::new();
    for hi in [
        0u64,
        1,
        0xFF,
        0xFFFF_FFFF,
        0x7F_FFFF_FFFF,
        0xFF_FFFF_FFFE,
        0xFF_FFFF_FFFF,
    ] {
        for lo in 0..=255u64 {
            for b in [0u8, 1, 0x80, 0xFF] {
                cases.push(((hi << 8) | lo, b));
            }
        }
    }
    let mut rng = SplitMix64(seed_of("add48_matches_wrapping_add"));
    for _ in 0..4000 {
        let z = rng.next_u64();
        cases.push((z & mask, (z >> 56) as u8));
    }
    for (a, b) in cases {
        uut.a.next = a.into();
        uut.b.next = u64::from(b).into();
        settle(&mut uut);
        assert_eq!(
            uut.sum.val().to_u64(),
            a.wrapping_add(u64::from(b)) & mask,
            "a = {a:#014x}, b = {b:#04x}"
        );
    }
}

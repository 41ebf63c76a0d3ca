// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's common dead time (spec 5.3, 5.4): after an unsuppressed click in
//! slot i, slots i+1 ..= i+D are dead; gates close for them.
//!
//! ```text
//!  any_click[l] ──► DeadTime(L) ──► blocked[l], open[l]
//!  expected: the spec's dead_until rule applied slot by slot
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle, tick};
use proptest::prelude::*;
use qkd_gateware::bob::dead_time::DeadTime;
use rust_hdl::prelude::*;

/// Per cycle: (suppressed clicks, open gates) from the block.
fn run(lanes: usize, dead: u16, clicks: &[u8]) -> Vec<(u8, u8)> {
    let mut uut = DeadTime::new(lanes);
    uut.clock.connect();
    uut.restart.connect();
    uut.dead_slots.connect();
    uut.any_click.connect();
    uut.connect_all();
    let clk: fn(&mut DeadTime) -> &mut Signal<In, Clock> = |u| &mut u.clock;
    uut.dead_slots.next = u64::from(dead).into();
    uut.restart.next = true;
    tick(&mut uut, clk);
    uut.restart.next = false;
    let mask = ((1u16 << lanes) - 1) as u8;
    let mut out = vec![];
    for c in clicks {
        uut.any_click.next = u64::from(c & mask).into();
        settle(&mut uut);
        // blocked is reported for every dead lane; only clicking lanes are suppressed
        out.push((
            uut.blocked.val().to_u64() as u8 & c & mask,
            uut.open.val().to_u64() as u8 & mask,
        ));
        tick(&mut uut, clk);
    }
    out
}

/// The spec's rule: slot i is dead if i < dead_until; an unsuppressed click
/// sets dead_until = i + 1 + D; gates of a cycle use dead_until at its start.
fn spec(lanes: usize, dead: u16, clicks: &[u8]) -> Vec<(u8, u8)> {
    let mut dead_until = 0u64;
    let mut out = vec![];
    for (k, c) in clicks.iter().enumerate() {
        let (mut blocked, mut open) = (0u8, 0u8);
        let start = dead_until;
        for l in 0..lanes {
            let i = (k * lanes + l) as u64;
            if i >= start {
                open |= 1 << l;
            }
            if (c >> l) & 1 == 1 {
                if i < dead_until {
                    blocked |= 1 << l;
                } else {
                    dead_until = i + 1 + u64::from(dead);
                }
            }
        }
        out.push((blocked, open));
    }
    out
}

#[test]
fn hand_worked_dead_time_three_slots_four_lanes() {
    // D = 3: click at slot 1 kills slots 2, 3, 4; slot 5 clicks again
    // (kills 6, 7, 8); slot 9 is free.
    // cycle 0 slots 0-3: clicks at 1, 2 -> blocked {2}; cycle 1 slots 4-7:
    // clicks 4, 5, 7 -> 4 blocked, 5 starts, 7 blocked; cycle 2 slots 8-11:
    // clicks 8, 9 -> 8 blocked, 9 free.
    let got = run(4, 3, &[0b0110, 0b1011, 0b0011]);
    assert_eq!(got[0], (0b0100, 0b1111));
    assert_eq!(got[1], (0b1001, 0b1110)); // slot 4 still dead at the start of cycle 1
    assert_eq!(got[2], (0b0001, 0b1110)); // slot 8 dead at the start of cycle 2
    assert_eq!(got, spec(4, 3, &[0b0110, 0b1011, 0b0011]));
}

#[test]
fn zero_dead_time_blocks_nothing_and_long_dead_time_spans_cycles() {
    assert_eq!(run(8, 0, &[0xFF, 0xFF]), vec![(0, 0xFF), (0, 0xFF)]);
    let clicks = [0b01, 0b11, 0b11, 0b11, 0b00, 0b10];
    assert_eq!(run(2, 6, &clicks), spec(2, 6, &clicks));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, rng_seed: proptest::test_runner::RngSeed::Fixed(seed_of("dead_time_random")), failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn random_clicks_match_the_dead_until_rule(
        lanes in prop::sample::select(vec![1usize, 2, 4, 8]),
        dead in prop_oneof![0u16..10, 0u16..40, Just(65535u16)],
        clicks in prop::collection::vec(any::<u8>(), 1..40),
    ) {
        prop_assert_eq!(run(lanes, dead, &clicks), spec(lanes, dead, &clicks));
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tumbling-window alarm used for AFTER_GATE and CLICK_FRACTION (spec 5.5):
//! live in cycle c when the events counted in the current window before c
//! exceed the limit; windows of W cycles from the first enabled cycle.
//!
//! ```text
//!  events, enable ──► WindowAlarm(W, limit) ──► live
//! ```

mod bob_harness;

use bob_harness::{settle, tick};
use qkd_gateware::bob::after_gate::WindowAlarm;
use rust_hdl::prelude::*;

fn run(window: u32, limit: u32, events: &[(bool, u8)]) -> Vec<bool> {
    let mut uut = WindowAlarm::default();
    uut.clock.connect();
    uut.clear.connect();
    uut.enable.connect();
    uut.events.connect();
    uut.window_cycles.connect();
    uut.limit.connect();
    uut.connect_all();
    let clk: fn(&mut WindowAlarm) -> &mut Signal<In, Clock> = |u| &mut u.clock;
    uut.window_cycles.next = u64::from(window).into();
    uut.limit.next = u64::from(limit).into();
    uut.clear.next = true;
    tick(&mut uut, clk);
    uut.clear.next = false;
    let mut out = vec![];
    for (en, n) in events {
        uut.enable.next = *en;
        uut.events.next = u64::from(*n).into();
        settle(&mut uut);
        out.push(uut.live.val());
        tick(&mut uut, clk);
    }
    out
}

#[test]
fn limit_two_window_four_cycles() {
    // window 4 cycles, limit 2: events 1,1,1 -> live in the 4th cycle of the
    // window (3 > 2); the window rolls over after its 4th cycle.
    let ev = [
        (true, 1),
        (true, 1),
        (true, 1),
        (true, 0),
        (true, 0),
        (true, 3),
        (true, 0),
        (true, 0),
        (true, 0),
    ];
    let got = run(4, 2, &ev);
    assert_eq!(
        got,
        vec![false, false, false, true, false, false, true, true, false]
    );
}

#[test]
fn disabled_cycles_do_not_advance_the_window() {
    let ev = [(true, 2), (false, 5), (false, 0), (true, 1), (true, 0)];
    // window 2: cycle 0 (count 2), disabled cycles frozen, cycle 3 is the
    // window's second cycle (count 2, not > 2), then rollover.
    assert_eq!(run(2, 2, &ev), vec![false, false, false, false, false]);
    assert_eq!(run(2, 1, &ev), vec![false, true, true, true, false]);
}

/// Reference of spec 5.5 for one window alarm: live in a cycle when the
/// events counted in the current window before it exceed the limit.
fn reference(window: u32, limit: u32, events: &[(bool, u8)]) -> Vec<bool> {
    let (mut count, mut pos) = (0u64, 0u32);
    let mut out = vec![];
    for (en, n) in events {
        out.push(count.min(u64::from(u32::MAX)) > u64::from(limit));
        if *en {
            count += u64::from(*n);
            pos += 1;
            if pos >= window.max(1) {
                pos = 0;
                count = 0;
            }
        }
    }
    out
}

#[test]
fn random_events_and_limits_match_reference() {
    let mut rng = bob_harness::SplitMix64(bob_harness::seed_of(
        "random_events_and_limits_match_reference",
    ));
    let mut next = move || rng.next_u64();
    // limits around the counts reached (including large bursts of up to
    // 255 events per cycle, so the count crosses the limit from far below)
    // (and the largest limit, which nothing exceeds, and a window longer
    // than the run with a limit that 400 cycles of bursts cross)
    for (window, limit) in [
        (1, 0),
        (2, 1),
        (3, 5),
        (7, 40),
        (16, 300),
        (50, 1000),
        (200, 255),
        (100, u32::MAX),
        (1000, 20_000),
    ] {
        let ev: Vec<(bool, u8)> = (0..400)
            .map(|_| {
                let r = next();
                let n = match r % 4 {
                    0 => 0,
                    1 => (r >> 8) as u8 % 4,
                    2 => (r >> 8) as u8 % 32,
                    _ => (r >> 8) as u8,
                };
                ((r >> 20) % 8 != 0, n)
            })
            .collect();
        assert_eq!(
            run(window, limit, &ev),
            reference(window, limit, &ev),
            "window {window} limit {limit}"
        );
    }
}

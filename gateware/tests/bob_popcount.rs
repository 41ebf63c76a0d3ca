// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's boolean popcount tree (`qkd_gateware::bob::popcount`) against
//! `u32::count_ones`: all single bits, all-ones, and seeded random words.
//!
//! ```text
//!  x (32 bits) ──► Popcount32 ──► n == x.count_ones()
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle, SplitMix64};
use qkd_gateware::bob::popcount::Popcount32;
use rust_hdl::prelude::*;

fn count(uut: &mut Popcount32, x: u32) -> u64 {
    uut.x.next = u64::from(x).into();
    settle(uut);
    uut.n.val().to_u64()
}

#[test]
fn popcount_matches_count_ones() {
    let mut uut = Popcount32::default();
    uut.x.connect();
    uut.connect_all();
    let mut words: Vec<u32> = vec![0, u32::MAX, 0x5555_5555, 0xAAAA_AAAA, 0x8000_0001];
    words.extend((0..32).map(|b| 1u32 << b));
    words.extend((0..32).map(|b| u32::MAX >> b));
    let mut rng = SplitMix64(seed_of("popcount_matches_count_ones"));
    for _ in 0..2000 {
        let z = rng.next_u64();
        // sparse and dense words as well as uniform ones
        let w = z as u32;
        words.push(w);
        words.push(w & (z >> 32) as u32);
        words.push(w | (z >> 32) as u32);
    }
    for x in words {
        assert_eq!(
            count(&mut uut, x),
            u64::from(x.count_ones()),
            "x = {x:#010x}"
        );
    }
}

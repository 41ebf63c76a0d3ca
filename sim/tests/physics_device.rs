// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulated devices behind qkd-driver's traits.
//!
//! ```text
//!  qkd_driver::open_with("sim:alice?link=t&...", &SimProvider) ─┐ one FastLink
//!  qkd_driver::open_with("sim:bob?link=t&...",   &SimProvider) ─┘ (one fiber)
//!     header checks pass; byte streams decode to the same records as run_link
//! ```

use qkd_abi::records::{words_from_le_bytes, Record};
use qkd_abi::Role;
use qkd_driver::{open_with, Error, EventSource};
use qkd_sim::physics::{FastLink, LinkParams, SimProvider};
use std::time::Duration;

fn drain(ev: &mut dyn EventSource) -> Vec<Record> {
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 4096 + 3]; // not a multiple of 8 on purpose
    loop {
        match ev.read_bytes(&mut buf, Duration::from_millis(10)) {
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(Error::StreamEnded { .. }) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(bytes.len() % 8, 0);
    let words = words_from_le_bytes(&bytes);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (r, n) = Record::decode(&words[i..]).expect("valid record");
        out.push(r);
        i += n;
    }
    out
}

#[test]
fn sim_devices_open_and_stream_the_link() {
    let p = SimProvider::new();
    let opts = "link=t&distance_km=20&seed=5&alice_seed=6&bob_seed=7&pulses=3000000&chunk=1000000";
    let mut alice = open_with(&format!("sim:alice?{opts}"), &p, Some(Role::Alice)).unwrap();
    let mut bob = open_with(&format!("sim:bob?{opts}"), &p, Some(Role::Bob)).unwrap();
    assert_eq!(bob.header.role, Role::Bob);
    let mut bev = bob.take_events().unwrap();
    let mut aev = alice.take_events().unwrap();
    let bob_recs = drain(bev.as_mut());
    let alice_recs = drain(aev.as_mut());
    let mut lp = LinkParams::default();
    lp.channel.length_km = 20.0;
    lp.physics_seed = 5;
    lp.alice_seed = 6;
    lp.bob_seed = 7;
    // The same link driven in the same chunks (a chunk end restarts the
    // geometric sampling, so chunking is part of the random sequence).
    let mut l = FastLink::new(lp).unwrap();
    for end in [1_000_000, 2_000_000, 3_000_000] {
        l.run_until(end);
    }
    l.finish();
    let want = l.take_output();
    let tot = *l.bob_totals();
    assert!(
        bob_recs == want.bob,
        "Bob's stream differs ({} vs {} records)",
        bob_recs.len(),
        want.bob.len()
    );
    assert!(alice_recs == want.alice, "Alice's stream differs");
    // Counters are mirrored into Bob's registers.
    let acc = bob
        .regs()
        .read32(qkd_abi::regmap::bob::ACCEPTED.offset)
        .unwrap();
    assert_eq!(u64::from(acc), tot.accepted);
    assert!(tot.accepted > 100);
}

#[test]
fn bad_sim_uri_options_are_rejected() {
    let p = SimProvider::new();
    let e = open_with("sim:bob?distance_km=far", &p, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("distance_km"), "{e}");
    let e = open_with("sim:bob?colour=red", &p, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("colour"), "{e}");
    let e = open_with("sim:carol", &p, None).unwrap_err().to_string();
    assert!(e.contains("carol"), "{e}");
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Trusted-node networks in one process (`qkd_host::network`): every link
//! a full simulated link with the real key pipeline, keys relayed hop by
//! hop between SAEs.
//!
//! * a 5-node chain: every end-to-end key recovered at the far node equals
//!   the one drawn at the near node, every link's key is used once and
//!   identically at its two ends (each relayed key costs each link its
//!   bytes plus a tag pad), and the keys relayed are the keys served;
//! * the metro mesh of `examples/networks/metro.toml` with a blinding attack
//!   on one link mid-run: that link's detector alarm takes it out of
//!   routing, keys keep flowing over the other route, and none crosses the
//!   alarmed link after its alarm.
#![cfg(feature = "sim")]

use qkd_host::network::topology::Topology;
use qkd_host::network::{run_network, NetworkOptions, NetworkSummary};
use std::path::Path;

const LINK_DEFAULTS: &str = r#"
[defaults]
source.basis_z_probability = 0.6
detector.dead_time_ns = 50.0
postprocessing.block_bits = 2e5
"#;

fn run(text: &str, seconds: f64) -> NetworkSummary {
    let t = Topology::from_toml_str(text, Path::new(".")).unwrap();
    let s = run_network(&NetworkOptions {
        topology: t,
        seconds,
        threads: 2,
        max_wait_s: 10.0,
    })
    .unwrap();
    eprintln!("{}", serde_json::to_string_pretty(&s).unwrap());
    s
}

#[test]
fn a_five_node_chain_relays_identical_keys_using_each_link_key_once() {
    let mut text = LINK_DEFAULTS.to_string();
    for n in ["N0", "N1", "N2", "N3", "N4"] {
        text += &format!("[[node]]\nname = \"{n}\"\nsaes = [\"SAE_{n}\"]\n");
    }
    for (i, km) in [6.0, 9.0, 7.0, 12.0].iter().enumerate() {
        text += &format!(
            "[[link]]\nbetween = [\"N{i}\", \"N{}\"]\nlength_km = {km}\n",
            i + 1
        );
    }
    text += "[[demand]]\nfrom = \"SAE_N0\"\nto = \"SAE_N4\"\nkeys_per_second = 200.0\n";
    let s = run(&text, 0.5);
    let p = &s.pairs[0];
    assert_eq!(p.keys, 100, "every request served: {p:?}");
    assert_eq!(p.failed, 0);
    assert!(p.keys_match, "a relayed key differs at the far end");
    assert_eq!(p.hops, [4, 4]);
    assert_eq!(s.relayed_keys, p.keys, "keys relayed = keys served");
    for l in &s.links {
        assert!(
            l.keys_match,
            "{}: the two ends used their keys differently",
            l.name
        );
        // The hash key once, then 32 key bytes and a 16-byte tag pad per
        // relayed key, all of it within what the link made.
        assert_eq!(l.used_bits, 8 * (16 + p.keys * 48), "{}", l.name);
        assert_eq!(l.made_bits, l.used_bits + l.store_bits);
        assert!(l.secret_bits_per_second > 0.0);
    }
}

#[test]
fn a_blinded_link_drops_out_of_the_metro_mesh_and_keys_take_the_other_route() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/networks");
    let text = std::fs::read_to_string(dir.join("metro.toml")).unwrap();
    // Blind Bob's detectors on D-E (on the shortest route A-D-E) 0.3 s in.
    let text = text.replace(
        "between = [\"D\", \"E\"]\nlength_km = 14.0",
        "between = [\"D\", \"E\"]\nlength_km = 14.0\nattack = \"cw-blinding\"\nattack_from_s = 0.3",
    );
    assert!(text.contains("cw-blinding"));
    let s = run(&text, 0.8);
    let de = s.links.iter().find(|l| l.name == "D-E").unwrap();
    let t = de.alarm_at_s.expect("no alarm on the blinded link");
    // The alarm names the first slot of the STATUS interval (2^20 slots)
    // in which the attack began.
    assert!((0.29..0.31).contains(&t), "alarm at {t} s");
    assert_eq!(
        s.relayed_after_alarm, 0,
        "a key crossed D-E after its alarm"
    );
    let ae = s.pairs.iter().find(|p| p.to == "SAE_E").unwrap();
    assert!(ae.keys_match);
    // Served over A-D-E (2 hops) before the alarm and A-B-C-E (3) after.
    assert_eq!(ae.hops, [2, 3], "{ae:?}");
    assert_eq!(ae.keys, 80, "{ae:?}");
    assert_eq!(ae.failed, 0);
    assert!(s.links.iter().all(|l| l.keys_match));
}

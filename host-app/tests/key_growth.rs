// SPDX-License-Identifier: MIT OR Apache-2.0
//! The simulated link grows key: on a 25 km metro link with 1e6-bit blocks
//! every block makes key and authentication spends at most 1 % of the
//! secret bits; the run reports its net figures (delivered bits per
//! second, authentication bits per block, the pad pool at the end).
#![cfg(feature = "sim")]

use qkd_host::config::LinkConfig;
use qkd_host::run::{run, RunOptions, DEFAULT_RUN_PSK_BYTES};
use qkd_sim::physics::AttackConfig;

fn metro() -> LinkConfig {
    let mut c = LinkConfig::default();
    c.channel.length_km = 25.0;
    c.detector.efficiency = 0.12;
    c.detector.dark_count_per_gate = 2e-6;
    c.detector.afterpulse_probability = 0.03;
    c.postprocessing.block_bits = 1e6;
    c
}

#[test]
fn a_metro_link_grows_key_with_authentication_below_one_percent() {
    let opts = RunOptions {
        config: metro(),
        pulses: 1_320_000_000,
        seed: 25,
        progress: false,
        attack: AttackConfig::default(),
        psk_bytes: DEFAULT_RUN_PSK_BYTES,
        devices: Default::default(),
    };
    let (s, keys) = run(&opts).expect("run");
    eprintln!(
        "metro 25 km: {} blocks, {} aborted, secret {}, delivered {}, auth {} bits ({:.0} per block), pool {:?}",
        s.blocks, s.aborted_blocks, s.secret_bits, s.delivered_bits, s.auth_bits, s.auth_bits_per_block, s.pool_pads_end
    );
    assert!(s.blocks >= 2, "{s:?}");
    assert_eq!(s.aborted_blocks, 0, "{:?}", s.abort_reasons);
    assert!(s.keys_match);
    assert!(!keys.is_empty());
    assert!(s.paused.is_none());
    assert!(
        (s.auth_bits as f64) <= 0.01 * s.secret_bits as f64,
        "authentication spent {} of {} secret bits",
        s.auth_bits,
        s.secret_bits
    );
    // Three checkpoints each way per key block.
    assert_eq!(s.auth_bits, s.blocks * 6 * 128);
    // The pool ends at least at its reserve: delivery came after the refill.
    assert!(s.pool_pads_end[0].min(s.pool_pads_end[1]) >= qkd_host::budget::DEFAULT_RESERVE_PADS);
    let link_seconds = opts.pulses as f64 / opts.config.source.pulse_rate_hz;
    let rate = s.delivered_bits as f64 / link_seconds;
    assert!((s.delivered_bits_per_second - rate).abs() <= 1e-9 * rate.max(1.0));
    assert!(s.delivered_bits > s.secret_bits / 2);
}

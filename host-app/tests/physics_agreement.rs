// SPDX-License-Identifier: MIT OR Apache-2.0
//! The planner's default detector model against the simulated link: a few
//! short points of the agreement table of docs/link-physics.md (made by
//! scripts/physics-agreement.sh), run through the whole `qkd-host run` chain
//! (simulated devices, driver, sifting, estimation, Cascade, PA).
//!
//! ```text
//!  LinkConfig ──▶ qkd_host::run::run ──▶ secret bits per block pulse, QBER Z (signal)
//!       └──────▶ planner::beside_run ──▶ the same figures, expected
//! ```
//!
//! Each point compares the QBER of the signal intensity in Z (pooled over
//! the completed blocks) and the secret
//! bits per block pulse within 5 %, the issue's bound.

use qkd_host::config::LinkConfig;
use qkd_host::planner;
use qkd_host::run::{run, RunOptions};

struct Point {
    km: f64,
    dead_time_ns: f64,
    afterpulse: f64,
    block_bits: f64,
    pulses: u64,
}

fn check(p: Point) {
    let mut cfg = LinkConfig::default();
    cfg.channel.length_km = p.km;
    cfg.detector.dead_time_ns = p.dead_time_ns;
    cfg.detector.afterpulse_probability = p.afterpulse;
    cfg.postprocessing.block_bits = p.block_bits;
    eprintln!(
        "{} km, dead {} ns, p_ap {}",
        p.km, p.dead_time_ns, p.afterpulse
    );
    check_config(cfg, p.pulses);
}

fn example(name: &str) -> LinkConfig {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/links")
        .join(name);
    LinkConfig::load(&path).expect("example link file")
}

fn check_config(cfg: LinkConfig, pulses: u64) {
    let opts = RunOptions {
        config: cfg.clone(),
        pulses,
        seed: 11,
        progress: false,
        attack: qkd_sim::physics::AttackConfig::default(),
    };
    let (s, _) = run(&opts).expect("run");
    let (plan, f) = planner::beside_run(&cfg, s.ec_efficiency);
    let q_sim = s.qber.z_all_blocks.expect("a completed block");
    let q_plan = plan.qber_per_intensity[0];
    let r_sim = s.secret_bits_per_block_pulse;
    let r_plan = plan.secret_bits_per_pulse;
    eprintln!(
        "{} blocks; rate sim {r_sim:.4e} plan {r_plan:.4e} ({:.3}); QBER sim {q_sim:.5} plan {q_plan:.5} ({:.3}); f {f:.3}",
        s.blocks,
        r_sim / r_plan,
        q_sim / q_plan
    );
    assert!(s.blocks >= 3 && s.aborted_blocks == 0, "{s:?}");
    assert!(
        (q_sim / q_plan - 1.0).abs() < 0.05,
        "QBER: simulated {q_sim}, planner {q_plan}"
    );
    assert!(
        (r_sim / r_plan - 1.0).abs() < 0.05,
        "secret bits per block pulse: simulated {r_sim}, planner {r_plan}"
    );
}

// The hard case for afterpulses: 0 km, dead time one slot (3.2 ns), 10 %
// afterpulsing (almost every afterpulse survives and lands on a random bit).
#[test]
fn zero_km_one_slot_dead_time_ten_percent_afterpulses() {
    check(Point {
        km: 0.0,
        dead_time_ns: 3.2,
        afterpulse: 0.10,
        block_bits: 1e5,
        pulses: 60_000_000,
    });
}

// The defaults at 25 km: 1 us dead time (gates lost), 4 % afterpulsing
// (almost all hidden by the dead time).
#[test]
fn metro_link_with_the_default_detector() {
    check(Point {
        km: 25.0,
        dead_time_ns: 1000.0,
        afterpulse: 0.04,
        block_bits: 1e5,
        pulses: 400_000_000,
    });
}

// The daylight free-space example (fading channel, sky background) makes
// key and agrees with the planner.
#[test]
fn free_space_daylight_example() {
    let mut cfg = example("free-space-daylight.toml");
    cfg.postprocessing.block_bits = 1e5;
    check_config(cfg, 150_000_000);
}

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
//! the completed blocks) and the secret bits per block pulse within 5 %,
//! the issue's bound. These short runs hold 3 blocks of 1e6, whose
//! finite-key figures scatter by a few per cent around the planner's from
//! seed to seed (seen: 0.941 and 0.996 for one link with other seeds), so
//! the rate check holds for the fixed seed, not for every seed; the longer
//! runs of the table in docs/link-physics.md hold the 5 % on the mean.
#![cfg(feature = "sim")]

use qkd_host::config::LinkConfig;
use qkd_host::planner;
use qkd_host::run::{run, RunOptions};

/// Run `cfg` for 3.5 of the planner's blocks.
fn check_point(km: f64, dead_time_ns: f64, afterpulse: f64) {
    let mut cfg = LinkConfig::default();
    cfg.channel.length_km = km;
    cfg.detector.dead_time_ns = dead_time_ns;
    cfg.detector.afterpulse_probability = afterpulse;
    cfg.postprocessing.block_bits = 1e6;
    eprintln!("{km} km, dead {dead_time_ns} ns, p_ap {afterpulse}");
    check_config(cfg);
}

fn example(name: &str) -> LinkConfig {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/links")
        .join(name);
    LinkConfig::load(&path).expect("example link file")
}

fn check_config(cfg: LinkConfig) {
    let (planned, _) = planner::beside_run(&cfg, None);
    let pulses = (planned.pulses_per_block * 3.5) as u64;
    let opts = RunOptions {
        config: cfg.clone(),
        pulses,
        seed: 11,
        progress: false,
        attack: qkd_sim::physics::AttackConfig::default(),
        psk_bytes: qkd_host::run::DEFAULT_RUN_PSK_BYTES,
        devices: Default::default(),
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
    assert!(s.secret_bits > 0 && s.keys_match, "{s:?}");
    assert!(
        (q_sim / q_plan - 1.0).abs() < 0.05,
        "QBER: simulated {q_sim}, planner {q_plan}"
    );
    assert!(s.blocks >= 3 && s.aborted_blocks == 0, "{s:?}");
    assert!(
        (r_sim / r_plan - 1.0).abs() < 0.05,
        "secret bits per block pulse: simulated {r_sim}, planner {r_plan}"
    );
}

// Saturation: 0 km with a dead time of one slot (the APD recovery of 4
// slots leaves one detector ready for 2 slots after each click).
#[test]
fn zero_km_one_slot_dead_time() {
    check_point(0.0, 3.2, 0.0);
}

// A metro link whose errors come mostly from afterpulses: a one-slot dead
// time lets almost all of them through (QBER 1.6 % instead of 0.5 %).
#[test]
fn metro_link_one_slot_dead_time_with_afterpulses() {
    check_point(25.0, 3.2, 0.04);
}

// The daylight free-space example (fading channel, sky background) makes
// key and agrees with the planner in QBER and in secret bits per block
// pulse.
#[test]
fn free_space_daylight_example() {
    check_config(example("free-space-daylight.toml"));
}

// The satellite pass example: `qkd-host run`'s pass (every step of the
// pass, one block of 97 % of the expected sifted Z bits) makes key, and its
// key per block pulse and signal QBER are within 5 % of the planner's pass
// (`plan_pass` at the run's block size and measured f). Then the pass's
// timeline (`run --plot`): the same link simulated again sees the run's
// own detections, its QBER over the pass is the planner's within 5 %, and
// the SVG holds the three panels with both series. The pass is 2.76e10
// pulses (1.2e7 detections): 431 s for the run and as long again for the
// timeline on the shared machine, so it is ignored by default
// (`cargo test --release -p qkd-host --test physics_agreement -- --ignored`);
// its figures are in docs/link-physics.md.
#[test]
#[ignore = "a whole satellite pass: minutes"]
fn satellite_pass_example() {
    use qkd_host::planner::DetectorModel;
    let mut cfg = example("satellite-pass.toml");
    let pulses = qkd_host::channel::pass_pulses(&cfg);
    let whole = planner::plan_pass(&cfg, DetectorModel::Detailed, None);
    cfg.postprocessing.block_bits = (0.97 * whole.plan.block_bits as f64).floor();
    let opts = RunOptions {
        config: cfg.clone(),
        pulses,
        seed: 1,
        progress: false,
        attack: qkd_sim::physics::AttackConfig::default(),
        psk_bytes: qkd_host::run::DEFAULT_RUN_PSK_BYTES,
        devices: Default::default(),
    };
    let (s, _) = run(&opts).expect("run");
    let mut c = cfg.clone();
    c.postprocessing.ec_efficiency = s.ec_efficiency.expect("a completed block");
    let pp = planner::plan_pass(&c, DetectorModel::Detailed, Some(c.block_bits()));
    let q_sim = s.qber.z_all_blocks.expect("a completed block");
    let q_plan = pp.plan.qber_per_intensity[0];
    let r_sim = s.secret_bits_per_block_pulse;
    let r_plan = pp.plan.secret_bits_per_pulse;
    eprintln!(
        "pass: {} pulses, {} blocks, {} secret bits (planner {:.0} per pass); rate sim {r_sim:.4e} plan {r_plan:.4e} ({:.3}); QBER sim {q_sim:.5} plan {q_plan:.5} ({:.3}); f {:.3}",
        s.pulses,
        s.blocks,
        s.secret_bits,
        whole.secret_bits_per_pass,
        r_sim / r_plan,
        q_sim / q_plan,
        c.postprocessing.ec_efficiency
    );
    assert!(s.keys_match && s.secret_bits > 0, "{s:?}");
    assert_eq!((s.blocks, s.aborted_blocks), (1, 0), "{s:?}");
    assert!(
        (q_sim / q_plan - 1.0).abs() < 0.05,
        "QBER: simulated {q_sim}, planner {q_plan}"
    );
    assert!(
        (r_sim / r_plan - 1.0).abs() < 0.05,
        "secret bits per block pulse: simulated {r_sim}, planner {r_plan}"
    );

    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("pass.svg");
    let tl = qkd_host::timeline::plot_run(
        &cfg,
        pulses,
        opts.seed,
        opts.attack,
        s.secret_bits,
        s.ec_efficiency,
        &svg,
    )
    .expect("timeline");
    assert_eq!(tl.detections, s.detections, "the run's own link");
    assert_eq!(tl.steps.len(), pp.steps.len());
    // Z QBER over all intensities, the planner's steps weighted by their
    // sifted bits.
    let (mz, nz) = pp.steps.iter().fold((0.0, 0.0), |(m, n), st| {
        (
            m + st.qber * st.sifted_z_bits_per_second,
            n + st.sifted_z_bits_per_second,
        )
    });
    assert!(
        (tl.qber() / (mz / nz) - 1.0).abs() < 0.05,
        "timeline QBER {} vs planner {}",
        tl.qber(),
        mz / nz
    );
    // The key is made where the satellite is high: the middle step carries
    // more of it than the first.
    let rate = tl.secret_bits_per_second(s.secret_bits);
    assert!(rate[rate.len() / 2] > 2.0 * rate[0], "{rate:?}");
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "QBER (Z)",
        "channel loss (dB)",
        "secret bits per second",
        "simulated run",
        "planner (detailed)",
    ] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    // Two series in each of three panels (plus the legend samples).
    assert!(text.matches("<polyline").count() >= 6, "series missing");
}

// `run --plot` on a short pass (the example from 48 deg up to 50 and down
// again): the timeline counts the link's sifted Z detections per step; their
// QBER is the planner's, step by step within the statistics, the loss is
// the planner's, and the SVG holds the three panels with both series.
#[test]
fn short_pass_timeline_and_plot() {
    use qkd_host::planner::DetectorModel;
    let mut cfg = example("satellite-pass.toml");
    cfg.channel.satellite_pass.min_elevation_deg = 48.0;
    let pulses = qkd_host::channel::pass_pulses(&cfg);
    let pp = planner::plan_pass(&cfg, DetectorModel::Detailed, None);
    let attack = qkd_sim::physics::AttackConfig::default();
    let tl = qkd_host::timeline::simulate_pass(&cfg, pulses, 3, attack).expect("timeline");
    assert_eq!(tl.steps.len(), pp.steps.len());
    let (mut n_all, mut e_all, mut want_e) = (0.0, 0.0, 0.0);
    for (sim, plan) in tl.steps.iter().zip(&pp.steps) {
        assert!(
            (sim.loss_db - plan.loss_db).abs() < 1e-9,
            "{sim:?} {plan:?}"
        );
        let want_n = plan.sifted_z_bits_per_second * tl.step_s;
        // Sifted Z detections per step: Poisson, within 5 sigma.
        assert!(
            (sim.sifted_z - want_n).abs() < 5.0 * want_n.sqrt(),
            "step at {} s: {} sifted Z detections, planner {want_n:.0}",
            sim.time_s,
            sim.sifted_z
        );
        n_all += sim.sifted_z;
        e_all += sim.errors_z;
        want_e += plan.qber * sim.sifted_z;
    }
    let (q, want_q) = (e_all / n_all, want_e / n_all);
    eprintln!(
        "{} steps, {} detections, {n_all} sifted Z, QBER {q:.5} planner {want_q:.5}",
        tl.steps.len(),
        tl.detections
    );
    assert!(
        (q - want_q).abs() < 4.0 * (want_q / n_all).sqrt() + 0.02 * want_q,
        "QBER over the pass {q}, planner {want_q}"
    );
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("pass.svg");
    qkd_host::timeline::plot_pass_run(&pp, &tl, 1000, &svg).expect("plot");
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "QBER (Z)",
        "channel loss (dB)",
        "secret bits per second",
        "simulated run",
        "planner (detailed)",
    ] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    assert!(text.matches("<polyline").count() >= 6, "series missing");
    let rate = tl.secret_bits_per_second(1000);
    let total: f64 = rate.iter().map(|r| r * tl.step_s).sum();
    assert!(
        (total - 1000.0).abs() < 1e-6,
        "the key shared over the steps: {total}"
    );
}

// `run --plot` draws a pass only: on a fibre it refuses before simulating.
#[test]
fn run_plot_needs_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("x.svg");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(["run", "--pulses", "1000", "--plot"])
        .arg(&svg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("satellite-pass"), "{err}");
    assert!(!svg.exists());
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host run --device sim+verilator:`: a whole key block made by the
//! Verilated `qkd_alice` and `qkd_bob` generated from this build's rust-hdl
//! source, with the same physics, driver and key pipeline as `sim:`.
//!
//! The claim checked: with the same seed and configuration, the golden
//! models (`sim:`) and the gateware (`sim+verilator:`) give the same
//! detections, the same block figures and bit-identical keys at both ends.
//! (Record-for-record equality of the two device streams is
//! `gateware/tests/exact_mode.rs`.) The Verilator builds are cached by
//! content under the target dir and shared with the gateware tests, which
//! Verilate the same tops.
#![cfg(feature = "gateware")]

use qkd_host::config::LinkConfig;
use qkd_host::run::{run, RunDevices, RunOptions, RunSummary, DEFAULT_RUN_PSK_BYTES};
use qkd_keyproc::SecretKey;
use std::process::Command;

/// `examples/links/gateware-short.toml` (10 km, 50 ns dead time, Z with
/// probability 0.6; the planner expects 1.6e4 secret bits per block of 1e5
/// Z bits from 2.2e7 pulses) with blocks of `block_bits` sifted Z bits.
fn config(block_bits: f64) -> LinkConfig {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/links/gateware-short.toml"
    );
    let mut c = LinkConfig::load(std::path::Path::new(path)).expect("example config");
    c.postprocessing.block_bits = block_bits;
    c
}

/// Enough pulses for one block of 1e5 Z bits (the planner: 2.2e7) with
/// some margin.
const PULSES: u64 = 26_000_000;

fn options(
    devices: RunDevices,
    pulses: u64,
    block_bits: f64,
    attack: qkd_sim::physics::AttackConfig,
) -> RunOptions {
    RunOptions {
        config: config(block_bits),
        pulses,
        seed: 2026,
        progress: false,
        attack,
        psk_bytes: DEFAULT_RUN_PSK_BYTES,
        devices,
    }
}

fn gateware() -> RunDevices {
    RunDevices::Gateware(Box::new(
        qkd_host::gateware::generate().expect("generate the Verilog"),
    ))
}

type Run = (RunSummary, Vec<(SecretKey, SecretKey)>);

fn run_both(pulses: u64, block_bits: f64, attack: qkd_sim::physics::AttackConfig) -> (Run, Run) {
    let models = run(&options(RunDevices::Models, pulses, block_bits, attack)).expect("sim: run");
    let gw = run(&options(gateware(), pulses, block_bits, attack)).expect("sim+verilator: run");
    (models, gw)
}

/// The figures both device kinds must agree on.
fn figures(s: &RunSummary) -> impl PartialEq + std::fmt::Debug {
    (
        s.detections,
        s.blocks,
        s.aborted_blocks,
        s.secret_bits,
        s.delivered_bits,
        s.z_bits_in_blocks,
        s.z_bits_waiting,
        s.leak_ec_bits,
        s.alarms,
        s.lost_records,
        s.abort_reasons.clone(),
        s.qber.z_all_blocks.map(f64::to_bits),
    )
}

#[test]
fn a_key_block_through_the_generated_gateware_equals_the_golden_models_run() {
    let ((sm, km), (sg, kg)) = run_both(PULSES, 1e5, Default::default());
    assert_eq!(sm.devices, "sim");
    assert_eq!(sg.devices, "sim+verilator");
    assert!(
        sg.keys_match && sg.blocks >= 1 && sg.aborted_blocks == 0 && sg.secret_bits > 0,
        "the gateware link made no key: {sg:?}"
    );
    assert_eq!(sg.lost_records, 0, "{sg:?}");
    assert_eq!(figures(&sm), figures(&sg));
    assert_eq!(km.len(), kg.len());
    assert!(
        km.iter().zip(&kg).all(|(a, b)| a.0 == b.0 && a.1 == b.1),
        "the keys of sim: and sim+verilator: differ"
    );
    let g = sg.gateware.as_ref().expect("gateware figures");
    assert_eq!(g.identity.source, "generated");
    assert_eq!(g.identity.alice_sha256.len(), 64);
    // Four slots per fabric cycle (4 lanes): the cores ran the whole link.
    assert!(
        g.cycles >= PULSES / 4 && g.cycles < PULSES / 4 + (1 << 20),
        "{} cycles for {PULSES} pulses",
        g.cycles
    );
    assert!(sm.gateware.is_none());
    eprintln!(
        "sim+verilator: {} pulses, {:.1} s wall ({:.1} s for sim:), {:.3e} pulses/s and {:.3e} core cycles/s per link-thread CPU second, {} secret bits",
        PULSES,
        sg.wall_seconds,
        sm.wall_seconds,
        g.pulses_per_cpu_second,
        g.cycles_per_cpu_second,
        sg.secret_bits
    );
}

#[test]
fn intercept_resend_through_the_gateware_aborts_the_block_as_the_models_do() {
    let attack =
        qkd_sim::physics::AttackConfig::always(qkd_sim::physics::AttackKind::InterceptResend {
            fraction: 1.0,
        });
    // Blocks of 1.5e4 bits (3.3e6 pulses): the estimate aborts on the QBER
    // whatever the size.
    let ((sm, _), (sg, kg)) = run_both(PULSES / 5, 1.5e4, attack);
    assert_eq!(figures(&sm), figures(&sg));
    assert!(
        sg.blocks >= 1 && sg.secret_bits == 0 && kg.is_empty(),
        "{sg:?}"
    );
}

#[test]
fn every_attack_gives_the_same_run_through_the_gateware() {
    // Short runs (2^21 pulses, no block): the detections, Bob's alarms and
    // where the alarm latch stopped key production, and what Eve knows,
    // are the same whether the cores are models or the gateware.
    for name in [
        "pns",
        "cw-blinding",
        "pulsed-blinding",
        "after-gate",
        "dead-time",
        "intercept-resend:0.5",
    ] {
        let kind: qkd_sim::physics::AttackKind = name.parse().expect("attack name");
        let attack = qkd_sim::physics::AttackConfig::always(kind);
        let ((sm, _), (sg, _)) = run_both(1 << 21, 1e5, attack);
        assert_eq!(figures(&sm), figures(&sg), "{name}");
        assert_eq!(
            (
                sm.alarm_latched_at_slot,
                sm.alarm_discarded,
                sm.eve_known_valid_detections
            ),
            (
                sg.alarm_latched_at_slot,
                sg.alarm_discarded,
                sg.eve_known_valid_detections
            ),
            "{name}"
        );
        assert!(sg.detections > 0, "{name}: {sg:?}");
        eprintln!(
            "{name}: {} detections, alarms {:#x}, latch {:?}, Eve knows {}",
            sg.detections, sg.alarms, sg.alarm_latched_at_slot, sg.eve_known_valid_detections
        );
    }
}

fn qkd_host(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run qkd-host")
}

#[test]
fn the_cli_names_the_gateware_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    // The Verilog the library generates, written where --device points.
    let (v, id) = qkd_host::gateware::generate().unwrap();
    std::fs::write(dir.path().join("qkd_alice.v"), &v.alice).unwrap();
    std::fs::write(dir.path().join("qkd_bob.v"), &v.bob).unwrap();
    let uri = format!("sim+verilator:?verilog_dir={}", dir.path().display());
    let o = qkd_host(&[
        "run",
        "--device",
        &uri,
        "--pulses",
        "262144",
        "--distance-km",
        "10",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["devices"], "sim+verilator");
    assert_eq!(j["gateware"]["alice_sha256"], id.alice_sha256.as_str());
    assert_eq!(j["gateware"]["bob_sha256"], id.bob_sha256.as_str());
    assert!(j["detections"].as_u64().unwrap() > 0, "{j}");
    assert!(
        j["gateware"]["cycles"].as_u64().unwrap() >= 262144 / 4,
        "{j}"
    );
}

#[test]
fn bad_gateware_devices_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("qkd_alice.v"),
        "module qkd_alice(); endmodule\n",
    )
    .unwrap();
    let uri = format!("sim+verilator:?verilog_dir={}", dir.path().display());
    let o = qkd_host(&["run", "--device", &uri, "--pulses", "1000"]);
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("qkd_bob.v") && e.contains("qkd-gateware generate"),
        "{e}"
    );

    for (device, says) in [
        ("sim+verilator:bob", "sim+verilator:"),
        ("sim+verilator:?seed=3", "unknown option 'seed'"),
        ("sim:alice", "sim+verilator:"),
        ("xdma:/dev/xdma0", "qkd-host alice|bob"),
    ] {
        let o = qkd_host(&["run", "--device", device, "--pulses", "1000"]);
        assert_eq!(o.status.code(), Some(2), "{device}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(says), "{device}: {e}");
    }
}

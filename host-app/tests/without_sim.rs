// SPDX-License-Identifier: MIT OR Apache-2.0
//! A hardware-only `qkd-host` (`cargo build -p qkd-host
//! --no-default-features`, no qkd-sim linked): what needs the simulator
//! (`run`, `network`, `sim:` and `sim+verilator:` devices for the roles and the driver
//! tools) is refused by name with exit code 2, and the rest works: the
//! planner, the driver tools and the roles against hardware URIs (which
//! fail here only because the machine has no board: exit code 4).
#![cfg(not(feature = "sim"))]

mod cli_common;

use cli_common::{assert_code, qkd_host, stderr};
use std::process::Output;

fn assert_refused(o: &Output, what: &str) {
    assert_code(o, 2);
    let e = stderr(o);
    assert!(
        e.contains("this qkd-host was built without the `sim` feature") && e.contains(what),
        "{e}"
    );
}

#[test]
fn run_and_network_are_refused_naming_the_feature() {
    assert_refused(&qkd_host(&["run"]), "qkd-host run");
    assert_refused(
        &qkd_host(&["run", "--device", "sim+verilator:", "--pulses", "10"]),
        "qkd-host run",
    );
    assert_refused(
        &qkd_host(&["network", "--topology", "metro.toml"]),
        "qkd-host network",
    );
}

#[test]
fn driver_tools_refuse_simulated_devices_and_open_boards() {
    assert_refused(
        &qkd_host(&["device", "info", "--device", "sim:alice"]),
        "device sim:alice",
    );
    let o = qkd_host(&["device", "info", "--device", "xdma:/dev/qkd-no-such-card"]);
    assert_code(&o, 4);
}

#[test]
fn roles_refuse_simulated_devices_and_open_boards() {
    let dir = tempfile::tempdir().unwrap();
    let psk = dir.path().join("psk");
    let psk = psk.to_str().unwrap();
    assert_code(&qkd_host(&["psk", "--out", psk]), 0);
    let state = dir.path().join("state");
    let state = state.to_str().unwrap();
    let role = |device: &str| {
        qkd_host(&[
            "alice",
            "--listen",
            "127.0.0.1:0",
            "--device",
            device,
            "--psk",
            psk,
            "--state-dir",
            state,
            "--exit-when-done",
        ])
    };
    assert_refused(&role("sim:alice?link=l"), "device sim:alice?link=l");
    assert_code(&role("xdma:/dev/qkd-no-such-card"), 4);
}

#[test]
fn the_planner_works_without_the_simulator() {
    let o = qkd_host(&["keyrate", "--distance-km", "50", "--json"]);
    assert_code(&o, 0);
    let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(p["model"], "detailed");
    assert!(p["secret_bits_per_pulse"].as_f64().unwrap() > 0.0, "{p}");
}

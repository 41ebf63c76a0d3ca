// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host keyrate` end to end (issue 6, item 9): JSON keys, no-key exit
//! status, config errors naming the key, sweep with SVG plot.
//!
//! ```text
//!  test ──args──▶ qkd-host keyrate ──stdout JSON / SVG file──▶ test
//! ```

use std::process::Command;

fn qkd_host(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(args)
        .output()
        .expect("run qkd-host")
}

#[test]
fn json_has_the_contract_keys() {
    let out = qkd_host(&[
        "keyrate",
        "--distance-km",
        "100",
        "--block-bits",
        "10000000",
        "--model",
        "lim2014",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "secret_bits_per_pulse",
        "secret_bits_per_second",
        "qber",
        "phase_error_bound",
        "s_z0",
        "s_z1",
        "intensities",
        "probabilities",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    // Lim et al. 2014 Sec. IV exactly: the independent Python value of
    // planner.rs's tests.
    let r = v["secret_bits_per_pulse"].as_f64().unwrap();
    assert!((r / 4.714014032656025e-05 - 1.0).abs() < 1e-6, "{r}");
    assert_eq!(v["model"].as_str(), Some("lim2014"));
    assert_eq!(v["intensities"].as_array().unwrap().len(), 3);
    // Latency-aware reconciler choice: the fibre's round trip (2 L n_g / c)
    // and both reconcilers' round trips and time per block at it.
    let rtt = v["rtt_ms"].as_f64().unwrap();
    assert!((0.97..0.99).contains(&rtt), "{rtt}");
    assert_eq!(v["reconciler"].as_str(), Some("cascade"));
    let r = v["reconcilers"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    for t in r {
        assert!(t["round_trips_per_block"].as_u64().unwrap() > 0);
        assert!(t["time_per_block_s"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn no_key_is_zero_with_reason_and_exit_0() {
    let out = qkd_host(&["keyrate", "--distance-km", "300", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["secret_bits_per_pulse"].as_f64(), Some(0.0));
    assert_eq!(v["secret_bits_per_second"].as_f64(), Some(0.0));
    assert!(!v["no_key_reason"].as_str().unwrap().is_empty());
    let text = qkd_host(&["keyrate", "--distance-km", "300"]);
    assert!(text.status.success());
    let s = String::from_utf8_lossy(&text.stdout);
    assert!(s.contains("no key") && s.contains("dead time"), "{s}");
}

#[test]
fn bad_config_names_the_key() {
    let dir = std::env::temp_dir().join(format!("qkd-host-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("link.toml");
    std::fs::write(&p, "[detector]\nefficiency = 1.5\n").unwrap();
    let out = qkd_host(&["keyrate", "--config", p.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("detector.efficiency must be in (0, 1], got 1.5"));
    let svg = dir.join("sweep.svg");
    let out = qkd_host(&[
        "keyrate",
        "--sweep",
        "0:200:50",
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(
        s.starts_with("<svg") && s.contains("polyline"),
        "not an SVG line plot"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count(),
        5
    );
    std::fs::remove_dir_all(&dir).ok();
}

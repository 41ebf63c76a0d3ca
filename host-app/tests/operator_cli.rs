// SPDX-License-Identifier: MIT OR Apache-2.0
//! The operator's commands through the real binary: `config default`,
//! role files, the [sim]/[attack] tables and device-only flags,
//! completions, the man page and `report`.

use qkd_host::config::LinkConfig;
use qkd_host::history::{BlockRecord, History};
use std::path::{Path, PathBuf};
mod cli_common;

use cli_common::{qkd_host, stderr};
use std::process::Output;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

#[test]
fn config_default_prints_commented_toml_that_parses_to_the_defaults() {
    let o = qkd_host(&["config", "default"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().filter(|l| l.starts_with('#')).count() > 10);
    assert_eq!(
        LinkConfig::from_toml_str(&text).unwrap(),
        LinkConfig::default()
    );
}

/// Runs `alice` with a role file and a state directory that is a file, so
/// that it gets past flag and file checks and stops at the state (code 6).
fn alice_with_role_file(role_file: &Path, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::write(&state, b"not a directory").unwrap();
    let mut args = vec![
        "alice".to_string(),
        "--role-config".into(),
        role_file.to_str().unwrap().into(),
        "--state-dir".into(),
        state.to_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    qkd_host(&refs)
}

#[test]
fn example_role_files_parse_into_valid_flags() {
    for role in ["alice", "bob"] {
        let file = repo_file(&format!("examples/roles/{role}.toml"));
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::write(&state, b"not a directory").unwrap();
        let o = qkd_host(&[
            role,
            "--role-config",
            file.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ]);
        // Flags, ranges and TLS flag groups all accepted: it stops at the state.
        assert_eq!(o.status.code(), Some(6), "{role}: {}", stderr(&o));
    }
}

#[test]
fn role_file_flags_are_overridden_by_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\ndevice = \"xdma:/dev/xdma0\"\npsk = \"psk\"\nattack = \"pns\"\n",
    )
    .unwrap();
    // From the file alone: an attack on a hardware device.
    let o = alice_with_role_file(&file, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the device is xdma:/dev/xdma0"),
        "{}",
        stderr(&o)
    );
    // The command line's device wins: it gets as far as the state directory.
    let o = alice_with_role_file(&file, &["--device", "sim:alice?link=rf"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
}

#[test]
fn role_file_with_an_unknown_key_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nrecv_timout = 3\n").unwrap();
    let o = alice_with_role_file(&file, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown key 'recv_timout'"),
        "{}",
        stderr(&o)
    );
}

fn alice_on(device: &str, config: Option<&Path>, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::write(&state, b"not a directory").unwrap();
    let mut args: Vec<String> = [
        "alice",
        "--listen",
        "127.0.0.1:0",
        "--device",
        device,
        "--psk",
        "psk",
        "--state-dir",
        state.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(c) = config {
        args.extend(["--config".into(), c.to_str().unwrap().into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    qkd_host(&refs)
}

#[test]
fn simulator_flags_on_a_hardware_device_are_refused() {
    for flags in [
        &["--attack", "pns"][..],
        &["--seed", "3"],
        &["--pulses", "1000"],
    ] {
        let o = alice_on("xdma:/dev/xdma0", None, flags);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!(
                "{} applies to a simulated device (sim:) only",
                flags[0]
            )),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn attack_table_on_a_hardware_device_is_refused_unless_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("link.toml");
    std::fs::write(&cfg, "[attack]\nkind = \"cw-blinding\"\n").unwrap();
    let o = alice_on("xdma:/dev/xdma0", Some(&cfg), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("[attack] table"), "{}", stderr(&o));
    let o = alice_on("xdma:/dev/xdma0", Some(&cfg), &["--ignore-sim-tables"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    std::fs::write(&cfg, "[attack]\nkind = \"blinding\"\n").unwrap();
    let o = alice_on("sim:alice?link=t", Some(&cfg), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("[attack] kind"), "{}", stderr(&o));
}

#[test]
fn attack_table_in_the_config_works_in_run_like_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("link.toml");
    std::fs::write(
        &cfg,
        "[attack]\nkind = \"intercept-resend:0.5\"\n[sim]\nseed = 5\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--config",
            cfg.to_str().unwrap(),
            "--pulses",
            "2000000",
            "--block-bits",
            "1000000",
            "--json",
        ];
        args.extend_from_slice(extra);
        let o = qkd_host(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let from_table = run(&[]);
    assert!(
        from_table["attack"]
            .as_str()
            .unwrap()
            .contains("InterceptResend"),
        "{from_table}"
    );
    let from_flag = run(&["--attack", "none"]);
    assert!(from_flag["attack"].as_str().unwrap().contains("None"));
}

#[test]
fn completions_and_man_page_are_generated() {
    let o = qkd_host(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("qkd-host") && text.contains("--role-config"));
    let o = qkd_host(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with(".ie") || text.contains(".TH qkd-host"),
        "{text}"
    );
}

#[test]
fn report_plots_qber_secret_key_and_pad_pool_from_a_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(dir.path()).unwrap();
    for b in 0..20u64 {
        h.append(&BlockRecord {
            unix_time_s: 1.8e9 + 3.0 * b as f64,
            block: b,
            qber_z: Some(0.02 + 0.001 * (b % 3) as f64),
            qber_x: Some(0.025),
            secret_bits: if b == 7 { 0 } else { 40_000 + 10 * b },
            delivered_bits: if b == 7 { 0 } else { 38_000 },
            send_pads: 200 - b,
            recv_pads: 200 - b,
            aborted: (b == 7).then(|| "QBER too high".to_string()),
        })
        .unwrap();
    }
    drop(h);
    let svg = dir.path().join("out.svg");
    let o = qkd_host(&[
        "report",
        "--state-dir",
        dir.path().to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["blocks"], 20);
    assert_eq!(v["aborted"], 1);
    assert_eq!(v["secret_bits"], 19 * 40_000 + 10 * (190 - 7));
    let text = std::fs::read_to_string(&svg).unwrap();
    for series in [
        "QBER Z",
        "QBER X",
        "secret bits",
        "delivered bits",
        "send pads",
        "receive pads",
    ] {
        assert!(text.contains(series), "SVG lacks {series}");
    }
    // Six line series (one polyline each).
    assert!(text.matches("<polyline").count() >= 6, "{text}");
    let empty = tempfile::tempdir().unwrap();
    let o = qkd_host(&["report", "--state-dir", empty.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
}

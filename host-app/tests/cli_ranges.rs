// SPDX-License-Identifier: MIT OR Apache-2.0
//! Out-of-range flag values get a usage error (exit code 2) naming the flag
//! and its range, never a panic (exit code 101), through the real binary.

mod cli_common;

use cli_common::qkd_host;
use std::process::Output;

/// Runs a role with the given extra flags and everything else valid-looking.
fn alice(extra: &[&str]) -> Output {
    let mut args = vec![
        "alice",
        "--listen",
        "127.0.0.1:0",
        "--device",
        "sim:alice?link=ranges",
        "--psk",
        "/nonexistent/psk",
        "--state-dir",
        "/nonexistent/state",
    ];
    args.extend_from_slice(extra);
    qkd_host(&args)
}

fn assert_usage(o: &Output, needles: &[&str]) {
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    for n in needles {
        assert!(e.contains(n), "stderr lacks {n:?}:\n{e}");
    }
}

#[test]
fn recv_timeout_1e300_is_a_usage_error_not_a_panic() {
    assert_usage(
        &alice(&["--recv-timeout", "1e300"]),
        &["--recv-timeout", "must be in (0, 86400] seconds"],
    );
}

#[test]
fn reconnect_timeout_1e20_is_a_usage_error_not_a_panic() {
    assert_usage(
        &alice(&["--reconnect-timeout", "1e20"]),
        &["--reconnect-timeout", "must be in (0, 31536000] seconds"],
    );
    assert_usage(
        &alice(&["--reconnect-timeout", "NaN"]),
        &["--reconnect-timeout"],
    );
}

#[test]
fn run_seconds_beyond_the_pulse_limit_is_refused() {
    assert_usage(
        &qkd_host(&["run", "--seconds", "1e20"]),
        &["--seconds", "must be in (0, 604800] seconds"],
    );
    // Within the seconds bound but beyond 1e12 pulses at 312.5 MHz.
    assert_usage(
        &qkd_host(&["run", "--seconds", "4000"]),
        &["--seconds 4000", "1 to 1e12 pulses"],
    );
}

#[test]
fn run_pulses_beyond_the_documented_limit_is_refused() {
    assert_usage(
        &qkd_host(&["run", "--pulses", "1000000000001"]),
        &["--pulses", "1..=1000000000000"],
    );
    assert_usage(&qkd_host(&["run", "--pulses", "0"]), &["--pulses"]);
}

#[test]
fn block_bits_beyond_2_pow_53_is_refused() {
    for cmd in ["run", "keyrate"] {
        assert_usage(
            &qkd_host(&[cmd, "--block-bits", "9007199254740993"]),
            &["--block-bits", "1..=9007199254740992"],
        );
    }
}

#[test]
fn key_size_bits_the_kme_cannot_serve_is_refused_at_start() {
    for bad in ["4294967288", "0", "12", "65544"] {
        assert_usage(
            &alice(&["--key-size-bits", bad]),
            &[
                "--key-size-bits",
                "must be a multiple of 8 in [8, 65536] bits",
            ],
        );
    }
}

#[test]
fn master_equal_to_slave_sae_is_refused_at_start() {
    assert_usage(
        &alice(&["--master-sae", "SAE_X", "--slave-sae", "SAE_X"]),
        &["--master-sae and --slave-sae must differ"],
    );
}

#[test]
fn distance_beyond_its_range_is_refused() {
    assert_usage(
        &qkd_host(&["keyrate", "--distance-km", "1e9"]),
        &["--distance-km", "must be in [0, 1000] km"],
    );
}

#[test]
fn certs_refuse_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    assert_eq!(qkd_host(&["certs", "--out", out]).status.code(), Some(0));
    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let o = qkd_host(&["certs", "--out", out]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("ca.pem exists; refusing to overwrite it"), "{e}");
    assert_eq!(std::fs::read(dir.path().join("ca.pem")).unwrap(), ca);
    assert_eq!(
        qkd_host(&["certs", "--out", out, "--force"]).status.code(),
        Some(0)
    );
    assert_ne!(std::fs::read(dir.path().join("ca.pem")).unwrap(), ca);
}

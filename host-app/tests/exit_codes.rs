// SPDX-License-Identifier: MIT OR Apache-2.0
//! The exit codes of the `qkd-host` binary, one test per code, and the
//! shape of its error messages (cause once, hint, no backtrace), driven
//! through the real binary.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

fn qkd_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("running qkd-host")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
    let e = stderr(o);
    assert!(
        !e.contains("backtrace") && !e.contains("panicked"),
        "user errors print no backtrace:\n{e}"
    );
}

#[test]
fn exit_0_on_success() {
    let o = qkd_host(&["keyrate", "--distance-km", "20"]);
    assert_code(&o, 0);
}

#[test]
fn help_lists_the_exit_codes() {
    let o = qkd_host(&["--help"]);
    assert_code(&o, 0);
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "0  success",
        "2  usage",
        "3  configuration",
        "4  device",
        "5  link or authentication",
        "6  key store",
        "7  paused for lack of authentication key",
    ] {
        assert!(out.contains(line), "--help lacks '{line}':\n{out}");
    }
}

#[test]
fn exit_2_on_usage_errors() {
    assert_code(&qkd_host(&["keyrate", "--no-such-flag"]), 2);
    let o = qkd_host(&[
        "alice",
        "--listen",
        "127.0.0.1:0",
        "--device",
        "sim:alice",
        "--psk",
        "/nonexistent",
        "--state-dir",
        "/nonexistent",
        "--recv-timeout",
        "1e300",
    ]);
    assert_code(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("'--recv-timeout <RECV_TIMEOUT>': must be in (0, 86400] seconds"),
        "{e}"
    );
}

#[test]
fn exit_3_on_a_bad_link_config_with_the_toml_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("link.toml");
    std::fs::write(&cfg, "[source]\nno_such_key = 1\n").unwrap();
    let o = qkd_host(&["keyrate", "--config", cfg.to_str().unwrap()]);
    assert_code(&o, 3);
    let e = stderr(&o);
    assert_eq!(e.matches("unknown field `no_such_key`").count(), 1, "{e}");
    assert!(e.starts_with("qkd-host: "), "{e}");
}

#[test]
fn exit_4_on_a_missing_device_with_the_os_cause_and_a_hint() {
    let o = qkd_host(&["device", "info", "--device", "xdma:/dev/xdma_no_such_card"]);
    assert_code(&o, 4);
    let e = stderr(&o);
    assert!(
        e.contains("/dev/xdma_no_such_card")
            && e.contains("No such file or directory (os error 2)"),
        "{e}"
    );
    assert!(e.contains("hint: the xdma kernel module"), "{e}");
}

/// Answers one `/status` request with `link` as the link state.
fn fake_ops(link: serde_json::Value) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let body = serde_json::json!({
            "kme_id": "KME_A", "stored_keys": 0, "stored_bits": 0, "max_key_count": 100,
            "delivered_keys_total": 0, "delivered_keys_run": 0, "requests_ok": 0,
            "requests_failed": 0, "tls_refused": 0, "store_file_bytes": 0, "link": link,
        })
        .to_string();
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    (addr, h)
}

#[test]
fn exit_0_from_status_while_the_link_is_up() {
    let (addr, h) = fake_ops(serde_json::json!({"link_up": true, "blocks_done": 3}));
    let o = qkd_host(&["status", "--ops", &addr.to_string()]);
    h.join().unwrap();
    assert_code(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("link                up"));
}

#[test]
fn exit_5_from_status_when_the_link_is_down_or_unreachable() {
    let (addr, h) = fake_ops(serde_json::json!({
        "link_up": false, "state_reason": "reconnecting: connection reset"
    }));
    let o = qkd_host(&["status", "--ops", &addr.to_string()]);
    h.join().unwrap();
    assert_code(&o, 5);
    assert!(
        stderr(&o).contains("the link is down (reconnecting: connection reset)"),
        "{}",
        stderr(&o)
    );
    // Nothing listens on port 1 (tcpmux) on a test machine.
    let o = qkd_host(&["status", "--ops", "127.0.0.1:1"]);
    assert_code(&o, 5);
    assert!(stderr(&o).contains("Connection refused"), "{}", stderr(&o));
}

#[test]
fn exit_6_when_the_state_directory_is_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("state");
    std::fs::write(&not_a_dir, b"a file, not a directory").unwrap();
    let o = qkd_host(&[
        "alice",
        "--listen",
        "127.0.0.1:0",
        "--device",
        "sim:alice?link=exit6",
        "--psk",
        dir.path().join("psk").to_str().unwrap(),
        "--state-dir",
        not_a_dir.to_str().unwrap(),
        "--exit-when-done",
    ]);
    assert_code(&o, 6);
    assert!(stderr(&o).contains("state"), "{}", stderr(&o));
}

#[test]
fn exit_7_from_status_when_the_link_is_paused() {
    let (addr, h) = fake_ops(serde_json::json!({
        "link_up": true, "state": "paused", "state_reason": "3 send pads left"
    }));
    let o = qkd_host(&["status", "--ops", &addr.to_string(), "--json"]);
    h.join().unwrap();
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains("the link is paused (3 send pads left)"),
        "{}",
        stderr(&o)
    );
}

/// Output piped into a reader that closed early (`qkd-host keyrate | head
/// -0`): the process ends on SIGPIPE like other Unix tools, with no panic
/// and no backtrace on stderr.
#[test]
fn a_closed_output_pipe_ends_quietly_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(["keyrate", "--sweep", "0:200:1"])
        .env("RUST_BACKTRACE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running qkd-host");
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert!(!e.contains("panicked") && !e.contains("backtrace"), "{e}");
    assert_eq!(o.status.signal(), Some(13), "{:?}: {e}", o.status);
}

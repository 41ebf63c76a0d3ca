// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `sim+verilator:` scheme's URI handling without Verilog (the
//! equality of both modes' streams is `gateware/tests/exact_mode.rs`,
//! which generates the Verilog).
//!
//! ```text
//!  open_with("sim+verilator:bob?verilog_dir=/nowhere") ──► typed error naming qkd_alice.v
//!  open_with("sim:bob?verilog_dir=..")                  ──► unknown option for sim:
//!  sim: link opened as sim+verilator: (same name)       ──► refused
//! ```
//!
//! Opt-in figure (`exact_and_fast_pulses_per_second`): simulated pulses per
//! second of both schemes through the driver, with the Verilog written by
//! `qkd-gateware generate --role both --out DIR` and `QKD_VERILOG_DIR=DIR`.

use qkd_driver::open_with;
use qkd_sim::physics::{LinkParams, SimProvider};

fn err(uri: &str, p: &SimProvider) -> String {
    let e = open_with(uri, p, None).unwrap_err();
    let mut m = e.to_string();
    let mut s = std::error::Error::source(&e);
    while let Some(x) = s {
        m.push_str(": ");
        m.push_str(&x.to_string());
        s = x.source();
    }
    m
}

#[test]
fn exact_scheme_without_verilog_names_what_is_missing() {
    let p = SimProvider::new();
    let e = err("sim+verilator:bob?verilog_dir=/nonexistent/qkd-verilog", &p);
    assert!(
        e.contains("sim+verilator") && e.contains("qkd_alice.v") && e.contains("/nonexistent"),
        "{e}"
    );
    if std::env::var_os("QKD_VERILOG_DIR").is_none() {
        let e = err("sim+verilator:alice", &p);
        assert!(
            e.contains("QKD_VERILOG_DIR") && e.contains("verilog_dir"),
            "{e}"
        );
    }
}

#[test]
fn exact_only_options_and_scheme_mismatch_are_refused() {
    let p = SimProvider::new();
    let e = err("sim:bob?verilog_dir=/tmp", &p);
    assert!(e.contains("verilog_dir"), "{e}");
    let e = err("sim:bob?alice_stream=some", &p);
    assert!(e.contains("alice_stream"), "{e}");
    let e = err("sim:bob?attack=laser", &p);
    assert!(e.contains("laser"), "{e}");
    let e = err("sim:bob?status_log2=41", &p);
    assert!(e.contains("status_log2"), "{e}");
    let e = err("sim:bob?bob_sync_cycle=soon", &p);
    assert!(e.contains("bob_sync_cycle"), "{e}");
    p.insert_link("l", LinkParams::default(), 1 << 12, 1 << 12)
        .unwrap();
    let e = err("sim+verilator:bob?link=l", &p);
    assert!(e.contains("is a sim: link"), "{e}");
    // The same link opens fine with its own scheme.
    open_with("sim:bob?link=l", &p, None).unwrap();
}

#[test]
fn sim_uri_options_status_stream_mode_and_attack_take_effect() {
    use qkd_abi::records::{words_from_le_bytes, Record};
    use qkd_driver::{Error, EventSource};
    use std::time::Duration;
    let p = SimProvider::new();
    let opts =
        "link=o&pulses=65536&chunk=65536&status_log2=12&alice_stream=full&attack=cw-blinding";
    let mut a = open_with(&format!("sim:alice?{opts}"), &p, None).unwrap();
    let mut b = open_with(&format!("sim:bob?{opts}"), &p, None).unwrap();
    let drain = |ev: &mut dyn EventSource| {
        let mut bytes = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match ev.read_bytes(&mut buf, Duration::from_millis(10)) {
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(Error::StreamEnded { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let w = words_from_le_bytes(&bytes);
        let mut out = Vec::new();
        let mut i = 0;
        while i < w.len() {
            let (r, n) = Record::decode(&w[i..]).unwrap();
            out.push(r);
            i += n;
        }
        out
    };
    let ar = drain(a.take_events().unwrap().as_mut());
    let br = drain(b.take_events().unwrap().as_mut());
    let count = |v: &[Record], f: fn(&Record) -> bool| v.iter().filter(|r| f(r)).count();
    assert_eq!(count(&ar, |r| matches!(r, Record::AliceSymbols(_))), 1024);
    assert_eq!(count(&ar, |r| matches!(r, Record::Status(_))), 16);
    assert_eq!(count(&br, |r| matches!(r, Record::Status(_))), 16);
    // CW blinding: every DETECTION is invalid (photocurrent alarm).
    let dets: Vec<bool> = br
        .iter()
        .filter_map(|r| match r {
            Record::Detection(d) => Some(d.invalid),
            _ => None,
        })
        .collect();
    assert!(dets.len() > 10 && dets.iter().filter(|&&i| i).count() > dets.len() / 2);
}

fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

type Streams = [Box<dyn qkd_driver::EventSource>; 2];

/// Open both ends (for `sim+verilator:` this loads, configures and starts
/// the cores).
fn open_pair(p: &SimProvider, uri_tail: &str, scheme: &str) -> Streams {
    let mut a = open_with(&format!("{scheme}:alice?{uri_tail}"), p, None).unwrap();
    let mut b = open_with(&format!("{scheme}:bob?{uri_tail}"), p, None).unwrap();
    [a.take_events().unwrap(), b.take_events().unwrap()]
}

/// Read both streams to their end (raw bytes through the driver's
/// `EventSource`); returns the bytes read.
fn drain_pair(mut s: Streams) -> usize {
    use qkd_driver::Error;
    let mut n = 0;
    let mut buf = vec![0u8; 1 << 20];
    for ev in s.iter_mut() {
        loop {
            match ev.read_bytes(&mut buf, std::time::Duration::from_secs(1)) {
                Ok(k) => n += k,
                Err(Error::StreamEnded { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    n
}

/// Simulated pulses per second of `sim:` (sparse and full Alice stream)
/// and `sim+verilator:`, default link at 0 and 50 km, streams read through
/// the driver; wall time and this thread's CPU time (the link runs in the
/// reading thread).
#[test]
#[ignore = "figure: QKD_VERILOG_DIR=DIR cargo test -p qkd-sim --release --test exact_link -- --ignored --nocapture"]
fn exact_and_fast_pulses_per_second() {
    let dir = std::env::var("QKD_VERILOG_DIR")
        .expect("set QKD_VERILOG_DIR to the output of `qkd-gateware generate --role both`");
    // Verilate (or load from the cache) outside the timing.
    drain_pair(open_pair(
        &SimProvider::new(),
        &format!("link=w&pulses=4096&verilog_dir={dir}"),
        "sim+verilator",
    ));
    for km in [0.0, 50.0] {
        for (scheme, pulses, extra) in [
            ("sim", 1u64 << 28, "alice_stream=sparse"),
            ("sim", 1u64 << 26, "alice_stream=full"),
            ("sim+verilator", 1u64 << 20, ""),
        ] {
            let p = SimProvider::new();
            let tail = format!(
                "link=s&distance_km={km}&pulses={pulses}&chunk={}&verilog_dir={dir}&{extra}",
                1u64 << 20
            );
            let tail = if scheme == "sim" {
                tail.replace(&format!("&verilog_dir={dir}"), "")
            } else {
                tail
            };
            // Open (and for sim+verilator: load, configure, START) untimed.
            let streams = open_pair(&p, &tail, scheme);
            let t0 = std::time::Instant::now();
            let c0 = thread_cpu_time();
            let bytes = drain_pair(streams);
            let wall = t0.elapsed().as_secs_f64();
            let cpu = (thread_cpu_time() - c0).as_secs_f64();
            eprintln!(
                "FIGURE {scheme:14} {km:>4} km {extra:20} {pulses:>10} pulses: wall {wall:7.2} s = {:.3e} pulses/s, thread CPU {cpu:7.2} s = {:.3e} pulses/s, {bytes} stream bytes",
                pulses as f64 / wall,
                pulses as f64 / cpu
            );
        }
    }
}

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

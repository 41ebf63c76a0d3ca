// SPDX-License-Identifier: MIT OR Apache-2.0
//! The integrator commands of `qkd_driver::cli` against the xdma stand-in:
//!
//! ```text
//!   run_device_info / run_regs_dump / run_events_tail --device xdma:<tmp>/xdma0
//!        |  mmap <tmp>/xdma0_user (register image)    read <tmp>/xdma0_c2h_0 <- writer thread
//!        v
//!   Vec<u8> output, parsed back (text lines, JSON)
//! ```

mod model;

use clap::Parser;
use model::{encode, spawn_writer, StandIn};
use qkd_abi::records::{CounterId, Detection, Gap, Status};
use qkd_abi::symbol::Basis;
use qkd_abi::{GenParams, Record};
use qkd_driver::cli::{
    run, run_device_info, run_events_tail, run_regs_dump, DriverCommand, DumpArgs, InfoArgs,
    TailArgs,
};
use qkd_driver::NoProvider;
use std::time::Duration;

fn det(slot: u64) -> Record {
    Record::Detection(Detection {
        slot,
        detector: 1,
        fine_bin: 3,
        basis: Basis::X,
        invalid: false,
    })
}

fn text(buf: Vec<u8>) -> String {
    String::from_utf8(buf).unwrap()
}

#[test]
fn device_info_text_and_json() {
    let s = StandIn::new(GenParams::bob(8, 16, 3));
    let mut out = Vec::new();
    run_device_info(
        &InfoArgs {
            device: s.uri(),
            json: false,
        },
        &NoProvider,
        &mut out,
    )
    .unwrap();
    let t = text(out);
    assert!(t.contains("role         bob"), "{t}");
    assert!(t.contains("lanes        8"), "{t}");
    assert!(t.contains("oversample   16"), "{t}");
    assert!(t.contains("detectors    3"), "{t}");
    assert!(
        t.contains(&format!(
            "build id     {:#010x}",
            s.map.reset_of("BUILD_ID")
        )),
        "{t}"
    );
    assert!(t.contains("1250.0000 MS/s, slot 800.0 ps"), "{t}");
    assert!(t.contains("gate"), "{t}");

    let mut out = Vec::new();
    run_device_info(
        &InfoArgs {
            device: s.uri(),
            json: true,
        },
        &NoProvider,
        &mut out,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["header"]["role"], "bob");
    assert_eq!(v["header"]["detectors"], 3);
    assert_eq!(
        v["blocks"].as_array().unwrap().len(),
        s.map.blocks.len() - 1
    );
}

#[test]
fn regs_dump_lists_every_register_with_fields() {
    let s = StandIn::new(GenParams::bob(4, 8, 2));
    s.poke(s.map.register("GATE_WINDOW").unwrap().offset, 0x0000_0703);
    let mut out = Vec::new();
    run_regs_dump(
        &DumpArgs {
            device: s.uri(),
            json: false,
        },
        &NoProvider,
        &mut out,
    )
    .unwrap();
    let t = text(out);
    for r in s.map.registers() {
        assert!(t.contains(r.name), "{} missing", r.name);
    }
    let has = |words: &[&str]| {
        t.lines().any(|l| {
            l.split_whitespace()
                .take(words.len())
                .eq(words.iter().copied())
        })
    };
    assert!(has(&[".START_BIN", "=", "3", "(0x3)"]), "{t}");
    assert!(has(&[".END_BIN", "=", "7", "(0x7)"]), "{t}");
    assert!(has(&["0x0404", "GATE_WINDOW", "RW", "0x00000703"]), "{t}");
    assert!(has(&["0x0308", "BOB_CMD", "STROBE", "(strobe)"]), "{t}");

    let mut out = Vec::new();
    run_regs_dump(
        &DumpArgs {
            device: s.uri(),
            json: true,
        },
        &NoProvider,
        &mut out,
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), s.map.registers().count());
    let dead = a
        .iter()
        .find(|r| r["name"] == "GATE_DEAD_TIME_SLOTS")
        .unwrap();
    assert_eq!(dead["value"], 313);
    assert_eq!(dead["fields"][0]["name"], "SLOTS");
}

fn tail_stream() -> Vec<u8> {
    encode(&[
        Record::Epoch(2),
        det(10),
        det(11),
        Record::Gap(Gap {
            first_slot: 12,
            lost_slots: 100,
            lost_records: 7,
        }),
        det(120),
        Record::Status(Status {
            slot: 200,
            counters: vec![(CounterId::IntervalSlots, 200), (CounterId::Accepted, 3)],
        }),
        det(201),
        det(202),
    ])
}

#[test]
fn events_tail_text_stops_at_count_and_reports_loss() {
    let s = StandIn::new(GenParams::bob(4, 8, 2));
    let w = spawn_writer(
        s.c2h.clone(),
        vec![(tail_stream(), Duration::from_millis(50))],
        false,
    );
    let mut out = Vec::new();
    let args = TailArgs {
        device: s.uri(),
        count: 5,
        json: false,
        // Ends at the count; the idle timeout only guards against a hang
        // (3 s of a writer thread not yet scheduled could cut it short).
        idle_timeout_ms: 60_000,
    };
    run_events_tail(&args, &NoProvider, &mut out).unwrap();
    w.join().unwrap();
    let t = text(out);
    let lines: Vec<&str> = t.lines().collect();
    let recs: Vec<&&str> = lines
        .iter()
        .filter(|l| !l.starts_with("LOSS") && !l.starts_with("--"))
        .collect();
    assert_eq!(recs.len(), 5, "{t}");
    assert_eq!(*recs[0], format!("EPOCH epoch=2 slot={}", 2u64 << 40));
    assert_eq!(
        *recs[1],
        format!("DETECTION slot={} det=1 bin=3 basis=X", (2u64 << 40) + 10)
    );
    assert!(
        recs[3].starts_with("GAP first_slot=")
            && recs[3].ends_with("lost_slots=100 lost_records=7"),
        "{t}"
    );
    assert!(
        t.contains("LOSS gaps=1 lost_slots=100 lost_records=7"),
        "{t}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("-- 5 records; total: gaps=1"),
        "{t}"
    );
}

#[test]
fn events_tail_json_to_end_of_stream() {
    let s = StandIn::new(GenParams::bob(4, 8, 2));
    let w = spawn_writer(s.c2h.clone(), vec![(tail_stream(), Duration::ZERO)], false);
    // Through the clap types, as qkd-host will mount them.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        cmd: DriverCommand,
    }
    let cli = Cli::try_parse_from([
        "qkd-host",
        "events",
        "tail",
        "--device",
        &s.uri(),
        "--count",
        "0",
        "--json",
        // Ends at the end of the stream; the idle timeout only guards
        // against a hang (3 s of a writer thread not yet scheduled could
        // cut the stream short and fail by chance).
        "--idle-timeout-ms",
        "60000",
    ])
    .unwrap();
    let mut out = Vec::new();
    run(&cli.cmd, &NoProvider, &mut out).unwrap();
    w.join().unwrap();
    let vals: Vec<serde_json::Value> = text(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = vals.iter().map(|v| v["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "detection").count(), 5);
    assert_eq!(kinds.iter().filter(|k| **k == "record").count(), 3);
    assert!(kinds.contains(&"loss"));
    let sum = vals.last().unwrap();
    assert_eq!(sum["type"], "summary");
    assert_eq!(sum["records"], 8);
    assert_eq!(sum["end_of_stream"], true);
    assert_eq!(sum["total_loss"]["lost_slots"], 100);
    let st = vals
        .iter()
        .find(|v| v["type"] == "record" && v["record"].get("Status").is_some())
        .unwrap();
    assert_eq!(st["slot"], (2u64 << 40) + 200);
}

#[test]
fn bad_uri_is_a_driver_error_with_exit_code() {
    let mut out = Vec::new();
    let e = run_device_info(
        &InfoArgs {
            device: "pcie:0".into(),
            json: false,
        },
        &NoProvider,
        &mut out,
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("supported: xdma, vfio"), "{e}");
}

#[test]
fn mounts_flattened_next_to_other_host_commands() {
    // How qkd-host can mount the commands beside its own.
    #[derive(Parser)]
    struct Host {
        #[command(subcommand)]
        cmd: HostCmd,
    }
    #[derive(clap::Subcommand)]
    enum HostCmd {
        /// A command of the host itself.
        Run,
        #[command(flatten)]
        Driver(DriverCommand),
    }
    let h = Host::try_parse_from([
        "qkd-host",
        "regs",
        "dump",
        "--device",
        "xdma:/dev/xdma0",
        "--json",
    ])
    .unwrap();
    assert!(matches!(h.cmd, HostCmd::Driver(DriverCommand::Regs(_))));
    let h = Host::try_parse_from(["qkd-host", "device", "info", "--device", "sim:bob"]).unwrap();
    assert!(matches!(h.cmd, HostCmd::Driver(DriverCommand::Device(_))));
    assert!(matches!(
        Host::try_parse_from(["qkd-host", "run"]).unwrap().cmd,
        HostCmd::Run
    ));
    assert!(
        Host::try_parse_from(["qkd-host", "events", "tail"]).is_err(),
        "--device is required"
    );
}

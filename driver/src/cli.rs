// SPDX-License-Identifier: MIT OR Apache-2.0
//! Integrator commands, as a library for the `qkd-host` binary to mount:
//! `device info`, `regs dump [--json]`, `events tail [--count N] [--json]`
//! (issue 5, item 6). clap `Subcommand`/`Args` types plus one `run_*`
//! function per command writing to any `Write`.

use crate::device::{open_with, BackendProvider};
use crate::stream::{BatchItem, StreamReader, StreamRecord};
use crate::Error;
use qkd_abi::Record;
use serde_json::json;
use std::io::Write;
use std::time::{Duration, Instant};

/// Errors of the commands.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The driver failed (open, bind, register or stream access).
    #[error(transparent)]
    Driver(#[from] Error),
    /// Writing the output failed.
    #[error("writing output")]
    Output(#[from] std::io::Error),
    /// JSON encoding failed.
    #[error("encoding JSON")]
    Json(#[from] serde_json::Error),
}

impl CliError {
    /// Process exit code: 2 device/driver, 3 output.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Driver(_) => 2,
            _ => 3,
        }
    }
}

/// `qkd-host device ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeviceCommand {
    /// Header, role, lanes, oversampling, build id and register blocks.
    Info(InfoArgs),
}

/// `qkd-host regs ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RegsCommand {
    /// Every register by name with decoded fields.
    Dump(DumpArgs),
}

/// `qkd-host events ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum EventsCommand {
    /// Decoded records and loss reports from the stream.
    Tail(TailArgs),
}

/// The three command groups, for mounting with `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DriverCommand {
    /// Device identification.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Register access.
    #[command(subcommand)]
    Regs(RegsCommand),
    /// Event stream.
    #[command(subcommand)]
    Events(EventsCommand),
}

/// Arguments of `device info`.
#[derive(Debug, Clone, clap::Args)]
pub struct InfoArgs {
    /// Device URI: xdma:/dev/xdma0, vfio:0000:03:00.0, sim:...
    #[arg(long)]
    pub device: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `regs dump`.
#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    /// Device URI.
    #[arg(long)]
    pub device: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `events tail`.
#[derive(Debug, Clone, clap::Args)]
pub struct TailArgs {
    /// Device URI.
    #[arg(long)]
    pub device: String,
    /// Stop after this many records (0: until the stream ends or goes idle).
    #[arg(long, default_value_t = 20)]
    pub count: u64,
    /// JSON lines output.
    #[arg(long)]
    pub json: bool,
    /// Stop after this long without data, milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub idle_timeout_ms: u64,
}

/// Run any of the commands.
pub fn run(
    cmd: &DriverCommand,
    provider: &dyn BackendProvider,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match cmd {
        DriverCommand::Device(DeviceCommand::Info(a)) => run_device_info(a, provider, out),
        DriverCommand::Regs(RegsCommand::Dump(a)) => run_regs_dump(a, provider, out),
        DriverCommand::Events(EventsCommand::Tail(a)) => run_events_tail(a, provider, out),
    }
}

/// `device info`.
pub fn run_device_info(
    args: &InfoArgs,
    provider: &dyn BackendProvider,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let dev = open_with(&args.device, provider, None)?;
    let h = &dev.header;
    if args.json {
        let v = json!({
            "device": dev.uri,
            "header": h,
            "symbol_rate_hz": h.params().symbol_rate_hz(),
            "slot_period_ps": h.slot_period_ps(),
            "blocks": dev.blocks,
            "dma_engine": dev.dma_engine(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    writeln!(out, "device       {}", dev.uri)?;
    writeln!(out, "magic        {:#010x} (QKD1)", h.magic)?;
    writeln!(out, "abi          {}.{}", h.abi_major, h.abi_minor)?;
    writeln!(out, "role         {}", h.role)?;
    writeln!(out, "lanes        {}", h.lanes)?;
    writeln!(out, "oversample   {}", h.oversample)?;
    writeln!(out, "detectors    {}", h.detectors)?;
    writeln!(
        out,
        "fabric clock {} kHz ({:.4} MS/s, slot {:.1} ps)",
        h.fabric_clock_khz,
        h.params().symbol_rate_hz() / 1e6,
        h.slot_period_ps()
    )?;
    writeln!(out, "build id     {:#010x}", h.build_id)?;
    if let Some(e) = dev.dma_engine() {
        writeln!(out, "dma engine   {e}")?;
    }
    for b in &dev.blocks {
        writeln!(
            out,
            "block {:<6} {:<14} type {:#06x} major {}",
            b.index,
            b.name.unwrap_or("(unknown)"),
            b.type_id,
            b.major
        )?;
    }
    Ok(())
}

/// `regs dump`.
pub fn run_regs_dump(
    args: &DumpArgs,
    provider: &dyn BackendProvider,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut dev = open_with(&args.device, provider, None)?;
    let regs = dev.dump()?;
    if args.json {
        let v: Vec<_> = regs
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "offset": r.offset,
                    "access": r.access,
                    "value": r.value,
                    "fields": r.fields.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>(),
                    "doc": r.doc,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    for r in &regs {
        match r.value {
            Some(v) => writeln!(
                out,
                "{:#06x} {:<28} {:<6} {:#010x}  {}",
                r.offset, r.name, r.access, v, r.doc
            )?,
            None => writeln!(
                out,
                "{:#06x} {:<28} {:<6} {:<10}  {}",
                r.offset, r.name, r.access, "(strobe)", r.doc
            )?,
        }
        for (n, v) in &r.fields {
            writeln!(out, "         .{n:<26} = {v} ({v:#x})")?;
        }
    }
    Ok(())
}

fn record_text(r: &StreamRecord) -> String {
    match &r.record {
        Record::Detection(d) => format!(
            "DETECTION slot={} det={} bin={}",
            r.slot, d.detector, d.fine_bin
        ),
        Record::AliceSymbols(a) => {
            let shown: String = a
                .symbols()
                .take(64)
                .map(|s| format!("{:x}", s.code()))
                .collect();
            let more = if a.count > 64 { "..." } else { "" };
            format!(
                "ALICE_SYMBOLS slot={} count={} symbols={shown}{more}",
                r.slot, a.count
            )
        }
        Record::Status(s) => {
            let c: Vec<String> = s
                .counters
                .iter()
                .map(|(id, v)| format!("{id:?}={v}"))
                .collect();
            format!("STATUS end_slot={} {}", r.slot, c.join(" "))
        }
        Record::Gap(g) => format!(
            "GAP first_slot={} lost_slots={} lost_records={}",
            r.slot, g.lost_slots, g.lost_records
        ),
        Record::Epoch(e) => format!("EPOCH epoch={e} slot={}", r.slot),
    }
}

/// `events tail`.
pub fn run_events_tail(
    args: &TailArgs,
    provider: &dyn BackendProvider,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut dev = open_with(&args.device, provider, None)?;
    let mut reader = StreamReader::new(dev.take_events()?);
    let idle = Duration::from_millis(args.idle_timeout_ms);
    let mut printed = 0u64;
    let mut last_data = Instant::now();
    let limit = if args.count == 0 {
        u64::MAX
    } else {
        args.count
    };
    let mut ended = false;
    'outer: while printed < limit {
        let left = idle.saturating_sub(last_data.elapsed());
        if left.is_zero() {
            break;
        }
        let batch = reader.next_batch(left.min(Duration::from_millis(100)))?;
        if !batch.is_empty() || !batch.loss.is_lossless() {
            last_data = Instant::now();
        }
        if !batch.loss.is_lossless() {
            if args.json {
                writeln!(out, "{}", json!({"type": "loss", "loss": batch.loss}))?;
            } else {
                let l = &batch.loss;
                writeln!(
                    out,
                    "LOSS gaps={} lost_slots={} lost_records={} discontinuities={} unexplained_slots={} decode_errors={} discarded_bytes={}",
                    l.gap_records,
                    l.lost_slots,
                    l.lost_records,
                    l.discontinuities.len(),
                    l.unexplained_slots,
                    l.decode_errors,
                    l.discarded_bytes
                )?;
            }
        }
        for item in batch.iter() {
            if printed >= limit {
                break 'outer;
            }
            printed += 1;
            match (item, args.json) {
                (BatchItem::Detection(d), true) => {
                    writeln!(out, "{}", json!({"type": "detection", "detection": d}))?
                }
                (BatchItem::Detection(d), false) => writeln!(
                    out,
                    "DETECTION slot={} det={} bin={} basis={:?}{}",
                    d.slot,
                    d.detector(),
                    d.fine_bin(),
                    d.basis(),
                    if d.invalid() { " INVALID" } else { "" }
                )?,
                (BatchItem::Record(r), true) => writeln!(
                    out,
                    "{}",
                    json!({"type": "record", "slot": r.slot, "record": r.record})
                )?,
                (BatchItem::Record(r), false) => writeln!(out, "{}", record_text(r))?,
            }
        }
        if batch.end_of_stream {
            ended = true;
            break;
        }
    }
    let total = reader.total_loss();
    if args.json {
        writeln!(
            out,
            "{}",
            json!({"type": "summary", "records": printed, "end_of_stream": ended, "total_loss": total})
        )?;
    } else {
        writeln!(
            out,
            "-- {printed} records{}; total: gaps={} lost_slots={} lost_records={} discontinuities={} decode_errors={} discarded_bytes={}",
            if ended { ", end of stream" } else { "" },
            total.gap_records,
            total.lost_slots,
            total.lost_records,
            total.discontinuities.len(),
            total.decode_errors,
            total.discarded_bytes
        )?;
    }
    Ok(())
}

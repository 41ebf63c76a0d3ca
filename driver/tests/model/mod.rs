// SPDX-License-Identifier: MIT OR Apache-2.0
//! Device models for the xdma stand-ins (STYLE.md habit 17): a regular file
//! holding the register image plays `/dev/xdmaN_user`, a FIFO plays
//! `/dev/xdmaN_c2h_0`, and a thread plays the card's record stream.
//!
//! The overflow model follows DESIGN.md's event packer: a bounded FIFO in
//! front of the DMA channel; when a record does not fit it is dropped and
//! counted, and a GAP record with the lost range goes out as soon as there
//! is room for it and the next record. Records are encoded by qkd-abi.
#![allow(dead_code)]

use qkd_abi::records::{AliceSymbols, CounterId, Gap, Status, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::Symbol;
use qkd_abi::{GenParams, Record, RegisterMap};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes of the stand-in user BAR.
pub const BAR_BYTES: usize = 4096;

/// A stand-in xdma device in a temp dir.
pub struct StandIn {
    pub dir: tempfile::TempDir,
    pub base: PathBuf,
    pub user: PathBuf,
    pub c2h: PathBuf,
    pub map: RegisterMap,
}

impl StandIn {
    /// Register image = every reset value of `params`' map; empty FIFO.
    pub fn new(params: GenParams) -> StandIn {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("xdma0");
        let user = dir.path().join("xdma0_user");
        let c2h = dir.path().join("xdma0_c2h_0");
        let map = RegisterMap::new(params);
        let mut image = vec![0u8; BAR_BYTES];
        for r in map.registers() {
            let o = r.offset as usize;
            image[o..o + 4].copy_from_slice(&r.reset.to_le_bytes());
        }
        std::fs::write(&user, &image).unwrap();
        nix::unistd::mkfifo(&c2h, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        StandIn {
            dir,
            base,
            user,
            c2h,
            map,
        }
    }
    /// `xdma:<dir>/xdma0`.
    pub fn uri(&self) -> String {
        format!("xdma:{}", self.base.display())
    }
    /// Card-side register write (into the file the driver has mapped).
    pub fn poke(&self, offset: u32, value: u32) {
        let f = OpenOptions::new().write(true).open(&self.user).unwrap();
        f.write_all_at(&value.to_le_bytes(), offset.into()).unwrap();
    }
    /// Card-side register read.
    pub fn peek(&self, offset: u32) -> u32 {
        let f = File::open(&self.user).unwrap();
        let mut b = [0u8; 4];
        f.read_exact_at(&mut b, offset.into()).unwrap();
        u32::from_le_bytes(b)
    }
}

/// Encode records as little-endian bytes with qkd-abi.
pub fn encode(recs: &[Record]) -> Vec<u8> {
    let mut w = Vec::new();
    for r in recs {
        r.encode(&mut w).unwrap();
    }
    w.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Open the FIFO's write end (blocks until the driver has opened it).
pub fn open_writer(path: &Path) -> File {
    OpenOptions::new().write(true).open(path).unwrap()
}

/// A writer thread: writes each chunk, sleeping after it; then optionally
/// unlinks the FIFO (the device file vanishes) and closes.
pub fn spawn_writer(
    path: PathBuf,
    chunks: Vec<(Vec<u8>, Duration)>,
    unlink: bool,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut f = open_writer(&path);
        for (c, pause) in chunks {
            f.write_all(&c).unwrap();
            std::thread::sleep(pause);
        }
        if unlink {
            std::fs::remove_file(&path).unwrap();
        }
        drop(f);
    })
}

/// What the overflow model really did.
#[derive(Debug, Default, Clone)]
pub struct Truth {
    /// Start (full slot index) of every ALICE_SYMBOLS run that went out.
    pub sent_runs: Vec<u64>,
    /// Every GAP emitted: (first full slot, lost slots, lost records).
    pub gaps: Vec<(u64, u64, u32)>,
    /// Slots generated: [first_slot, end_slot).
    pub first_slot: u64,
    pub end_slot: u64,
}

/// Parameters of the overflow model.
#[derive(Debug, Clone, Copy)]
pub struct OverflowModel {
    /// First slot index (full 64 bits); runs are 16 symbols.
    pub first_slot: u64,
    /// Runs per phase.
    pub runs_per_burst: u32,
    /// Runs of the calm phases (one per `calm_pause`).
    pub runs_per_calm: u32,
    pub calm_pause: Duration,
    /// Burst / calm phase pairs.
    pub phases: u32,
    /// FIFO capacity in bytes.
    pub fifo_bytes: usize,
    /// A STATUS record every this many slots.
    pub status_every: u64,
}

struct Card {
    fifo: VecDeque<u8>,
    cap: usize,
    pipe: File,
    gap: Option<(u64, u32)>,
    truth: Truth,
}

impl Card {
    fn drain(&mut self) {
        while !self.fifo.is_empty() {
            let (a, _) = self.fifo.as_slices();
            match self.pipe.write(a) {
                Ok(n) => {
                    self.fifo.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => panic!("model write: {e}"),
            }
        }
    }
    fn force(&mut self, r: &Record) {
        self.fifo.extend(encode(std::slice::from_ref(r)));
    }
    fn flush_gap(&mut self, at: u64) {
        if let Some((first, recs)) = self.gap.take() {
            let g = Gap {
                first_slot: first & SLOT_MASK,
                lost_slots: at - first,
                lost_records: recs,
            };
            self.force(&Record::Gap(g));
            self.truth.gaps.push((first, at - first, recs));
        }
    }
    /// Offer a record whose reference slot is `slot`; returns whether it went out.
    fn offer(&mut self, r: &Record, slot: u64) -> bool {
        let bytes = encode(std::slice::from_ref(r));
        let need = bytes.len() + if self.gap.is_some() { 16 } else { 0 };
        if self.fifo.len() + need <= self.cap {
            self.flush_gap(slot);
            self.fifo.extend(bytes);
            true
        } else {
            match &mut self.gap {
                Some((_, n)) => *n += 1,
                None => self.gap = Some((slot, 1)),
            }
            false
        }
    }
}

fn run(start: u64) -> Record {
    let s: Vec<Symbol> = (0..16)
        .map(|i| Symbol(((start / 16 + i) % 16) as u8))
        .collect();
    Record::AliceSymbols(AliceSymbols::from_symbols(start & SLOT_MASK, &s))
}

/// Run the overflow model on the FIFO at `path` (in a thread). The receiver
/// gets one message when the first burst has been offered: a reader that
/// starts only then has certainly let the model's FIFO overflow (the burst
/// is many times the 4 KiB pipe plus `fifo_bytes`), whatever the threads'
/// timing.
pub fn spawn_overflow_model(
    path: PathBuf,
    m: OverflowModel,
) -> (JoinHandle<Truth>, mpsc::Receiver<()>) {
    let (first_burst_done, first_burst) = mpsc::channel();
    let h = std::thread::spawn(move || {
        let pipe = open_writer(&path);
        // Small pipe so that a slow reader overflows the model's FIFO.
        nix::fcntl::fcntl(pipe.as_raw_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(4096))
            .expect("shrink the FIFO's pipe buffer to 4 KiB");
        let fl = nix::fcntl::fcntl(pipe.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL).unwrap();
        let fl = nix::fcntl::OFlag::from_bits_truncate(fl) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(pipe.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(fl)).unwrap();
        let mut card = Card {
            fifo: VecDeque::new(),
            cap: m.fifo_bytes,
            pipe,
            gap: None,
            truth: Truth {
                first_slot: m.first_slot,
                ..Truth::default()
            },
        };
        let mut slot = m.first_slot;
        card.force(&Record::Epoch((slot >> SLOT_BITS) as u32));
        for phase in 0..2 * m.phases {
            let burst = phase % 2 == 0;
            let n = if burst {
                m.runs_per_burst
            } else {
                m.runs_per_calm
            };
            for _ in 0..n {
                if card.offer(&run(slot), slot) {
                    card.truth.sent_runs.push(slot);
                }
                slot += 16;
                if slot & SLOT_MASK == 0 {
                    // Wrap of the low 40 bits: the pending GAP (old epoch)
                    // goes first, then EPOCH, then every record whose slot
                    // field is in the new epoch, including a STATUS whose
                    // exclusive end is the wrap point.
                    card.flush_gap(slot);
                    card.force(&Record::Epoch((slot >> SLOT_BITS) as u32));
                }
                if slot.is_multiple_of(m.status_every) {
                    let st = Record::Status(Status {
                        slot: slot & SLOT_MASK,
                        counters: vec![
                            (CounterId::IntervalSlots, m.status_every),
                            (CounterId::SymbolsSent, m.status_every),
                        ],
                    });
                    card.offer(&st, slot);
                }
                card.drain();
                if !burst {
                    std::thread::sleep(m.calm_pause);
                }
            }
            if phase == 0 {
                first_burst_done.send(()).ok();
            }
        }
        card.flush_gap(slot);
        card.truth.end_slot = slot;
        // Drain everything (blocking politely), then close: end of stream.
        while !card.fifo.is_empty() {
            card.drain();
            std::thread::sleep(Duration::from_micros(200));
        }
        card.truth
    });
    (h, first_burst)
}

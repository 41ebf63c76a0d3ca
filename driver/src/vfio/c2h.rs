// SPDX-License-Identifier: MIT OR Apache-2.0
//! The record stream through an XDMA C2H AXI4-Stream channel driven from
//! userspace: a ring of descriptors in DMA memory, re-armed with descriptor
//! credits as the host consumes them, completion learnt from the poll-mode
//! completed-count writeback, the bytes of each buffer from its C2H stream
//! writeback.
//!
//! Follows PG195 v4.1: "Descriptors" (format, magic, Completed/Stop bits,
//! `Nxt_adj`), "Poll Mode" (completed descriptor count writeback),
//! "C2H Stream" writeback (`wb_magic`, `length`, EOP), SGDMA "Descriptor
//! Credits" (credit mode enable, credits register), C2H Channel Control /
//! Status / Completed Descriptor Count. Register map in [`super::engine`].
//!
//! DMA memory layout (one IOMMU mapping, every part page-aligned):
//!
//! ```text
//! [descriptors: N x 32 B][stream writebacks: N x 8 B][count writeback: 4 B][buffers: N x buffer_bytes]
//! ```
//!
//! The descriptors form a circle (the last one's next is the first), each
//! with the Completed bit and no Stop bit, so the engine never stops on its
//! own; credit mode limits it to the buffers the host has handed back. A
//! host slower than the card therefore back-pressures the AXI4-Stream: the
//! card's record FIFO fills and emits GAP records (DESIGN.md, event packer),
//! and the engine never overwrites a buffer the host has not read.

use super::engine::{self, c2h, c2h_sgdma, ctrl, desc, reg_addr, sgdma_common, status, wb};
use super::engine::{DmaEngineInfo, EngineId};
use crate::error::{Error, Result};
use crate::sys::{IommuBuffer, Mapping};
use crate::transport::{EventSource, RegIo};
use std::time::{Duration, Instant};

const PAGE: usize = 4096;

/// Host memory the card reaches by DMA: the IOMMU-mapped buffer on real
/// hardware, plain memory at a made-up IOVA in tests and models.
pub trait DmaMemory: Send + Sync {
    /// The host-side mapping.
    fn mem(&self) -> &Mapping;
    /// The IO virtual address of byte 0, as the card sees it.
    fn iova(&self) -> u64;
}

impl DmaMemory for IommuBuffer {
    fn mem(&self) -> &Mapping {
        IommuBuffer::mem(self)
    }
    fn iova(&self) -> u64 {
        IommuBuffer::iova(self)
    }
}

impl<T: DmaMemory + ?Sized> DmaMemory for std::sync::Arc<T> {
    fn mem(&self) -> &Mapping {
        (**self).mem()
    }
    fn iova(&self) -> u64 {
        (**self).iova()
    }
}

/// Anonymous memory standing for DMA memory at `iova` (no IOMMU): what a
/// device model writes into.
#[derive(Debug)]
pub struct HostMemory {
    map: Mapping,
    iova: u64,
}

impl HostMemory {
    /// `len_bytes` of zeroed memory that claims to sit at `iova`.
    pub fn new(len_bytes: usize, iova: u64) -> std::io::Result<HostMemory> {
        Ok(HostMemory {
            map: Mapping::anonymous(len_bytes)?,
            iova,
        })
    }
}

impl DmaMemory for HostMemory {
    fn mem(&self) -> &Mapping {
        &self.map
    }
    fn iova(&self) -> u64 {
        self.iova
    }
}

/// Ring geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// XDMA C2H channel.
    pub channel: u32,
    /// Descriptors (and buffers) in the ring: 2 ..= 1023 (the credit
    /// register's range).
    pub descriptors: u32,
    /// Bytes per buffer: a multiple of the stream width, at most 2^28 - 1.
    pub buffer_bytes: u32,
    /// AXI4-Stream datapath width in bytes (qkd-abi's board description).
    pub stream_width_bytes: u32,
    /// Sleep between polls of the completed-count writeback.
    pub poll: Duration,
}

impl Default for RingConfig {
    fn default() -> RingConfig {
        RingConfig {
            channel: 0,
            descriptors: DEFAULT_DESCRIPTORS,
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            stream_width_bytes: 8,
            poll: Duration::from_micros(20),
        }
    }
}

/// Default descriptors in the ring.
pub const DEFAULT_DESCRIPTORS: u32 = 64;
/// Default buffer size: 64 KiB (64 x 64 KiB = 4 MiB of ring).
pub const DEFAULT_BUFFER_BYTES: u32 = 64 << 10;

fn round_page(n: usize) -> usize {
    n.div_ceil(PAGE) * PAGE
}

/// Byte offsets of the ring's parts in the DMA memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingLayout {
    /// Descriptor `i` at `descriptors + 32 i`.
    pub descriptors: usize,
    /// Stream writeback `i` at `writebacks + 8 i`.
    pub writebacks: usize,
    /// The completed-count writeback.
    pub count: usize,
    /// Buffer `i` at `buffers + buffer_bytes i`.
    pub buffers: usize,
    /// Total bytes of DMA memory needed.
    pub total_bytes: usize,
}

impl RingConfig {
    /// Check the geometry against what the engine can do.
    pub fn validate(&self) -> Result<()> {
        let bad = |what, value: u32, reason| {
            Err(Error::InvalidConfig {
                what,
                value: value.to_string(),
                reason,
            })
        };
        if !(2..=c2h_sgdma::MAX_CREDITS).contains(&self.descriptors) {
            return bad(
                "descriptors",
                self.descriptors,
                "the ring needs 2 to 1023 descriptors (the credit register is 10 bits)",
            );
        }
        if self.stream_width_bytes == 0 || !self.stream_width_bytes.is_multiple_of(8) {
            return bad(
                "stream_width_bytes",
                self.stream_width_bytes,
                "the stream width must be a multiple of the 8-byte record word",
            );
        }
        if self.buffer_bytes == 0
            || !self.buffer_bytes.is_multiple_of(self.stream_width_bytes)
            || self.buffer_bytes > desc::LEN_MASK
        {
            return bad(
                "buffer_bytes",
                self.buffer_bytes,
                "a buffer must be a non-zero multiple of the stream width below 2^28 bytes",
            );
        }
        if self.channel > 3 {
            return bad("channel", self.channel, "XDMA has C2H channels 0 to 3");
        }
        Ok(())
    }
    /// Where everything lives in the DMA memory.
    pub fn layout(&self) -> RingLayout {
        let n = self.descriptors as usize;
        let descriptors = 0;
        let writebacks = round_page(n * desc::BYTES);
        let count = writebacks + round_page(n * wb::STREAM_BYTES);
        let buffers = count + PAGE;
        let total_bytes = buffers + round_page(n * self.buffer_bytes as usize);
        RingLayout {
            descriptors,
            writebacks,
            count,
            buffers,
            total_bytes,
        }
    }
}

/// The C2H channel as an [`EventSource`]. Not `Clone`: one owner drives
/// the channel.
pub struct C2hStream<R: RegIo, M: DmaMemory> {
    bar: R,
    mem: M,
    cfg: RingConfig,
    lay: RingLayout,
    id: EngineId,
    /// Descriptors the host has finished with, since open.
    consumed: u64,
    /// Bytes of descriptor `consumed` already handed out.
    read_pos: u32,
    /// Descriptors the engine has completed, since open.
    completed: u64,
    /// `completed` when the channel was last started (the engine's count
    /// restarts at 0 on each rising edge of `run`).
    run_base: u64,
    /// Credits owed to the engine (buffers re-armed but not yet announced).
    owed_credits: u32,
    running: bool,
}

impl<R: RegIo, M: DmaMemory> C2hStream<R, M> {
    /// Identify the C2H channel on `bar` (the DMA BAR), build the ring in
    /// `mem`, reset and start the channel.
    pub fn new(mut bar: R, mem: M, cfg: RingConfig) -> Result<C2hStream<R, M>> {
        cfg.validate()?;
        let lay = cfg.layout();
        if mem.mem().len() < lay.total_bytes {
            return Err(Error::InvalidConfig {
                what: "dma_bytes",
                value: mem.mem().len().to_string(),
                reason: "the DMA memory is smaller than the ring needs",
            });
        }
        if !mem.iova().is_multiple_of(PAGE as u64) {
            return Err(Error::InvalidConfig {
                what: "iova",
                value: format!("{:#x}", mem.iova()),
                reason: "the DMA memory's IOVA must be page-aligned",
            });
        }
        let id = engine::identify_c2h(&mut bar, cfg.channel)?;
        let mut s = C2hStream {
            bar,
            mem,
            cfg,
            lay,
            id,
            consumed: 0,
            read_pos: 0,
            completed: 0,
            run_base: 0,
            owed_credits: 0,
            running: false,
        };
        s.reset()?;
        s.write_descriptors()?;
        s.start()?;
        Ok(s)
    }

    fn ch(&self, byte: u32) -> u32 {
        reg_addr(engine::target::C2H, self.cfg.channel, byte)
    }
    fn sg(&self, byte: u32) -> u32 {
        reg_addr(engine::target::C2H_SGDMA, self.cfg.channel, byte)
    }
    fn common(&self, byte: u32) -> u32 {
        reg_addr(engine::target::SGDMA_COMMON, 0, byte)
    }
    fn n(&self) -> u64 {
        u64::from(self.cfg.descriptors)
    }
    fn iova_of(&self, offset: usize) -> u64 {
        self.mem.iova() + offset as u64
    }
    fn mem_err(&self, what: &'static str) -> Error {
        Error::XdmaRing {
            reason: format!("DMA memory access to the {what} out of bounds"),
        }
    }

    fn write_descriptors(&mut self) -> Result<()> {
        let n = self.cfg.descriptors as usize;
        for i in 0..n {
            let next = (i + 1) % n;
            let d = desc::encode(
                desc::COMPLETED,
                self.cfg.buffer_bytes,
                self.iova_of(self.lay.writebacks + i * wb::STREAM_BYTES),
                self.iova_of(self.lay.buffers + i * self.cfg.buffer_bytes as usize),
                self.iova_of(self.lay.descriptors + next * desc::BYTES),
            );
            self.mem
                .mem()
                .copy_in(self.lay.descriptors + i * desc::BYTES, &d)
                .ok_or_else(|| self.mem_err("descriptors"))?;
        }
        Ok(())
    }

    fn clear_writeback(&self, i: usize) -> Result<()> {
        self.mem
            .mem()
            .copy_in(self.lay.writebacks + i * wb::STREAM_BYTES, &[0u8; 8])
            .ok_or_else(|| self.mem_err("stream writebacks"))
    }

    /// Stop the channel and wait for it to go idle (PG195, C2H Channel
    /// Control `run` = 0: the engine finishes the descriptor in flight).
    /// Descriptors completed so far stay readable; [`C2hStream::start`]
    /// resumes with the next free buffer.
    pub fn stop(&mut self) -> Result<()> {
        self.bar.write32(self.ch(c2h::CONTROL_W1C), ctrl::RUN)?;
        let t0 = Instant::now();
        loop {
            let st = self.bar.read32(self.ch(c2h::STATUS))?;
            if st == u32::MAX {
                return Err(Error::DeviceGone {
                    offset: self.ch(c2h::STATUS),
                });
            }
            if st & status::BUSY == 0 {
                break;
            }
            if t0.elapsed() > Duration::from_millis(500) {
                return Err(Error::XdmaChannel {
                    status: st,
                    reason: "still busy 500 ms after run was cleared".into(),
                });
            }
            std::thread::sleep(self.cfg.poll);
        }
        if self.running {
            // The register is exact (32 bits) where the writeback has 24.
            let count = self.bar.read32(self.ch(c2h::COMPLETED_COUNT))?;
            self.account(u64::from(count), 1 << 32)?;
        }
        self.running = false;
        self.owed_credits = 0;
        Ok(())
    }

    /// Stop the channel, clear its status, drop everything not yet read
    /// and re-arm every buffer (the state after open).
    pub fn reset(&mut self) -> Result<()> {
        self.stop()?;
        let _ = self.bar.read32(self.ch(c2h::STATUS_RC))?;
        self.bar.write32(
            self.common(sgdma_common::CREDIT_MODE_W1C),
            sgdma_common::c2h_bit(self.cfg.channel),
        )?;
        self.bar.write32(
            self.common(sgdma_common::DESC_CONTROL_W1C),
            sgdma_common::c2h_bit(self.cfg.channel),
        )?;
        for i in 0..self.cfg.descriptors as usize {
            self.clear_writeback(i)?;
        }
        self.consumed = 0;
        self.completed = 0;
        self.read_pos = 0;
        self.run_base = 0;
        Ok(())
    }

    /// Start (or restart) the channel at the first free buffer, with one
    /// credit per free buffer.
    pub fn start(&mut self) -> Result<()> {
        if self.running {
            return Ok(());
        }
        let n = self.n();
        let first = (self.completed % n) as usize;
        let at = self.iova_of(self.lay.descriptors + first * desc::BYTES);
        self.bar.write32(self.sg(c2h_sgdma::DESC_LO), at as u32)?;
        self.bar
            .write32(self.sg(c2h_sgdma::DESC_HI), (at >> 32) as u32)?;
        self.bar.write32(self.sg(c2h_sgdma::DESC_ADJ), 0)?;
        let cnt = self.iova_of(self.lay.count);
        self.mem
            .mem()
            .write32(self.lay.count, 0)
            .ok_or_else(|| self.mem_err("count writeback"))?;
        self.bar.write32(self.ch(c2h::POLL_WB_LO), cnt as u32)?;
        self.bar
            .write32(self.ch(c2h::POLL_WB_HI), (cnt >> 32) as u32)?;
        self.bar.write32(
            self.common(sgdma_common::CREDIT_MODE_W1S),
            sgdma_common::c2h_bit(self.cfg.channel),
        )?;
        self.bar.write32(self.ch(c2h::INT_ENABLE), 0)?;
        let control = ctrl::RUN
            | ctrl::POLLMODE_WB
            | ctrl::IE_DESC_STOPPED
            | ctrl::IE_DESC_COMPLETED
            | ctrl::IE_ALIGN_MISMATCH
            | ctrl::IE_MAGIC_STOPPED
            | ctrl::IE_INVALID_LENGTH
            | ctrl::IE_IDLE_STOPPED
            | ctrl::IE_READ_ERROR
            | ctrl::IE_DESC_ERROR;
        self.bar.write32(self.ch(c2h::CONTROL), control)?;
        self.run_base = self.completed;
        self.running = true;
        let free = self.n() - (self.completed - self.consumed);
        self.owed_credits = free as u32;
        self.pay_credits()
    }

    fn pay_credits(&mut self) -> Result<()> {
        if self.running && self.owed_credits > 0 {
            self.bar
                .write32(self.sg(c2h_sgdma::DESC_CREDITS), self.owed_credits)?;
        }
        self.owed_credits = 0;
        Ok(())
    }

    /// Fold the engine's completed count since the last start, known
    /// modulo `modulus` (2^24 for the writeback, 2^32 for the register),
    /// into `completed`.
    fn account(&mut self, count: u64, modulus: u64) -> Result<()> {
        let seen = (self.completed - self.run_base) % modulus;
        let delta = (count + modulus - seen) % modulus;
        let completed = self.completed + delta;
        if completed - self.consumed > self.n() {
            return Err(Error::XdmaRing {
                reason: format!(
                    "the engine reports {} descriptors completed, {} more than the {} buffers the host had handed back",
                    completed,
                    completed - self.consumed - self.n(),
                    self.n()
                ),
            });
        }
        self.completed = completed;
        Ok(())
    }

    /// Read the count writeback; `true` if new descriptors completed.
    fn refresh(&mut self) -> Result<bool> {
        let w = self
            .mem
            .mem()
            .read32(self.lay.count)
            .ok_or_else(|| self.mem_err("count writeback"))?;
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        if w & wb::COUNT_ERR != 0 {
            return Err(self.channel_error());
        }
        let before = self.completed;
        self.account(u64::from(w & wb::COUNT_MASK), u64::from(wb::COUNT_MASK) + 1)?;
        Ok(self.completed > before)
    }

    fn channel_error(&mut self) -> Error {
        match self.bar.read32(self.ch(c2h::STATUS)) {
            Ok(st) => Error::XdmaChannel {
                status: st,
                reason: format!(
                    "engine stopped on {}",
                    match engine::status_errors(st) {
                        v if v.is_empty() => "an error (no status bit left set)".to_string(),
                        v => v.join(", "),
                    }
                ),
            },
            Err(e) => e,
        }
    }

    /// Check the channel while no data arrives: an error or a cleared
    /// `run` bit is reported, never waited out.
    fn check_idle(&mut self) -> Result<()> {
        let st = self.bar.read32(self.ch(c2h::STATUS))?;
        if st == u32::MAX {
            return Err(Error::DeviceGone {
                offset: self.ch(c2h::STATUS),
            });
        }
        if st & status::ERRORS != 0 {
            return Err(self.channel_error());
        }
        let c = self.bar.read32(self.ch(c2h::CONTROL))?;
        if self.running && c & ctrl::RUN == 0 {
            return Err(Error::XdmaChannel {
                status: st,
                reason: "the run bit was cleared behind the driver's back".into(),
            });
        }
        Ok(())
    }

    /// Valid length of completed descriptor `i` from its stream writeback.
    fn valid_len(&self, i: usize) -> Result<u32> {
        let at = self.lay.writebacks + i * wb::STREAM_BYTES;
        let m = self.mem.mem();
        let (w0, len) = (m.read32(at), m.read32(at + 4));
        let (w0, len) = w0
            .zip(len)
            .ok_or_else(|| self.mem_err("stream writebacks"))?;
        let reason = if w0 >> 16 != wb::STREAM_MAGIC {
            Some("wb_magic is not 0x52B4")
        } else if len > self.cfg.buffer_bytes {
            Some("length exceeds the buffer")
        } else if len % self.cfg.stream_width_bytes != 0 {
            Some("length is not a multiple of the stream width")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::XdmaWriteback {
                index: i as u32,
                word: w0,
                len_bytes: len,
                reason,
            }),
            None => Ok(len),
        }
    }

    /// Copy completed data into `buf` (whole 8-byte words); re-arm the
    /// buffers emptied.
    fn drain(&mut self, buf: &mut [u8]) -> Result<usize> {
        let cap = buf.len() & !7;
        let mut n = 0;
        while n < cap && self.consumed < self.completed {
            let i = (self.consumed % self.n()) as usize;
            let len = self.valid_len(i)?;
            let take = ((len - self.read_pos) as usize).min(cap - n);
            let off =
                self.lay.buffers + i * self.cfg.buffer_bytes as usize + self.read_pos as usize;
            self.mem
                .mem()
                .copy_out(off, &mut buf[n..n + take])
                .ok_or_else(|| self.mem_err("buffers"))?;
            n += take;
            self.read_pos += take as u32;
            if self.read_pos == len {
                self.clear_writeback(i)?;
                self.read_pos = 0;
                self.consumed += 1;
                self.owed_credits += 1;
            }
        }
        self.pay_credits()?;
        Ok(n)
    }

    /// The decoded C2H channel identifier.
    pub fn engine_id(&self) -> EngineId {
        self.id
    }
    /// Descriptors completed by the engine and consumed by the host, since open.
    pub fn counts(&self) -> (u64, u64) {
        (self.completed, self.consumed)
    }
    /// Whether the channel is running.
    pub fn is_running(&self) -> bool {
        self.running
    }
    /// The DMA BAR.
    pub fn bar(&mut self) -> &mut R {
        &mut self.bar
    }
}

impl<R: RegIo, M: DmaMemory> EventSource for C2hStream<R, M> {
    fn read_bytes(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let t0 = Instant::now();
        loop {
            let n = self.drain(buf)?;
            if n > 0 || buf.len() < 8 {
                return Ok(n);
            }
            if self.running && !self.refresh()? {
                self.check_idle()?;
            }
            if self.consumed < self.completed {
                continue;
            }
            if t0.elapsed() >= timeout {
                return Ok(0);
            }
            std::thread::sleep(self.cfg.poll);
        }
    }

    fn dma_engine(&self) -> Option<DmaEngineInfo> {
        Some(DmaEngineInfo {
            engine: "Xilinx XDMA (PG195)",
            channel: format!(
                "C2H channel {}, {}",
                self.id.channel,
                if self.id.stream {
                    "AXI4-Stream"
                } else {
                    "AXI4 memory mapped"
                }
            ),
            id: self.id,
            descriptors: self.cfg.descriptors,
            buffer_bytes: self.cfg.buffer_bytes,
        })
    }
}

impl<R: RegIo, M: DmaMemory> Drop for C2hStream<R, M> {
    fn drop(&mut self) {
        // The engine must be idle before the DMA memory (dropped next, an
        // IOMMU unmap for the real buffer) goes away.
        if self.running {
            if let Err(e) = self.stop() {
                tracing::error!("stopping the XDMA C2H channel: {e}");
            }
        }
    }
}

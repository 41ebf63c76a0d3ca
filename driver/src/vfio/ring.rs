// SPDX-License-Identifier: MIT OR Apache-2.0
//! The VFIO DMA ring: a host-memory ring the card writes records into, with
//! the card's write pointer in a register (format in driver/README.md).
//!
//! Register block (proposed, not yet in qkd-abi; the driver finds it on the
//! BLOCK_ID chain by type [`RING_BLOCK_TYPE`], major [`RING_BLOCK_MAJOR`]):
//!
//! | offset | name           | access | meaning                                            |
//! |--------|----------------|--------|----------------------------------------------------|
//! | +0x00  | RING_ID        | RO     | BLOCK_ID (type 0x0012, major 1, next)              |
//! | +0x04  | RING_CTRL      | RW     | bit 0 ENABLE; bit 1 RESET (strobe: both pointers to 0) |
//! | +0x08  | RING_BASE_LO   | RW     | IOVA of the ring, low 32 bits (aligned to its size) |
//! | +0x0C  | RING_BASE_HI   | RW     | IOVA, high 32 bits                                 |
//! | +0x10  | RING_SIZE_LOG2 | RW     | ring size = 2^n bytes, 12 <= n <= 30               |
//! | +0x14  | RING_WR_PTR    | RO     | bytes written by the card since RESET, mod 2^32    |
//! | +0x18  | RING_RD_PTR    | RW     | bytes consumed by the host since RESET, mod 2^32   |
//!
//! Byte `p` of the stream lives at ring offset `p mod size`. The card
//! writes whole 64-bit words, never lets `WR - RD` exceed the size (it
//! back-pressures the record FIFO instead, which then emits GAP records),
//! and advances WR only after the data writes (PCIe ordering: the MMIO
//! read completion of WR cannot pass the earlier posted DMA writes, so
//! Relaxed Ordering must be off for the ring writes).

use crate::error::{Error, Result};
use crate::sys::{IommuBuffer, Mapping};
use crate::transport::{EventSource, RegIo};
use std::time::{Duration, Instant};

/// Block type of the DMA ring block.
pub const RING_BLOCK_TYPE: u16 = 0x0012;
/// Major version this driver speaks.
pub const RING_BLOCK_MAJOR: u8 = 1;
/// `RING_CTRL` offset in the block.
pub const RING_CTRL: u32 = 0x04;
/// `RING_BASE_LO` offset.
pub const RING_BASE_LO: u32 = 0x08;
/// `RING_BASE_HI` offset.
pub const RING_BASE_HI: u32 = 0x0C;
/// `RING_SIZE_LOG2` offset.
pub const RING_SIZE_LOG2: u32 = 0x10;
/// `RING_WR_PTR` offset.
pub const RING_WR_PTR: u32 = 0x14;
/// `RING_RD_PTR` offset.
pub const RING_RD_PTR: u32 = 0x18;
/// `RING_CTRL.ENABLE`.
pub const CTRL_ENABLE: u32 = 1 << 0;
/// `RING_CTRL.RESET`.
pub const CTRL_RESET: u32 = 1 << 1;

/// Memory the ring lives in (the IOMMU-mapped buffer, or a test buffer).
pub trait RingMemory: Send + Sync {
    /// Size in bytes.
    fn len_bytes(&self) -> usize;
    /// Copy out `dst.len()` bytes at `offset` (both multiples of 8).
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Option<()>;
}

impl RingMemory for Mapping {
    fn len_bytes(&self) -> usize {
        self.len()
    }
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        Mapping::copy_out(self, offset, dst)
    }
}

impl RingMemory for IommuBuffer {
    fn len_bytes(&self) -> usize {
        self.mem().len()
    }
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        self.mem().copy_out(offset, dst)
    }
}

impl<T: RingMemory + ?Sized> RingMemory for std::sync::Arc<T> {
    fn len_bytes(&self) -> usize {
        (**self).len_bytes()
    }
    fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        (**self).copy_out(offset, dst)
    }
}

/// Reads the ring by polling the card's write pointer.
pub struct RingReader<R, M> {
    regs: R,
    base: u32,
    mem: M,
    size: u32,
    rd: u32,
    poll: Duration,
}

impl<R: RegIo, M: RingMemory> RingReader<R, M> {
    /// Program the ring block at byte `block_base` for `mem` at `iova`,
    /// reset both pointers and enable the card's writes.
    pub fn new(mut regs: R, block_base: u32, mem: M, iova: u64) -> Result<RingReader<R, M>> {
        let size = mem.len_bytes();
        if !size.is_power_of_two() || !(1 << 12..=1 << 30).contains(&size) {
            return Err(Error::InvalidConfig {
                what: "ring_bytes",
                value: size.to_string(),
                reason: "the ring size must be a power of two from 4 KiB to 1 GiB",
            });
        }
        if iova % size as u64 != 0 {
            return Err(Error::InvalidConfig {
                what: "iova",
                value: format!("{iova:#x}"),
                reason: "the ring's IOVA must be aligned to its size",
            });
        }
        regs.write32(block_base + RING_CTRL, 0)?;
        regs.write32(block_base + RING_BASE_LO, iova as u32)?;
        regs.write32(block_base + RING_BASE_HI, (iova >> 32) as u32)?;
        regs.write32(block_base + RING_SIZE_LOG2, size.trailing_zeros())?;
        regs.write32(block_base + RING_CTRL, CTRL_RESET)?;
        let rd = regs.read32(block_base + RING_WR_PTR)?;
        regs.write32(block_base + RING_RD_PTR, rd)?;
        regs.write32(block_base + RING_CTRL, CTRL_ENABLE)?;
        Ok(RingReader {
            regs,
            base: block_base,
            mem,
            size: size as u32,
            rd,
            poll: Duration::from_micros(50),
        })
    }
    /// Interval between polls of the write pointer (default 50 us).
    pub fn set_poll_interval(&mut self, d: Duration) {
        self.poll = d;
    }
}

impl<R: RegIo, M: RingMemory> EventSource for RingReader<R, M> {
    fn read_bytes(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let t0 = Instant::now();
        loop {
            let wr = self.regs.read32(self.base + RING_WR_PTR)?;
            let used = wr.wrapping_sub(self.rd);
            if used > self.size || used % 8 != 0 {
                return Err(Error::RingPointers {
                    wr,
                    rd: self.rd,
                    used,
                    size: self.size,
                });
            }
            let n = (used as usize).min(buf.len() & !7);
            if n > 0 {
                let pos = (self.rd % self.size) as usize;
                let first = n.min(self.size as usize - pos);
                let bad = || Error::RingPointers {
                    wr,
                    rd: self.rd,
                    used,
                    size: self.size,
                };
                self.mem.copy_out(pos, &mut buf[..first]).ok_or_else(bad)?;
                self.mem.copy_out(0, &mut buf[first..n]).ok_or_else(bad)?;
                self.rd = self.rd.wrapping_add(n as u32);
                self.regs.write32(self.base + RING_RD_PTR, self.rd)?;
                return Ok(n);
            }
            if t0.elapsed() >= timeout {
                return Ok(0);
            }
            std::thread::sleep(self.poll);
        }
    }
}

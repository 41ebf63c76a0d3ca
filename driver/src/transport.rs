// SPDX-License-Identifier: MIT OR Apache-2.0
//! The two transport traits every backend implements (DESIGN.md, Driver):
//! [`RegIo`] for 32-bit CSR access at a byte offset and [`EventSource`] for
//! the card-to-host record stream. Nothing above them knows the backend.
//!
//! Also [`MemRegs`], an in-memory register file (atomics, shareable between
//! threads) used by tests and by device models such as qkd-sim.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// 32-bit register access at a byte offset from the start of the CSR space.
pub trait RegIo: Send {
    /// Read the register at byte `offset` (4-aligned).
    fn read32(&mut self, offset: u32) -> Result<u32>;
    /// Write the register at byte `offset` (4-aligned).
    fn write32(&mut self, offset: u32, value: u32) -> Result<()>;
    /// Size of the register window in bytes.
    fn window_bytes(&self) -> usize;
}

/// The card-to-host record stream.
pub trait EventSource: Send {
    /// Read stream bytes into `buf`, waiting at most `timeout` for the first
    /// byte. Returns the number of bytes read; `Ok(0)` means the timeout
    /// passed with no data. A stream that has ended (writer closed, device
    /// removed) returns [`Error::StreamEnded`].
    fn read_bytes(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize>;
    /// The card-side DMA engine this source drives, if it drives one
    /// itself (the `vfio:` backend); `None` for streams a kernel driver or
    /// a model delivers.
    fn dma_engine(&self) -> Option<crate::vfio::engine::DmaEngineInfo> {
        None
    }
}

impl<T: RegIo + ?Sized> RegIo for Box<T> {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        (**self).read32(offset)
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        (**self).write32(offset, value)
    }
    fn window_bytes(&self) -> usize {
        (**self).window_bytes()
    }
}

impl<T: EventSource + ?Sized> EventSource for Box<T> {
    fn read_bytes(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        (**self).read_bytes(buf, timeout)
    }
    fn dma_engine(&self) -> Option<crate::vfio::engine::DmaEngineInfo> {
        (**self).dma_engine()
    }
}

/// Check a register offset against a window: aligned and `offset + 4 <= len`.
pub fn check_offset(offset: u32, window_bytes: usize) -> Result<usize> {
    if !offset.is_multiple_of(4) {
        return Err(Error::Unaligned { offset });
    }
    let off = usize::try_from(offset).map_err(|_| Error::OutOfBounds {
        offset,
        len_bytes: window_bytes,
    })?;
    match off.checked_add(4) {
        Some(end) if end <= window_bytes => Ok(off),
        _ => Err(Error::OutOfBounds {
            offset,
            len_bytes: window_bytes,
        }),
    }
}

/// An in-memory register file: plain words, no access semantics (a write
/// stores, a read returns the last write). Cloning shares the storage, so
/// a device model in another thread can play the card.
#[derive(Debug, Clone)]
pub struct MemRegs {
    words: Arc<[AtomicU32]>,
}

impl MemRegs {
    /// `window_bytes / 4` zeroed registers.
    pub fn new(window_bytes: usize) -> MemRegs {
        MemRegs {
            words: (0..window_bytes / 4).map(|_| AtomicU32::new(0)).collect(),
        }
    }
    /// Registers preloaded with every reset value of `map`.
    pub fn from_map(map: &qkd_abi::RegisterMap) -> MemRegs {
        let regs = MemRegs::new(map.span_bytes() as usize);
        for r in map.registers() {
            regs.words[r.word() as usize].store(r.reset, Ordering::SeqCst);
        }
        regs
    }
    /// Card-side read (no bounds error: out of range reads 0).
    pub fn get(&self, offset: u32) -> u32 {
        self.words
            .get(offset as usize / 4)
            .map_or(0, |w| w.load(Ordering::Acquire))
    }
    /// Card-side write (out of range is ignored).
    pub fn set(&self, offset: u32, value: u32) {
        if let Some(w) = self.words.get(offset as usize / 4) {
            w.store(value, Ordering::Release);
        }
    }
}

impl RegIo for MemRegs {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        let off = check_offset(offset, self.window_bytes())?;
        Ok(self.words[off / 4].load(Ordering::Acquire))
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        let off = check_offset(offset, self.window_bytes())?;
        self.words[off / 4].store(value, Ordering::Release);
        Ok(())
    }
    fn window_bytes(&self) -> usize {
        self.words.len() * 4
    }
}

/// An [`EventSource`] over bytes already in memory (for replaying captures
/// and for tests); ends with [`Error::StreamEnded`] once drained.
#[derive(Debug, Clone)]
pub struct BytesSource {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl BytesSource {
    /// Serve `data` in reads of at most `chunk_bytes` (>= 1).
    pub fn new(data: Vec<u8>, chunk_bytes: usize) -> BytesSource {
        BytesSource {
            data,
            pos: 0,
            chunk: chunk_bytes.max(1),
        }
    }
}

impl EventSource for BytesSource {
    fn read_bytes(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize> {
        if self.pos >= self.data.len() {
            return Err(Error::StreamEnded {
                path: "<memory>".into(),
            });
        }
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_checked() {
        assert!(matches!(
            check_offset(2, 16),
            Err(Error::Unaligned { offset: 2 })
        ));
        assert!(matches!(
            check_offset(16, 16),
            Err(Error::OutOfBounds { .. })
        ));
        assert_eq!(check_offset(12, 16).unwrap(), 12);
        let mut r = MemRegs::new(16);
        r.write32(8, 5).unwrap();
        assert_eq!(r.read32(8).unwrap(), 5);
        assert_eq!(r.clone().get(8), 5);
        assert!(r.read32(u32::MAX - 3).is_err());
    }
}

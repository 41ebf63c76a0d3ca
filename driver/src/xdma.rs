// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `xdma:` backend: Xilinx's open-source XDMA kernel driver
//! (dma_ip_drivers/XDMA/linux-kernel). `/dev/xdmaN_user` is mmapped as the
//! AXI4-Lite user BAR; `/dev/xdmaN_c2h_K` is read for the AXI4-Stream
//! card-to-host channel K.
//!
//! The same code runs unmodified against stand-ins: a regular file as the
//! user BAR and a FIFO as the c2h device (see driver/tests/).

use crate::device::{Backend, DeviceUri};
use crate::error::{Error, Result};
use crate::sys::{poll_read, read_more, Mapping, ReadOutcome};
use crate::transport::{check_offset, EventSource, RegIo};
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bytes of the user BAR mapped when the device does not report a size
/// (character devices): one page, which holds every block of both roles.
pub const DEFAULT_BAR_BYTES: u64 = 4096;

/// The mmapped user BAR.
#[derive(Debug)]
pub struct XdmaRegs {
    map: Mapping,
    path: PathBuf,
}

impl XdmaRegs {
    /// Map `len_bytes` of the user BAR device (or stand-in file) at `path`.
    /// `len_bytes` `None`: the file's size if it is a regular file, else
    /// [`DEFAULT_BAR_BYTES`].
    pub fn open(path: &Path, len_bytes: Option<u64>) -> Result<XdmaRegs> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_SYNC | nix::libc::O_CLOEXEC)
            .open(path)
            .map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let meta = file.metadata().map_err(|source| Error::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let len = match (len_bytes, meta.is_file()) {
            (Some(n), true) if n > meta.len() => {
                return Err(Error::BadUri {
                    uri: path.display().to_string(),
                    reason: format!("bar_bytes={n} exceeds the {}-byte file", meta.len()),
                })
            }
            (Some(n), _) => n,
            (None, true) => meta.len(),
            (None, false) => DEFAULT_BAR_BYTES,
        };
        let len = usize::try_from(len).map_err(|_| Error::BadUri {
            uri: path.display().to_string(),
            reason: "BAR size exceeds the address space".into(),
        })?;
        let map = Mapping::map_shared(file.as_fd(), 0, len).map_err(|source| Error::Map {
            what: path.display().to_string(),
            len_bytes: len,
            source,
        })?;
        // The mapping stays valid after the fd is closed.
        Ok(XdmaRegs {
            map,
            path: path.to_path_buf(),
        })
    }
    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl RegIo for XdmaRegs {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        let off = check_offset(offset, self.map.len())?;
        self.map.read32(off).ok_or(Error::OutOfBounds {
            offset,
            len_bytes: self.map.len(),
        })
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        let off = check_offset(offset, self.map.len())?;
        self.map.write32(off, value).ok_or(Error::OutOfBounds {
            offset,
            len_bytes: self.map.len(),
        })
    }
    fn window_bytes(&self) -> usize {
        self.map.len()
    }
}

/// A c2h stream device, read with poll + read.
#[derive(Debug)]
pub struct XdmaStream {
    file: File,
    path: PathBuf,
    drain: bool,
}

impl XdmaStream {
    /// Open the c2h device (or a FIFO stand-in) non-blocking, so that a FIFO
    /// without a writer does not block the open.
    pub fn open(path: &Path) -> Result<XdmaStream> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
            .open(path)
            .map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?;
        // A FIFO or pipe (the stand-in) honours O_NONBLOCK, so after poll
        // says readable we may drain it; the XDMA character device does not
        // (a second read would wait for another DMA transfer).
        let drain = file
            .metadata()
            .map(|m| m.file_type().is_fifo())
            .unwrap_or(false);
        Ok(XdmaStream {
            file,
            path: path.to_path_buf(),
            drain,
        })
    }
}

impl EventSource for XdmaStream {
    fn read_bytes(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        match poll_read(self.file.as_fd(), buf, timeout) {
            Ok(ReadOutcome::Data(n)) if self.drain => {
                Ok(n + read_more(self.file.as_fd(), &mut buf[n..]))
            }
            Ok(ReadOutcome::Data(n)) => Ok(n),
            Ok(ReadOutcome::Timeout) => Ok(0),
            Ok(ReadOutcome::Eof) => Err(Error::StreamEnded {
                path: self.path.clone(),
            }),
            Err(source) => Err(Error::StreamIo {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

/// Open `xdma:/dev/xdmaN[?c2h=K&bar_bytes=N]`.
pub fn open(uri: &DeviceUri) -> Result<Backend> {
    uri.only_options(&["c2h", "bar_bytes"])?;
    if uri.target.is_empty() {
        return Err(Error::BadUri {
            uri: uri.uri.clone(),
            reason: "expected a device prefix, e.g. xdma:/dev/xdma0".into(),
        });
    }
    let channel = uri.option_u64("c2h", 0)?;
    let bar = uri
        .option("bar_bytes")
        .map(|_| uri.option_u64("bar_bytes", 0))
        .transpose()?;
    let user = PathBuf::from(format!("{}_user", uri.target));
    let c2h = PathBuf::from(format!("{}_c2h_{channel}", uri.target));
    let regs = XdmaRegs::open(&user, bar)?;
    let events = XdmaStream::open(&c2h)?;
    Ok(Backend {
        regs: Box::new(regs),
        events: Some(Box::new(events)),
    })
}

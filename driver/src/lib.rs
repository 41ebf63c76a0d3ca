// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-driver: Linux userspace driver for the QKD cores (DESIGN.md, Driver).
//!
//! * [`transport`]: the [`RegIo`] and [`EventSource`] traits every backend
//!   implements.
//! * [`device`]: opening by URI (`xdma:`, `vfio:`, and the caller's
//!   [`BackendProvider`] for `sim:`), binding by header and block chain
//!   ([`header`]).
//! * [`xdma`], [`vfio`]: the two hardware backends; every `unsafe` is in [`sys`].
//! * [`regs`]: typed register access and the Alice/Bob control API.
//! * [`stream`], [`fastdec`]: the lossless record-stream reader.
//! * [`cli`]: the integrator commands (`device info`, `regs dump`, `events tail`).

pub mod cli;
pub mod device;
pub mod error;
pub mod fastdec;
pub mod header;
pub mod regs;
pub mod stream;
pub mod sys;
pub mod transport;
pub mod vfio;
pub mod xdma;

pub use device::{open, open_with, Backend, BackendProvider, Device, DeviceUri, NoProvider};
pub use error::{Error, Result};
pub use fastdec::SlotDetection;
pub use header::DeviceHeader;
pub use stream::{Batch, LossReport, StreamReader};
pub use transport::{EventSource, MemRegs, RegIo};

// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-gateware: rust-hdl blocks of the QKD cores and their Verilog generation.
//!
//! * [`common`]: blocks both roles use (test PRNG, QRNG health tests, CSR
//!   bank, record stream with GAP accounting, AXI4-Lite and AXI4-Stream).
//! * [`alice`]: the transmitter (decoy selector, pulse-pattern generator,
//!   symbol packer, `qkd_alice` top).
//! * [`bob`]: the receiver (TDC, gate generator, dead time, after-gate and
//!   blinding protections, detection packer, `qkd_bob` top).
//!
//! Behaviour is specified in `docs/gateware-spec.md`; the golden models in
//! crate `qkd-model` are written from the same page.

pub mod alice;
pub mod bob;
pub mod common;
pub mod generate;
pub mod report;

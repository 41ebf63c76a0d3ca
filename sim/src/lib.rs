// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-sim: simulation of the QKD link.
//!
//! * [`verilator`]: builds the generated Verilog of a core with Verilator
//!   into a shared library (cached by content hash) and drives it cycle by
//!   cycle from Rust, with an AXI4-Lite master and an AXI4-Stream sink.
//! * [`physics`]: the optical channel, detectors and attacks between Alice
//!   and Bob, and the simulated devices behind the driver's traits.

pub mod physics;
pub mod verilator;

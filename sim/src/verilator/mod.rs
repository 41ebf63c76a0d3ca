// SPDX-License-Identifier: MIT OR Apache-2.0
//! Verilator harness for the generated cores.

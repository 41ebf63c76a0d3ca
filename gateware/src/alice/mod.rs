// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice, the transmitter: per-lane pattern generator ([`lane`]) and the
//! `qkd_alice` top ([`top`]) with CSR bank, symbol packer and record stream.

pub mod lane;
pub mod top;

// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-gateware: rust-hdl blocks of the QKD cores.

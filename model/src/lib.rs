// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-model: golden (reference) models of the QKD gateware, written from
//! `docs/gateware-spec.md` and independently of the rust-hdl code.

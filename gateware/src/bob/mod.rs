// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob, the receiver (gateware spec section 5): oversampling TDC, slot
//! alignment, common dead time and gates, after-gate and blinding
//! protections, basis choice, detection records and the `qkd_bob` top.

pub mod after_gate;
pub mod basis_choice;
pub mod blinding_monitor;
pub mod classify;
pub mod dead_time;
pub mod popcount;
pub mod tdc;
pub mod top;

/// `n` default-constructed items (ports, registers, blocks of a `Vec` field).
pub(crate) fn vec_of<T: Default>(n: usize) -> Vec<T> {
    (0..n).map(|_| T::default()).collect()
}

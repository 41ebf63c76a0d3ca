// SPDX-License-Identifier: MIT OR Apache-2.0
//! Blocks shared by both roles (see `README.md` in this folder for how a
//! top instantiates them).

pub mod add48;
pub mod csr;
pub mod fifo_empty;
pub mod fifo_full;
pub mod health;
pub mod prng;
pub mod sat_add;
pub mod stream;

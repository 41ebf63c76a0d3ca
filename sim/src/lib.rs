// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-sim: simulation of the QKD link.

// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-host: the QKD key pipeline (issue 6): link configuration, sifting,
//! finite-key decoy-state estimation (Lim et al., PRA 89, 022307, 2014),
//! the key-rate planner, and the block pipeline that ties them to the
//! post-processing primitives of `qkd-keyproc`.
//!
//! Feature `sim` (default) adds the simulated link (`run`, `network`,
//! `timeline`, `gateware`, `sim:` devices); without it the crate is the hardware-only
//! stack and does not link qkd-sim.

pub mod block_messages;
pub mod budget;
pub mod channel;
pub mod cli;
pub mod config;
pub mod device_setup;
pub mod devices;
pub mod estimation;
pub mod exit;
pub mod feed;
#[cfg(feature = "sim")]
pub mod gateware;
pub mod history;
pub mod latency;
pub mod linkstate;
#[cfg(feature = "sim")]
pub mod network;
pub mod pipeline;
pub mod planner;
pub mod plot;
pub mod rolefile;
pub mod roles;
#[cfg(feature = "sim")]
pub mod run;
pub mod sifting;
pub mod simtables;
#[cfg(feature = "sim")]
pub mod timeline;

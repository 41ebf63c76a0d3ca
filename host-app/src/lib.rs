// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-host: the QKD key pipeline (issue 6): link configuration, sifting,
//! finite-key decoy-state estimation (Lim et al., PRA 89, 022307, 2014),
//! the key-rate planner, and the block pipeline that ties them to the
//! post-processing primitives of `qkd-keyproc`.

pub mod block_messages;
pub mod budget;
pub mod channel;
pub mod config;
pub mod device_setup;
pub mod estimation;
pub mod exit;
pub mod feed;
pub mod gateware;
pub mod history;
pub mod linkstate;
pub mod network;
pub mod pipeline;
pub mod planner;
pub mod plot;
pub mod rolefile;
pub mod roles;
pub mod run;
pub mod sifting;
pub mod simtables;
pub mod timeline;

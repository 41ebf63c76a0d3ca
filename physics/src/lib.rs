// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-physics: the physics of the QKD link in closed form, shared by the
//! key-rate planner (`qkd-host keyrate`) and the simulator (`qkd-sim`,
//! which draws its random events from these parameters). No randomness
//! and no simulation here, so a hardware-only `qkd-host` plans links
//! without linking the simulator.
//!
//! * [`source`]: Alice's decoy-state source.
//! * [`channel`]: fibre and free-space channels, and how a channel varies
//!   during a run.
//! * [`free_space`]: loss, background and turbulence of a free-space link.
//! * [`satellite`]: the geometry and loss of a satellite pass.
//! * [`detector`]: Bob's detectors and his TDC gate window.
//! * [`receiver`]: the receiver's expected detection and error rates.

pub mod channel;
pub mod detector;
pub mod free_space;
pub mod receiver;
pub mod satellite;
pub mod source;

pub use channel::{ChannelParams, ChannelSchedule};
pub use detector::{DetectorParams, GateWindow};
pub use source::SourceParams;

/// A physical parameter outside its allowed range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// A parameter is outside its allowed range.
    #[error("{field} = {value} is out of range")]
    OutOfRange {
        /// Parameter name (as in the link TOML where there is one).
        field: &'static str,
        /// Offending value.
        value: f64,
    },
}

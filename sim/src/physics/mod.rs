// SPDX-License-Identifier: MIT OR Apache-2.0
//! Optical channel, detector and attack models, the fast behavioural link
//! (`sim:`), and the simulated devices. See `README.md` in this folder for
//! the design (geometric skipping, Alice's compressed stream) and sources.

pub mod alice;
pub mod attack;
pub mod bob;
pub mod channel;
pub mod detector;
pub mod device;
pub mod eve;
pub mod free_space;
pub mod link;
pub mod prng;
pub mod receiver;
pub mod rng;
pub mod satellite;
pub mod source;

pub use attack::{AttackConfig, AttackKind, ClickSource, EveInfo};
pub use channel::ChannelParams;
pub use detector::DetectorParams;
pub use device::SimProvider;
pub use eve::{
    check_key_slots_unknown, eve_known_slots, known_detections_without_alarm, EveKnowsKeyBits,
};
pub use link::{run_link, EveTag, FastLink, LinkOutput, LinkParams, LinkStats, Trace};
pub use source::SourceParams;

/// Errors of the physics layer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A parameter is outside its allowed range.
    #[error("{field} = {value} is out of range")]
    OutOfRange {
        /// Parameter name (as in the link TOML where there is one).
        field: &'static str,
        /// Offending value.
        value: f64,
    },
}

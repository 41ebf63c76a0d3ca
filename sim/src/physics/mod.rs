// SPDX-License-Identifier: MIT OR Apache-2.0
//! Optical channel, detector and attack models, the fast behavioural link
//! (`sim:`), and the simulated devices. See `README.md` in this folder for
//! the design (geometric skipping, Alice's compressed stream) and sources.

pub mod alice;
pub mod attack;
pub mod bob;
pub mod detector;
pub mod device;
pub mod eve;
pub mod free_space;
pub mod link;
pub mod prng;
pub mod rng;

// The closed-form physics (parameters, loss, the receiver's expected
// rates) lives in qkd-physics, shared with the key-rate planner.
pub use qkd_physics::{channel, receiver, satellite, source};

pub use attack::{AttackConfig, AttackKind, ClickSource, EveInfo};
pub use channel::ChannelParams;
pub use detector::DetectorParams;
pub use device::SimProvider;
pub use eve::{
    check_key_slots_unknown, eve_known_slots, known_detections_without_alarm, EveKnowsKeyBits,
};
pub use link::{run_link, EveTag, FastLink, LinkOutput, LinkParams, LinkStats, Trace};
pub use source::SourceParams;

/// Errors of the physics layer: a parameter out of range.
pub use qkd_physics::ParamError as SimError;

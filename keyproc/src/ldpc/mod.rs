// SPDX-License-Identifier: MIT OR Apache-2.0
//! One-way / blind rate-adaptive LDPC reconciliation: a seeded family of
//! quasi-cyclic codes ([`code`]), a layered min-sum syndrome decoder
//! ([`decoder`]), the blind protocol over the generic reconciler traits
//! ([`protocol`]) and the latency-aware choice between Cascade and LDPC
//! ([`kind`]).

pub mod code;
pub mod decoder;
pub mod kind;
pub mod protocol;

pub use code::{family, QcCode, FRAME_BITS};
pub use decoder::Decoder;
pub use kind::{round_trips, time_per_block, ReconcilerKind};
pub use protocol::{Ldpc, LdpcConfig, LdpcResponder};

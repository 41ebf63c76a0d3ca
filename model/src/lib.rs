// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-model: golden (reference) models of the QKD gateware, written from
//! `docs/gateware-spec.md` and independently of the rust-hdl code.
//!
//! One module per concept: [`prng`] (spec 1), [`health`] (spec 3, NIST SP
//! 800-90B 4.4), [`alice`] (spec 4), [`bob`] (spec 5),
//! [`stream_check`] (spec 6), [`clicks`] (stimulus for Bob),
//! [`csr`] (spec 7).

pub mod alice;
pub mod bob;
pub mod clicks;
pub mod csr;
pub mod health;
pub mod prng;
pub mod stream_check;

/// Most lanes a core can have (LANES is 1, 2, 4 or 8).
pub const MAX_LANES: usize = 8;

/// Errors of the models' constructors and register accessors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// LANES is not 1, 2, 4 or 8.
    #[error("lanes must be 1, 2, 4 or 8, got {0}")]
    Lanes(usize),
    /// OVERSAMPLE is not 4, 8 or 16.
    #[error("oversample must be 4, 8 or 16, got {0}")]
    Oversample(usize),
    /// DETECTORS is not 1..=4.
    #[error("detectors must be 1 to 4, got {0}")]
    Detectors(usize),
    /// The model has no such register.
    #[error("no register named {0:?} in this model")]
    UnknownRegister(String),
}

pub(crate) fn check_lanes(lanes: usize) -> Result<(), ModelError> {
    if matches!(lanes, 1 | 2 | 4 | 8) {
        Ok(())
    } else {
        Err(ModelError::Lanes(lanes))
    }
}

/// Deterministic proptest configuration: the RNG is seeded from the test
/// name (team rule: every RNG seeded deterministically).
#[cfg(test)]
pub(crate) fn proptest_config(name: &str, cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(clicks::seed_from_name(name)),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}

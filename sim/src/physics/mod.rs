// SPDX-License-Identifier: MIT OR Apache-2.0
//! Optical channel, detector and attack models, the fast behavioural link
//! (`sim:`), and the simulated devices. See `README.md` in this folder for
//! the design (geometric skipping, Alice's compressed stream) and sources.

pub mod bob;
pub mod prng;
pub mod rng;

// SPDX-License-Identifier: MIT OR Apache-2.0
//! A synthetic link for the pipeline tests: Alice's symbols and Bob's
//! detections drawn from the decoy-state detection model, written as the
//! devices' records.
#![allow(dead_code)]

use qkd_abi::records::{AliceSymbols, Detection, Record, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::{Basis, Intensity, Symbol};
use qkd_host::config::LinkConfig;
use qkd_host::pipeline::PipelineConfig;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

/// Synthetic link: Alice's choices with the configured probabilities; Bob
/// detects with D_k = 1 - (1 - 2 p_dc) e^(-eta mu_k), picks his basis with
/// q_Z, and sees Alice's bit flipped with probability `qber` when the bases
/// match (a random bit otherwise).
pub struct Synthetic {
    eta: f64,
    p_dc: f64,
    qber: f64,
    intensities: [f64; 3],
    probabilities: [f64; 3],
    q_z: f64,
}

/// Deterministic seed from a test name (FNV-1a).
pub use qkd_model::clicks::seed_from_name as seed_of;

impl Synthetic {
    /// Records for `slots` slots starting at absolute slot `start`.
    pub fn generate(
        &self,
        rng: &mut ChaCha20Rng,
        start: u64,
        slots: u64,
    ) -> (Vec<Record>, Vec<Record>) {
        let d: Vec<f64> = self
            .intensities
            .iter()
            .map(|mu| 1.0 - (1.0 - 2.0 * self.p_dc) * (-self.eta * mu).exp())
            .collect();
        let mut alice = vec![Record::Epoch((start >> SLOT_BITS) as u32)];
        let mut bob = vec![Record::Epoch((start >> SLOT_BITS) as u32)];
        let mut syms = Vec::with_capacity(1023);
        let mut rec_start = start;
        for s in start..start + slots {
            if s != start && s & SLOT_MASK == 0 {
                // The low 40 bits wrap: close the record, announce the epoch.
                if !syms.is_empty() {
                    alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                        rec_start & SLOT_MASK,
                        &syms,
                    )));
                    syms.clear();
                }
                rec_start = s;
                alice.push(Record::Epoch((s >> SLOT_BITS) as u32));
                bob.push(Record::Epoch((s >> SLOT_BITS) as u32));
            }
            let u: f64 = rng.random();
            let k = if u < self.probabilities[0] {
                0
            } else if u < self.probabilities[0] + self.probabilities[1] {
                1
            } else {
                2
            };
            let basis = Basis::from_bit(!rng.random_bool(self.q_z));
            let bit: bool = rng.random();
            let intensity = [Intensity::Signal, Intensity::Decoy, Intensity::Vacuum][k];
            syms.push(Symbol::new(intensity, basis, bit));
            if rng.random_bool(d[k]) {
                let bob_basis = Basis::from_bit(!rng.random_bool(self.q_z));
                let bob_bit = if bob_basis == basis {
                    bit ^ rng.random_bool(self.qber)
                } else {
                    rng.random()
                };
                bob.push(Record::Detection(Detection {
                    slot: s & SLOT_MASK,
                    detector: u8::from(bob_bit),
                    fine_bin: 3,
                    basis: bob_basis,
                    invalid: false,
                }));
            }
            if syms.len() == 1023 {
                alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                    rec_start & SLOT_MASK,
                    &syms,
                )));
                syms.clear();
                rec_start = s + 1;
            }
        }
        if !syms.is_empty() {
            alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                rec_start & SLOT_MASK,
                &syms,
            )));
        }
        (alice, bob)
    }
}

pub fn link(qber: f64) -> Synthetic {
    Synthetic {
        eta: 0.5,
        p_dc: 1e-6,
        qber,
        intensities: [0.42, 0.23, 0.0002],
        probabilities: [0.31, 0.51, 0.18],
        q_z: 0.5,
    }
}

pub fn config(block_bits: u64, seed: u64) -> PipelineConfig {
    let mut link = LinkConfig::default();
    link.source.basis_z_probability = 0.5;
    link.postprocessing.block_bits = block_bits as f64;
    let mut c = PipelineConfig::from_link(&link);
    c.recv_timeout = Duration::from_secs(20);
    c.rng_seed = Some(seed);
    c
}

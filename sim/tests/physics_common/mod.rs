// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared test helpers for the physics tests: a plain sifting of the two
//! record streams (BB84, Bennett and Brassard 1984): keep accepted single
//! clicks whose basis equals Alice's, per intensity class.
#![allow(dead_code)]

use qkd_abi::records::{CounterId, Record};
use qkd_abi::symbol::Symbol;
use qkd_sim::physics::EveTag;
use std::collections::HashMap;

/// Per intensity (signal, decoy, vacuum): sifted Z bits and errors, sifted X bits and errors.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sifted {
    pub z: [u64; 3],
    pub z_err: [u64; 3],
    pub x: [u64; 3],
    pub x_err: [u64; 3],
    /// Sifted Z signal/decoy bits Eve knows.
    pub z_known: u64,
}

impl Sifted {
    pub fn qber_z(&self) -> f64 {
        (self.z_err[0] + self.z_err[1]) as f64 / (self.z[0] + self.z[1]).max(1) as f64
    }
}

pub fn alice_symbols(alice: &[Record]) -> HashMap<u64, Symbol> {
    let mut m = HashMap::new();
    for r in alice {
        if let Record::AliceSymbols(a) = r {
            for (i, s) in a.symbols().enumerate() {
                m.insert(a.start_slot + i as u64, s);
            }
        }
    }
    m
}

pub fn sift(alice: &[Record], bob: &[Record], eve: &[EveTag]) -> Sifted {
    let syms = alice_symbols(alice);
    let dets: Vec<_> = bob
        .iter()
        .filter_map(|r| {
            if let Record::Detection(d) = r {
                Some(*d)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(dets.len(), eve.len(), "one Eve tag per DETECTION");
    let mut s = Sifted::default();
    for (i, d) in dets.iter().enumerate() {
        let double = (i > 0 && dets[i - 1].slot == d.slot)
            || dets.get(i + 1).is_some_and(|n| n.slot == d.slot);
        if d.invalid || double {
            continue;
        }
        let a = syms
            .get(&d.slot)
            .expect("Alice's record covers every detection");
        let Some(k) = a.intensity().index() else {
            continue;
        };
        if a.basis() != d.basis {
            continue;
        }
        let err = u8::from(a.bit()) != d.detector;
        match d.basis {
            qkd_abi::symbol::Basis::Z => {
                s.z[k] += 1;
                s.z_err[k] += u64::from(err);
                if k < 2 && eve[i].eve_knows {
                    s.z_known += 1;
                }
            }
            qkd_abi::symbol::Basis::X => {
                s.x[k] += 1;
                s.x_err[k] += u64::from(err);
            }
        }
    }
    s
}

/// OR of AlarmsSeen over Bob's STATUS records.
pub fn alarms_seen(bob: &[Record]) -> u32 {
    bob.iter()
        .filter_map(|r| {
            if let Record::Status(s) = r {
                s.get(CounterId::AlarmsSeen)
            } else {
                None
            }
        })
        .fold(0, |a, v| a | v as u32)
}

/// Check the accounting identity of every Bob STATUS (spec 5.3); returns the number of STATUS records.
pub fn check_accounting(bob: &[Record]) -> usize {
    let mut n = 0;
    for r in bob {
        if let Record::Status(s) = r {
            let (raw, classified) = qkd_model::bob::status_accounting(s);
            assert_eq!(raw, classified, "accounting identity in {s:?}");
            n += 1;
        }
    }
    n
}

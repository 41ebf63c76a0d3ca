// SPDX-License-Identifier: MIT OR Apache-2.0
//! Properties of the seeded QC-LDPC family and of the layered decoder,
//! checked against the code's own adjacency lists (built bit by bit, not
//! through the word-rotation syndrome under test):
//! degrees as designed, girth >= 6 (no two checks share two bits),
//! untainted puncturing (no check with two punctured bits), shortening
//! disjoint from puncturing, determinism, syndrome = naive H x, linearity,
//! and decoding of noisy frames back to Alice's frame.

use proptest::prelude::*;
use qkd_keyproc::ldpc::code::{CodeSpec, QcCode, BASE_COLS, FAMILY, FAMILY_SEED, LIFT};
use qkd_keyproc::ldpc::decoder::{channel_llr, Decoder};
use qkd_keyproc::ldpc::{family, FRAME_BITS};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::HashSet;

fn adjacency(code: &QcCode) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let checks: Vec<Vec<usize>> = (0..code.m())
        .map(|ch| {
            let mut v = Vec::new();
            code.bits_of(ch, &mut v);
            v
        })
        .collect();
    let mut bits = vec![Vec::new(); FRAME_BITS];
    for (ch, bs) in checks.iter().enumerate() {
        for &b in bs {
            bits[b].push(ch);
        }
    }
    (checks, bits)
}

#[test]
fn family_degrees_girth_and_puncturing() {
    for (ci, code) in family().iter().enumerate() {
        let spec = FAMILY[ci];
        let mb = spec.base_rows;
        assert_eq!(code.m(), mb * LIFT);
        let (checks, bits) = adjacency(code);
        // Column degrees: mb - 1 of degree 2, high_cols of high_degree, rest 3.
        let mut hist = std::collections::BTreeMap::new();
        for (v, cs) in bits.iter().enumerate() {
            assert_eq!(
                cs.len(),
                code.column_degree(v / LIFT),
                "bit {v} of code {ci}"
            );
            *hist.entry(cs.len()).or_insert(0usize) += 1;
            let mut from_code = Vec::new();
            code.checks_of(v, &mut from_code);
            from_code.sort_unstable();
            let mut sorted = cs.clone();
            sorted.sort_unstable();
            assert_eq!(from_code, sorted, "checks_of and bits_of disagree at {v}");
        }
        assert_eq!(hist[&2], (mb - 1) * LIFT, "code {ci}");
        assert_eq!(hist[&spec.high_degree], spec.high_cols * LIFT, "code {ci}");
        assert_eq!(
            hist[&3],
            (BASE_COLS - mb + 1 - spec.high_cols) * LIFT,
            "code {ci}"
        );
        // Row degrees concentrated.
        let (dmin, dmax) = checks.iter().fold((usize::MAX, 0), |(a, b), c| {
            (a.min(c.len()), b.max(c.len()))
        });
        assert!(dmax - dmin <= 2, "code {ci}: check degrees {dmin}..{dmax}");
        // No 4-cycles: no pair of bits shares two checks.
        let mut pairs = HashSet::new();
        for cs in &checks {
            for (i, &a) in cs.iter().enumerate() {
                for &b in &cs[i + 1..] {
                    assert!(
                        pairs.insert((a.min(b), a.max(b))),
                        "code {ci}: bits {a}, {b} share two checks (4-cycle)"
                    );
                }
            }
        }
        // Untainted puncturing; shortening disjoint from it.
        let punct: HashSet<u32> = code.puncture_order().iter().copied().collect();
        assert_eq!(punct.len(), code.max_punctured());
        assert!(
            code.max_punctured() > code.m() / 3,
            "code {ci} punctures few bits"
        );
        for cs in &checks {
            let n = cs.iter().filter(|&&b| punct.contains(&(b as u32))).count();
            assert!(n <= 1, "code {ci}: a check has {n} punctured bits");
        }
        assert_eq!(code.shorten_order().len(), FRAME_BITS - punct.len());
        assert!(code.shorten_order().iter().all(|v| !punct.contains(v)));
    }
}

#[test]
fn generation_is_deterministic_and_seed_dependent() {
    let spec = FAMILY[6];
    let a = QcCode::generate(spec, FAMILY_SEED).unwrap();
    let b = QcCode::generate(spec, FAMILY_SEED).unwrap();
    let c = QcCode::generate(spec, FAMILY_SEED + 1).unwrap();
    assert_eq!(a.rows(), b.rows());
    assert_eq!(a.puncture_order(), b.puncture_order());
    assert_ne!(a.rows(), c.rows());
}

#[test]
fn invalid_specs_are_errors() {
    for spec in [
        CodeSpec {
            base_rows: 2,
            high_degree: 3,
            high_cols: 0,
        },
        CodeSpec {
            base_rows: 16,
            high_degree: 17,
            high_cols: 4,
        },
        CodeSpec {
            base_rows: 16,
            high_degree: 8,
            high_cols: 250,
        },
    ] {
        assert!(QcCode::generate(spec, 1).is_err(), "{spec:?}");
    }
}

fn random_frame(rng: &mut ChaCha8Rng) -> Vec<u128> {
    (0..BASE_COLS)
        .map(|_| (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
        .collect()
}

fn bit(x: &[u128], v: usize) -> bool {
    (x[v / LIFT] >> (v % LIFT)) & 1 == 1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn syndrome_matches_naive_and_is_linear(seed in any::<u64>(), ci in 0usize..10) {
        let code = &family()[ci];
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = random_frame(&mut rng);
        let y = random_frame(&mut rng);
        let sx = code.syndrome(&x);
        let mut bs = Vec::new();
        for ch in (0..code.m()).step_by(37) {
            bs.clear();
            code.bits_of(ch, &mut bs);
            let naive = bs.iter().fold(false, |acc, &v| acc ^ bit(&x, v));
            prop_assert_eq!(naive, (sx[ch / LIFT] >> (ch % LIFT)) & 1 == 1);
        }
        let xy: Vec<u128> = x.iter().zip(&y).map(|(a, b)| a ^ b).collect();
        let sy = code.syndrome(&y);
        let sxy = code.syndrome(&xy);
        for i in 0..sx.len() {
            prop_assert_eq!(sxy[i], sx[i] ^ sy[i]);
        }
    }
}

/// Frame with Bernoulli(q) errors, decoded against Alice's syndrome.
fn decode_noisy(ci: usize, q: f64, seed: u64) -> (bool, bool) {
    let code = &family()[ci];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x = random_frame(&mut rng);
    let syn = code.syndrome(&x);
    let c = channel_llr(q);
    let llr: Vec<i16> = (0..FRAME_BITS)
        .map(|v| {
            let flip = (rng.next_u64() as f64) < q * u64::MAX as f64;
            if bit(&x, v) ^ flip {
                -c
            } else {
                c
            }
        })
        .collect();
    let mut dec = Decoder::new();
    let out = dec.decode(code, &llr, &syn, 50);
    let equal = dec.hard_words() == &x[..];
    (out.converged, equal)
}

#[test]
fn decoder_corrects_noisy_frames() {
    // Rate 1/2 at f = 1.5 (QBER 6.8 %), rate 0.94 at f = 2.
    for (ci, q, seed) in [(0usize, 0.068, 1u64), (8, 0.0032, 2)] {
        let (converged, equal) = decode_noisy(ci, q, seed);
        assert!(converged && equal, "code {ci} at {q}");
    }
}

#[test]
fn decoder_reports_failure_above_capacity() {
    // QBER 15 % on the rate-1/2 code is beyond capacity (h = 0.61 > 0.5).
    let (converged, equal) = decode_noisy(0, 0.15, 3);
    assert!(!converged && !equal);
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Finite-key decoy-state parameter estimation for BB84 with three
//! intensities, after Lim, Curty, Walenta, Xu and Zbinden, "Concise
//! security bounds for practical decoy-state quantum key distribution",
//! PRA 89, 022307 (2014), Eqs. (1)-(5).
//!
//! Naming follows this project: Z is the key basis, X the test basis (the
//! paper uses X for the key and Z for the test; the formulas are the same
//! with the letters swapped). Counts are `f64` so that the planner can feed
//! expected values; the pipeline feeds integer counts.

use crate::config::LinkConfig;
use serde::{Deserialize, Serialize};
use std::f64::consts::LN_2;

/// Why a block yields no key at the estimation stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum EstimationAbort {
    /// Not enough detections for the bounds to mean anything.
    #[error("too few counts: {what} = {count}")]
    TooFewCounts {
        /// Which count, e.g. `n_X`.
        what: String,
        /// Its value.
        count: f64,
    },
    /// The upper bound on the phase error rate exceeds the tolerance.
    #[error("phase error bound {phase_error_bound:.4} exceeds the tolerance {tolerance}")]
    PhaseErrorAboveTolerance {
        /// phi_Z from Eq. (5).
        phase_error_bound: f64,
        /// Largest accepted phi_Z.
        tolerance: f64,
    },
    /// A lower bound (s_Z1, s_X1) or the key length of Eq. (1) is not positive.
    #[error("{bound} = {value:.1} is not positive")]
    BoundNotPositive {
        /// Which bound: `s_Z1`, `s_X1` or `ell`.
        bound: String,
        /// Its value.
        value: f64,
    },
}

/// Protocol parameters that enter the bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecoyParams {
    /// [mu1, mu2, mu3] with mu1 > mu2 + mu3, mu2 > mu3 >= 0.
    pub intensities: [f64; 3],
    /// p_k, probability of choosing intensity k.
    pub probabilities: [f64; 3],
    /// Total secrecy parameter eps_sec of Eq. (1).
    pub eps_sec: f64,
    /// Correctness parameter eps_cor of Eq. (1).
    pub eps_cor: f64,
    /// Largest accepted phase-error bound phi_Z (at most 0.5).
    pub phase_error_tolerance: f64,
}

/// Default phase-error tolerance: 0.5, where h(phi) reaches 1 and Eq. (1)
/// can give no key from single photons anyway.
pub const DEFAULT_PHASE_ERROR_TOLERANCE: f64 = 0.5;

impl DecoyParams {
    /// From the link configuration.
    pub fn from_config(cfg: &LinkConfig) -> DecoyParams {
        DecoyParams {
            intensities: cfg.source.intensities,
            probabilities: cfg.source.probabilities,
            eps_sec: cfg.postprocessing.eps_sec,
            eps_cor: cfg.postprocessing.eps_cor,
            phase_error_tolerance: DEFAULT_PHASE_ERROR_TOLERANCE,
        }
    }

    /// tau_n = sum_k p_k e^{-k} k^n / n!, the probability that Alice sends
    /// an n-photon state (Lim et al., text below Eq. (2)); n = 0 or 1.
    pub fn tau(&self, n: u32) -> f64 {
        let fact = if n == 0 {
            1.0
        } else {
            (1..=n).map(f64::from).product()
        };
        (0..3)
            .map(|k| {
                let mu = self.intensities[k];
                self.probabilities[k] * (-mu).exp() * mu.powi(n as i32) / fact
            })
            .sum()
    }
}

/// Detection and error counts of one block, per intensity k = mu1, mu2, mu3.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecoyCounts {
    /// n_{Z,k}: sifted key-basis detections.
    pub n_z: [f64; 3],
    /// n_{X,k}: sifted test-basis detections.
    pub n_x: [f64; 3],
    /// m_{X,k}: bit errors in the test basis.
    pub m_x: [f64; 3],
}

/// The bounds of Eqs. (2)-(5) for one block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower bound on vacuum events in Z, Eq. (2) (clamped at 0).
    pub s_z0: f64,
    /// Lower bound on single-photon events in Z, Eq. (3).
    pub s_z1: f64,
    /// Lower bound on vacuum events in X, Eq. (2) for X (clamped at 0).
    pub s_x0: f64,
    /// Lower bound on single-photon events in X, Eq. (3) for X.
    pub s_x1: f64,
    /// Upper bound on single-photon bit errors in X, Eq. (4).
    pub v_x1: f64,
    /// Upper bound on the single-photon phase error rate in Z, Eq. (5).
    pub phase_error_bound: f64,
}

/// Binary entropy h(x) = -x log2 x - (1-x) log2(1-x); 0 outside (0, 1).
pub fn binary_entropy(x: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 || x.is_nan() {
        0.0
    } else {
        -x * x.log2() - (1.0 - x) * (1.0 - x).log2()
    }
}

/// Hoeffding deviation delta(n, eps) = sqrt(n/2 ln(1/eps)) (Lim et al.,
/// below Eq. (2): the +- term of n^{+-}_{X,k} with eps = eps_sec/21).
pub fn hoeffding_delta(n: f64, eps: f64) -> f64 {
    (n / 2.0 * (1.0 / eps).ln()).max(0.0).sqrt()
}

/// n^{+-}_k = e^{mu_k}/p_k (n_k +- delta(n_total, eps_sec/21)) (Lim et al.,
/// definition below Eq. (2)). Returns (minus, plus).
fn decoy_corrected(p: &DecoyParams, counts: &[f64; 3]) -> ([f64; 3], [f64; 3]) {
    let total: f64 = counts.iter().sum();
    let d = hoeffding_delta(total, p.eps_sec / 21.0);
    let mut minus = [0.0; 3];
    let mut plus = [0.0; 3];
    for k in 0..3 {
        let w = p.intensities[k].exp() / p.probabilities[k];
        minus[k] = w * (counts[k] - d);
        plus[k] = w * (counts[k] + d);
    }
    (minus, plus)
}

/// Eq. (2): s_0 >= tau_0 (mu2 n^-_{mu3} - mu3 n^+_{mu2}) / (mu2 - mu3),
/// clamped at 0 (a negative lower bound is replaced by the trivial one).
pub fn vacuum_lower_bound(p: &DecoyParams, counts: &[f64; 3]) -> f64 {
    let (minus, plus) = decoy_corrected(p, counts);
    let [_, mu2, mu3] = p.intensities;
    (p.tau(0) * (mu2 * minus[2] - mu3 * plus[1]) / (mu2 - mu3)).max(0.0)
}

/// Eq. (3): s_1 >= tau_1 mu1 [n^-_{mu2} - n^+_{mu3}
///   - (mu2^2 - mu3^2)/mu1^2 (n^+_{mu1} - s_0/tau_0)] / [mu1 (mu2 - mu3) - mu2^2 + mu3^2].
pub fn single_photon_lower_bound(p: &DecoyParams, counts: &[f64; 3], s0: f64) -> f64 {
    let (minus, plus) = decoy_corrected(p, counts);
    let [mu1, mu2, mu3] = p.intensities;
    let num =
        minus[1] - plus[2] - (mu2 * mu2 - mu3 * mu3) / (mu1 * mu1) * (plus[0] - s0 / p.tau(0));
    let den = mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3;
    p.tau(1) * mu1 * num / den
}

/// Eq. (4): v_X1 <= tau_1 (m^+_{X,mu2} - m^-_{X,mu3}) / (mu2 - mu3), with the
/// Hoeffding deviation taken over m_X = sum_k m_{X,k}; clamped at 0.
pub fn single_photon_error_upper_bound(p: &DecoyParams, m_x: &[f64; 3]) -> f64 {
    let (minus, plus) = decoy_corrected(p, m_x);
    let [_, mu2, mu3] = p.intensities;
    (p.tau(1) * (plus[1] - minus[2]) / (mu2 - mu3)).max(0.0)
}

/// gamma(a, b, c, d) of Eq. (5):
/// sqrt( (c+d)(1-b) b / (c d ln 2) * log2( (c+d)/(c d (1-b) b) * 21^2/a^2 ) ).
/// At b = 0 the limit 0 is returned.
pub fn gamma(a: f64, b: f64, c: f64, d: f64) -> f64 {
    let bb = (1.0 - b) * b;
    if bb <= 0.0 {
        return 0.0;
    }
    let inner = (c + d) / (c * d * bb) * (21.0 * 21.0) / (a * a);
    ((c + d) * bb / (c * d * LN_2) * inner.log2())
        .max(0.0)
        .sqrt()
}

/// Eq. (5): phi_Z <= v_X1/s_X1 + gamma(eps_sec, v_X1/s_X1, s_Z1, s_X1).
pub fn phase_error_upper_bound(eps_sec: f64, v_x1: f64, s_z1: f64, s_x1: f64) -> f64 {
    let b = v_x1 / s_x1;
    b + gamma(eps_sec, b, s_z1, s_x1)
}

/// Eqs. (2)-(5) on one block's counts. Aborts when a count total is below 1,
/// when s_Z1 or s_X1 is not positive, or when phi_Z exceeds the tolerance.
pub fn estimate(p: &DecoyParams, c: &DecoyCounts) -> Result<Bounds, EstimationAbort> {
    let n_z: f64 = c.n_z.iter().sum();
    let n_x: f64 = c.n_x.iter().sum();
    for (what, count) in [("n_Z", n_z), ("n_X", n_x)] {
        if count.is_nan() || count < 1.0 {
            return Err(EstimationAbort::TooFewCounts {
                what: what.into(),
                count,
            });
        }
    }
    let s_z0 = vacuum_lower_bound(p, &c.n_z);
    let s_z1 = single_photon_lower_bound(p, &c.n_z, s_z0);
    let s_x0 = vacuum_lower_bound(p, &c.n_x);
    let s_x1 = single_photon_lower_bound(p, &c.n_x, s_x0);
    for (bound, value) in [("s_Z1", s_z1), ("s_X1", s_x1)] {
        if value.is_nan() || value <= 0.0 {
            return Err(EstimationAbort::BoundNotPositive {
                bound: bound.into(),
                value,
            });
        }
    }
    let v_x1 = single_photon_error_upper_bound(p, &c.m_x);
    let phi = phase_error_upper_bound(p.eps_sec, v_x1, s_z1, s_x1);
    let tol = p.phase_error_tolerance.min(0.5);
    if phi.is_nan() || phi > tol {
        return Err(EstimationAbort::PhaseErrorAboveTolerance {
            phase_error_bound: phi,
            tolerance: tol,
        });
    }
    Ok(Bounds {
        s_z0,
        s_z1,
        s_x0,
        s_x1,
        v_x1,
        phase_error_bound: phi,
    })
}

/// Eq. (1) as a real number:
/// ell = s_Z0 + s_Z1 (1 - h(phi_Z)) - lambda_EC - 6 log2(21/eps_sec) - log2(2/eps_cor).
pub fn key_length_real(p: &DecoyParams, b: &Bounds, leak_ec_bits: f64) -> f64 {
    b.s_z0 + b.s_z1 * (1.0 - binary_entropy(b.phase_error_bound))
        - leak_ec_bits
        - 6.0 * (21.0 / p.eps_sec).log2()
        - (2.0 / p.eps_cor).log2()
}

/// Eq. (1) rounded down to whole bits; aborts when it is not positive.
pub fn secret_key_bits(
    p: &DecoyParams,
    b: &Bounds,
    leak_ec_bits: f64,
) -> Result<u64, EstimationAbort> {
    let ell = key_length_real(p, b, leak_ec_bits);
    if ell.is_nan() || ell < 1.0 {
        return Err(EstimationAbort::BoundNotPositive {
            bound: "ell".into(),
            value: ell,
        });
    }
    Ok(ell.floor().min(u64::MAX as f64) as u64)
}

/// Everything the planner's optimiser needs, computed without aborting: the
/// bounds where they exist and a continuous key length (h(phi) taken as 1
/// where phi cannot be bounded below 1/2).
pub fn key_length_unchecked(p: &DecoyParams, c: &DecoyCounts, leak_ec_bits: f64) -> (Bounds, f64) {
    let s_z0 = vacuum_lower_bound(p, &c.n_z);
    let s_z1 = single_photon_lower_bound(p, &c.n_z, s_z0);
    let s_x0 = vacuum_lower_bound(p, &c.n_x);
    let s_x1 = single_photon_lower_bound(p, &c.n_x, s_x0);
    let v_x1 = single_photon_error_upper_bound(p, &c.m_x);
    let phi = if s_z1 > 0.0 && s_x1 > 0.0 {
        phase_error_upper_bound(p.eps_sec, v_x1, s_z1, s_x1)
    } else {
        f64::NAN
    };
    let phi_used = if phi.is_finite() && phi < 0.5 {
        phi
    } else {
        0.5
    };
    let b = Bounds {
        s_z0,
        s_z1,
        s_x0,
        s_x1,
        v_x1,
        phase_error_bound: phi,
    };
    let ell = key_length_real(
        p,
        &Bounds {
            phase_error_bound: phi_used,
            s_z1: s_z1.max(0.0),
            ..b
        },
        leak_ec_bits,
    );
    (b, ell)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lim_params() -> DecoyParams {
        DecoyParams {
            intensities: [0.42, 0.23, 0.0002],
            probabilities: [0.31, 0.51, 0.18],
            eps_sec: 1e-9,
            eps_cor: 1e-15,
            phase_error_tolerance: 0.5,
        }
    }

    fn close(a: f64, b: f64, rel: f64) {
        assert!((a - b).abs() <= rel * b.abs().max(1.0), "{a} vs {b}");
    }

    // Independent golden values, computed with this stand-alone Python (not
    // with this crate), which transcribes Lim et al. Eqs. (1)-(5):
    //
    //   from math import exp, log, log2, sqrt, factorial
    //   def h(x): return 0 if x<=0 or x>=1 else -x*log2(x)-(1-x)*log2(1-x)
    //   def bounds(mu, p, nz, nx, mx, eps_sec, eps_cor, leak):
    //     L = log(21/eps_sec)
    //     tau = lambda n: sum(p[k]*exp(-mu[k])*mu[k]**n/factorial(n) for k in range(3))
    //     def pm(c, tot, s):
    //       d = sqrt(tot/2*L); return [exp(mu[k])/p[k]*(c[k]+s*d) for k in range(3)]
    //     def s0s1(c):
    //       tot=sum(c); P=pm(c,tot,1); M=pm(c,tot,-1); m1,m2,m3=mu
    //       s0 = max(tau(0)*(m2*M[2]-m3*P[1])/(m2-m3), 0)
    //       s1 = tau(1)*m1*(M[1]-P[2]-(m2**2-m3**2)/m1**2*(P[0]-s0/tau(0)))/(m1*(m2-m3)-m2**2+m3**2)
    //       return s0, s1
    //     sz0,sz1 = s0s1(nz); sx0,sx1 = s0s1(nx)
    //     mt=sum(mx); P=pm(mx,mt,1); M=pm(mx,mt,-1)
    //     vx1 = tau(1)*(P[1]-M[2])/(mu[1]-mu[2]); b = vx1/sx1; c,d = sz1,sx1
    //     g = sqrt((c+d)*(1-b)*b/(c*d*log(2))*log2((c+d)/(c*d*(1-b)*b)*21**2/eps_sec**2))
    //     phi = b+g
    //     return sz0, sz1, sx0, sx1, vx1, phi, sz0+sz1*(1-h(phi))-leak-6*log2(21/eps_sec)-log2(2/eps_cor)
    //
    // Example A: expected counts of Lim's Sec. IV model (eta_sys = 1e-3,
    // p_dc 6e-7, p_ap 0.04, e_mis 0.005, N = 5.26e9, q_Z = 0.86), rounded;
    // leak = round(1.16 n_Z h(E_Z)) = 205033. Python prints
    //   s_Z0 0, s_Z1 621556.2150331665, s_X0 0, s_X1 8766.437284775253,
    //   v_X1 1161.5278940892752, phi 0.16603141931830073, ell 13159.270614263329
    #[test]
    fn worked_example_a_matches_independent_python() {
        let p = lim_params();
        let c = DecoyCounts {
            n_z: [528171.0, 477006.0, 1020.0],
            n_x: [13997.0, 12641.0, 27.0],
            m_x: [355.0, 335.0, 12.0],
        };
        let b = estimate(&p, &c).unwrap();
        assert_eq!(b.s_z0, 0.0);
        close(b.s_z1, 621556.2150331665, 1e-9);
        assert_eq!(b.s_x0, 0.0);
        close(b.s_x1, 8766.437284775253, 1e-9);
        close(b.v_x1, 1161.5278940892752, 1e-9);
        close(b.phase_error_bound, 0.16603141931830073, 1e-9);
        close(key_length_real(&p, &b, 205033.0), 13159.270614263329, 1e-9);
        assert_eq!(secret_key_bits(&p, &b, 205033.0), Ok(13159));
    }

    // Example B: same model with eta_sys = 1e-2, p_dc = 2e-4, N = 1e9, which
    // makes the vacuum bound of Eq. (2) positive; leak 1120966. Python prints
    //   s_Z0 219912.28676392595, s_Z1 1247906.882311211, s_X0 2763.985340196764,
    //   s_X1 19653.419025439787, v_X1 3485.40921135717, phi 0.20227002221531534,
    //   ell -559939.0792128134
    #[test]
    fn worked_example_b_positive_vacuum_bound_and_negative_key() {
        let p = lim_params();
        let c = DecoyCounts {
            n_z: [1094356.0, 1057769.0, 55658.0],
            n_x: [29001.0, 28032.0, 1475.0],
            m_x: [1900.0, 2653.0, 734.0],
        };
        let b = estimate(&p, &c).unwrap();
        close(b.s_z0, 219912.28676392595, 1e-9);
        close(b.s_z1, 1247906.882311211, 1e-9);
        close(b.s_x0, 2763.985340196764, 1e-9);
        close(b.s_x1, 19653.419025439787, 1e-9);
        close(b.v_x1, 3485.40921135717, 1e-9);
        close(b.phase_error_bound, 0.20227002221531534, 1e-9);
        close(key_length_real(&p, &b, 1120966.0), -559939.0792128134, 1e-9);
        match secret_key_bits(&p, &b, 1120966.0) {
            Err(EstimationAbort::BoundNotPositive { bound, .. }) => assert_eq!(bound, "ell"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hand_checked_small_pieces() {
        // tau_0 = 0.31 e^-0.42 + 0.51 e^-0.23 + 0.18 e^-0.0002
        //       = 0.31*0.657047 + 0.51*0.794534 + 0.18*0.999800
        //       = 0.203685 + 0.405212 + 0.179964 = 0.788861 (hand)
        close(lim_params().tau(0), 0.788861, 1e-5);
        // delta(2e6, 1e-9) = sqrt(1e6 * ln 1e9) = sqrt(1e6*20.7233) = 4552.29 (hand)
        close(hoeffding_delta(2e6, 1e-9), 4552.29, 1e-5);
        // h(0.11) = 0.11*3.18442 + 0.89*0.168123 = 0.499916 (hand)
        close(binary_entropy(0.11), 0.499916, 1e-5);
        assert_eq!(gamma(1e-9, 0.0, 10.0, 10.0), 0.0);
    }

    #[test]
    fn typed_aborts() {
        let p = lim_params();
        let e = estimate(&p, &DecoyCounts::default()).unwrap_err();
        assert!(matches!(e, EstimationAbort::TooFewCounts { ref what, .. } if what == "n_Z"));
        // Equal yields for all intensities (no decoy signature): s_Z1 < 0.
        let flat = DecoyCounts {
            n_z: [31000.0, 51000.0, 18000.0],
            n_x: [31000.0, 51000.0, 18000.0],
            m_x: [0.0; 3],
        };
        assert!(matches!(
            estimate(&p, &flat),
            Err(EstimationAbort::BoundNotPositive { .. })
        ));
        // Errors at 25 % in X on example A's detections: phase error > 0.5... or tolerance.
        let mut c = DecoyCounts {
            n_z: [528171.0, 477006.0, 1020.0],
            n_x: [13997.0, 12641.0, 27.0],
            m_x: [3500.0, 3160.0, 12.0],
        };
        let mut q = p.clone();
        q.phase_error_tolerance = 0.11;
        assert!(matches!(
            estimate(&q, &c),
            Err(EstimationAbort::PhaseErrorAboveTolerance { .. })
        ));
        c.m_x = [355.0, 335.0, 12.0];
        assert!(estimate(&q, &c).is_err(), "phi 0.166 is above 0.11 too");
    }

    fn base_counts() -> impl Strategy<Value = DecoyCounts> {
        (1e4f64..1e7, 0.01f64..0.05, 0.0f64..0.03).prop_map(|(n, frac_x, e)| {
            // Yields shaped like Lim's model with eta ~ 1e-3, so that bounds exist.
            let y = [0.42f64, 0.23, 0.0002].map(|m| 1.0 - (-1e-3 * m).exp() + 1.2e-6);
            let p = [0.31, 0.51, 0.18];
            let scale = n / (0..3).map(|k| p[k] * y[k]).sum::<f64>();
            let n_z = [0, 1, 2].map(|k| (scale * p[k] * y[k]).round());
            let n_x = n_z.map(|v| (v * frac_x).round());
            let m_x = [n_x[0] * e, n_x[1] * e, n_x[2] * 0.5].map(f64::round);
            DecoyCounts { n_z, n_x, m_x }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Eq. (1) is linear in lambda_EC with slope -1.
        #[test]
        fn key_length_drops_one_bit_per_leaked_bit(c in base_counts(), leak in 0f64..1e6, extra in 1f64..1e4) {
            let p = lim_params();
            if let Ok(b) = estimate(&p, &c) {
                let a = key_length_real(&p, &b, leak);
                let z = key_length_real(&p, &b, leak + extra);
                prop_assert!(((a - z) - extra).abs() < 1e-6 * a.abs().max(1.0));
            }
        }

        /// Larger eps_sec and eps_cor (weaker security) never shorten the key.
        #[test]
        fn key_length_monotone_in_epsilons(c in base_counts(), f in 1.0f64..1e3) {
            let p = lim_params();
            let mut q = p.clone();
            q.eps_sec *= f;
            q.eps_cor *= f;
            let (_, a) = key_length_unchecked(&p, &c, 0.0);
            let (_, z) = key_length_unchecked(&q, &c, 0.0);
            prop_assert!(z >= a - 1e-6 * a.abs().max(1.0), "{z} < {a}");
        }

        /// More signal detections with everything else fixed can only lower
        /// s_Z0 and s_Z1 (every term of Eqs. (2)-(3) moves the same way).
        #[test]
        fn s_z1_nonincreasing_in_signal_counts(c in base_counts(), add in 1f64..1e5) {
            let p = lim_params();
            let mut d = c.clone();
            d.n_z[0] += add;
            let s0a = vacuum_lower_bound(&p, &c.n_z);
            let s0b = vacuum_lower_bound(&p, &d.n_z);
            prop_assert!(s0b <= s0a);
            prop_assert!(single_photon_lower_bound(&p, &d.n_z, s0b) <= single_photon_lower_bound(&p, &c.n_z, s0a));
        }

        /// More test-basis errors at the decoy intensity raise v_X1 and phi_Z.
        #[test]
        fn phase_error_nondecreasing_in_decoy_errors(c in base_counts(), add in 1f64..1e3) {
            let p = lim_params();
            let mut d = c.clone();
            d.m_x[1] += add;
            let va = single_photon_error_upper_bound(&p, &c.m_x);
            let vb = single_photon_error_upper_bound(&p, &d.m_x);
            prop_assert!(vb >= va);
            let (ba, _) = key_length_unchecked(&p, &c, 0.0);
            let (bb, _) = key_length_unchecked(&p, &d, 0.0);
            if ba.s_x1 > 0.0 && ba.s_z1 > 0.0 && vb / bb.s_x1 < 0.5 {
                prop_assert!(bb.phase_error_bound >= ba.phase_error_bound);
            }
        }

        /// Scaling all counts (and the leak) by c > 1 never lowers the key
        /// fraction ell / n_Z: the finite-size terms grow like sqrt(c) or not at all.
        #[test]
        fn key_fraction_nondecreasing_with_block_size(c in base_counts(), f in 1.5f64..20.0, qber in 0.0f64..0.03) {
            let p = lim_params();
            let n: f64 = c.n_z.iter().sum();
            let leak = 1.16 * n * binary_entropy(qber);
            let scaled = DecoyCounts {
                n_z: c.n_z.map(|v| v * f),
                n_x: c.n_x.map(|v| v * f),
                m_x: c.m_x.map(|v| v * f),
            };
            if let (Ok(a), Ok(b)) = (estimate(&p, &c), estimate(&p, &scaled)) {
                let ra = key_length_real(&p, &a, leak) / n;
                let rb = key_length_real(&p, &b, leak * f) / (n * f);
                prop_assert!(rb >= ra - 1e-9, "{rb} < {ra}");
            }
        }
    }
}

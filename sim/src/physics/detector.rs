// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's two-detector BB84 receiver with active basis choice: gated InGaAs
//! APDs behind a polarisation (basis) modulator and a polarising beam
//! splitter; detector `d` registers bit value `d`.
//!
//! Per gate and detector (Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307
//! (2014), Sec. IV; Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005)):
//! * each photon reaching Bob is detected with probability `eta_Bob`
//!   (optics x detector efficiency) and goes to the detector of Alice's bit
//!   with probability `1 - e_mis` when the bases agree (misalignment
//!   `e_mis`), to either detector with probability 1/2 when they differ;
//! * dark (and background) counts with probability `p_dc` per gate;
//! * so `P(no click on d) = (1 - p_dc) G(1 - eta_d)` with `G` the photon
//!   number's probability generating function and `eta_d` the efficiency
//!   towards `d`; both detectors silent: `(1-p_dc)^2 G(1 - eta_0 - eta_1)`.
//!   For a Poisson pulse of mean `m`, `G(y) = exp(-m (1 - y))`, which gives
//!   Lim's detection probability `1 - (1 - 2 p_dc) exp(-eta mu)` to first
//!   order in `p_dc`.
//! * afterpulsing: after an avalanche, with probability `p_ap` a trapped
//!   carrier is released after an exponentially distributed delay
//!   (time constant `tau`), discretised to slots (geometric law), and clicks
//!   the same detector if its gate is open then (Humer et al., J. Lightwave
//!   Technol. 33, 3098 (2015));
//! * the APD's own recovery (quench and re-arm) after every avalanche, and
//!   the gateware's common dead time (`GATE_DEAD_TIME_SLOTS`, spec 5.3),
//!   which closes the gates of all detectors;
//! * timing jitter: the avalanche time is the pulse arrival plus a Gaussian
//!   of `jitter_rms_ps`, mapped to the TDC fine bin `floor(t / (slot /
//!   OVERSAMPLE))`; dark counts are uniform over the gate window.

pub use qkd_physics::detector::{DetectorParams, GateWindow};

use super::rng::SimRng;
use qkd_abi::symbol::Basis;

/// Fraction of the photons of a state `(prep_basis, prep_bit)` that reach
/// detector 0 and 1 when Bob measures in `bob_basis`, with misalignment.
#[inline]
pub fn detector_fractions(
    prep_basis: Basis,
    prep_bit: bool,
    bob_basis: Basis,
    e_mis: f64,
) -> [f64; 2] {
    if prep_basis == bob_basis {
        if prep_bit {
            [e_mis, 1.0 - e_mis]
        } else {
            [1.0 - e_mis, e_mis]
        }
    } else {
        [0.5, 0.5]
    }
}

/// Photon number reaching Bob's input, by its generating function.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhotonNumber {
    /// No photons.
    Zero,
    /// Poisson of the given mean (a weak coherent pulse after loss).
    Poisson(f64),
    /// One photon that survives with the given probability.
    Single(f64),
    /// `n - 1` photons of a Poisson(`mu`) pulse conditioned on `n >= 2`
    /// (what the photon-number splitting attack forwards).
    PnsRemainder(f64),
}

impl PhotonNumber {
    /// `G(y) = E[y^n]`.
    pub fn pgf(&self, y: f64) -> f64 {
        match *self {
            PhotonNumber::Zero => 1.0,
            PhotonNumber::Poisson(m) => (-m * (1.0 - y)).exp(),
            PhotonNumber::Single(t) => 1.0 - t + t * y,
            PhotonNumber::PnsRemainder(mu) => {
                // sum_{n>=2} P(n) y^(n-1) / P(n>=2), by the series.
                let p0 = (-mu).exp();
                let p_ge2 = 1.0 - p0 - mu * p0;
                if p_ge2 <= 0.0 {
                    return 1.0;
                }
                let mut term = p0 * mu; // P(1)
                let mut yp = 1.0; // y^(n-1) for n = 1
                let mut sum = 0.0;
                for n in 2..60 {
                    term *= mu / f64::from(n);
                    yp *= y;
                    sum += term * yp;
                    if term < 1e-18 {
                        break;
                    }
                }
                sum / p_ge2
            }
        }
    }
}

/// Probabilities of the four click patterns of two detectors, from
/// `q0 = P(no click on 0)`, `q1 = P(no click on 1)`, `q00 = P(neither)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClickLaw {
    /// P(no click on detector 0).
    pub q0: f64,
    /// P(no click on detector 1).
    pub q1: f64,
    /// P(no click at all).
    pub q00: f64,
    /// P(a photon, not noise, is among the causes | detector d clicks).
    pub photon_share: [f64; 2],
}

impl ClickLaw {
    /// Law for photon number `n`, efficiencies `eta` towards each detector
    /// (0 for a closed gate or a recovering APD) and noise (dark +
    /// background) click probabilities `noise` per detector.
    pub fn photons(n: PhotonNumber, eta: [f64; 2], noise: [f64; 2]) -> ClickLaw {
        let g0 = n.pgf(1.0 - eta[0]);
        let g1 = n.pgf(1.0 - eta[1]);
        // Poisson: the two detectors' photon counts are independent
        // (Poisson splitting), so G(1 - eta0 - eta1) = G(1 - eta0) G(1 - eta1).
        let g01 = match n {
            PhotonNumber::Poisson(_) => g0 * g1,
            _ => n.pgf(1.0 - eta[0] - eta[1]),
        };
        let q0 = (1.0 - noise[0]) * g0;
        let q1 = (1.0 - noise[1]) * g1;
        let share = |g: f64, q: f64| {
            if q < 1.0 {
                ((1.0 - g) / (1.0 - q)).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        ClickLaw {
            q0,
            q1,
            q00: (1.0 - noise[0]) * (1.0 - noise[1]) * g01,
            photon_share: [share(g0, q0), share(g1, q1)],
        }
    }

    /// A certain click on detector `d` (bright trigger), noise on the other.
    pub fn forced(d: usize, noise_other: f64) -> ClickLaw {
        let mut q = [1.0 - noise_other; 2];
        q[d & 1] = 0.0;
        let mut share = [0.0; 2];
        share[d & 1] = 1.0;
        ClickLaw {
            q0: q[0],
            q1: q[1],
            q00: 0.0,
            photon_share: share,
        }
    }

    /// No click is possible.
    pub const SILENT: ClickLaw = ClickLaw {
        q0: 1.0,
        q1: 1.0,
        q00: 1.0,
        photon_share: [0.0, 0.0],
    };

    /// P(at least one click).
    #[inline]
    pub fn p_any(&self) -> f64 {
        1.0 - self.q00
    }

    /// `[P(only 0), P(only 1), P(both)]`.
    #[inline]
    pub fn patterns(&self) -> [f64; 3] {
        [
            (self.q1 - self.q00).max(0.0),
            (self.q0 - self.q00).max(0.0),
            (1.0 - self.q0 - self.q1 + self.q00).max(0.0),
        ]
    }
}

/// Maps avalanche times to TDC fine bins.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tdc {
    /// Bins per slot (OVERSAMPLE).
    pub oversample: u8,
    /// Bin width in ps.
    pub bin_ps: f64,
    /// First bin of the gate window.
    pub start_bin: u8,
    /// Last bin of the gate window (inclusive).
    pub end_bin: u8,
    /// Photon arrival time from the slot start, ps (gate-window centre).
    pub arrival_ps: f64,
    /// RMS jitter, ps.
    pub jitter_ps: f64,
}

impl Tdc {
    /// TDC for a slot of `slot_ps`, with the pulse arriving in the middle of
    /// the gate window `[start_bin, end_bin]`.
    pub fn new(oversample: u8, slot_ps: f64, start_bin: u8, end_bin: u8, jitter_ps: f64) -> Tdc {
        let os = oversample.max(1);
        let bin_ps = slot_ps / f64::from(os);
        let (s, e) = (
            start_bin.min(os - 1),
            end_bin.clamp(start_bin.min(os - 1), os - 1),
        );
        Tdc {
            oversample: os,
            bin_ps,
            start_bin: s,
            end_bin: e,
            arrival_ps: (f64::from(s) + f64::from(e) + 1.0) / 2.0 * bin_ps,
            jitter_ps,
        }
    }

    /// Fine bin of a photon-triggered avalanche (clamped to the slot).
    #[inline]
    pub fn photon_bin(&self, rng: &mut SimRng) -> u8 {
        let t = self.arrival_ps + self.jitter_ps * rng.gaussian();
        let b = (t / self.bin_ps).floor();
        b.clamp(0.0, f64::from(self.oversample - 1)) as u8
    }

    /// Fine bin of the pulse arrival without jitter (Eve's in-gate triggers).
    pub fn photon_bin_nominal(&self) -> u8 {
        ((self.arrival_ps / self.bin_ps).floor() as u8).min(self.oversample - 1)
    }

    /// Fine bin of a dark count or afterpulse: uniform over the gate window.
    #[inline]
    pub fn noise_bin(&self, rng: &mut SimRng) -> u8 {
        self.start_bin + rng.below(u64::from(self.end_bin - self.start_bin) + 1) as u8
    }

    /// First bin after the gate window (where after-gate clicks land).
    pub fn after_gate_bin(&self) -> u8 {
        (self.end_bin + 1).min(self.oversample - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::rng::seed_from_name;

    #[test]
    fn poisson_law_reduces_to_lim_detection_probability() {
        // Lim et al. Sec. IV: D_k = 1 - (1 - 2 p_dc) exp(-eta k) to first order.
        let (eta, mu, pdc) = (0.01, 0.42, 6e-7);
        let law = ClickLaw::photons(
            PhotonNumber::Poisson(mu),
            [eta * 0.5, eta * 0.5],
            [pdc, pdc],
        );
        let lim = 1.0 - (1.0 - 2.0 * pdc) * (-eta * mu).exp();
        assert!(
            (law.p_any() - lim).abs() < 1e-12,
            "{} vs {}",
            law.p_any(),
            lim
        );
        let p = law.patterns();
        assert!((p.iter().sum::<f64>() - law.p_any()).abs() < 1e-15);
    }

    #[test]
    fn pns_remainder_pgf_matches_direct_sum() {
        let mu: f64 = 0.5;
        let y: f64 = 0.3;
        let pn = |n: i32| (-mu).exp() * mu.powi(n) / (1..=n).map(f64::from).product::<f64>();
        let p2: f64 = 1.0 - pn(0) - pn(1);
        let direct: f64 = (2..30).map(|n| pn(n) * y.powi(n - 1)).sum::<f64>() / p2;
        assert!((PhotonNumber::PnsRemainder(mu).pgf(y) - direct).abs() < 1e-14);
        assert!((PhotonNumber::PnsRemainder(mu).pgf(1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn jitter_lands_in_window_centre() {
        let tdc = Tdc::new(8, 3200.0, 1, 5, 100.0);
        let mut rng = SimRng::new(seed_from_name("jitter_lands_in_window_centre"));
        let mut hist = [0u32; 8];
        for _ in 0..10_000 {
            hist[usize::from(tdc.photon_bin(&mut rng))] += 1;
        }
        // window 1..=5: arrival at 3.5 bins (centre of bin 3), sigma 0.25 bin.
        assert!(hist[3] > 9_000, "{hist:?}");
        assert_eq!(hist[2] + hist[3] + hist[4], 10_000, "{hist:?}");
        assert_eq!(tdc.after_gate_bin(), 6);
    }

    #[test]
    fn misalignment_sends_photons_to_the_wrong_detector() {
        assert_eq!(
            detector_fractions(Basis::Z, false, Basis::Z, 0.01),
            [0.99, 0.01]
        );
        assert_eq!(
            detector_fractions(Basis::Z, true, Basis::X, 0.01),
            [0.5, 0.5]
        );
    }
}

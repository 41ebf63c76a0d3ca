// SPDX-License-Identifier: MIT OR Apache-2.0
//! Expected detection and error probabilities of the simulated receiver
//! (two gated APDs behind Bob's gateware), in closed form: the detector
//! model the key-rate planner shares with the simulator. It models exactly
//! the processes qkd-sim's `link.rs`, `detector.rs` and `bob.rs` simulate:
//!
//! * Click law per open gate (Lim, Curty, Walenta, Xu, Zbinden, PRA 89,
//!   022307 (2014), Sec. IV; Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005)):
//!   detector `d` stays silent with probability `(1 - p_n) exp(-mu t eta f_d)`
//!   (`f_d` its share of the photons, `p_n` dark + background noise); the two
//!   detectors are independent for a Poisson pulse (Poisson splitting).
//! * Common dead time `d` slots after every click, non-paralyzable:
//!   the gates form a renewal process whose cycle is `d` closed slots plus a
//!   geometric wait, so clicks per slot are `pi / (1 + pi d)` for a click
//!   probability `pi` per open gate (Muller, Nucl. Instrum. Methods 112, 47
//!   (1973); Weier et al., NJP 13, 073024 (2011) for the common gate). The
//!   APD's own recovery `r` slots (`apd_recovery_ns`) keeps the clicked
//!   detector closed when `r > d + 1`.
//! * Afterpulses (Humer et al., J. Lightwave Technol. 33, 3098 (2015)):
//!   each avalanche releases a trapped carrier with probability `p_ap` after
//!   an exponential delay of time constant `tau` (on the slot grid:
//!   `1 + floor(Exp(tau))` slots); it clicks the same detector if that
//!   detector's gate is open and ready then. Only the part of the
//!   exponential beyond the dead time survives: `p_ap exp(-d / tau)` for a
//!   lone click, and in general the sum over delays of the probability that
//!   the gate is open at that delay (the renewal function, computed here).
//!   Surviving afterpulses act as extra noise in open gates (a mean field).
//! * TDC acceptance: a photon click's time is the arrival plus Gaussian
//!   jitter; outside the gate window it is an after-gate click (it still
//!   closes the gates and afterpulses, but gives no detection). Dark counts
//!   and afterpulses fall inside the window (the simulator's noise is per
//!   accepted window).
//! * Double clicks (both detectors in one slot) are squashed by sifting to a
//!   random bit (Lutkenhaus, PRA 59, 3301 (1999)): an error with
//!   probability 1/2.
//! * Saturation: at most one click per detector and slot, and at most one
//!   click per `d + 1` slots (the dead-time cycle).

use crate::channel::ChannelParams;
use crate::detector::{DetectorParams, GateWindow};
use crate::source::SourceParams;

/// Everything the closed-form receiver model needs (per slot).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceiverInputs {
    /// Mean photon numbers Alice sends, per intensity class.
    pub intensities: [f64; 3],
    /// Probabilities of each intensity class.
    pub probabilities: [f64; 3],
    /// Probability of the Z basis (Alice and Bob alike).
    pub basis_z_probability: f64,
    /// Channel transmittance of this slot.
    pub transmittance: f64,
    /// Bob's optics x detector efficiency.
    pub efficiency: f64,
    /// Noise clicks (dark + background) per detector and open gate.
    pub noise_per_gate: f64,
    /// Misalignment error.
    pub misalignment_error: f64,
    /// Afterpulse probability per avalanche.
    pub afterpulse_probability: f64,
    /// Afterpulse time constant in slots.
    pub afterpulse_time_constant_slots: f64,
    /// Common dead time in slots (`GATE_DEAD_TIME_SLOTS`).
    pub dead_time_slots: u32,
    /// APD recovery in slots (at least 1).
    pub apd_recovery_slots: u64,
    /// Probability that a photon click falls inside the TDC gate window.
    pub photon_acceptance: f64,
}

/// Standard normal CDF.
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

impl ReceiverInputs {
    /// The inputs of a link: its source, channel and detectors, Bob's
    /// gate window and his common dead time in slots
    /// (`GATE_DEAD_TIME_SLOTS`).
    pub fn new(
        source: &SourceParams,
        channel: &ChannelParams,
        detector: &DetectorParams,
        gate: &GateWindow,
        dead_time_slots: u32,
    ) -> ReceiverInputs {
        let slot_ps = source.slot_ps();
        let os = f64::from(gate.oversample.max(1));
        let bin_ps = slot_ps / os;
        let (s, e) = (f64::from(gate.start_bin), f64::from(gate.end_bin));
        // The simulator draws the photon time around the window centre and
        // clamps the bin into the slot (detector::Tdc).
        let arrival_ps = (s + e + 1.0) / 2.0 * bin_ps;
        let sigma = detector.jitter_rms_ps;
        let lo = if s <= 0.0 {
            f64::NEG_INFINITY
        } else {
            s * bin_ps
        };
        let hi = if e + 1.0 >= os {
            f64::INFINITY
        } else {
            (e + 1.0) * bin_ps
        };
        let photon_acceptance = if sigma > 0.0 {
            normal_cdf((hi - arrival_ps) / sigma) - normal_cdf((lo - arrival_ps) / sigma)
        } else if (lo..hi).contains(&arrival_ps) {
            1.0
        } else {
            0.0
        };
        ReceiverInputs {
            intensities: source.intensities_photons,
            probabilities: source.probabilities,
            basis_z_probability: source.basis_z_probability,
            transmittance: channel.transmittance(),
            efficiency: detector.efficiency,
            noise_per_gate: 1.0
                - (1.0 - detector.dark_count_per_gate) * (1.0 - channel.background_counts_per_gate),
            misalignment_error: detector.misalignment_error,
            afterpulse_probability: detector.afterpulse_probability,
            afterpulse_time_constant_slots: detector.afterpulse_time_constant_ns * 1e3 / slot_ps,
            dead_time_slots,
            apd_recovery_slots: detector.apd_recovery_slots(slot_ps),
            photon_acceptance,
        }
    }
}

/// Expected rates of the receiver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpectedRates {
    /// Per intensity class: probability per pulse (averaged over the dead
    /// time) that Bob records a detection when his basis equals Alice's.
    pub detection: [f64; 3],
    /// Per intensity class: probability per pulse of a sifted error (Bob's
    /// squashed bit differs from Alice's) when the bases are equal.
    pub error: [f64; 3],
    /// Fraction of slots with the gates open.
    pub open_fraction: f64,
    /// Slots with at least one click, per slot.
    pub clicks_per_slot: f64,
    /// Probability that an emitted afterpulse lands in an open, ready gate.
    pub afterpulse_survival: f64,
    /// Afterpulse arrivals per ready detector and open gate (noise they add).
    pub afterpulse_per_gate: f64,
}

/// Renewal quantities for hazards `pi_one` (one detector recovering) and
/// `pi_full` (both ready), with `k0 = d + 1` and `k1 = max(d + 1, r)`.
struct Cycle {
    /// Expected open slots with one detector recovering, per cycle.
    w_one: f64,
    /// Expected open slots with both ready, per cycle.
    w_full: f64,
    /// Expected cycle length in slots.
    len: f64,
}

fn cycle(d: f64, len_one: u64, pi_one: f64, pi_full: f64) -> Cycle {
    let l = len_one as f64;
    let w_one = if pi_one > 0.0 {
        -(l * (-pi_one).ln_1p()).exp_m1() / pi_one
    } else {
        l
    };
    let stay = (l * (-pi_one).ln_1p()).exp();
    let w_full = stay / pi_full.max(1e-300);
    Cycle {
        w_one,
        w_full,
        len: d + w_one + w_full,
    }
}

/// Probability that an afterpulse of a click at age 0 finds its detector's
/// gate open and ready: `sum_j P(delay = j) V(j)`, `V` from the age chain
/// of the gate renewal process (ages `< k0` closed, `[k0, k1)` one detector
/// recovering, `>= k1` both ready), with the parent's detector tracked.
fn afterpulse_survival(
    tau: f64,
    k0: usize,
    k1: usize,
    pi_one: f64,
    pi_full: f64,
    same_detector: f64,
) -> f64 {
    if tau <= 0.0 {
        return 0.0;
    }
    // P(delay = j) = exp(-(j-1)/tau) (1 - exp(-1/tau)), j >= 1.
    let q = (-1.0 / tau).exp();
    let first = (-((k0 as f64) - 1.0) / tau).exp();
    if first < 1e-15 {
        return 0.0;
    }
    let horizon = k0 + (40.0 * tau).ceil() as usize + k1;
    // mass[a] for ages 1..k1-1, split by "last click on the parent's
    // detector"; `full` for ages >= k1 (both ready, flag irrelevant).
    let mut par = vec![0.0f64; k1.max(1)];
    let mut oth = vec![0.0f64; k1.max(1)];
    let mut full = 0.0f64;
    // Ring buffer: index of age a is (start + a) % k1.
    let n = k1.max(1);
    let mut start = 0usize;
    // At j = 1 the parent click has age 1.
    if k1 > 1 {
        par[(start + 1) % n] = 1.0;
    } else {
        full = 1.0;
    }
    let mut sum = 0.0;
    let mut p_delay = 1.0 - q; // P(delay = 1)
    for _ in 1..=horizon {
        // V(j): gate open and the parent's detector ready at age j.
        let mut v = full;
        for a in k0..k1 {
            v += oth[(start + a) % n];
        }
        sum += p_delay * v;
        p_delay *= q;
        // Clicks in slot j.
        let mut clicked = full * pi_full;
        full -= full * pi_full;
        for a in k0..k1 {
            let i = (start + a) % n;
            let c = (par[i] + oth[i]) * pi_one;
            clicked += c;
            par[i] *= 1.0 - pi_one;
            oth[i] *= 1.0 - pi_one;
        }
        // Age by one: age k1-1 joins `full`; clicks become age 1.
        if k1 > 1 {
            let last = (start + k1 - 1) % n;
            full += par[last] + oth[last];
            par[last] = 0.0;
            oth[last] = 0.0;
            start = (start + n - 1) % n;
            // The slot of age 0 (now at `start`) is unused; age 1 is start+1.
            par[(start + 1) % n] = clicked * same_detector;
            oth[(start + 1) % n] = clicked * (1.0 - same_detector);
        } else {
            full += clicked;
        }
        if p_delay < 1e-16 {
            break;
        }
    }
    sum
}

/// Per-detector outcome probabilities in an open gate.
#[derive(Debug, Clone, Copy)]
struct Det {
    /// Raw click (any cause).
    raw: f64,
    /// Accepted click (a DETECTION record).
    acc: f64,
}

fn det(mean_photons: f64, noise: f64, h: f64, accept: f64) -> Det {
    let g = (-mean_photons).exp();
    let raw = 1.0 - (1.0 - noise) * g * (1.0 - h);
    Det {
        raw,
        acc: raw - (1.0 - g) * (1.0 - accept),
    }
}

/// Expected rates of the receiver, with the afterpulse noise solved
/// self-consistently (fixed point of the mean field).
pub fn expected_rates(inp: &ReceiverInputs) -> ExpectedRates {
    let eta = inp.efficiency * inp.transmittance;
    let e = inp.misalignment_error;
    let n = inp.noise_per_gate;
    let a = inp.photon_acceptance;
    let qz = inp.basis_z_probability;
    let p_match = qz * qz + (1.0 - qz) * (1.0 - qz);
    let d = f64::from(inp.dead_time_slots);
    let k0 = inp.dead_time_slots as usize + 1;
    let k1 = k0.max(inp.apd_recovery_slots as usize);
    let len_one = (k1 - k0) as u64;
    let p_ap = inp.afterpulse_probability;
    let mut h = 0.0f64;
    let mut out = ExpectedRates {
        detection: [0.0; 3],
        error: [0.0; 3],
        open_fraction: 1.0,
        clicks_per_slot: 0.0,
        afterpulse_survival: 0.0,
        afterpulse_per_gate: 0.0,
    };
    for _ in 0..200 {
        // Averages over intensity, bases and Alice's bit of: any raw click
        // (both ready), raw click of the one ready detector, and avalanches.
        let (mut pi_full, mut pi_one, mut aval_full, mut aval_one) = (0.0, 0.0, 0.0, 0.0);
        let mut det_full = [0.0; 3];
        let mut err_full = [0.0; 3];
        let mut det_one = [0.0; 3];
        let mut err_one = [0.0; 3];
        for k in 0..3 {
            let m = inp.intensities[k] * eta;
            // Bases equal: the right detector gets 1 - e of the photons.
            let c = det(m * (1.0 - e), n, h, a);
            let w = det(m * e, n, h, a);
            // Bases differ: half each.
            let x = det(m * 0.5, n, h, a);
            let pk = inp.probabilities[k];
            let any_eq = 1.0 - (1.0 - c.raw) * (1.0 - w.raw);
            let any_ne = 1.0 - (1.0 - x.raw) * (1.0 - x.raw);
            pi_full += pk * (p_match * any_eq + (1.0 - p_match) * any_ne);
            aval_full += pk * (p_match * (c.raw + w.raw) + (1.0 - p_match) * 2.0 * x.raw);
            let one_eq = 0.5 * (c.raw + w.raw);
            pi_one += pk * (p_match * one_eq + (1.0 - p_match) * x.raw);
            aval_one += pk * (p_match * one_eq + (1.0 - p_match) * x.raw);
            det_full[k] = 1.0 - (1.0 - c.acc) * (1.0 - w.acc);
            err_full[k] = w.acc * (1.0 - c.acc) + 0.5 * w.acc * c.acc;
            // One detector recovering: the right one or the wrong one, 1/2 each.
            det_one[k] = 0.5 * (c.acc + w.acc);
            err_one[k] = 0.5 * w.acc;
        }
        let cy = cycle(d, len_one, pi_one, pi_full);
        let (phi_one, phi_full) = (cy.w_one / cy.len, cy.w_full / cy.len);
        let survival = afterpulse_survival(
            inp.afterpulse_time_constant_slots,
            k0,
            k1,
            pi_one,
            pi_full,
            0.5,
        );
        let avalanches = phi_full * aval_full + phi_one * aval_one;
        let ready_slots = 2.0 * phi_full + phi_one;
        let h_new = if ready_slots > 0.0 {
            (p_ap * avalanches * survival / ready_slots).min(1.0)
        } else {
            0.0
        };
        for k in 0..3 {
            out.detection[k] = phi_full * det_full[k] + phi_one * det_one[k];
            out.error[k] = phi_full * err_full[k] + phi_one * err_one[k];
        }
        out.open_fraction = phi_one + phi_full;
        out.clicks_per_slot = 1.0 / cy.len;
        out.afterpulse_survival = survival;
        out.afterpulse_per_gate = h;
        let converged = (h_new - h).abs() <= 1e-13 * h_new.max(1e-300) || p_ap == 0.0;
        h = h_new;
        if converged {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ReceiverInputs {
        ReceiverInputs {
            intensities: [0.42, 0.23, 0.0002],
            probabilities: [0.31, 0.51, 0.18],
            basis_z_probability: 0.86,
            transmittance: 0.1,
            efficiency: 0.1,
            noise_per_gate: 6e-7,
            misalignment_error: 0.005,
            afterpulse_probability: 0.0,
            afterpulse_time_constant_slots: 62.5,
            dead_time_slots: 0,
            apd_recovery_slots: 1,
            photon_acceptance: 1.0,
        }
    }

    // Without dead time, afterpulses and after-gate losses the model is the
    // exact two-detector law: D_k = 1 - (1 - p_n)^2 exp(-eta mu_k).
    #[test]
    fn no_dead_time_gives_the_click_law() {
        let inp = base();
        let r = expected_rates(&inp);
        for k in 0..3 {
            let m = inp.intensities[k] * 0.01;
            let want = 1.0 - (1.0 - 6e-7f64).powi(2) * (-m).exp();
            assert!((r.detection[k] / want - 1.0).abs() < 1e-12, "{k}");
            // errors: wrong only + half of both.
            let gc = (-m * 0.995).exp();
            let gw = (-m * 0.005).exp();
            let (c, w) = (1.0 - (1.0 - 6e-7) * gc, 1.0 - (1.0 - 6e-7) * gw);
            let want_e = w * (1.0 - c) + 0.5 * w * c;
            assert!((r.error[k] / want_e - 1.0).abs() < 1e-12, "{k}");
        }
        assert_eq!(r.open_fraction, 1.0);
    }

    // Non-paralyzable dead time: clicks per slot pi / (1 + pi d).
    #[test]
    fn dead_time_is_non_paralyzable() {
        let mut inp = base();
        inp.dead_time_slots = 313;
        let r = expected_rates(&inp);
        let pi: f64 = (0..3)
            .map(|k| {
                inp.probabilities[k]
                    * (1.0 - (1.0 - 6e-7f64).powi(2) * (-inp.intensities[k] * 0.01).exp())
            })
            .sum();
        let want = pi / (1.0 + pi * 313.0);
        assert!((r.clicks_per_slot / want - 1.0).abs() < 1e-9);
        assert!((r.open_fraction - 1.0 / (1.0 + pi * 313.0)).abs() < 1e-9);
    }

    // A lone click (no other clicks, pi -> 0): the afterpulse survives the
    // dead time d with probability exp(-d / tau) (Humer et al. 2015, the
    // exponential tail beyond the dead time; on the slot grid the delay is
    // 1 + floor(Exp(tau)), so P(delay >= d + 1) = exp(-d / tau)).
    #[test]
    fn lone_afterpulse_survives_with_the_exponential_tail() {
        for (d, tau) in [(313usize, 62.5), (10, 62.5), (1, 5.0)] {
            let s = afterpulse_survival(tau, d + 1, d + 1, 0.0, 1e-300, 0.5);
            let want = (-(d as f64) / tau).exp();
            assert!((s / want - 1.0).abs() < 1e-9, "d {d}: {s} vs {want}");
        }
        // With an APD recovery of 4 slots and d = 1, the parent's own
        // detector is closed up to age 3: P(delay >= 4) = exp(-3 / tau).
        let s = afterpulse_survival(62.5, 2, 4, 0.0, 1e-300, 0.5);
        assert!((s / (-3.0f64 / 62.5).exp() - 1.0).abs() < 1e-9);
    }

    // With click probability pi per open gate and d = 0 (every slot open),
    // the chance that the parent's detector is ready at age j >= r is
    // 1 - P(last click on the same detector within r-1 slots before j).
    #[test]
    fn survival_with_competing_clicks_and_no_dead_time() {
        let (tau, pi) = (50.0, 0.0);
        let s = afterpulse_survival(tau, 1, 1, pi, pi, 0.5);
        assert!((s - 1.0).abs() < 1e-9, "{s}");
        // Long dead time, short delays (tau << k0): only the parent's own
        // cycle matters, V(j) = (1 - pi)^(j - k0) for j in [k0, 2 k0).
        let (k0, pi) = (100usize, 0.01f64);
        let tau = 5.0;
        let q: f64 = (-1.0f64 / tau).exp();
        let want: f64 = (k0..2 * k0)
            .map(|j| q.powi(j as i32 - 1) * (1.0 - q) * (1.0 - pi).powi((j - k0) as i32))
            .sum();
        let s = afterpulse_survival(tau, k0, k0, pi, pi, 0.5);
        assert!((s / want - 1.0).abs() < 1e-7, "{s} vs {want}");
    }
}

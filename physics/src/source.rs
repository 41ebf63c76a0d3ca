// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice's weak-coherent source: a phase-randomised attenuated laser emits
//! a Poisson number of photons with mean `mu_k` per pulse of intensity
//! class `k` (decoy-state BB84: Hwang, PRL 91, 057901 (2003); Lo, Ma, Chen,
//! PRL 94, 230504 (2005); the three-intensity set of Lim, Curty, Walenta,
//! Xu, Zbinden, PRA 89, 022307 (2014)). `P(n) = exp(-mu) mu^n / n!`.
//!
//! The probabilities map onto Alice's 16-bit selector thresholds
//! (`DECOY_THRESH_*`, docs/gateware-spec.md 4.1).

use crate::ParamError;
use qkd_abi::symbol::{Intensity, Symbol};

/// Source parameters (SI units or dimensionless, named).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceParams {
    /// Pulse (slot) rate in Hz; sets the slot duration.
    pub pulse_rate_hz: f64,
    /// Mean photon numbers `[mu1 (signal), mu2 (decoy), mu3 (vacuum)]`.
    pub intensities_photons: [f64; 3],
    /// Probabilities of choosing each intensity (sum 1).
    pub probabilities: [f64; 3],
    /// Probability of the key basis Z.
    pub basis_z_probability: f64,
}

impl Default for SourceParams {
    /// The defaults of the link TOML (issue 6 item 1, Lim et al. Table I set).
    fn default() -> SourceParams {
        SourceParams {
            pulse_rate_hz: 312.5e6,
            intensities_photons: [0.42, 0.23, 0.0002],
            probabilities: [0.31, 0.51, 0.18],
            basis_z_probability: 0.86,
        }
    }
}

fn thresh(p: f64) -> u16 {
    (p * 65536.0).round().clamp(0.0, 65535.0) as u16
}

impl SourceParams {
    /// Check ranges; the error names the field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |field: &'static str, value: f64| ParamError::OutOfRange { field, value };
        if !(self.pulse_rate_hz > 0.0 && self.pulse_rate_hz.is_finite()) {
            return Err(bad("source.pulse_rate_hz", self.pulse_rate_hz));
        }
        for &mu in &self.intensities_photons {
            if !(0.0..=100.0).contains(&mu) {
                return Err(bad("source.intensities", mu));
            }
        }
        let mut sum = 0.0;
        for &p in &self.probabilities {
            if !(0.0..=1.0).contains(&p) {
                return Err(bad("source.probabilities", p));
            }
            sum += p;
        }
        if (sum - 1.0).abs() > 1e-6 {
            return Err(bad("source.probabilities (sum)", sum));
        }
        if !(0.0..=1.0).contains(&self.basis_z_probability) {
            return Err(bad("source.basis_z_probability", self.basis_z_probability));
        }
        Ok(())
    }

    /// Slot duration in picoseconds.
    pub fn slot_ps(&self) -> f64 {
        1e12 / self.pulse_rate_hz
    }

    /// `(DECOY_THRESH_SIGNAL, DECOY_THRESH_DECOY, DECOY_THRESH_BASIS_Z)`.
    pub fn thresholds(&self) -> (u16, u16, u16) {
        let p = self.probabilities;
        (
            thresh(p[0]),
            thresh(p[0] + p[1]),
            thresh(self.basis_z_probability),
        )
    }

    /// Mean photon number of the pulse Alice sends for `sym` (sync marks are
    /// signal-level pulses, blanks carry none).
    #[inline]
    pub fn mean_photons(&self, sym: Symbol) -> f64 {
        match sym.intensity() {
            Intensity::NonRandom => {
                if sym.bit() {
                    self.intensities_photons[0]
                } else {
                    0.0
                }
            }
            k => self.intensities_photons[k as usize],
        }
    }

    /// Largest mean photon number Alice can send.
    pub fn max_mean_photons(&self) -> f64 {
        self.intensities_photons
            .iter()
            .fold(0.0, |a: f64, &b| a.max(b))
    }
}

/// Poisson probability `P(n; mu)`.
pub fn poisson_pmf(n: u32, mu: f64) -> f64 {
    let mut p = (-mu).exp();
    for k in 1..=n {
        p *= mu / f64::from(k);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_thresholds_match_register_resets() {
        use qkd_abi::regmap::alice;
        let (t1, t2, tz) = SourceParams::default().thresholds();
        assert_eq!(u32::from(t1), alice::DECOY_THRESH_SIGNAL.reset);
        assert_eq!(u32::from(t2), alice::DECOY_THRESH_DECOY.reset);
        assert_eq!(u32::from(tz), alice::DECOY_THRESH_BASIS_Z.reset);
    }

    #[test]
    fn bad_probabilities_name_the_field() {
        let s = SourceParams {
            probabilities: [0.5, 0.5, 0.5],
            ..SourceParams::default()
        };
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("source.probabilities"), "{e}");
    }

    #[test]
    fn poisson_pmf_sums_to_one() {
        let s: f64 = (0..40).map(|n| poisson_pmf(n, 0.7)).sum();
        assert!((s - 1.0).abs() < 1e-12);
        assert!((poisson_pmf(2, 0.5) - 0.5f64.powi(2) / 2.0 * (-0.5f64).exp()).abs() < 1e-15);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! A horizontal free-space optical link: the loss and background terms of
//! a telescope-to-telescope channel through the atmosphere.
//!
//! * Geometric (diffraction/divergence) loss: the beam leaves an aperture of
//!   diameter `D_T` with full-angle divergence `theta` and is `D_T + theta L`
//!   wide at range `L`; a receiver of diameter `D_R` collects
//!   `min(1, (D_R / (D_T + theta L))^2)` (Kaushal and Kaddoum, IEEE Commun.
//!   Surv. Tutor. 19, 57 (2017), Sec. IV-A).
//! * Atmospheric attenuation (scattering): `exp(-sigma L)` with the Kim
//!   model `sigma = 3.91 / V (lambda / 550 nm)^-q` per km for a visibility
//!   `V` in km, `q = 1.6` (V > 50), `1.3` (6 < V <= 50), `0.16 V + 0.34`
//!   (1 < V <= 6), `V - 0.5` (0.5 < V <= 1), `0` below (Kim, McArthur,
//!   Korevaar, Proc. SPIE 4214, 26 (2001)).
//! * Pointing jitter: a Gaussian spot of radius `w = (D_T + theta L) / 2`
//!   displaced by a radial error `r` (Rayleigh, per-axis rms angle
//!   `sigma_p`, so `sigma_r = sigma_p L`) couples `exp(-2 r^2 / w^2)` into a
//!   small receiver; its mean is `w^2 / (w^2 + 4 sigma_r^2)` (Farid and
//!   Hranilovic, J. Lightwave Technol. 25, 1702 (2007), small-aperture limit).
//! * Turbulence (scintillation): the received intensity is log-normal with
//!   unit mean, `I = exp(X)`, `X ~ N(-s^2/2, s^2)`, `s^2 = ln(1 + sigma_I^2)`
//!   for a scintillation index `sigma_I^2` (Andrews and Phillips, Laser Beam
//!   Propagation through Random Media, 2nd ed. (2005), Ch. 8), correlated over
//!   a time `tau_c`: `X` follows an AR(1) (Ornstein-Uhlenbeck) process
//!   sampled every `step`, `rho = exp(-step / tau_c)`.
//! * Background: sky radiance `H` (W m^-2 sr^-1 nm^-1) through a field of
//!   view of full angle `FOV` (solid angle `pi (FOV / 2)^2`), an aperture of
//!   area `pi (D_R / 2)^2` and a filter of bandwidth `dlambda` gives
//!   `P = H Omega A dlambda` watts, `P lambda / (h c)` photons per second;
//!   a gate window of `dt` and Bob's efficiency `eta` give
//!   `eta P dt lambda / (h c) / 2` clicks per detector (unpolarised light
//!   splits evenly; Miao et al., NJP 7, 215 (2005), Eq. (1)).

use crate::ParamError;

/// Planck constant, J s.
const PLANCK_J_S: f64 = 6.626_070_15e-34;
/// Speed of light, m / s.
const LIGHT_M_S: f64 = 299_792_458.0;

/// Free-space link parameters (SI-style units in the names).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreeSpaceParams {
    /// Range, m.
    pub range_m: f64,
    /// Wavelength, nm.
    pub wavelength_nm: f64,
    /// Transmitter beam diameter at the aperture, m.
    pub tx_aperture_m: f64,
    /// Receiver aperture diameter, m.
    pub rx_aperture_m: f64,
    /// Full-angle beam divergence, microradians.
    pub divergence_urad: f64,
    /// Visibility, km.
    pub visibility_km: f64,
    /// Scintillation index sigma_I^2 (0 = no turbulence).
    pub scintillation_index: f64,
    /// Turbulence correlation time, ms.
    pub correlation_time_ms: f64,
    /// Pointing jitter, per-axis rms, microradians.
    pub pointing_jitter_urad: f64,
    /// Sky spectral radiance, W m^-2 sr^-1 nm^-1.
    pub sky_radiance_w_m2_sr_nm: f64,
    /// Filter bandwidth, nm.
    pub filter_bandwidth_nm: f64,
    /// Receiver field of view, full angle, microradians.
    pub fov_urad: f64,
}

impl Default for FreeSpaceParams {
    /// A few hundred metres between rooftops at night (see
    /// examples/links/free-space-daylight.toml for a daylight link).
    fn default() -> Self {
        FreeSpaceParams {
            range_m: 275.0,
            wavelength_nm: 785.0,
            tx_aperture_m: 0.02,
            rx_aperture_m: 0.05,
            divergence_urad: 100.0,
            visibility_km: 20.0,
            scintillation_index: 0.1,
            correlation_time_ms: 5.0,
            pointing_jitter_urad: 10.0,
            sky_radiance_w_m2_sr_nm: 1e-6,
            filter_bandwidth_nm: 1.0,
            fov_urad: 100.0,
        }
    }
}

impl FreeSpaceParams {
    /// Check ranges; the error names the field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |field: &'static str, value: f64| ParamError::OutOfRange { field, value };
        for (f, v, positive) in [
            ("channel.free_space.range_m", self.range_m, false),
            ("channel.free_space.wavelength_nm", self.wavelength_nm, true),
            (
                "channel.free_space.tx_aperture_m",
                self.tx_aperture_m,
                false,
            ),
            ("channel.free_space.rx_aperture_m", self.rx_aperture_m, true),
            (
                "channel.free_space.divergence_urad",
                self.divergence_urad,
                false,
            ),
            ("channel.free_space.visibility_km", self.visibility_km, true),
            (
                "channel.free_space.scintillation_index",
                self.scintillation_index,
                false,
            ),
            (
                "channel.free_space.correlation_time_ms",
                self.correlation_time_ms,
                true,
            ),
            (
                "channel.free_space.pointing_jitter_urad",
                self.pointing_jitter_urad,
                false,
            ),
            (
                "channel.free_space.sky_radiance_w_m2_sr_nm",
                self.sky_radiance_w_m2_sr_nm,
                false,
            ),
            (
                "channel.free_space.filter_bandwidth_nm",
                self.filter_bandwidth_nm,
                false,
            ),
            ("channel.free_space.fov_urad", self.fov_urad, false),
        ] {
            if !(v.is_finite() && v >= 0.0 && (!positive || v > 0.0)) {
                return Err(bad(f, v));
            }
        }
        if self.tx_aperture_m + self.divergence_urad * 1e-6 * self.range_m <= 0.0 {
            return Err(bad("channel.free_space.tx_aperture_m", self.tx_aperture_m));
        }
        Ok(())
    }

    /// Beam diameter at the receiver, m.
    pub fn beam_diameter_m(&self) -> f64 {
        self.tx_aperture_m + self.divergence_urad * 1e-6 * self.range_m
    }

    /// Fraction of the beam the receiver aperture collects.
    pub fn geometric_transmittance(&self) -> f64 {
        (self.rx_aperture_m / self.beam_diameter_m())
            .powi(2)
            .min(1.0)
    }

    /// Kim model attenuation coefficient, 1/km.
    pub fn attenuation_per_km(&self) -> f64 {
        let v = self.visibility_km;
        let q = if v > 50.0 {
            1.6
        } else if v > 6.0 {
            1.3
        } else if v > 1.0 {
            0.16 * v + 0.34
        } else if v > 0.5 {
            v - 0.5
        } else {
            0.0
        };
        3.91 / v * (self.wavelength_nm / 550.0).powf(-q)
    }

    /// Atmospheric transmittance over the range.
    pub fn atmospheric_transmittance(&self) -> f64 {
        (-self.attenuation_per_km() * self.range_m * 1e-3).exp()
    }

    /// Mean pointing-jitter coupling `w^2 / (w^2 + 4 sigma_r^2)`.
    pub fn pointing_transmittance(&self) -> f64 {
        let w = self.beam_diameter_m() / 2.0;
        let sr = self.pointing_jitter_urad * 1e-6 * self.range_m;
        w * w / (w * w + 4.0 * sr * sr)
    }

    /// Mean channel transmittance (turbulence has unit mean).
    pub fn mean_transmittance(&self) -> f64 {
        self.geometric_transmittance()
            * self.atmospheric_transmittance()
            * self.pointing_transmittance()
    }

    /// Background photons per second at Bob's input.
    pub fn background_photons_per_s(&self) -> f64 {
        let half = self.fov_urad * 1e-6 / 2.0;
        let omega = std::f64::consts::PI * half * half;
        let r = self.rx_aperture_m / 2.0;
        let area = std::f64::consts::PI * r * r;
        let watts = self.sky_radiance_w_m2_sr_nm * omega * area * self.filter_bandwidth_nm;
        watts * self.wavelength_nm * 1e-9 / (PLANCK_J_S * LIGHT_M_S)
    }

    /// Background clicks per detector in a gate window of `window_s`
    /// seconds for Bob's efficiency `efficiency` (half the light per detector).
    pub fn background_counts_per_gate(&self, window_s: f64, efficiency: f64) -> f64 {
        let mean = 0.5 * efficiency * self.background_photons_per_s() * window_s;
        -(-mean).exp_m1()
    }

    /// `s^2 = ln(1 + sigma_I^2)`, the variance of the log-intensity.
    pub fn log_variance(&self) -> f64 {
        self.scintillation_index.ln_1p()
    }
}

/// Gauss-Hermite nodes and weights (physicists' weight `exp(-x^2)`) by
/// Newton's method on the normalised Hermite recurrence (Press et al.,
/// Numerical Recipes, 3rd ed., Sec. 4.6, `gauher`).
fn gauss_hermite(n: usize) -> Vec<(f64, f64)> {
    let pim4 = std::f64::consts::PI.powf(-0.25);
    let nf = n as f64;
    let mut x = vec![0.0f64; n];
    let mut w = vec![0.0f64; n];
    let mut z = 0.0f64;
    for i in 0..n.div_ceil(2) {
        z = match i {
            0 => (2.0 * nf + 1.0).sqrt() - 1.85575 * (2.0 * nf + 1.0).powf(-0.16667),
            1 => z - 1.14 * nf.powf(0.426) / z,
            2 => 1.86 * z - 0.86 * x[0],
            3 => 1.91 * z - 0.91 * x[1],
            _ => 2.0 * z - x[i - 2],
        };
        let mut pp = 1.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (pim4, 0.0f64);
            for j in 1..=n {
                let jf = j as f64;
                let p3 = p2;
                p2 = p1;
                p1 = z * (2.0 / jf).sqrt() * p2 - ((jf - 1.0) / jf).sqrt() * p3;
            }
            pp = (2.0 * nf).sqrt() * p2;
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-15 * z.abs().max(1.0) {
                break;
            }
        }
        x[i] = z;
        x[n - 1 - i] = -z;
        w[i] = 2.0 / (pp * pp);
        w[n - 1 - i] = w[i];
    }
    x.into_iter().zip(w).collect()
}

/// Points and weights for averages over the unit-mean log-normal fading
/// of log-variance `s^2` (24-point Gauss-Hermite):
/// `E[f(I)] = sum_i w_i f(I_i)`, `I_i = exp(sqrt(2) s x_i - s^2 / 2)`,
/// weights normalised by `sqrt(pi)`.
pub fn lognormal_quadrature(log_variance: f64) -> Vec<(f64, f64)> {
    if log_variance <= 0.0 {
        return vec![(1.0, 1.0)];
    }
    let s = log_variance.sqrt();
    let norm = std::f64::consts::PI.sqrt();
    gauss_hermite(24)
        .into_iter()
        .map(|(x, w)| {
            (
                (std::f64::consts::SQRT_2 * s * x - log_variance / 2.0).exp(),
                w / norm,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etri_like() -> FreeSpaceParams {
        FreeSpaceParams {
            range_m: 275.0,
            wavelength_nm: 785.0,
            tx_aperture_m: 0.02,
            rx_aperture_m: 0.05,
            divergence_urad: 100.0,
            visibility_km: 20.0,
            scintillation_index: 0.1,
            correlation_time_ms: 5.0,
            pointing_jitter_urad: 10.0,
            sky_radiance_w_m2_sr_nm: 0.05,
            filter_bandwidth_nm: 1.0,
            fov_urad: 100.0,
        }
    }

    // Hand-worked: beam 0.02 + 100e-6 * 275 = 0.0475 m, narrower than the
    // 0.05 m receiver, which collects all of it.
    #[test]
    fn geometric_loss_by_hand() {
        let p = etri_like();
        assert!((p.beam_diameter_m() - 0.0475).abs() < 1e-15);
        assert_eq!(p.geometric_transmittance(), 1.0);
        // 1 km at 1 mrad from a 0.1 m aperture: beam 1.1 m; a 0.3 m
        // receiver collects (0.3 / 1.1)^2 = 0.07438.
        let q = FreeSpaceParams {
            range_m: 1000.0,
            tx_aperture_m: 0.1,
            rx_aperture_m: 0.3,
            divergence_urad: 1000.0,
            ..p
        };
        assert!((q.geometric_transmittance() - (0.3f64 / 1.1).powi(2)).abs() < 1e-15);
    }

    // Kim model by hand: V = 20 km, 785 nm: q = 1.3,
    // sigma = 3.91 / 20 * (785 / 550)^-1.3 = 0.1955 * 0.62962 = 0.12309 /km;
    // over 275 m: exp(-0.033850) = 0.96672.
    #[test]
    fn kim_attenuation_by_hand() {
        let p = etri_like();
        let ratio: f64 = 785.0 / 550.0;
        let sigma = 3.91 / 20.0 * ratio.powf(-1.3);
        assert!((p.attenuation_per_km() - sigma).abs() < 1e-15);
        assert!((sigma - 0.12309).abs() < 1e-4, "{sigma}");
        assert!((p.atmospheric_transmittance() - 0.96672).abs() < 1e-4);
        // Fog (V = 0.4 km): q = 0, sigma = 9.775 / km at any wavelength.
        let fog = FreeSpaceParams {
            visibility_km: 0.4,
            ..p
        };
        assert!((fog.attenuation_per_km() - 9.775).abs() < 1e-12);
    }

    // Pointing by hand: w = 0.02375 m, sigma_r = 10e-6 * 275 = 2.75e-3 m:
    // w^2 / (w^2 + 4 sigma_r^2) = 5.6406e-4 / (5.6406e-4 + 3.025e-5) = 0.94910.
    #[test]
    fn pointing_loss_by_hand() {
        let p = etri_like();
        assert!((p.pointing_transmittance() - 0.94910).abs() < 1e-5);
    }

    // Background by hand: Omega = pi (50e-6)^2 = 7.854e-9 sr, A = pi 0.025^2
    // = 1.9635e-3 m^2, P = 0.05 * 7.854e-9 * 1.9635e-3 * 1 = 7.7106e-13 W;
    // photon energy at 785 nm = 2.5305e-19 J: 3.0471e6 photons/s.
    #[test]
    fn background_by_hand() {
        let p = etri_like();
        let n = p.background_photons_per_s();
        assert!((n / 3.0471e6 - 1.0).abs() < 1e-3, "{n}");
        // 1.25 ns window, eta 0.5: 0.5 * 0.5 * 3.0471e6 * 1.25e-9 = 9.52e-4.
        let c = p.background_counts_per_gate(1.25e-9, 0.5);
        assert!((c / 9.522e-4 - 1.0).abs() < 2e-3, "{c}");
    }
}

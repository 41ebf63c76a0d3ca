// SPDX-License-Identifier: MIT OR Apache-2.0
//! The free-space link of `qkd-physics` (loss, background, the log-normal
//! law of the turbulence) and a draw of its fading for the simulator.

pub use qkd_physics::free_space::*;

use super::rng::SimRng;

/// Log-normal fading factors with unit mean, one per `step_s` seconds,
/// correlated over the turbulence correlation time (AR(1) on the
/// log-intensity), drawn from `rng`.
pub fn fading_factors(p: &FreeSpaceParams, step_s: f64, n: usize, rng: &mut SimRng) -> Vec<f64> {
    let s2 = p.log_variance();
    if s2 <= 0.0 {
        return vec![1.0; n];
    }
    let s = s2.sqrt();
    let rho = (-step_s / (p.correlation_time_ms * 1e-3)).exp();
    let innov = (1.0 - rho * rho).sqrt();
    let mut z = rng.gaussian();
    (0..n)
        .map(|i| {
            if i > 0 {
                z = rho * z + innov * rng.gaussian();
            }
            (s * z - s2 / 2.0).exp()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::rng::seed_from_name;

    #[test]
    fn fading_has_unit_mean_the_right_variance_and_correlation() {
        let p = FreeSpaceParams {
            scintillation_index: 0.1,
            correlation_time_ms: 5.0,
            ..FreeSpaceParams::default()
        };
        let mut rng = SimRng::new(seed_from_name("fading_unit_mean"));
        let f = fading_factors(&p, 1e-3, 200_000, &mut rng);
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        let var = f.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        // Var[I] = sigma_I^2 for a unit-mean log-normal.
        assert!((var / 0.1 - 1.0).abs() < 0.1, "{var}");
        // lag-1 correlation of X: exp(-1 / 5) = 0.8187.
        let x: Vec<f64> = f.iter().map(|v| v.ln()).collect();
        let mx = x.iter().sum::<f64>() / x.len() as f64;
        let c0: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
        let c1: f64 = x.windows(2).map(|w| (w[0] - mx) * (w[1] - mx)).sum();
        assert!((c1 / c0 - (-0.2f64).exp()).abs() < 0.01, "{}", c1 / c0);
        // The quadrature integrates the same law: E[I] = 1, E[I^2] = 1 + sigma_I^2.
        let qd = lognormal_quadrature(p.log_variance());
        let m1: f64 = qd.iter().map(|(i, w)| w * i).sum();
        let m2: f64 = qd.iter().map(|(i, w)| w * i * i).sum();
        assert!((m1 - 1.0).abs() < 1e-12, "{m1}");
        assert!((m2 - 1.1).abs() < 1e-10, "{m2}");
    }
}

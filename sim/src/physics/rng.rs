// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulation randomness (not the gateware's test PRNG): xoshiro256++ of
//! Blackman and Vigna ("Scrambled linear pseudorandom number generators",
//! ACM TOMS 47, 2021), seeded through SplitMix64, with the samplers the
//! physics needs (uniform, Bernoulli, geometric skip, Poisson, Gaussian).

/// SplitMix64 step (Steele, Lea, Flood, OOPSLA 2014): advances `x` and
/// returns the next output (qkd-model's implementation).
pub use qkd_model::prng::splitmix64_next as splitmix64;

/// Seed derived from a name (FNV-1a 64), for tests seeded from their name
/// (qkd-model's).
pub use qkd_model::clicks::seed_from_name;

/// xoshiro256++ generator used for every physical random choice.
#[derive(Debug, Clone)]
pub struct SimRng {
    s: [u64; 4],
    spare: Option<f64>,
}

impl SimRng {
    /// A generator seeded from `seed` via SplitMix64 (never all-zero state).
    pub fn new(seed: u64) -> SimRng {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        SimRng { s, spare: None }
    }

    /// Next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let r = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1], safe for logarithms.
    #[inline]
    pub fn uniform_open0(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift
    /// (bias below 2^-64 * n, negligible here).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Number of failures before the first success of Bernoulli(`p`)
    /// trials: `floor(ln U / ln(1 - p))` (inverse transform of the
    /// geometric law). `ln_q` must be `ln(1 - p)` (negative). Saturates at
    /// `u64::MAX` for vanishing `p`.
    #[inline]
    pub fn geometric_skip(&mut self, ln_q: f64) -> u64 {
        if ln_q >= 0.0 {
            return u64::MAX;
        }
        let k = self.uniform_open0().ln() / ln_q;
        if k >= 1.8e19 {
            u64::MAX
        } else {
            k as u64
        }
    }

    /// Poisson(`mean`) by inversion (fine for the small means of weak pulses;
    /// falls back to a normal approximation above 60).
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean > 60.0 {
            let x = mean + mean.sqrt() * self.gaussian();
            return x.max(0.0).round() as u64;
        }
        let u = self.uniform();
        let mut p = (-mean).exp();
        let mut cdf = p;
        let mut n = 0u64;
        while u >= cdf && n < 1000 {
            n += 1;
            p *= mean / n as f64;
            cdf += p;
        }
        n
    }

    /// Standard normal deviate (Box-Muller; the second deviate of each
    /// pair is kept for the next call).
    pub fn gaussian(&mut self) -> f64 {
        if let Some(g) = self.spare.take() {
            return g;
        }
        let u1 = self.uniform_open0();
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * sin);
        r * cos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_first_output_matches_spec_constant() {
        // docs/gateware-spec.md section 1: C[0] = 0xE220A8397B1DCDAF.
        let mut x = 0;
        assert_eq!(splitmix64(&mut x), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn geometric_skip_has_the_right_mean() {
        let mut r = SimRng::new(seed_from_name("geometric_skip_has_the_right_mean"));
        let p: f64 = 0.01;
        let lq = (1.0 - p).ln();
        let n = 200_000;
        let sum: f64 = (0..n).map(|_| r.geometric_skip(lq) as f64).sum();
        let mean = sum / f64::from(n);
        // E = (1-p)/p = 99, sd of the mean ~ sqrt(9900/2e5) ~ 0.22.
        assert!((mean - 99.0).abs() < 1.5, "mean {mean}");
    }

    #[test]
    fn gaussian_moments() {
        let mut r = SimRng::new(seed_from_name("gaussian_moments"));
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.gaussian()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let tail = xs.iter().filter(|x| x.abs() > 1.96).count() as f64 / n as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        assert!((tail - 0.05).abs() < 0.004, "{tail}");
    }

    #[test]
    fn poisson_mean_and_zero_probability() {
        let mut r = SimRng::new(seed_from_name("poisson_mean_and_zero_probability"));
        let n = 200_000;
        let xs: Vec<u64> = (0..n).map(|_| r.poisson(0.5)).collect();
        let mean = xs.iter().sum::<u64>() as f64 / n as f64;
        let zeros = xs.iter().filter(|&&x| x == 0).count() as f64 / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
        assert!((zeros - (-0.5f64).exp()).abs() < 0.005, "P0 {zeros}");
    }
}

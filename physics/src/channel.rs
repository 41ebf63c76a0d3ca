// SPDX-License-Identifier: MIT OR Apache-2.0
//! The quantum channel between Alice and Bob.
//!
//! * Fiber: transmittance `t = 10^(-(alpha L + extra) / 10)` with `alpha` in
//!   dB/km (0.2 dB/km for standard SMF-28 at 1550 nm, as in Lim et al.,
//!   PRA 89, 022307 (2014), Sec. IV) and fixed extra loss in dB.
//! * Free space / daylight: a fixed link loss in dB and background light
//!   that adds `background_counts_per_gate` clicks per detector and gate
//!   (unpolarised, so it behaves like an extra dark count; cf. Liao et al.,
//!   Nat. Photon. 11, 509 (2017) for daylight free-space QKD).
//!
//! * A channel that varies during a run (fading, a satellite pass):
//!   [`ChannelSchedule`].
//!
//! Loss of a Poisson pulse thins it to another Poisson pulse of mean
//! `mu t` (binomial thinning), which the fast link uses.

use crate::ParamError;

/// Channel parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelParams {
    /// Fiber length in km (0 for free space).
    pub length_km: f64,
    /// Fiber attenuation in dB per km.
    pub loss_db_per_km: f64,
    /// Fixed extra loss in dB (connectors, or the whole free-space link loss).
    pub extra_loss_db: f64,
    /// Background (daylight) clicks per detector per gate, added to the
    /// detector's dark counts.
    pub background_counts_per_gate: f64,
}

impl Default for ChannelParams {
    /// 50 km of 0.2 dB/km fiber (the link TOML default).
    fn default() -> ChannelParams {
        ChannelParams::fiber(50.0, 0.2, 0.0)
    }
}

impl ChannelParams {
    /// A fiber link.
    pub fn fiber(length_km: f64, loss_db_per_km: f64, extra_loss_db: f64) -> ChannelParams {
        ChannelParams {
            length_km,
            loss_db_per_km,
            extra_loss_db,
            background_counts_per_gate: 0.0,
        }
    }

    /// A free-space link with fixed loss and daylight background.
    pub fn free_space(link_loss_db: f64, background_counts_per_gate: f64) -> ChannelParams {
        ChannelParams {
            length_km: 0.0,
            loss_db_per_km: 0.0,
            extra_loss_db: link_loss_db,
            background_counts_per_gate,
        }
    }

    /// Check ranges; the error names the field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |field: &'static str, value: f64| ParamError::OutOfRange { field, value };
        if !(self.length_km >= 0.0 && self.length_km.is_finite()) {
            return Err(bad("channel.length_km", self.length_km));
        }
        if !(self.loss_db_per_km >= 0.0 && self.loss_db_per_km.is_finite()) {
            return Err(bad("channel.loss_db_per_km", self.loss_db_per_km));
        }
        if !(self.extra_loss_db >= 0.0 && self.extra_loss_db.is_finite()) {
            return Err(bad("channel.extra_loss_db", self.extra_loss_db));
        }
        if !(0.0..1.0).contains(&self.background_counts_per_gate) {
            return Err(bad(
                "channel.background_counts_per_gate",
                self.background_counts_per_gate,
            ));
        }
        Ok(())
    }

    /// Total channel loss in dB.
    pub fn loss_db(&self) -> f64 {
        self.loss_db_per_km * self.length_km + self.extra_loss_db
    }

    /// Channel transmittance `10^(-loss_dB / 10)`.
    pub fn transmittance(&self) -> f64 {
        10f64.powf(-self.loss_db() / 10.0)
    }
}

/// A time-varying channel, piecewise constant over steps of `step_slots`:
/// in step `i` the transmittance is `mean[i]` (the channel's own when
/// `mean` is empty) times a log-normal fading factor of unit mean, and the
/// background is `background[i]` clicks per detector and gate (the
/// channel's own when empty); past the end the last entry holds. The fading
/// log-intensity is an AR(1) process with log-variance `log_variance` and
/// step correlation `rho` (see `free_space`); the simulator draws it from
/// its own generator, so the photon randomness is the same with and
/// without fading.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelSchedule {
    /// Slots per step (at least 64).
    pub step_slots: u64,
    /// Mean transmittance per step.
    pub mean: std::sync::Arc<[f64]>,
    /// Background clicks per detector and gate per step.
    pub background: std::sync::Arc<[f64]>,
    /// Variance of the log-intensity (0: no fading).
    pub log_variance: f64,
    /// Correlation of the log-intensity from one step to the next.
    pub rho: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_km_is_ten_db() {
        let c = ChannelParams::fiber(50.0, 0.2, 0.0);
        assert!((c.loss_db() - 10.0).abs() < 1e-12);
        assert!((c.transmittance() - 0.1).abs() < 1e-12);
        let f = ChannelParams::free_space(30.0, 1e-5);
        assert!((f.transmittance() - 1e-3).abs() < 1e-15);
    }

    #[test]
    fn negative_length_is_rejected_by_name() {
        let e = ChannelParams::fiber(-1.0, 0.2, 0.0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("channel.length_km"), "{e}");
    }
}

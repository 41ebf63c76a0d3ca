// SPDX-License-Identifier: MIT OR Apache-2.0
//! The link TOML as the link's physics (`qkd_physics`): Alice's source,
//! Bob's detectors and gate window, and the `[channel]`: a fibre, or a
//! free-space link whose mean loss and sky background come from
//! `qkd_physics::free_space` and whose turbulence makes the transmittance
//! vary during the run (a `ChannelSchedule` of log-normal fading with the
//! configured correlation time), or a satellite pass. The planner and
//! `qkd-host run` both build the link through here.

use crate::config::{ChannelKind, LinkConfig};
use qkd_physics::channel::{ChannelParams, ChannelSchedule};
use qkd_physics::detector::{DetectorParams, GateWindow};
use qkd_physics::free_space::FreeSpaceParams;
use qkd_physics::receiver::ReceiverInputs;
use qkd_physics::satellite::PassPoint;
use qkd_physics::source::SourceParams;

/// The physics of a configured link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPhysics {
    /// Alice's source.
    pub source: SourceParams,
    /// The channel (its mean for a varying one).
    pub channel: ChannelParams,
    /// Bob's detectors.
    pub detector: DetectorParams,
    /// Bob's TDC gate window (the gateware's default).
    pub gate: GateWindow,
    /// How the channel varies during a run; `None` for a constant one.
    pub schedule: Option<ChannelSchedule>,
}

impl LinkPhysics {
    /// The closed-form receiver model's inputs (the channel's mean
    /// transmittance).
    pub fn receiver_inputs(&self) -> ReceiverInputs {
        ReceiverInputs::new(
            &self.source,
            &self.channel,
            &self.detector,
            &self.gate,
            self.detector.dead_time_slots(self.source.slot_ps()),
        )
    }
}

/// The physics of the link `cfg` describes.
pub fn physics(cfg: &LinkConfig) -> LinkPhysics {
    let source = SourceParams {
        pulse_rate_hz: cfg.source.pulse_rate_hz,
        intensities_photons: cfg.source.intensities,
        probabilities: cfg.source.probabilities,
        basis_z_probability: cfg.source.basis_z_probability,
    };
    let detector = DetectorParams {
        efficiency: cfg.detector.efficiency,
        dark_count_per_gate: cfg.detector.dark_count_per_gate,
        afterpulse_probability: cfg.detector.afterpulse_probability,
        afterpulse_time_constant_ns: cfg.detector.afterpulse_time_constant_ns,
        dead_time_ns: cfg.detector.dead_time_ns,
        misalignment_error: cfg.detector.misalignment_error,
        ..DetectorParams::default()
    };
    let mut p = LinkPhysics {
        source,
        channel: ChannelParams::fiber(
            cfg.channel.length_km,
            cfg.channel.loss_db_per_km,
            cfg.channel.extra_loss_db,
        ),
        detector,
        gate: GateWindow::default(),
        schedule: None,
    };
    apply(cfg, &mut p);
    p
}

/// The pass's points, with `extra_loss_db` in the transmittance.
pub fn pass_points(cfg: &LinkConfig) -> Vec<PassPoint> {
    let extra = 10f64.powf(-cfg.channel.extra_loss_db / 10.0);
    cfg.channel
        .satellite_pass
        .points()
        .into_iter()
        .map(|p| PassPoint {
            transmittance: p.transmittance * extra,
            ..p
        })
        .collect()
}

/// The link's length in km: the fibre length, the free-space range, or a
/// pass's shortest range.
pub fn distance_km(cfg: &LinkConfig) -> f64 {
    match cfg.channel.kind {
        ChannelKind::Fiber => cfg.channel.length_km,
        ChannelKind::FreeSpace => cfg.channel.free_space.range_m / 1e3,
        ChannelKind::SatellitePass => {
            let p = cfg.channel.satellite_pass;
            p.range_at_elevation_km(p.max_elevation_deg)
        }
    }
}

/// Set the link's length in km (fibre length or free-space range; a pass
/// keeps its geometry).
pub fn set_distance_km(cfg: &mut LinkConfig, km: f64) {
    match cfg.channel.kind {
        ChannelKind::Fiber => cfg.channel.length_km = km,
        ChannelKind::FreeSpace => cfg.channel.free_space.range_m = km * 1e3,
        ChannelKind::SatellitePass => {}
    }
}

/// Background clicks per detector and gate window of `p` from the sky
/// keys of `[channel.free_space]` (with the pass's telescope for a pass).
fn background(cfg: &LinkConfig, p: &LinkPhysics, rx_aperture_m: f64) -> f64 {
    let fs = FreeSpaceParams {
        rx_aperture_m,
        ..cfg.channel.free_space
    };
    let window_s = p.gate.duration_s(p.source.slot_ps());
    fs.background_counts_per_gate(window_s, cfg.detector.efficiency)
        .min(0.999_999)
}

fn loss_db(t: f64) -> f64 {
    if t > 0.0 {
        (-10.0 * t.log10()).max(0.0)
    } else {
        f64::MAX
    }
}

/// Put the configured channel into `p` (built with a fibre channel): for a free-space link the mean transmittance
/// (geometric x atmospheric x pointing, and `extra_loss_db`), the
/// background per detector in Bob's gate window, and the fading schedule
/// (steps of an eighth of the correlation time, at least 64 slots).
fn apply(cfg: &LinkConfig, p: &mut LinkPhysics) {
    match cfg.channel.kind {
        ChannelKind::Fiber => {}
        ChannelKind::FreeSpace => {
            let fs = cfg.channel.free_space;
            let t = fs.mean_transmittance() * 10f64.powf(-cfg.channel.extra_loss_db / 10.0);
            let bg = background(cfg, p, fs.rx_aperture_m);
            p.channel = ChannelParams::free_space(loss_db(t), bg);
            let s2 = fs.log_variance();
            if s2 > 0.0 {
                let slot_s = p.source.slot_ps() * 1e-12;
                let tau_slots = fs.correlation_time_ms * 1e-3 / slot_s;
                let step_slots = ((tau_slots / 8.0).round() as u64).max(64);
                p.schedule = Some(ChannelSchedule {
                    step_slots,
                    mean: Vec::new().into(),
                    background: Vec::new().into(),
                    log_variance: s2,
                    rho: (-(step_slots as f64) / tau_slots).exp(),
                });
            }
        }
        ChannelKind::SatellitePass => {
            let pts = pass_points(cfg);
            let peak = pts.iter().map(|q| q.transmittance).fold(0.0, f64::max);
            let bg = background(cfg, p, cfg.channel.satellite_pass.rx_aperture_m);
            p.channel = ChannelParams::free_space(loss_db(peak), bg);
            let step_slots = ((cfg.channel.satellite_pass.step_s * p.source.pulse_rate_hz).round()
                as u64)
                .max(64);
            p.schedule = Some(ChannelSchedule {
                step_slots,
                mean: pts
                    .iter()
                    .map(|q| q.transmittance)
                    .collect::<Vec<_>>()
                    .into(),
                background: Vec::new().into(),
                log_variance: 0.0,
                rho: 0.0,
            });
        }
    }
}

/// Pulses in the whole pass (satellite-pass links).
pub fn pass_pulses(cfg: &LinkConfig) -> u64 {
    let n = pass_points(cfg).len() as f64;
    (n * cfg.channel.satellite_pass.step_s * cfg.source.pulse_rate_hz).round() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiber_is_left_alone_and_free_space_gets_its_loss_and_fading() {
        let mut cfg = LinkConfig::default();
        let mut p = physics(&cfg);
        assert_eq!(p.channel, ChannelParams::fiber(50.0, 0.2, 0.0));
        assert!(p.schedule.is_none());
        cfg.channel.kind = ChannelKind::FreeSpace;
        cfg.channel.extra_loss_db = 3.0;
        p = physics(&cfg);
        let fs = cfg.channel.free_space;
        let want = fs.mean_transmittance() * 10f64.powf(-0.3);
        assert!((p.channel.transmittance() / want - 1.0).abs() < 1e-12);
        // Gate window bins 1..=5 of 8 at 3.2 ns: 2 ns.
        let bg = fs.background_counts_per_gate(2e-9, cfg.detector.efficiency);
        assert!((p.channel.background_counts_per_gate / bg - 1.0).abs() < 1e-12);
        let sc = p.schedule.expect("fading");
        // 5 ms / 8 at 3.2 ns per slot: 195312.5 slots -> 195313.
        assert_eq!(sc.step_slots, 195_313);
        assert!((sc.log_variance - 0.1f64.ln_1p()).abs() < 1e-15);
        assert!((sc.rho - (-0.125f64).exp()).abs() < 1e-6);
        assert!((distance_km(&cfg) - 0.275).abs() < 1e-15);
    }

    #[test]
    fn a_pass_is_a_schedule_of_its_transmittance() {
        let mut cfg = LinkConfig::default();
        cfg.channel.kind = ChannelKind::SatellitePass;
        cfg.channel.extra_loss_db = 10.0;
        let p = physics(&cfg);
        let sc = p.schedule.expect("schedule");
        let pts = cfg.channel.satellite_pass.points();
        assert_eq!(sc.mean.len(), pts.len());
        assert_eq!(sc.step_slots, 312_500_000);
        for (m, q) in sc.mean.iter().zip(&pts) {
            assert!((m / (q.transmittance * 0.1) - 1.0).abs() < 1e-12);
        }
        assert_eq!(pass_pulses(&cfg), pts.len() as u64 * 312_500_000);
    }

    // `run` hands the simulator this same physics: the receiver model of
    // the planner and of the simulated link agree for every channel kind.
    #[cfg(feature = "sim")]
    #[test]
    fn the_simulated_link_has_the_planners_physics() {
        for kind in [
            ChannelKind::Fiber,
            ChannelKind::FreeSpace,
            ChannelKind::SatellitePass,
        ] {
            let mut cfg = LinkConfig::default();
            cfg.channel.kind = kind;
            let ph = physics(&cfg);
            let p = crate::run::link_params(&cfg, Default::default(), 1);
            assert_eq!(ph.receiver_inputs(), p.receiver_inputs(), "{kind:?}");
            assert_eq!(ph.channel, p.channel, "{kind:?}");
            assert_eq!(ph.schedule, p.schedule, "{kind:?}");
            assert_eq!(ph.gate, p.bob.gate_window(), "{kind:?}");
        }
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The link TOML's `[channel]` as the simulator's channel: a fibre, or a
//! free-space link whose mean loss and sky background come from
//! `qkd_sim::physics::free_space` and whose turbulence makes the
//! transmittance vary during the run (a `ChannelSchedule` of log-normal
//! fading with the configured correlation time). The planner and
//! `qkd-host run` both build the link through here.

use crate::config::{ChannelKind, LinkConfig};
use qkd_sim::physics::channel::ChannelParams;
use qkd_sim::physics::free_space::FreeSpaceParams;
use qkd_sim::physics::link::{ChannelSchedule, LinkParams};
use qkd_sim::physics::satellite::PassPoint;

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
fn background(cfg: &LinkConfig, p: &LinkParams, rx_aperture_m: f64) -> f64 {
    let fs = FreeSpaceParams {
        rx_aperture_m,
        ..cfg.channel.free_space
    };
    let slot_s = p.source.slot_ps() * 1e-12;
    let bins = f64::from(p.bob.gate_end_bin.saturating_sub(p.bob.gate_start_bin)) + 1.0;
    let window_s = bins * slot_s / f64::from(p.bob.oversample.max(1));
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

/// Put the configured channel into `p` (built with a fibre channel by
/// `run::link_params`): for a free-space link the mean transmittance
/// (geometric x atmospheric x pointing, and `extra_loss_db`), the
/// background per detector in Bob's gate window, and the fading schedule
/// (steps of an eighth of the correlation time, at least 64 slots).
pub fn apply(cfg: &LinkConfig, p: &mut LinkParams) {
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
        let mut p = crate::run::link_params(&cfg, Default::default(), 1);
        assert_eq!(p.channel, ChannelParams::fiber(50.0, 0.2, 0.0));
        assert!(p.schedule.is_none());
        cfg.channel.kind = ChannelKind::FreeSpace;
        cfg.channel.extra_loss_db = 3.0;
        p = crate::run::link_params(&cfg, Default::default(), 1);
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
        let p = crate::run::link_params(&cfg, Default::default(), 1);
        let sc = p.schedule.expect("schedule");
        let pts = cfg.channel.satellite_pass.points();
        assert_eq!(sc.mean.len(), pts.len());
        assert_eq!(sc.step_slots, 312_500_000);
        for (m, q) in sc.mean.iter().zip(&pts) {
            assert!((m / (q.transmittance * 0.1) - 1.0).abs() < 1e-12);
        }
        assert_eq!(pass_pulses(&cfg), pts.len() as u64 * 312_500_000);
    }
}

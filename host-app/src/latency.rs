// SPDX-License-Identifier: MIT OR Apache-2.0
//! Classical-channel latency and the latency-aware choice of reconciler
//! (issue 24, item 4).
//!
//! Time per block of a reconciler = round trips x RTT + computation on one
//! core, with the round-trip and speed fits of `qkd_keyproc::ldpc::kind`
//! (Cascade option (8): ~150 log2(n Q) - 900 round trips at ~30 Mbit/s;
//! blind LDPC, Martinez-Mateo et al., QIC 12 (2012) 791: 2-6 round trips at
//! 0.1-0.7 Mbit/s). `postprocessing.reconciliation = "auto"` takes the
//! shorter one per block, at the QBER the block's parameter estimation
//! measured. The choice looks at time only: LDPC's larger leak (f 1.3-1.6
//! against Cascade's ~1.05) costs key, which the planner's key rate shows
//! through `postprocessing.ec_efficiency`.
//!
//! The RTT is `[classical] rtt_ms`, or, when absent, the propagation delay
//! of the quantum channel's path, taking the classical messages along the
//! same path: 2 L n_g / c over fibre (group index n_g = 1.468 of SMF-28 at
//! 1550 nm, ~4.9 us/km one way: 0.49 ms at 50 km), 2 R / c for a free-space
//! range R, 2 h / c for a satellite at altitude h (zenith, the shortest
//! slant range of the pass). Queueing and processing delays of a real
//! network come on top; give `rtt_ms` for those.

use crate::config::{ChannelKind, LinkConfig, Reconciliation};
use qkd_keyproc::ldpc::kind::{compute_time, faster, round_trips};
use qkd_keyproc::ldpc::ReconcilerKind;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Speed of light in vacuum, km/s.
const C_KM_PER_S: f64 = 299_792.458;
/// Group index of standard single-mode fibre (SMF-28) at 1550 nm.
pub const FIBER_GROUP_INDEX: f64 = 1.468;

/// The classical channel's round-trip time of `cfg`, ms: `[classical]
/// rtt_ms`, or the path's propagation delay (module header).
pub fn rtt_ms(cfg: &LinkConfig) -> f64 {
    if let Some(r) = cfg.classical.rtt_ms {
        return r;
    }
    let c = &cfg.channel;
    let one_way_s = match c.kind {
        ChannelKind::Fiber => c.length_km * FIBER_GROUP_INDEX / C_KM_PER_S,
        ChannelKind::FreeSpace => c.free_space.range_m * 1e-3 / C_KM_PER_S,
        ChannelKind::SatellitePass => c.satellite_pass.altitude_km / C_KM_PER_S,
    };
    2.0 * one_way_s * 1e3
}

/// `rtt_ms` as a duration.
pub fn rtt(rtt_ms: f64) -> Duration {
    Duration::from_secs_f64((rtt_ms * 1e-3).max(0.0))
}

/// The reconciler a block of `n_bits` at `qber` uses under `setting`.
pub fn resolve(setting: Reconciliation, n_bits: usize, qber: f64, rtt_ms: f64) -> ReconcilerKind {
    match setting {
        Reconciliation::Cascade => ReconcilerKind::Cascade,
        Reconciliation::Ldpc => ReconcilerKind::Ldpc,
        Reconciliation::Auto => faster(n_bits, qber, rtt(rtt_ms)),
    }
}

/// Estimated cost of one block with one reconciler.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReconcilerTiming {
    /// The reconciler.
    pub kind: ReconcilerKind,
    /// Round trips per block.
    pub round_trips_per_block: u32,
    /// Computation per block on one core (both ends), s.
    pub compute_s: f64,
    /// round trips x RTT + computation, s.
    pub time_per_block_s: f64,
}

/// Both reconcilers' estimated cost for a block of `n_bits` at `qber`
/// over a channel of `rtt_ms`.
pub fn timings(n_bits: usize, qber: f64, rtt_ms: f64) -> Vec<ReconcilerTiming> {
    [ReconcilerKind::Cascade, ReconcilerKind::Ldpc]
        .into_iter()
        .map(|kind| {
            let rt = round_trips(kind, n_bits, qber);
            let compute_s = compute_time(kind, n_bits, qber).as_secs_f64();
            ReconcilerTiming {
                kind,
                round_trips_per_block: rt,
                compute_s,
                time_per_block_s: f64::from(rt) * rtt_ms * 1e-3 + compute_s,
            }
        })
        .collect()
}

/// One line per reconciler for the text summaries, e.g.
/// `cascade  1243 round trips  0.65 s/block`.
pub fn describe(t: &[ReconcilerTiming], chosen: Option<ReconcilerKind>) -> Vec<String> {
    t.iter()
        .map(|r| {
            format!(
                "{:<8} {:>5} round trips  {:>8.3} s/block{}",
                r.kind.to_string(),
                r.round_trips_per_block,
                r.time_per_block_s,
                if Some(r.kind) == chosen {
                    "  (chosen)"
                } else {
                    ""
                }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fibre_rtt_is_about_10_us_per_km() {
        let cfg = LinkConfig::default();
        let r = rtt_ms(&cfg);
        assert!((0.48..0.50).contains(&r), "{r}");
        let mut c = cfg.clone();
        c.classical.rtt_ms = Some(30.0);
        assert_eq!(rtt_ms(&c), 30.0);
    }

    #[test]
    fn auto_takes_cascade_on_fibre_and_ldpc_on_long_rtt() {
        let n = 1_000_000;
        assert_eq!(
            resolve(Reconciliation::Auto, n, 0.02, 0.49),
            ReconcilerKind::Cascade
        );
        assert_eq!(
            resolve(Reconciliation::Auto, n, 0.02, 100.0),
            ReconcilerKind::Ldpc
        );
        assert_eq!(
            resolve(Reconciliation::Ldpc, n, 0.02, 0.0),
            ReconcilerKind::Ldpc
        );
        assert_eq!(
            resolve(Reconciliation::Cascade, n, 0.02, 1e3),
            ReconcilerKind::Cascade
        );
        let t = timings(n, 0.02, 0.49);
        assert_eq!(t.len(), 2);
        let c = t[0];
        assert!(c.round_trips_per_block > 100);
        let want = f64::from(c.round_trips_per_block) * 0.49e-3 + c.compute_s;
        assert!((c.time_per_block_s - want).abs() < 1e-12);
        assert!(t[1].round_trips_per_block <= 6);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Choice of reconciler (`postprocessing.reconciliation = "cascade" |
//! "ldpc"`) and the latency model behind the default: time per block =
//! round trips x RTT + computation on one core. Round trips and
//! computation rates are fits to this crate's benches (`benches/ldpc.rs`,
//! `benches/cascade.rs`, Cascade option (8), LDPC default config); they are
//! estimates for planning, the real counts come from `ReconcileReport`.

use super::protocol::{Ldpc, LdpcConfig, LdpcResponder};
use crate::bits::BitVec;
use crate::cascade::{Cascade, CascadeConfig, CascadeResponder};
use crate::reconcile::{ReconcileResponder, Reconciler};
use std::time::Duration;

/// Which reconciliation protocol a link uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ReconcilerKind {
    /// Interactive Cascade (hundreds to thousands of round trips, f ~ 1.05-1.07).
    #[default]
    Cascade,
    /// Blind LDPC (2-6 round trips, f ~ 1.3-1.6, slow decoding).
    Ldpc,
}

/// Error parsing a [`ReconcilerKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reconciliation {0:?} (expected \"cascade\" or \"ldpc\")")]
pub struct UnknownKind(pub String);

impl std::str::FromStr for ReconcilerKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cascade" => Ok(Self::Cascade),
            "ldpc" => Ok(Self::Ldpc),
            other => Err(UnknownKind(other.to_string())),
        }
    }
}

impl std::fmt::Display for ReconcilerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cascade => "cascade",
            Self::Ldpc => "ldpc",
        })
    }
}

impl ReconcilerKind {
    /// Bob's side. `cascade` is used for [`ReconcilerKind::Cascade`],
    /// `seed` is Cascade's shuffle seed.
    pub fn corrector(self, cascade: CascadeConfig, seed: [u8; 32]) -> Box<dyn Reconciler + Send> {
        match self {
            Self::Cascade => Box::new(Cascade::new(cascade, seed)),
            Self::Ldpc => Box::new(Ldpc::new(LdpcConfig::default())),
        }
    }

    /// Alice's side for `key`.
    pub fn responder(self, key: BitVec) -> Box<dyn ReconcileResponder + Send> {
        match self {
            Self::Cascade => Box::new(CascadeResponder::new(key)),
            Self::Ldpc => Box::new(LdpcResponder::new(key)),
        }
    }
}

/// Estimated round trips per block of `n_bits` at `qber`.
///
/// Cascade option (8): the number of errors e = n q sets the binary
/// searches; benches/ldpc.rs measured 560 / 745 / 847 round trips at
/// n = 1e5 and QBER 1 / 2 / 3 % (e = 1e3 / 2e3 / 3e3), fitted as
/// 150 log2(e) - 900 (at least 30). LDPC with the default config: setup +
/// close + reveal rounds, measured 5 / 6 / 4 / 2.5 / 2 at QBER
/// 1 / 2 / 3 / 5 / 8 % (examples/ldpc_probe.rs, n = 1e5).
pub fn round_trips(kind: ReconcilerKind, n_bits: usize, qber: f64) -> u32 {
    match kind {
        ReconcilerKind::Cascade => {
            let e = (n_bits as f64 * qber).max(2.0);
            (150.0 * e.log2() - 900.0).max(30.0).round() as u32
        }
        ReconcilerKind::Ldpc => {
            if qber < 0.025 {
                6
            } else if qber < 0.04 {
                4
            } else {
                3
            }
        }
    }
}

/// Estimated computation time per block on one core (both parties).
/// Thread-CPU rates measured on the loaded 2-core build machine: Cascade
/// ~30 Mbit/s (README figures), LDPC 0.1 Mbit/s at QBER 1-2 % rising to
/// 0.7 Mbit/s at 8 % (examples/ldpc_probe.rs; failed decoding attempts
/// of the high-rate codes dominate).
pub fn compute_time(kind: ReconcilerKind, n_bits: usize, qber: f64) -> Duration {
    let mbit_s = match kind {
        ReconcilerKind::Cascade => 30.0,
        ReconcilerKind::Ldpc => (0.1 + 7.5 * (qber - 0.01).max(0.0)).min(0.7),
    };
    Duration::from_secs_f64(n_bits as f64 / (mbit_s * 1e6))
}

/// Estimated wall time of one block's reconciliation over a classical
/// channel with round-trip time `rtt`.
pub fn time_per_block(kind: ReconcilerKind, n_bits: usize, qber: f64, rtt: Duration) -> Duration {
    rtt * round_trips(kind, n_bits, qber) + compute_time(kind, n_bits, qber)
}

/// The kind with the smaller [`time_per_block`] for this link.
pub fn faster(n_bits: usize, qber: f64, rtt: Duration) -> ReconcilerKind {
    let c = time_per_block(ReconcilerKind::Cascade, n_bits, qber, rtt);
    let l = time_per_block(ReconcilerKind::Ldpc, n_bits, qber, rtt);
    if l < c {
        ReconcilerKind::Ldpc
    } else {
        ReconcilerKind::Cascade
    }
}

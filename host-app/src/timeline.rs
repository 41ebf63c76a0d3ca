// SPDX-License-Identifier: MIT OR Apache-2.0
//! A satellite pass as the simulated link saw it, step by step, and its
//! plot beside the planner's (`qkd-host run --config PASS.toml --plot
//! pass.svg`).
//!
//! ```text
//!  run::link_params(cfg, attack, seed) ─▶ FastLink, chunks of run::CHUNK_SLOTS
//!      (the run's own link: same parameters, seed and chunking, so the same clicks)
//!      ─▶ Alice's symbols + Bob's DETECTIONs ─▶ per schedule step: sifted Z
//!         detections and errors (simulator's truth), transmittance
//!  + the run's secret bits, shared over the steps by their sifted Z bits
//!  + planner::plan_pass ─▶ SVG: QBER, loss and key rate over time
//! ```
//!
//! The pipelines of `qkd-host run` forget what they have sifted; the
//! timeline is counted again from the link itself. The physics is a pure
//! function of the link parameters, the seed and the chunking
//! (`sim/src/physics/device.rs`), so this second pass over the link sees
//! the run's own detections (`detections` equals the run's count).

use crate::config::LinkConfig;
use crate::planner::PassPlan;
use qkd_abi::records::{AliceSymbols, Record};
use qkd_sim::physics::link::FastLink;
use qkd_sim::physics::AttackConfig;
use serde::Serialize;
use std::collections::BTreeMap;

/// Slot indices in the records are the low 40 bits.
const SLOT_MASK: u64 = (1 << 40) - 1;

/// Why a timeline could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    /// The link is not a satellite pass (no schedule to step through).
    #[error("the timeline needs a time-varying channel ([channel] kind = \"satellite-pass\")")]
    NoSchedule,
    /// The simulator refused the parameters.
    #[error("simulated link: {0}")]
    Sim(String),
    /// Plotting failed.
    #[error("plotting to {path}: {msg}")]
    Plot {
        /// The SVG file.
        path: String,
        /// What plotters said.
        msg: String,
    },
}

/// One step (`[channel.satellite_pass] step_s`) of the simulated pass.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimStep {
    /// Start of the step from the start of the pass, s.
    pub time_s: f64,
    /// Channel loss the simulator applied in this step, dB.
    pub loss_db: f64,
    /// Sifted Z detections (Alice's and Bob's bases both Z, all intensities).
    pub sifted_z: f64,
    /// Errors among them (double clicks count 1/2: sifting draws a random bit).
    pub errors_z: f64,
}

impl SimStep {
    /// QBER in Z (all intensities) in this step (0 without detections).
    pub fn qber(&self) -> f64 {
        if self.sifted_z > 0.0 {
            self.errors_z / self.sifted_z
        } else {
            0.0
        }
    }
}

/// The simulated pass step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimTimeline {
    /// Seconds per step.
    pub step_s: f64,
    /// The steps.
    pub steps: Vec<SimStep>,
    /// Valid DETECTION records over the pass (the run's `detections`).
    pub detections: u64,
}

impl SimTimeline {
    /// Sifted Z detections over the pass.
    pub fn sifted_z(&self) -> f64 {
        self.steps.iter().map(|s| s.sifted_z).sum()
    }

    /// QBER in Z over the pass.
    pub fn qber(&self) -> f64 {
        let e: f64 = self.steps.iter().map(|s| s.errors_z).sum();
        let n = self.sifted_z();
        if n > 0.0 {
            e / n
        } else {
            0.0
        }
    }

    /// Key rate per step, bits/s: the run's `secret_bits` shared over the
    /// steps by their sifted Z bits (the whole pass is one block, so each
    /// step holds its share of the key, as in `planner::plan_pass`).
    pub fn secret_bits_per_second(&self, secret_bits: u64) -> Vec<f64> {
        let n = self.sifted_z();
        self.steps
            .iter()
            .map(|s| {
                if n > 0.0 {
                    secret_bits as f64 * s.sifted_z / n / self.step_s
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Simulate the link of a `qkd-host run` of `cfg` (`pulses`, `seed`,
/// `attack` as the run's) and count its sifted Z detections and errors per
/// step of the pass.
pub fn simulate_pass(
    cfg: &LinkConfig,
    pulses: u64,
    seed: u64,
    attack: AttackConfig,
) -> Result<SimTimeline, TimelineError> {
    let p = crate::run::link_params(cfg, attack, seed);
    let sc = p.schedule.clone().ok_or(TimelineError::NoSchedule)?;
    if cfg.channel.kind != crate::config::ChannelKind::SatellitePass {
        return Err(TimelineError::NoSchedule);
    }
    let step_s = cfg.channel.satellite_pass.step_s;
    let steps_n = pulses.div_ceil(sc.step_slots) as usize;
    let base = p.channel.transmittance();
    let mut steps: Vec<SimStep> = (0..steps_n)
        .map(|i| {
            let t = sc.mean.get(i).or(sc.mean.last()).copied().unwrap_or(base);
            SimStep {
                time_s: i as f64 * step_s,
                loss_db: -10.0 * t.log10(),
                sifted_z: 0.0,
                errors_z: 0.0,
            }
        })
        .collect();
    let mut link = FastLink::new(p).map_err(|e| TimelineError::Sim(e.to_string()))?;
    // Alice's symbol records by start slot, kept until Bob's detections
    // (which may come a chunk later) have passed them.
    let mut alice: BTreeMap<u64, AliceSymbols> = BTreeMap::new();
    let mut detections = 0u64;
    let mut remaining = pulses;
    // The run's chunking (`Shared::run_chunk` in sim/src/physics/device.rs):
    // it is part of the random sequence.
    let chunk = crate::run::CHUNK_SLOTS.max(64);
    while remaining > 0 {
        let n = chunk.min(remaining);
        let end = link.slots() + n;
        remaining -= n;
        link.run_until(end);
        if remaining == 0 {
            link.finish();
        }
        let out = link.take_output();
        for r in out.alice {
            if let Record::AliceSymbols(a) = r {
                alice.insert(a.start_slot & SLOT_MASK, a);
            }
        }
        let dets: Vec<(u64, u8, qkd_abi::symbol::Basis)> = out
            .bob
            .iter()
            .filter_map(|r| match r {
                Record::Detection(d) if !d.invalid => {
                    Some((d.slot & SLOT_MASK, d.detector, d.basis))
                }
                _ => None,
            })
            .collect();
        detections += dets.len() as u64;
        let mut i = 0;
        while i < dets.len() {
            let (slot, det, basis) = dets[i];
            let double = dets.get(i + 1).is_some_and(|x| x.0 == slot);
            i += if double { 2 } else { 1 };
            let Some(sym) = alice
                .range(..=slot)
                .next_back()
                .and_then(|(start, a)| a.symbol((slot - start) as usize))
            else {
                continue;
            };
            if sym.intensity().index().is_none()
                || sym.basis() != basis
                || basis != qkd_abi::symbol::Basis::Z
            {
                continue;
            }
            let k = ((slot / sc.step_slots) as usize).min(steps_n.saturating_sub(1));
            let Some(st) = steps.get_mut(k) else {
                continue;
            };
            st.sifted_z += 1.0;
            st.errors_z += if double {
                0.5
            } else {
                f64::from(u8::from(sym.bit()) != det)
            };
        }
        if let Some(&(last, _, _)) = dets.last() {
            // Records that end before the last detection are done with.
            alice = alice.split_off(&last.saturating_sub(2048));
        }
    }
    Ok(SimTimeline {
        step_s,
        steps,
        detections,
    })
}

/// Draw the pass as SVG, three panels over time: QBER in Z, channel loss
/// and key rate, each with the planner's curve and the simulated run's.
pub fn plot_pass_run(
    plan: &PassPlan,
    sim: &SimTimeline,
    secret_bits: u64,
    path: &std::path::Path,
) -> Result<(), TimelineError> {
    use crate::plot::{Panel, Series, YRange};
    use plotters::style::{BLUE, RED};
    let t_max = plan.duration_s.max(1.0);
    let rate = sim.secret_bits_per_second(secret_bits);
    // (panel, planner's points, simulated points), (time s, value)
    type Points = Vec<(f64, f64)>;
    let series: [(&str, Points, Points); 3] = [
        (
            "QBER (Z)",
            plan.steps.iter().map(|s| (s.time_s, s.qber)).collect(),
            sim.steps.iter().map(|s| (s.time_s, s.qber())).collect(),
        ),
        (
            "channel loss (dB)",
            plan.steps.iter().map(|s| (s.time_s, s.loss_db)).collect(),
            sim.steps.iter().map(|s| (s.time_s, s.loss_db)).collect(),
        ),
        (
            "secret bits per second",
            plan.steps
                .iter()
                .map(|s| (s.time_s, s.secret_bits_per_second))
                .collect(),
            sim.steps
                .iter()
                .zip(&rate)
                .map(|(s, r)| (s.time_s, *r))
                .collect(),
        ),
    ];
    let panels: Vec<Panel> = series
        .iter()
        .map(|(caption, planned, simulated)| Panel {
            caption,
            x_desc: "time in the pass (s)",
            y_desc: None,
            y_range: YRange::Fit,
            series: vec![
                Series {
                    name: "simulated run",
                    points: simulated,
                    colour: RED,
                },
                Series {
                    name: "planner (detailed)",
                    points: planned,
                    colour: BLUE,
                },
            ],
        })
        .collect();
    crate::plot::time_panels(path, (800, 900), t_max, &panels).map_err(|msg| TimelineError::Plot {
        path: path.display().to_string(),
        msg,
    })
}

/// `qkd-host run --plot` for a pass: simulate the run's link again (same
/// `cfg`, `pulses`, `seed`, `attack`), plan the pass with the run's block
/// size and measured EC efficiency (`ec_efficiency`, as the printed
/// planner figure), and draw both to `path`. Returns the timeline.
pub fn plot_run(
    cfg: &LinkConfig,
    pulses: u64,
    seed: u64,
    attack: AttackConfig,
    secret_bits: u64,
    ec_efficiency: Option<f64>,
    path: &std::path::Path,
) -> Result<SimTimeline, TimelineError> {
    let sim = simulate_pass(cfg, pulses, seed, attack)?;
    let mut c = cfg.clone();
    if let Some(f) = ec_efficiency.filter(|f| f.is_finite() && *f >= 1.0) {
        c.postprocessing.ec_efficiency = f;
    }
    let plan = crate::planner::plan_pass(
        &c,
        crate::planner::DetectorModel::Detailed,
        Some(c.block_bits()),
    );
    plot_pass_run(&plan, &sim, secret_bits, path)?;
    Ok(sim)
}

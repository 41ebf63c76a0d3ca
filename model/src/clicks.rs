// SPDX-License-Identifier: MIT OR Apache-2.0
//! Seeded random stimulus for Bob's APD sample ports and photocurrent ADCs
//! (gateware spec 5.1 and 5.5): dark counts and detections, after-gate
//! clicks (Wiechers et al., NJP 13, 013043, 2011), dead-time collisions
//! (Weier et al., NJP 13, 073024, 2011), blinding episodes with clicks on
//! demand and no dark counts, and photocurrent steps and short pulses
//! (Lydersen et al., Nat. Photon. 4, 686, 2010).
//!
//! The waveform is continuous across lanes and cycles: a click is a rising
//! edge held high for a few samples, and may spill into the next slot or
//! cycle (where it produces no new edge).

use crate::bob::MAX_DETECTORS;
use crate::prng::Xoshiro256Plus;
use crate::ModelError;

/// Seed an RNG from a test name (FNV-1a, 64-bit), as the team rules ask.
pub fn seed_from_name(name: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Random episodes (blinding, no dark counts, photocurrent step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episodes {
    /// Probability per cycle that an episode starts (when none is active).
    pub start_prob_per_cycle: f64,
    /// Episode length in cycles, drawn uniformly from this inclusive range.
    pub len_cycles: (u32, u32),
}

impl Episodes {
    /// Never.
    pub const NONE: Episodes = Episodes {
        start_prob_per_cycle: 0.0,
        len_cycles: (0, 0),
    };
}

/// Knobs of the generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClickConfig {
    /// LANES.
    pub lanes: usize,
    /// OVERSAMPLE.
    pub oversample: usize,
    /// DETECTORS.
    pub detectors: usize,
    /// Probability of a click per slot per detector outside episodes.
    pub click_prob_per_slot: f64,
    /// Gate window of in-gate clicks: first and last fine bin.
    pub gate_bins: (u8, u8),
    /// Fraction of clicks whose edge is outside `gate_bins` (if there is room).
    pub after_gate_fraction: f64,
    /// Probability that a click is followed by a collision click on a random
    /// detector 0..=`collision_span_slots` slots later (0 = same slot).
    pub collision_prob: f64,
    /// Largest distance of a collision click, in slots.
    pub collision_span_slots: u32,
    /// High time of a click in samples (inclusive range, at least 1).
    pub pulse_width_samples: (u32, u32),
    /// Blinding: a click on demand (one detector, in the gate) every slot.
    pub blinding: Episodes,
    /// No clicks at all (blinded detectors do not dark-count).
    pub no_dark: Episodes,
    /// ADC sample period in cycles (0 = no ADC samples).
    pub adc_period_cycles: u32,
    /// ADC baseline code.
    pub adc_baseline: u16,
    /// Uniform ADC noise amplitude (codes, added to the baseline).
    pub adc_noise: u16,
    /// Photocurrent step episodes: all detectors read `adc_step_level`.
    pub adc_step: Episodes,
    /// ADC code during a step.
    pub adc_step_level: u16,
    /// Probability per ADC sample of a one-sample pulse at `adc_pulse_level`.
    pub adc_pulse_prob: f64,
    /// ADC code of a pulse.
    pub adc_pulse_level: u16,
}

impl ClickConfig {
    /// Quiet defaults: 1 % clicks, in gate `gate_bins`, no attacks, no ADC.
    pub fn quiet(lanes: usize, oversample: usize, detectors: usize) -> ClickConfig {
        ClickConfig {
            lanes,
            oversample,
            detectors,
            click_prob_per_slot: 0.01,
            gate_bins: (1, (oversample as u8).saturating_sub(2)),
            after_gate_fraction: 0.0,
            collision_prob: 0.0,
            collision_span_slots: 0,
            pulse_width_samples: (1, 3),
            blinding: Episodes::NONE,
            no_dark: Episodes::NONE,
            adc_period_cycles: 0,
            adc_baseline: 0x100,
            adc_noise: 0x20,
            adc_step: Episodes::NONE,
            adc_step_level: 0xC00,
            adc_pulse_prob: 0.0,
            adc_pulse_level: 0xFFF,
        }
    }
}

/// One cycle of stimulus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClickCycle {
    /// `apd_d{d}` samples (bit `l*OS + s`).
    pub apd: [u128; MAX_DETECTORS],
    /// `adc_d{d}` when `adc_valid_d{d}`.
    pub adc: [Option<u16>; MAX_DETECTORS],
    /// A blinding episode is active in this cycle.
    pub blinding: bool,
    /// A no-dark episode is active in this cycle.
    pub no_dark: bool,
    /// A photocurrent step is active in this cycle.
    pub adc_step: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Episode {
    left: u32,
}

/// The generator.
#[derive(Debug, Clone)]
pub struct ClickGen {
    cfg: ClickConfig,
    rng: Xoshiro256Plus,
    /// Samples still to hold high, per detector, carried across cycles.
    high_left: [u32; MAX_DETECTORS],
    /// Pending collision clicks: (absolute slot, detector).
    pending: Vec<(u64, usize)>,
    slot: u64,
    cycle: u64,
    blinding: Episode,
    no_dark: Episode,
    adc_step: Episode,
}

impl ClickGen {
    /// A generator seeded with `seed` (see [`seed_from_name`]).
    pub fn new(cfg: ClickConfig, seed: u64) -> Result<ClickGen, ModelError> {
        crate::bob::BobParams {
            lanes: cfg.lanes,
            oversample: cfg.oversample,
            detectors: cfg.detectors,
        }
        .validate()?;
        Ok(ClickGen {
            cfg,
            rng: Xoshiro256Plus::for_lane(seed, 0),
            high_left: [0; MAX_DETECTORS],
            pending: Vec::new(),
            slot: 0,
            cycle: 0,
            blinding: Episode::default(),
            no_dark: Episode::default(),
            adc_step: Episode::default(),
        })
    }

    /// The knobs (may be changed between cycles with [`ClickGen::config_mut`]).
    pub fn config(&self) -> &ClickConfig {
        &self.cfg
    }
    /// Mutable knobs.
    pub fn config_mut(&mut self) -> &mut ClickConfig {
        &mut self.cfg
    }

    fn unit(&mut self) -> f64 {
        (self.rng.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            0
        } else {
            self.rng.next() % n
        }
    }
    fn range(&mut self, (lo, hi): (u32, u32)) -> u32 {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    fn episode(&mut self, which: u8) -> bool {
        let (knob, ep) = match which {
            0 => (self.cfg.blinding, self.blinding),
            1 => (self.cfg.no_dark, self.no_dark),
            _ => (self.cfg.adc_step, self.adc_step),
        };
        let mut ep = ep;
        if ep.left == 0
            && knob.start_prob_per_cycle > 0.0
            && self.unit() < knob.start_prob_per_cycle
        {
            ep.left = self.range(knob.len_cycles);
        }
        let active = ep.left > 0;
        ep.left = ep.left.saturating_sub(1);
        match which {
            0 => self.blinding = ep,
            1 => self.no_dark = ep,
            _ => self.adc_step = ep,
        }
        active
    }

    /// Force a blinding episode of `cycles` cycles from the next cycle.
    pub fn force_blinding(&mut self, cycles: u32) {
        self.blinding.left = cycles;
    }
    /// Force a no-dark episode of `cycles` cycles from the next cycle.
    pub fn force_no_dark(&mut self, cycles: u32) {
        self.no_dark.left = cycles;
    }
    /// Force a photocurrent step of `cycles` cycles from the next cycle.
    pub fn force_adc_step(&mut self, cycles: u32) {
        self.adc_step.left = cycles;
    }

    fn in_gate_bin(&mut self) -> u32 {
        let os = self.cfg.oversample as u32;
        let (a, b) = self.cfg.gate_bins;
        let (a, b) = (u32::from(a).min(os - 1), u32::from(b).min(os - 1));
        self.range((a, b.max(a)))
    }

    fn after_gate_bin(&mut self) -> Option<u32> {
        let os = self.cfg.oversample as u32;
        let (a, b) = (
            u32::from(self.cfg.gate_bins.0),
            u32::from(self.cfg.gate_bins.1),
        );
        let outside: Vec<u32> = (0..os).filter(|&s| s < a || s > b).collect();
        if outside.is_empty() {
            None
        } else {
            Some(outside[self.below(outside.len() as u64) as usize])
        }
    }

    /// The stimulus of the next cycle.
    pub fn next_cycle(&mut self) -> ClickCycle {
        let c = self.cfg;
        let os = c.oversample;
        let n = c.lanes * os;
        let nd = c.detectors.min(MAX_DETECTORS);
        let mut out = ClickCycle {
            blinding: self.episode(0),
            no_dark: self.episode(1),
            adc_step: self.episode(2),
            ..ClickCycle::default()
        };
        // Edges to place this cycle: (sample index within the cycle, detector).
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for l in 0..c.lanes {
            let slot = self.slot + l as u64;
            if out.no_dark {
                continue;
            }
            if out.blinding {
                let d = self.below(nd as u64) as usize;
                let b = self.in_gate_bin() as usize;
                edges.push((l * os + b, d));
                continue;
            }
            let mut here: Vec<usize> = Vec::new();
            self.pending.retain(|&(s, d)| {
                if s == slot {
                    here.push(d);
                    false
                } else {
                    true
                }
            });
            for d in 0..nd {
                if self.unit() < c.click_prob_per_slot {
                    here.push(d);
                    if c.collision_prob > 0.0 && self.unit() < c.collision_prob {
                        let dt = self.below(u64::from(c.collision_span_slots) + 1);
                        let d2 = self.below(nd as u64) as usize;
                        if dt == 0 {
                            here.push(d2);
                        } else {
                            self.pending.push((slot + dt, d2));
                        }
                    }
                }
            }
            for d in here {
                let b = if c.after_gate_fraction > 0.0 && self.unit() < c.after_gate_fraction {
                    self.after_gate_bin().unwrap_or_else(|| self.in_gate_bin())
                } else {
                    self.in_gate_bin()
                };
                edges.push((l * os + b as usize, d));
            }
        }
        // ---- Waveforms: continue last cycle's pulses, then the new edges ----
        let mut ends = [0usize; MAX_DETECTORS]; // exclusive end of high time within this cycle view
        for (d, end) in ends.iter_mut().enumerate().take(nd) {
            let h = (self.high_left[d] as usize).min(n);
            if h > 0 {
                out.apd[d] |= mask(0, h);
            }
            *end = self.high_left[d] as usize;
        }
        edges.sort_unstable();
        for (pos, d) in edges {
            let w = self.range(c.pulse_width_samples).max(1) as usize;
            let stop = pos + w;
            out.apd[d] |= mask(pos, stop.min(n));
            ends[d] = ends[d].max(stop);
        }
        for (h, e) in self.high_left.iter_mut().zip(ends).take(nd) {
            *h = e.saturating_sub(n) as u32;
        }
        // ---- ADC ----
        if c.adc_period_cycles > 0 && self.cycle.is_multiple_of(u64::from(c.adc_period_cycles)) {
            for d in 0..nd {
                let mut x = if out.adc_step {
                    c.adc_step_level
                } else {
                    c.adc_baseline
                        .saturating_add(self.below(u64::from(c.adc_noise) + 1) as u16)
                };
                if c.adc_pulse_prob > 0.0 && self.unit() < c.adc_pulse_prob {
                    x = c.adc_pulse_level;
                }
                out.adc[d] = Some(x.min(0xFFF));
            }
        }
        self.slot += c.lanes as u64;
        self.cycle += 1;
        out
    }
}

/// Bits `from..to` set (within 128).
fn mask(from: usize, to: usize) -> u128 {
    if to <= from {
        return 0;
    }
    let hi = if to >= 128 {
        u128::MAX
    } else {
        (1u128 << to) - 1
    };
    let lo = if from >= 128 {
        u128::MAX
    } else {
        (1u128 << from) - 1
    };
    hi & !lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bob::first_rising_edges;

    fn edges(g: &mut ClickGen, cycles: usize) -> Vec<Vec<(usize, usize, u8)>> {
        // Per cycle: (lane, detector, bin) of every raw click.
        let c = *g.config();
        let mut prev = [false; MAX_DETECTORS];
        (0..cycles)
            .map(|_| {
                let cy = g.next_cycle();
                let mut v = vec![];
                for (d, p) in prev.iter_mut().enumerate().take(c.detectors) {
                    let (e, last) = first_rising_edges(cy.apd[d], *p, c.lanes, c.oversample);
                    *p = last;
                    for (l, b) in e.iter().enumerate().take(c.lanes) {
                        if let Some(b) = b {
                            v.push((l, d, *b));
                        }
                    }
                }
                v
            })
            .collect()
    }

    #[test]
    fn seeded_and_deterministic() {
        let cfg = ClickConfig::quiet(4, 8, 2);
        let s = seed_from_name("seeded_and_deterministic");
        let a: Vec<ClickCycle> = {
            let mut g = ClickGen::new(cfg, s).unwrap();
            (0..100).map(|_| g.next_cycle()).collect()
        };
        let mut g = ClickGen::new(cfg, s).unwrap();
        let b: Vec<ClickCycle> = (0..100).map(|_| g.next_cycle()).collect();
        assert_eq!(a, b);
        assert_ne!(seed_from_name("a"), seed_from_name("b"));
    }

    #[test]
    fn click_rate_and_gate_bins() {
        let mut cfg = ClickConfig::quiet(4, 8, 2);
        cfg.click_prob_per_slot = 0.05;
        cfg.pulse_width_samples = (1, 1);
        cfg.gate_bins = (2, 4);
        let mut g = ClickGen::new(cfg, seed_from_name("click_rate_and_gate_bins")).unwrap();
        let e = edges(&mut g, 20_000);
        let n: usize = e.iter().map(Vec::len).sum();
        // 160_000 slot-detectors at 5 %: 8000 +- 5 sigma (~ 5 * 87).
        assert!((n as f64 - 8000.0).abs() < 440.0, "{n}");
        assert!(e.iter().flatten().all(|&(_, _, b)| (2..=4).contains(&b)));
    }

    #[test]
    fn after_gate_clicks_fall_outside_the_window() {
        let mut cfg = ClickConfig::quiet(2, 8, 1);
        cfg.click_prob_per_slot = 0.1;
        cfg.after_gate_fraction = 1.0;
        cfg.pulse_width_samples = (1, 1);
        cfg.gate_bins = (1, 5);
        let mut g = ClickGen::new(cfg, seed_from_name("after_gate")).unwrap();
        let e = edges(&mut g, 5_000);
        assert!(e.iter().flatten().count() > 500);
        assert!(e.iter().flatten().all(|&(_, _, b)| !(1..=5).contains(&b)));
    }

    #[test]
    fn blinding_clicks_every_slot_and_no_dark_never() {
        let mut cfg = ClickConfig::quiet(4, 8, 2);
        cfg.pulse_width_samples = (1, 2);
        let mut g = ClickGen::new(cfg, seed_from_name("blinding")).unwrap();
        g.force_blinding(50);
        let e = edges(&mut g, 50);
        for (k, cyc) in e.iter().enumerate() {
            let mut lanes: Vec<usize> = cyc.iter().map(|x| x.0).collect();
            lanes.sort_unstable();
            lanes.dedup();
            assert_eq!(lanes, vec![0, 1, 2, 3], "cycle {k}: {cyc:?}");
        }
        g.config_mut().click_prob_per_slot = 0.5;
        g.force_no_dark(100);
        let e = edges(&mut g, 100);
        // The first cycle may still hold the tail of a pulse but has no new edge.
        assert!(e.iter().all(Vec::is_empty));
    }

    #[test]
    fn collisions_make_clicks_within_the_span() {
        let mut cfg = ClickConfig::quiet(4, 8, 2);
        cfg.click_prob_per_slot = 0.002;
        cfg.collision_prob = 1.0;
        cfg.collision_span_slots = 3;
        cfg.pulse_width_samples = (1, 1);
        let mut g = ClickGen::new(cfg, seed_from_name("collisions")).unwrap();
        let e = edges(&mut g, 20_000);
        let mut slots: Vec<usize> = e
            .iter()
            .enumerate()
            .flat_map(|(k, c)| c.iter().map(move |x| 4 * k + x.0))
            .collect();
        slots.sort_unstable();
        let close = slots.windows(2).filter(|w| w[1] - w[0] <= 3).count();
        assert!(close * 3 > slots.len(), "{close} of {}", slots.len());
    }

    #[test]
    fn adc_steps_and_pulses() {
        let mut cfg = ClickConfig::quiet(4, 8, 2);
        cfg.adc_period_cycles = 4;
        let mut g = ClickGen::new(cfg, seed_from_name("adc")).unwrap();
        let v: Vec<ClickCycle> = (0..8).map(|_| g.next_cycle()).collect();
        assert!(v[0].adc[0].is_some() && v[1].adc[0].is_none() && v[4].adc[1].is_some());
        assert!(v
            .iter()
            .flat_map(|c| c.adc)
            .flatten()
            .all(|x| (0x100..=0x120).contains(&x)));
        g.force_adc_step(4);
        let c = g.next_cycle();
        assert!(c.adc_step);
        assert_eq!(c.adc[0], Some(0xC00));
        g.config_mut().adc_pulse_prob = 1.0;
        g.next_cycle();
        g.next_cycle();
        g.next_cycle();
        assert_eq!(g.next_cycle().adc[1], Some(0xFFF));
    }

    #[test]
    fn long_pulses_spill_across_cycles_without_new_edges() {
        let mut cfg = ClickConfig::quiet(1, 4, 1);
        cfg.click_prob_per_slot = 0.3;
        cfg.pulse_width_samples = (6, 9);
        let mut g = ClickGen::new(cfg, seed_from_name("spill")).unwrap();
        let mut saw_spill = false;
        let mut prev_last = false;
        for _ in 0..1000 {
            let c = g.next_cycle();
            if prev_last && c.apd[0] & 1 == 1 {
                saw_spill = true;
            }
            prev_last = c.apd[0] >> 3 & 1 == 1;
        }
        assert!(saw_spill);
    }
}

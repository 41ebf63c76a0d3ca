// SPDX-License-Identifier: MIT OR Apache-2.0
//! The fast behavioural link (`sim:`): Alice's symbols from the test PRNG,
//! the physics of [`super::source`], [`super::channel`],
//! [`super::detector`] and [`super::attack`] in between, and Bob's gateware
//! processing ([`super::bob::BobCore`]), producing both record streams and
//! Eve's knowledge of every DETECTION.
//!
//! Speed: instead of visiting every slot, the link samples the next slot
//! in which anything can happen. Slots are independent given the state, so
//! a thinned geometric process is exact (Lewis and Shedler, Naval Res.
//! Logist. Q. 26, 403 (1979), thinning): candidates are drawn with the
//! bound `p_max >= P(any click | slot)` by a geometric skip
//! `floor(ln U / ln(1 - p_max))`, and a candidate is kept with probability
//! `P(any click | slot) / p_max`. Gates closed by the common dead time are
//! skipped whole. Afterpulses, Eve's timed pulses and photocurrent samples
//! are merged in as scheduled events.

use super::alice::{AliceStream, AliceStreamMode, RECORD_SYMBOLS};
use super::attack::{
    attack_branches, honest_branch, AttackConfig, AttackKind, Branch, ClickSource, EveCalibration,
    EveInfo, SlotCtx,
};
use super::bob::{BobConfig, BobCore, BobTotals, ClickClass, RawClick};
use super::channel::ChannelParams;
use super::detector::{DetectorParams, Tdc};
use super::prng::{bob_basis, AliceSelect, LanePrng};
use super::rng::SimRng;
use super::source::SourceParams;
use super::SimError;
use qkd_abi::records::Record;
use qkd_abi::symbol::{Basis, Symbol};
pub use qkd_physics::channel::ChannelSchedule;
use qkd_physics::receiver::ReceiverInputs;

/// Everything that defines a simulated link.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkParams {
    /// Alice's source.
    pub source: SourceParams,
    /// The channel.
    pub channel: ChannelParams,
    /// Bob's detectors.
    pub detector: DetectorParams,
    /// The eavesdropper.
    pub attack: AttackConfig,
    /// Alice's test-PRNG seed (`RNG_SEED_HI:LO`).
    pub alice_seed: u64,
    /// Bob's test-PRNG seed.
    pub bob_seed: u64,
    /// Seed of the physical randomness (photons, noise, Eve).
    pub physics_seed: u64,
    /// LANES of both cores.
    pub lanes: u8,
    /// Bob's register settings (dead time and basis threshold are set from
    /// `detector` and `source` by [`LinkParams::new`]).
    pub bob: BobConfig,
    /// `ALICE_CTRL.SYNC_LOG2`.
    pub sync_log2: u8,
    /// Alice's `STREAM_CTRL.STATUS_INTERVAL_LOG2`.
    pub alice_status_interval_log2: u8,
    /// Cycles between photocurrent ADC samples.
    pub adc_period_cycles: u64,
    /// ADC code of the dark photocurrent.
    pub adc_baseline_code: u16,
    /// Which ALICE_SYMBOLS records to emit.
    pub alice_stream: AliceStreamMode,
    /// Bob's PRNG steps between his START and `sync_in` (cycle `c0`).
    pub bob_sync_cycle: u64,
    /// A channel that changes during the run (free-space fading, a
    /// satellite pass); `None` for a constant channel.
    pub schedule: Option<ChannelSchedule>,
}

impl Default for LinkParams {
    fn default() -> LinkParams {
        LinkParams::new(
            SourceParams::default(),
            ChannelParams::default(),
            DetectorParams::default(),
        )
    }
}

impl LinkParams {
    /// A link with register settings derived from the physics: Alice's
    /// thresholds from the source probabilities, Bob's basis threshold from
    /// `basis_z_probability`, `GATE_DEAD_TIME_SLOTS` from `dead_time_ns`.
    pub fn new(
        source: SourceParams,
        channel: ChannelParams,
        detector: DetectorParams,
    ) -> LinkParams {
        let bob = BobConfig {
            basis_thresh_z: source.thresholds().2,
            dead_time_slots: detector.dead_time_slots(source.slot_ps()),
            ..BobConfig::default()
        };
        LinkParams {
            source,
            channel,
            detector,
            attack: AttackConfig::default(),
            alice_seed: 1,
            bob_seed: 2,
            physics_seed: 3,
            lanes: 4,
            bob,
            sync_log2: (qkd_abi::regmap::alice::ALICE_CTRL.reset >> 8 & 0x3F) as u8,
            alice_status_interval_log2: (qkd_abi::regmap::alice::STREAM_CTRL.reset & 0x3F) as u8,
            adc_period_cycles: 78,
            adc_baseline_code: 0x040,
            alice_stream: AliceStreamMode::Sparse,
            bob_sync_cycle: 0,
            schedule: None,
        }
    }

    /// The closed-form receiver model's inputs for this link (its
    /// channel's own transmittance, Bob's gate window and dead time).
    pub fn receiver_inputs(&self) -> ReceiverInputs {
        ReceiverInputs::new(
            &self.source,
            &self.channel,
            &self.detector,
            &self.bob.gate_window(),
            self.bob.dead_time_slots,
        )
    }

    /// Check every parameter; the error names the offending one.
    pub fn validate(&self) -> Result<(), SimError> {
        self.source.validate()?;
        self.channel.validate()?;
        self.detector.validate()?;
        self.attack.validate()?;
        if let Some(sc) = &self.schedule {
            let bad = |field: &'static str, value: f64| SimError::OutOfRange { field, value };
            if sc.step_slots < 64 {
                return Err(bad("schedule.step_slots", sc.step_slots as f64));
            }
            if let Some(t) = sc.mean.iter().copied().find(|t| !(0.0..=1.0).contains(t)) {
                return Err(bad("schedule.mean (transmittance)", t));
            }
            if let Some(b) = sc
                .background
                .iter()
                .copied()
                .find(|b| !(0.0..1.0).contains(b))
            {
                return Err(bad("schedule.background", b));
            }
            if !(sc.log_variance >= 0.0 && sc.log_variance.is_finite()) {
                return Err(bad("schedule.log_variance", sc.log_variance));
            }
            if !(0.0..=1.0).contains(&sc.rho) {
                return Err(bad("schedule.rho", sc.rho));
            }
            if !matches!(self.attack.kind, AttackKind::None) {
                return Err(bad("attack on a time-varying channel (not modelled)", 0.0));
            }
        }
        if !matches!(self.lanes, 1 | 2 | 4 | 8) {
            return Err(SimError::OutOfRange {
                field: "lanes",
                value: f64::from(self.lanes),
            });
        }
        if u32::from(self.lanes) != self.bob.lanes {
            return Err(SimError::OutOfRange {
                field: "bob.lanes",
                value: f64::from(self.bob.lanes),
            });
        }
        if !matches!(self.bob.oversample, 4 | 8 | 16) {
            return Err(SimError::OutOfRange {
                field: "bob.oversample",
                value: f64::from(self.bob.oversample),
            });
        }
        if self.bob.detectors != 2 {
            return Err(SimError::OutOfRange {
                field: "bob.detectors (the BB84 receiver has 2)",
                value: f64::from(self.bob.detectors),
            });
        }
        if self.bob.gate_start_bin > self.bob.gate_end_bin
            || self.bob.gate_end_bin >= self.bob.oversample
        {
            return Err(SimError::OutOfRange {
                field: "bob.gate_end_bin",
                value: f64::from(self.bob.gate_end_bin),
            });
        }
        Ok(())
    }

    /// Alice's selector settings.
    pub fn alice_select(&self) -> AliceSelect {
        let (t1, t2, tz) = self.source.thresholds();
        AliceSelect {
            thresh_signal: t1,
            thresh_decoy: t2,
            thresh_basis_z: tz,
            sync_log2: self.sync_log2,
        }
    }
}

/// Eve's knowledge of one DETECTION record (same order as Bob's DETECTION
/// records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EveTag {
    /// Full 64-bit slot index.
    pub slot: u64,
    /// Detector.
    pub detector: u8,
    /// The record carries the INVALID flag.
    pub invalid: bool,
    /// Eve knows Bob's bit of this detection with certainty.
    pub eve_knows: bool,
    /// What caused the click.
    pub source: ClickSource,
}

/// Counters of the simulation itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Slots simulated.
    pub slots: u64,
    /// Candidate slots drawn by the geometric skip.
    pub candidates: u64,
    /// Raw clicks (all causes, enabled detectors, processed slots).
    pub raw_clicks: u64,
    /// Raw clicks from afterpulses.
    pub afterpulses: u64,
    /// Raw clicks from Eve's triggers.
    pub eve_triggers: u64,
    /// DETECTION records Eve knows the bit of.
    pub eve_known_detections: u64,
}

/// A chunk of output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkOutput {
    /// Alice's records.
    pub alice: Vec<Record>,
    /// Bob's records.
    pub bob: Vec<Record>,
    /// One entry per DETECTION record in `bob`.
    pub eve: Vec<EveTag>,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    slot: u64,
    detector: u8,
    eve_knows: bool,
}

/// The fast link. Drive it with [`FastLink::run_until`]; take the
/// streams with [`FastLink::take_output`].
#[derive(Debug, Clone)]
pub struct FastLink {
    p: LinkParams,
    alice: AliceStream,
    bob_prng: LanePrng,
    bob: BobCore,
    rng: SimRng,
    tdc: Tdc,
    cal: EveCalibration,
    transmittance: f64,
    noise: f64,
    fade_rng: SimRng,
    fade_step: u64,
    fade_x: f64,
    ln_q_honest: f64,
    ln_q_attack: f64,
    p_max_honest: f64,
    p_max_attack: f64,
    ap_ln_q: f64,
    apd_recovery_slots: u64,
    apd_ready: [u64; 2],
    apd_eve: [bool; 2],
    adc_next_cycle: u64,
    afterpulses: Vec<Pending>,
    next_slot: u64,
    eve: Vec<EveTag>,
    stats: LinkStats,
    branches: Vec<Branch>,
    classes: Vec<ClickClass>,
    trace: Option<Trace>,
}

/// What the physics handed to Bob's core, for replay through the
/// cycle-level golden model (verification).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Raw clicks `(slot, click)` in slot order.
    pub clicks: Vec<(u64, RawClick)>,
    /// Non-baseline photocurrent samples `(cycle since sync, detector, code)`.
    pub adc: Vec<(u64, u8, u16)>,
}

impl FastLink {
    /// Build a link (Alice and Bob just started, Bob synced to slot 0).
    pub fn new(p: LinkParams) -> Result<FastLink, SimError> {
        p.validate()?;
        let slot_ps = p.source.slot_ps();
        let transmittance = p.channel.transmittance();
        let noise = 1.0
            - (1.0 - p.detector.dark_count_per_gate) * (1.0 - p.channel.background_counts_per_gate);
        let tdc = Tdc::new(
            p.bob.oversample,
            slot_ps,
            p.bob.gate_start_bin,
            p.bob.gate_end_bin,
            p.detector.jitter_rms_ps,
        );
        let mu_max = p.source.max_mean_photons();
        let eta = p.detector.efficiency;
        let ln_q_honest = -mu_max * transmittance * eta + 2.0 * (1.0 - noise).ln();
        let cal = EveCalibration::new(
            p.attack.kind,
            p.source.intensities_photons[0],
            transmittance,
            eta,
        );
        let mut link = FastLink {
            alice: AliceStream::new(
                p.alice_select(),
                p.alice_seed,
                usize::from(p.lanes),
                p.alice_status_interval_log2,
                p.alice_stream,
            ),
            bob_prng: LanePrng::new(p.bob_seed, usize::from(p.lanes)),
            bob: BobCore::new(p.bob, p.adc_period_cycles, p.adc_baseline_code),
            rng: SimRng::new(p.physics_seed),
            tdc,
            cal,
            transmittance,
            noise,
            fade_rng: SimRng::new(p.physics_seed ^ 0xFADE_0000_0000_0001),
            fade_step: u64::MAX,
            fade_x: 0.0,
            ln_q_honest,
            ln_q_attack: ln_q_honest,
            p_max_honest: -ln_q_honest.exp_m1(),
            p_max_attack: -ln_q_honest.exp_m1(),
            ap_ln_q: p.detector.afterpulse_ln_q(slot_ps),
            apd_recovery_slots: p.detector.apd_recovery_slots(slot_ps),
            apd_ready: [0; 2],
            apd_eve: [false; 2],
            adc_next_cycle: 0,
            afterpulses: Vec::new(),
            next_slot: 0,
            eve: Vec::new(),
            stats: LinkStats::default(),
            branches: Vec::with_capacity(8),
            classes: Vec::with_capacity(4),
            trace: None,
            p,
        };
        link.ln_q_attack = link.attack_ln_q();
        link.p_max_attack = -link.ln_q_attack.exp_m1();
        // First photocurrent sample cycle of the attack: a multiple of the
        // ADC period at or after the attack's first cycle, carrying slots.
        let per = link.p.adc_period_cycles.max(1);
        let lanes = u64::from(link.p.lanes);
        let delay = u64::from(link.p.bob.fiber_delay_slots);
        let mut c = link.bob.cycle_of(link.p.attack.start_slot).div_ceil(per) * per;
        while (c + 1) * lanes <= delay {
            c += per;
        }
        link.adc_next_cycle = c;
        Ok(link)
    }

    /// Record every raw click and attack ADC sample from now on.
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Trace::default);
    }

    /// The trace recorded so far (empty unless enabled).
    pub fn take_trace(&mut self) -> Trace {
        self.trace.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// The parameters.
    pub fn params(&self) -> &LinkParams {
        &self.p
    }

    /// Eve's calibration (PNS forwarding, trigger probability).
    pub fn eve_calibration(&self) -> &EveCalibration {
        &self.cal
    }

    /// Slots simulated so far.
    pub fn slots(&self) -> u64 {
        self.next_slot
    }

    /// Simulation counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// Bob's register-visible totals.
    pub fn bob_totals(&self) -> &BobTotals {
        self.bob.totals()
    }

    /// Bob's live alarm bits.
    pub fn bob_alarms_live(&self) -> u32 {
        self.bob.alarms_live()
    }

    /// Alice's symbol of a slot at or after the current block (for tests).
    pub fn alice_symbol(&mut self, slot: u64) -> Symbol {
        self.alice.symbol(slot)
    }

    fn ctx(&self, sym: Symbol, bob_basis: Basis, avail: [bool; 2]) -> SlotCtx {
        SlotCtx {
            mu: self.p.source.mean_photons(sym),
            alice: (sym.basis(), sym.bit()),
            bob_basis,
            avail,
            transmittance: self.transmittance,
            eta_bob: self.p.detector.efficiency,
            e_mis: self.p.detector.misalignment_error,
            noise: self.noise,
            in_gate_bin: self.tdc.photon_bin_nominal(),
            after_gate_bin: self.tdc.after_gate_bin(),
        }
    }

    /// `ln(1 - p_max)` for attacked slots: the largest click probability
    /// over intensities, preparations and Bob's bases.
    fn attack_ln_q(&mut self) -> f64 {
        if matches!(self.p.attack.kind, AttackKind::None) {
            return self.ln_q_honest;
        }
        let mut p_max: f64 = 1.0 - self.ln_q_honest.exp();
        let mut br = Vec::new();
        let syms: Vec<Symbol> = (0..16u8).map(Symbol).collect();
        for sym in syms {
            for bb in [Basis::Z, Basis::X] {
                br.clear();
                let ctx = self.ctx(sym, bb, [true, true]);
                attack_branches(self.p.attack.kind, &self.cal, &ctx, &mut br);
                let p: f64 = br.iter().map(|b| b.weight * b.law.p_any()).sum();
                p_max = p_max.max(p);
            }
        }
        // A little head-room against rounding.
        let p_max = (p_max * (1.0 + 1e-9)).min(1.0);
        (1.0 - p_max).ln()
    }

    #[inline]
    fn avail(&self, slot: u64, d: u8) -> bool {
        self.bob.gate_open(slot, d) && slot >= self.apd_ready[usize::from(d)]
    }

    fn next_forced_slot(&self, s: u64) -> u64 {
        if let AttackKind::DeadTime { period_slots, .. } = self.p.attack.kind {
            let a = &self.p.attack;
            let from = s.max(a.start_slot);
            let k = (from - a.start_slot).div_ceil(period_slots);
            let f = a.start_slot.saturating_add(k.saturating_mul(period_slots));
            if f < a.end_slot {
                return f;
            }
        }
        u64::MAX
    }

    /// Slot at which the next attack photocurrent sample (cycle
    /// `adc_next_cycle`) is delivered.
    fn next_adc_slot(&self) -> u64 {
        if !self.p.attack.blinds() {
            return u64::MAX;
        }
        let a = &self.p.attack;
        let first = (self.adc_next_cycle * u64::from(self.p.lanes))
            .saturating_sub(u64::from(self.p.bob.fiber_delay_slots));
        let slot = first.max(a.start_slot);
        if slot < a.end_slot {
            slot
        } else {
            u64::MAX
        }
    }

    /// Set the channel of the schedule step that holds `slot` (steps are
    /// entered in increasing order; the fading process advances one draw
    /// per step, skipped steps included).
    fn apply_schedule(&mut self, slot: u64) {
        let Some(sc) = self.p.schedule.as_ref() else {
            return;
        };
        let step = slot / sc.step_slots;
        if step == self.fade_step {
            return;
        }
        let (s2, rho) = (sc.log_variance, sc.rho);
        if s2 > 0.0 {
            if self.fade_step == u64::MAX {
                self.fade_x = self.fade_rng.gaussian();
                self.fade_step = 0;
            }
            let innov = (1.0 - rho * rho).sqrt();
            while self.fade_step < step {
                self.fade_x = rho * self.fade_x + innov * self.fade_rng.gaussian();
                self.fade_step += 1;
            }
        }
        self.fade_step = step;
        let at = |v: &[f64], dflt: f64| {
            if v.is_empty() {
                dflt
            } else {
                v[(step as usize).min(v.len() - 1)]
            }
        };
        let mean = at(&sc.mean, self.p.channel.transmittance());
        let bg = at(&sc.background, self.p.channel.background_counts_per_gate);
        let fade = if s2 > 0.0 {
            (s2.sqrt() * self.fade_x - s2 / 2.0).exp()
        } else {
            1.0
        };
        self.transmittance = (mean * fade).min(1.0);
        self.noise = 1.0 - (1.0 - self.p.detector.dark_count_per_gate) * (1.0 - bg);
        let mu_max = self.p.source.max_mean_photons();
        self.ln_q_honest = -mu_max * self.transmittance * self.p.detector.efficiency
            + 2.0 * (1.0 - self.noise).ln();
        self.p_max_honest = -self.ln_q_honest.exp_m1();
    }

    /// The current channel transmittance (time-varying with a schedule).
    pub fn transmittance(&self) -> f64 {
        self.transmittance
    }

    fn regime_boundary(&self, s: u64) -> u64 {
        let a = &self.p.attack;
        if let Some(sc) = &self.p.schedule {
            return (s / sc.step_slots + 1).saturating_mul(sc.step_slots);
        }
        if matches!(a.kind, AttackKind::None) {
            u64::MAX
        } else if s < a.start_slot {
            a.start_slot
        } else if s < a.end_slot {
            a.end_slot
        } else {
            u64::MAX
        }
    }

    /// Simulate every slot below `end_slot` (rounded up to a multiple of 64).
    pub fn run_until(&mut self, end_slot: u64) {
        let end = end_slot.div_ceil(RECORD_SYMBOLS) * RECORD_SYMBOLS;
        let mut s = self.next_slot;
        while s < end {
            let open = self.bob.next_open_slot(s);
            self.apply_schedule(open.min(end));
            let attacked = self.p.attack.active(open);
            let boundary = self.regime_boundary(open);
            let ln_q = if attacked {
                self.ln_q_attack
            } else {
                self.ln_q_honest
            };
            let cand = if open < end {
                open.saturating_add(self.rng.geometric_skip(ln_q))
            } else {
                u64::MAX
            };
            let ap = self
                .afterpulses
                .iter()
                .map(|a| a.slot)
                .min()
                .unwrap_or(u64::MAX);
            let forced = self.next_forced_slot(s);
            let adc = self.next_adc_slot();
            let ev = cand.min(ap).min(forced).min(adc);
            if boundary <= ev && boundary > s {
                s = boundary.min(end);
                continue;
            }
            if ev >= end {
                break;
            }
            self.process_slot(ev, ev == cand, ev == ap, ev == forced, ev == adc);
            s = ev + 1;
        }
        self.next_slot = end;
        self.stats.slots = end;
        self.bob.finish_before_cycle(self.bob.cycle_of(end));
        self.alice.finish_until(end);
    }

    /// End the run at the slots simulated so far: Bob finishes the cycle
    /// that carries the last slot.
    pub fn finish(&mut self) {
        self.bob.finish_before_slot(self.next_slot);
    }

    fn process_slot(
        &mut self,
        slot: u64,
        is_cand: bool,
        is_ap: bool,
        is_forced: bool,
        is_adc: bool,
    ) {
        let lanes = u64::from(self.p.lanes);
        if is_adc {
            let cycle = self.adc_next_cycle;
            self.adc_next_cycle += self.p.adc_period_cycles.max(1);
            let v = match self.p.attack.kind {
                AttackKind::CwBlinding { adc_code } => adc_code,
                AttackKind::PulsedBlinding {
                    duty,
                    peak_adc_code,
                    mean_adc_code,
                } => {
                    if self.rng.bernoulli(duty) {
                        peak_adc_code
                    } else {
                        mean_adc_code
                    }
                }
                _ => self.p.adc_baseline_code,
            };
            for d in 0..2 {
                self.bob.adc_sample(cycle, d, v);
                if let Some(t) = self.trace.as_mut() {
                    t.adc.push((cycle, d, v));
                }
            }
        }
        let avail = [self.avail(slot, 0), self.avail(slot, 1)];
        if !is_ap && !is_forced && !(is_cand && (avail[0] || avail[1])) {
            return;
        }
        // Bob's basis: his PRNG step c0 + cycle, lane (slot + delay) % L.
        let pos = slot + u64::from(self.p.bob.fiber_delay_slots);
        let bob_cycle = self.p.bob_sync_cycle + pos / lanes;
        if is_cand {
            self.alice.seek_paired(slot, &mut self.bob_prng, bob_cycle);
        } else {
            self.bob_prng.advance_to(bob_cycle);
        }
        let bb = bob_basis(
            self.bob_prng.word((pos % lanes) as usize),
            self.p.bob.basis_thresh_z,
        );

        // (detector, bin, source, eve info) per detector
        let mut clicks: [Option<(u8, ClickSource, EveInfo)>; 2] = [None, None];
        if is_cand && (avail[0] || avail[1]) {
            self.stats.candidates += 1;
            let sym = self.alice.symbol(slot);
            let ctx = self.ctx(sym, bb, avail);
            let mut br = std::mem::take(&mut self.branches);
            br.clear();
            if self.p.attack.active(slot) {
                attack_branches(self.p.attack.kind, &self.cal, &ctx, &mut br);
            } else {
                br.push(honest_branch(&ctx, 1.0));
            }
            let p_max = if self.p.attack.active(slot) {
                self.p_max_attack
            } else {
                self.p_max_honest
            };
            let mut u = self.rng.uniform() * p_max;
            'pick: for b in &br {
                let pats = b.law.patterns();
                for (k, &pp) in pats.iter().enumerate() {
                    let w = b.weight * pp;
                    if u < w {
                        for (d, slot_click) in clicks.iter_mut().enumerate() {
                            let fires = k == 2 || k == d;
                            if !fires {
                                continue;
                            }
                            let (bin, src) = match b.trigger_bin {
                                Some(tb)
                                    if b.law.photon_share[d] >= 1.0
                                        && (b.law.q0 == 0.0 && d == 0
                                            || b.law.q1 == 0.0 && d == 1) =>
                                {
                                    (tb, ClickSource::EveTrigger)
                                }
                                _ => {
                                    if self.rng.bernoulli(b.law.photon_share[d]) {
                                        (self.tdc.photon_bin(&mut self.rng), ClickSource::Photon)
                                    } else {
                                        (self.tdc.noise_bin(&mut self.rng), ClickSource::Noise)
                                    }
                                }
                            };
                            let info = if src == ClickSource::Noise {
                                EveInfo::None
                            } else {
                                b.eve
                            };
                            *slot_click = Some((bin, src, info));
                        }
                        break 'pick;
                    }
                    u -= w;
                }
            }
            self.branches = br;
            // The other detector was dead because of Eve's forced click.
            for (d, click) in clicks.iter_mut().enumerate() {
                let o = 1 - d;
                if let Some(c) = click.as_mut() {
                    if !avail[o]
                        && self.apd_eve[o]
                        && slot < self.apd_ready[o]
                        && c.2 == EveInfo::None
                    {
                        c.2 = EveInfo::Detector(d as u8);
                    }
                }
            }
        }
        if is_forced {
            if let AttackKind::DeadTime { detector, .. } = self.p.attack.kind {
                let d = usize::from(detector & 1);
                if avail[d] {
                    clicks[d] = Some((
                        self.tdc.photon_bin_nominal(),
                        ClickSource::EveTrigger,
                        EveInfo::Detector(d as u8),
                    ));
                }
            }
        }
        if is_ap {
            let mut i = 0;
            while i < self.afterpulses.len() {
                if self.afterpulses[i].slot == slot {
                    let a = self.afterpulses.swap_remove(i);
                    let d = usize::from(a.detector & 1);
                    if avail[d] && clicks[d].is_none() {
                        let info = if a.eve_knows {
                            EveInfo::Detector(d as u8)
                        } else {
                            EveInfo::None
                        };
                        clicks[d] = Some((
                            self.tdc.noise_bin(&mut self.rng),
                            ClickSource::Afterpulse,
                            info,
                        ));
                    }
                } else {
                    i += 1;
                }
            }
        }
        // Drop afterpulses whose slot has passed (lost in closed gates).
        self.afterpulses.retain(|a| a.slot > slot);
        if clicks.iter().all(Option::is_none) {
            return;
        }
        let mut raw = [RawClick {
            detector: 0,
            fine_bin: 0,
        }; 2];
        let mut n = 0;
        for (d, c) in clicks.iter().enumerate() {
            if let Some((bin, _, _)) = c {
                raw[n] = RawClick {
                    detector: d as u8,
                    fine_bin: *bin,
                };
                n += 1;
            }
        }
        if let Some(t) = self.trace.as_mut() {
            t.clicks.extend(raw[..n].iter().map(|r| (slot, *r)));
        }
        let mut classes = std::mem::take(&mut self.classes);
        self.bob.slot_clicks(slot, &raw[..n], bb, &mut classes);
        let double = n == 2;
        for (rc, cls) in raw[..n].iter().zip(classes.iter()) {
            let d = usize::from(rc.detector);
            let Some((_, src, info)) = clicks[d] else {
                continue;
            };
            if *cls == ClickClass::Ignored {
                continue;
            }
            self.stats.raw_clicks += 1;
            match src {
                ClickSource::Afterpulse => self.stats.afterpulses += 1,
                ClickSource::EveTrigger => self.stats.eve_triggers += 1,
                _ => {}
            }
            let knows = !double && info.knows(bb, rc.detector);
            // The avalanche: APD recovery and afterpulsing (not for
            // linear-mode trigger clicks).
            self.apd_ready[d] = slot + self.apd_recovery_slots;
            self.apd_eve[d] = src == ClickSource::EveTrigger;
            if src != ClickSource::EveTrigger
                && self.rng.bernoulli(self.p.detector.afterpulse_probability)
            {
                let delay = 1 + self.rng.geometric_skip(self.ap_ln_q);
                self.afterpulses.push(Pending {
                    slot: slot.saturating_add(delay),
                    detector: rc.detector,
                    eve_knows: knows,
                });
            }
            if matches!(cls, ClickClass::Accepted | ClickClass::Invalid) {
                if knows {
                    self.stats.eve_known_detections += 1;
                }
                self.eve.push(EveTag {
                    slot,
                    detector: rc.detector,
                    invalid: *cls == ClickClass::Invalid,
                    eve_knows: knows,
                    source: src,
                });
                self.alice.detection_at(slot);
            }
        }
        self.classes = classes;
    }

    /// Take the records and Eve tags produced so far.
    pub fn take_output(&mut self) -> LinkOutput {
        LinkOutput {
            alice: self.alice.take_records(),
            bob: self.bob.take_records(),
            eve: std::mem::take(&mut self.eve),
        }
    }
}

/// Run a link for `slots` slots and return everything (convenience for
/// tests and short runs).
pub fn run_link(p: LinkParams, slots: u64) -> Result<(LinkOutput, LinkStats, BobTotals), SimError> {
    let mut l = FastLink::new(p)?;
    l.run_until(slots);
    l.finish();
    let out = l.take_output();
    Ok((out, *l.stats(), *l.bob_totals()))
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Typed register access derived from qkd-abi's register map, and the
//! control API for Alice (decoy-state BB84 transmitter) and Bob (gated APD
//! receiver with the protections of qkd-abi `regmap/bob.rs`).
//!
//! Fields are read and written through qkd-abi's `Field::get`/`Field::set`,
//! so bit positions exist only in the abi declaration (STYLE.md habit 7).
//!
//! Probabilities become 16-bit thresholds compared as `random16 < T`, so
//! `P = T / 2^16`: `T = round(p * 2^16)` (half away from zero), cumulative
//! for the intensity thresholds (T1 = round(p_signal 2^16), T2 =
//! round((p_signal + p_decoy) 2^16)) so each probability is off by at most
//! 2^-16 and the vacuum gets the rest. `p = 1` would need T = 65536; it is
//! saturated to 65535 (a deficit of 2^-16), documented in driver/README.md.

use crate::device::{open_with, BackendProvider, Device};
use crate::error::{Error, Result};
use qkd_abi::regmap::{alice, bob, Access, Field, Register};
use qkd_abi::symbol::Symbol;
use qkd_abi::Role;
use serde::Serialize;

/// One register as read, with its fields decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegValue {
    /// Name.
    pub name: &'static str,
    /// Byte offset.
    pub offset: u32,
    /// Access type name (`RO`, `RW`, `W1C`, `STROBE`).
    pub access: &'static str,
    /// Value read (`None` for write-only strobes, which read as 0).
    pub value: Option<u32>,
    /// Decoded fields (name, value).
    pub fields: Vec<(&'static str, u32)>,
    /// Description from qkd-abi.
    pub doc: &'static str,
}

fn field(reg: &Register, name: &str) -> Result<&'static Field> {
    reg.field(name).ok_or_else(|| Error::UnknownField {
        register: reg.name,
        field: name.to_string(),
    })
}

impl Device {
    /// The register called `name` in this core's map.
    pub fn register(&self, name: &str) -> Result<Register> {
        self.map
            .register(name)
            .copied()
            .ok_or_else(|| Error::UnknownRegister(name.to_string()))
    }
    /// Read a register.
    pub fn read_reg(&mut self, reg: &Register) -> Result<u32> {
        self.regs().read32(reg.offset)
    }
    /// Write a whole register.
    pub fn write_reg(&mut self, reg: &Register, value: u32) -> Result<()> {
        self.regs().write32(reg.offset, value)
    }
    /// Read one field.
    pub fn read_field(&mut self, reg: &Register, name: &str) -> Result<u32> {
        let f = field(reg, name)?;
        Ok(f.get(self.read_reg(reg)?))
    }
    /// Set fields: read-modify-write for RW registers, built from zero for
    /// strobes and W1C (so no other bit is pulsed or cleared).
    pub fn write_fields(&mut self, reg: &Register, values: &[(&str, u32)]) -> Result<()> {
        let mut v = if reg.access == Access::RW {
            self.read_reg(reg)?
        } else {
            0
        };
        for (name, x) in values {
            v = field(reg, name)?
                .set(v, *x)
                .map_err(|source| Error::Field {
                    register: reg.name,
                    source,
                })?;
        }
        self.write_reg(reg, v)
    }
    /// Read a 64-bit `_LO`/`_HI` pair (reading `_LO` latches `_HI`).
    pub fn read_u64(&mut self, lo: &Register, hi: &Register) -> Result<u64> {
        let l = self.read_reg(lo)?;
        let h = self.read_reg(hi)?;
        Ok(u64::from(h) << 32 | u64::from(l))
    }
    /// Every register of the map with decoded fields (strobes not read).
    pub fn dump(&mut self) -> Result<Vec<RegValue>> {
        let regs: Vec<Register> = self.map.registers().copied().collect();
        let mut out = Vec::with_capacity(regs.len());
        for r in regs {
            let value = match r.access {
                Access::Strobe => None,
                _ => Some(self.read_reg(&r)?),
            };
            out.push(RegValue {
                name: r.name,
                offset: r.offset,
                access: r.access.name(),
                value,
                fields: value.map_or_else(Vec::new, |v| {
                    r.fields.iter().map(|f| (f.name, f.get(v))).collect()
                }),
                doc: r.doc,
            });
        }
        Ok(out)
    }
    /// Counters of the shared STREAM block.
    pub fn stream_counters(&mut self) -> Result<StreamCounters> {
        use alice::{
            STREAM_FIFO_HIGH_WATER, STREAM_GAPS, STREAM_LOST_SLOTS_HI, STREAM_LOST_SLOTS_LO,
            STREAM_RECORDS_HI, STREAM_RECORDS_LO,
        };
        Ok(StreamCounters {
            records: self.read_u64(&STREAM_RECORDS_LO, &STREAM_RECORDS_HI)?,
            lost_slots: self.read_u64(&STREAM_LOST_SLOTS_LO, &STREAM_LOST_SLOTS_HI)?,
            gaps: self.read_reg(&STREAM_GAPS)?,
            fifo_high_water_words: self.read_reg(&STREAM_FIFO_HIGH_WATER)?,
        })
    }
    /// Sticky alarms of a W1C register, decoded by its fields.
    fn alarms_of(&mut self, reg: &Register) -> Result<Alarms> {
        let bits = self.read_reg(reg)?;
        Ok(Alarms::decode(reg, bits))
    }
}

/// Counters of the STREAM block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamCounters {
    /// Records emitted.
    pub records: u64,
    /// Slots whose records were lost to back-pressure.
    pub lost_slots: u64,
    /// GAP records emitted (wrapping 32-bit).
    pub gaps: u32,
    /// Highest FIFO fill, in 64-bit words.
    pub fifo_high_water_words: u32,
}

/// Alarm bits with their qkd-abi names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alarms {
    /// Raw bits.
    pub bits: u32,
    /// Names of the set bits, from the register's fields.
    pub active: Vec<&'static str>,
}

impl Alarms {
    /// Decode `bits` with the 1-bit fields of `reg`.
    pub fn decode(reg: &Register, bits: u32) -> Alarms {
        Alarms {
            bits,
            active: reg
                .fields
                .iter()
                .filter(|f| f.get(bits) != 0)
                .map(|f| f.name)
                .collect(),
        }
    }
    /// Is the alarm called `name` set?
    pub fn contains(&self, name: &str) -> bool {
        self.active.contains(&name)
    }
    /// No alarm set.
    pub fn is_clear(&self) -> bool {
        self.bits == 0
    }
}

/// A probability as a 16-bit threshold: `round(p * 2^16)`, 65536 saturated
/// to 65535. Refuses p outside [0, 1] and NaN.
pub fn threshold_16(what: &'static str, p: f64) -> Result<u32> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::InvalidConfig {
            what,
            value: p.to_string(),
            reason: "a probability must be in [0, 1]",
        });
    }
    Ok(((p * 65536.0).round() as u32).min(65535))
}

/// The probability a threshold realises: `T / 2^16`.
pub fn threshold_probability(t: u32) -> f64 {
    f64::from(t) / 65536.0
}

/// Entropy source of the basis/bit/intensity choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RngSource {
    /// The external QRNG with its SP 800-90B health tests (for key).
    Qrng,
    /// The seeded test PRNG (never for key: Eve could know the seed).
    TestPrng {
        /// 64-bit seed, loaded at START.
        seed: u64,
    },
}

/// QRNG health-test parameters (NIST SP 800-90B 4.4.1, 4.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RngHealth {
    /// Repetition-count cutoff C, samples.
    pub rct_cutoff: u16,
    /// Adaptive-proportion window W, samples.
    pub apt_window: u16,
    /// Adaptive-proportion cutoff, samples.
    pub apt_cutoff: u16,
}

impl Default for RngHealth {
    fn default() -> Self {
        RngHealth {
            rct_cutoff: alice::RNG_RCT_CUTOFF.reset as u16,
            apt_window: alice::RNG_APT_WINDOW.reset as u16,
            apt_cutoff: alice::RNG_APT_CUTOFF.reset as u16,
        }
    }
}

fn write_rng(dev: &mut Device, rng: RngSource, health: &RngHealth) -> Result<()> {
    match rng {
        RngSource::Qrng => dev.write_fields(&alice::RNG_CTRL, &[("SOURCE", 0)])?,
        RngSource::TestPrng { seed } => {
            dev.write_reg(&alice::RNG_SEED_LO, seed as u32)?;
            dev.write_reg(&alice::RNG_SEED_HI, (seed >> 32) as u32)?;
            dev.write_fields(&alice::RNG_CTRL, &[("SOURCE", 1)])?;
        }
    }
    dev.write_fields(
        &alice::RNG_RCT_CUTOFF,
        &[("CUTOFF", health.rct_cutoff.into())],
    )?;
    dev.write_fields(
        &alice::RNG_APT_WINDOW,
        &[("WINDOW", health.apt_window.into())],
    )?;
    dev.write_fields(
        &alice::RNG_APT_CUTOFF,
        &[("CUTOFF", health.apt_cutoff.into())],
    )
}

// ---- Alice ----

/// Alice's choice probabilities (Lim et al. 2014 notation: mu1 signal,
/// mu2 decoy, mu3 vacuum = the rest).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecoyProbabilities {
    /// P(mu1).
    pub signal: f64,
    /// P(mu2).
    pub decoy: f64,
    /// P(Z basis).
    pub basis_z: f64,
}

impl Default for DecoyProbabilities {
    fn default() -> Self {
        DecoyProbabilities {
            signal: 0.31,
            decoy: 0.51,
            basis_z: 0.86,
        }
    }
}

/// The three selector thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DecoyThresholds {
    /// T1: random16 < T1 selects mu1.
    pub signal: u32,
    /// T2 >= T1: T1 <= random16 < T2 selects mu2.
    pub decoy_cumulative: u32,
    /// random16 < T selects Z.
    pub basis_z: u32,
}

impl DecoyProbabilities {
    /// The thresholds (cumulative rounding, see the module doc).
    pub fn thresholds(&self) -> Result<DecoyThresholds> {
        let t1 = threshold_16("signal probability", self.signal)?;
        let sum = self.signal + self.decoy;
        threshold_16("decoy probability", self.decoy)?;
        if sum > 1.0 + 1e-12 {
            return Err(Error::InvalidConfig {
                what: "signal + decoy probability",
                value: sum.to_string(),
                reason: "the intensities' probabilities must sum to at most 1 (the vacuum takes the rest)",
            });
        }
        Ok(DecoyThresholds {
            signal: t1,
            decoy_cumulative: threshold_16("signal + decoy probability", sum.min(1.0))?,
            basis_z: threshold_16("basis Z probability", self.basis_z)?,
        })
    }
}

/// Alice's pattern-generator mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AliceMode {
    /// No pulses.
    Off,
    /// Random decoy-state BB84 symbols.
    Run,
    /// Calibration: one fixed symbol in every slot.
    Fixed(Symbol),
    /// Calibration: PRBS.
    Prbs,
}

/// Alice's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AliceConfig {
    /// Mode.
    pub mode: AliceMode,
    /// Choice probabilities.
    pub probabilities: DecoyProbabilities,
    /// Entropy source.
    pub rng: RngSource,
    /// QRNG health-test parameters.
    pub rng_health: RngHealth,
    /// A sync frame every 2^k symbols (0: none).
    pub sync_log2: u8,
    /// A STATUS record every 2^k slots (0: none).
    pub status_interval_log2: u8,
}

impl Default for AliceConfig {
    fn default() -> Self {
        AliceConfig {
            mode: AliceMode::Run,
            probabilities: DecoyProbabilities::default(),
            rng: RngSource::Qrng,
            rng_health: RngHealth::default(),
            sync_log2: 16,
            status_interval_log2: 20,
        }
    }
}

/// Alice's live state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AliceState {
    /// Emitting.
    pub running: bool,
    /// The selected entropy source passes its health tests.
    pub entropy_ok: bool,
}

/// A bound Alice core.
#[derive(Debug)]
pub struct Alice {
    dev: Device,
}

impl Alice {
    /// Wrap a bound device, refusing a Bob core.
    pub fn new(dev: Device) -> Result<Alice> {
        if dev.header.role != Role::Alice {
            return Err(Error::WrongRole {
                found: dev.header.role,
                expected: Role::Alice,
            });
        }
        Ok(Alice { dev })
    }
    /// Open `uri` (built-in schemes or `provider`'s) as Alice.
    pub fn open(uri: &str, provider: &dyn BackendProvider) -> Result<Alice> {
        Alice::new(open_with(uri, provider, Some(Role::Alice))?)
    }
    /// The device.
    pub fn device(&mut self) -> &mut Device {
        &mut self.dev
    }
    /// Give the device back.
    pub fn into_device(self) -> Device {
        self.dev
    }
    /// Write the whole configuration (takes effect at the next START).
    pub fn configure(&mut self, c: &AliceConfig) -> Result<()> {
        let t = c.probabilities.thresholds()?;
        let d = &mut self.dev;
        d.write_fields(&alice::DECOY_THRESH_SIGNAL, &[("THRESH", t.signal)])?;
        d.write_fields(
            &alice::DECOY_THRESH_DECOY,
            &[("THRESH", t.decoy_cumulative)],
        )?;
        d.write_fields(&alice::DECOY_THRESH_BASIS_Z, &[("THRESH", t.basis_z)])?;
        write_rng(d, c.rng, &c.rng_health)?;
        let (mode, sym) = match c.mode {
            AliceMode::Off => (alice::mode::OFF, 0),
            AliceMode::Run => (alice::mode::RUN, 0),
            AliceMode::Fixed(s) => (alice::mode::FIXED, u32::from(s.code())),
            AliceMode::Prbs => (alice::mode::PRBS, 0),
        };
        d.write_fields(
            &alice::ALICE_CTRL,
            &[
                ("MODE", mode),
                ("FIXED_SYMBOL", sym),
                ("SYNC_LOG2", c.sync_log2.into()),
            ],
        )?;
        d.write_fields(
            &alice::STREAM_CTRL,
            &[("STATUS_INTERVAL_LOG2", c.status_interval_log2.into())],
        )
    }
    /// The thresholds currently programmed.
    pub fn thresholds(&mut self) -> Result<DecoyThresholds> {
        Ok(DecoyThresholds {
            signal: self.dev.read_field(&alice::DECOY_THRESH_SIGNAL, "THRESH")?,
            decoy_cumulative: self.dev.read_field(&alice::DECOY_THRESH_DECOY, "THRESH")?,
            basis_z: self
                .dev
                .read_field(&alice::DECOY_THRESH_BASIS_Z, "THRESH")?,
        })
    }
    /// Arm: clear counters and sticky alarms, then refuse to go on if the
    /// entropy source is unhealthy.
    pub fn arm(&mut self) -> Result<()> {
        self.clear_counters()?;
        self.dev
            .write_reg(&alice::ALICE_ALARMS, alice::ALICE_ALARMS.defined_bits())?;
        if !self.state()?.entropy_ok {
            return Err(Error::InvalidConfig {
                what: "ALICE_STATE.ENTROPY_OK",
                value: "0".into(),
                reason: "the selected entropy source fails its health tests; not arming",
            });
        }
        Ok(())
    }
    /// START: load the seed, reset the symbol index to 0, emit.
    pub fn start(&mut self) -> Result<()> {
        self.dev.write_fields(&alice::ALICE_CMD, &[("START", 1)])
    }
    /// STOP.
    pub fn stop(&mut self) -> Result<()> {
        self.dev.write_fields(&alice::ALICE_CMD, &[("STOP", 1)])
    }
    /// CLEAR_COUNTERS.
    pub fn clear_counters(&mut self) -> Result<()> {
        self.dev
            .write_fields(&alice::ALICE_CMD, &[("CLEAR_COUNTERS", 1)])
    }
    /// Live state.
    pub fn state(&mut self) -> Result<AliceState> {
        let v = self.dev.read_reg(&alice::ALICE_STATE)?;
        let r = &alice::ALICE_STATE;
        Ok(AliceState {
            running: field(r, "RUNNING")?.get(v) != 0,
            entropy_ok: field(r, "ENTROPY_OK")?.get(v) != 0,
        })
    }
    /// Sticky alarms.
    pub fn alarms(&mut self) -> Result<Alarms> {
        self.dev.alarms_of(&alice::ALICE_ALARMS)
    }
    /// Clear the given sticky alarm bits (write 1 to clear).
    pub fn clear_alarms(&mut self, bits: u32) -> Result<()> {
        self.dev.write_reg(
            &alice::ALICE_ALARMS,
            bits & alice::ALICE_ALARMS.defined_bits(),
        )
    }
    /// Symbols since START.
    pub fn symbol_index(&mut self) -> Result<u64> {
        self.dev
            .read_u64(&alice::ALICE_SYMBOLS_LO, &alice::ALICE_SYMBOLS_HI)
    }
}

// ---- Bob ----

/// TDC gate window, in fine bins (1/OVERSAMPLE slot), inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GateWindow {
    /// First bin inside the gate.
    pub start_bin: u8,
    /// Last bin inside the gate.
    pub end_bin: u8,
}

/// Thresholds of the attack protections (qkd-abi `regmap/bob.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Protections {
    /// After-gate clicks tolerated per window.
    pub aftergate_limit: u16,
    /// After-gate counting window, slots.
    pub aftergate_window_slots: u32,
    /// Photocurrent ADC threshold (12-bit code).
    pub photocurrent_threshold_adc: u16,
    /// Gates per click-fraction window.
    pub click_fraction_window_gates: u32,
    /// Clicks tolerated per click-fraction window.
    pub click_fraction_limit: u32,
    /// Gates without any click that raise NO_DARK.
    pub no_dark_gates: u32,
}

impl Default for Protections {
    fn default() -> Self {
        Protections {
            aftergate_limit: bob::AFTERGATE_LIMIT.reset as u16,
            aftergate_window_slots: bob::AFTERGATE_WINDOW_SLOTS.reset,
            photocurrent_threshold_adc: bob::PHOTOCURRENT_THRESHOLD.reset as u16,
            click_fraction_window_gates: bob::CLICK_FRACTION_WINDOW_GATES.reset,
            click_fraction_limit: bob::CLICK_FRACTION_LIMIT.reset,
            no_dark_gates: bob::NO_DARK_GATES.reset,
        }
    }
}

/// Bob's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BobConfig {
    /// Bit d set: gate detector d.
    pub detector_enable_mask: u8,
    /// Gate window.
    pub gate_window: GateWindow,
    /// Common dead time, slots (see [`dead_time_slots`]).
    pub dead_time_slots: u16,
    /// P(measure in Z).
    pub basis_z: f64,
    /// Entropy source of the basis choice.
    pub rng: RngSource,
    /// QRNG health-test parameters.
    pub rng_health: RngHealth,
    /// Delay from sync_in to Alice's slot 0, slots.
    pub fiber_delay_slots: u32,
    /// Attack protections.
    pub protections: Protections,
    /// A STATUS record every 2^k slots (0: none).
    pub status_interval_log2: u8,
}

impl Default for BobConfig {
    fn default() -> Self {
        BobConfig {
            detector_enable_mask: 0xF,
            gate_window: GateWindow {
                start_bin: 1,
                end_bin: 5,
            },
            dead_time_slots: bob::GATE_DEAD_TIME_SLOTS.reset as u16,
            basis_z: 0.86,
            rng: RngSource::Qrng,
            rng_health: RngHealth::default(),
            fiber_delay_slots: 0,
            protections: Protections::default(),
            status_interval_log2: 20,
        }
    }
}

/// A dead time in nanoseconds as slots, rounded up so the hold-off is never
/// shorter than asked: `ceil(ns * 1000 / slot_ps)`.
pub fn dead_time_slots(dead_time_ns: f64, slot_period_ps: f64) -> Result<u16> {
    let slots = (dead_time_ns * 1000.0 / slot_period_ps).ceil();
    if !(0.0..=65535.0).contains(&slots) {
        return Err(Error::InvalidConfig {
            what: "dead time",
            value: format!("{dead_time_ns} ns"),
            reason: "must be 0 to 65535 slots (16-bit GATE_DEAD_TIME_SLOTS)",
        });
    }
    Ok(slots as u16)
}

/// Bob's live state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BobState {
    /// Gating and time-stamping.
    pub running: bool,
    /// sync_in seen since START.
    pub synced: bool,
    /// Live alarm conditions.
    pub alarms_live: Alarms,
}

/// Bob's click accounting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BobCounters {
    /// Gates since START.
    pub gates: u64,
    /// Accepted clicks.
    pub accepted: u32,
    /// Clicks outside the gate window.
    pub after_gate: u32,
    /// Clicks discarded in the dead time.
    pub dead_time_suppressed: u32,
    /// Clicks made while an alarm was live.
    pub invalid: u32,
    /// Raw clicks per detector.
    pub clicks: Vec<u32>,
}

/// A bound Bob core.
#[derive(Debug)]
pub struct Bob {
    dev: Device,
}

impl Bob {
    /// Wrap a bound device, refusing an Alice core.
    pub fn new(dev: Device) -> Result<Bob> {
        if dev.header.role != Role::Bob {
            return Err(Error::WrongRole {
                found: dev.header.role,
                expected: Role::Bob,
            });
        }
        Ok(Bob { dev })
    }
    /// Open `uri` as Bob.
    pub fn open(uri: &str, provider: &dyn BackendProvider) -> Result<Bob> {
        Bob::new(open_with(uri, provider, Some(Role::Bob))?)
    }
    /// The device.
    pub fn device(&mut self) -> &mut Device {
        &mut self.dev
    }
    /// Give the device back.
    pub fn into_device(self) -> Device {
        self.dev
    }
    /// Write the whole configuration.
    pub fn configure(&mut self, c: &BobConfig) -> Result<()> {
        let h = &self.dev.header;
        let det_mask = (1u32 << h.detectors) - 1;
        if u32::from(c.detector_enable_mask) & !det_mask != 0 {
            return Err(Error::InvalidConfig {
                what: "detector_enable_mask",
                value: format!("{:#x}", c.detector_enable_mask),
                reason: "enables a detector this core does not have (IDENT.DETECTORS)",
            });
        }
        let w = c.gate_window;
        if w.start_bin > w.end_bin || w.end_bin >= h.oversample {
            return Err(Error::InvalidConfig {
                what: "gate_window",
                value: format!("{}..={}", w.start_bin, w.end_bin),
                reason: "needs start_bin <= end_bin < OVERSAMPLE",
            });
        }
        let basis = threshold_16("basis Z probability", c.basis_z)?;
        let p = c.protections;
        let d = &mut self.dev;
        d.write_fields(
            &bob::BOB_CTRL,
            &[("DETECTOR_ENABLE", c.detector_enable_mask.into())],
        )?;
        d.write_fields(
            &bob::GATE_WINDOW,
            &[
                ("START_BIN", w.start_bin.into()),
                ("END_BIN", w.end_bin.into()),
            ],
        )?;
        d.write_fields(
            &bob::GATE_DEAD_TIME_SLOTS,
            &[("SLOTS", c.dead_time_slots.into())],
        )?;
        d.write_fields(&bob::GATE_BASIS_THRESH_Z, &[("THRESH", basis)])?;
        d.write_reg(&bob::BOB_FIBER_DELAY_SLOTS, c.fiber_delay_slots)?;
        d.write_fields(
            &bob::AFTERGATE_LIMIT,
            &[("COUNT", p.aftergate_limit.into())],
        )?;
        d.write_reg(&bob::AFTERGATE_WINDOW_SLOTS, p.aftergate_window_slots)?;
        d.write_fields(
            &bob::PHOTOCURRENT_THRESHOLD,
            &[("ADC", p.photocurrent_threshold_adc.into())],
        )?;
        d.write_reg(
            &bob::CLICK_FRACTION_WINDOW_GATES,
            p.click_fraction_window_gates,
        )?;
        d.write_reg(&bob::CLICK_FRACTION_LIMIT, p.click_fraction_limit)?;
        d.write_reg(&bob::NO_DARK_GATES, p.no_dark_gates)?;
        write_rng(d, c.rng, &c.rng_health)?;
        d.write_fields(
            &bob::STREAM_CTRL,
            &[("STATUS_INTERVAL_LOG2", c.status_interval_log2.into())],
        )
    }
    /// Arm: clear counters and sticky alarms; refuse if an alarm is live.
    pub fn arm(&mut self) -> Result<()> {
        self.clear_counters()?;
        self.dev
            .write_reg(&bob::BOB_ALARMS, bob::BOB_ALARMS.defined_bits())?;
        let s = self.state()?;
        if !s.alarms_live.is_clear() {
            return Err(Error::InvalidConfig {
                what: "BOB_STATE.ALARM_LIVE",
                value: s.alarms_live.active.join(","),
                reason: "an alarm condition is live; not arming",
            });
        }
        Ok(())
    }
    /// START: load the seed, wait for sync_in, gate and time-stamp.
    pub fn start(&mut self) -> Result<()> {
        self.dev.write_fields(&bob::BOB_CMD, &[("START", 1)])
    }
    /// STOP.
    pub fn stop(&mut self) -> Result<()> {
        self.dev.write_fields(&bob::BOB_CMD, &[("STOP", 1)])
    }
    /// CLEAR_COUNTERS.
    pub fn clear_counters(&mut self) -> Result<()> {
        self.dev
            .write_fields(&bob::BOB_CMD, &[("CLEAR_COUNTERS", 1)])
    }
    /// Live state.
    pub fn state(&mut self) -> Result<BobState> {
        let r = &bob::BOB_STATE;
        let v = self.dev.read_reg(r)?;
        Ok(BobState {
            running: field(r, "RUNNING")?.get(v) != 0,
            synced: field(r, "SYNCED")?.get(v) != 0,
            alarms_live: Alarms::decode(&bob::BOB_ALARMS, field(r, "ALARM_LIVE")?.get(v)),
        })
    }
    /// Sticky alarms.
    pub fn alarms(&mut self) -> Result<Alarms> {
        self.dev.alarms_of(&bob::BOB_ALARMS)
    }
    /// Clear the given sticky alarm bits.
    pub fn clear_alarms(&mut self, bits: u32) -> Result<()> {
        self.dev
            .write_reg(&bob::BOB_ALARMS, bits & bob::BOB_ALARMS.defined_bits())
    }
    /// Counters.
    pub fn counters(&mut self) -> Result<BobCounters> {
        let n = usize::from(self.dev.header.detectors.min(4));
        let d = &mut self.dev;
        Ok(BobCounters {
            gates: d.read_u64(&bob::GATES_LO, &bob::GATES_HI)?,
            accepted: d.read_reg(&bob::ACCEPTED)?,
            after_gate: d.read_reg(&bob::AFTER_GATE)?,
            dead_time_suppressed: d.read_reg(&bob::DEAD_TIME_SUPPRESSED)?,
            invalid: d.read_reg(&bob::INVALID)?,
            clicks: bob::CLICKS[..n]
                .iter()
                .map(|r| d.read_reg(r))
                .collect::<Result<_>>()?,
        })
    }
    /// Last photocurrent ADC sample per detector.
    pub fn photocurrent_last(&mut self) -> Result<Vec<u16>> {
        let n = usize::from(self.dev.header.detectors.min(4));
        bob::PHOTOCURRENT_LAST[..n]
            .iter()
            .map(|r| Ok((self.dev.read_reg(r)? & 0xFFF) as u16))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Backend;
    use crate::transport::MemRegs;
    use qkd_abi::{GenParams, RegisterMap};

    fn device(p: GenParams) -> (Device, MemRegs) {
        let regs = MemRegs::from_map(&RegisterMap::new(p));
        let dev = Device::bind(
            "mem:",
            Backend {
                regs: Box::new(regs.clone()),
                events: None,
            },
            None,
        )
        .unwrap();
        (dev, regs)
    }

    #[test]
    fn thresholds_round_cumulatively_and_saturate() {
        // The abi's reset values are the defaults' thresholds.
        let t = DecoyProbabilities::default().thresholds().unwrap();
        assert_eq!(t.signal, alice::DECOY_THRESH_SIGNAL.reset);
        assert_eq!(t.decoy_cumulative, alice::DECOY_THRESH_DECOY.reset);
        assert_eq!(t.basis_z, alice::DECOY_THRESH_BASIS_Z.reset);
        assert_eq!(threshold_16("p", 0.5).unwrap(), 32768);
        assert_eq!(threshold_16("p", 1.0).unwrap(), 65535);
        assert_eq!(threshold_16("p", 0.0).unwrap(), 0);
        assert!(threshold_16("p", 1.01).is_err());
        assert!(threshold_16("p", f64::NAN).is_err());
        let bad = DecoyProbabilities {
            signal: 0.7,
            decoy: 0.4,
            basis_z: 0.5,
        };
        assert!(bad
            .thresholds()
            .unwrap_err()
            .to_string()
            .contains("sum to at most 1"));
        // Each probability is within 2^-16 of the request.
        let p = DecoyProbabilities {
            signal: 0.123456,
            decoy: 0.654321,
            basis_z: 0.5,
        };
        let t = p.thresholds().unwrap();
        assert!((threshold_probability(t.signal) - p.signal).abs() <= 1.0 / 131072.0);
        assert!(
            (threshold_probability(t.decoy_cumulative - t.signal) - p.decoy).abs() <= 1.0 / 65536.0
        );
    }

    #[test]
    fn alice_configure_writes_the_fields() {
        let (dev, regs) = device(GenParams::alice(4));
        let mut a = Alice::new(dev).unwrap();
        let c = AliceConfig {
            mode: AliceMode::Fixed(Symbol(0b1011)),
            probabilities: DecoyProbabilities {
                signal: 0.5,
                decoy: 0.25,
                basis_z: 0.75,
            },
            rng: RngSource::TestPrng {
                seed: 0x1122_3344_5566_7788,
            },
            sync_log2: 10,
            status_interval_log2: 12,
            ..AliceConfig::default()
        };
        a.configure(&c).unwrap();
        assert_eq!(regs.get(alice::DECOY_THRESH_SIGNAL.offset), 32768);
        assert_eq!(regs.get(alice::DECOY_THRESH_DECOY.offset), 49152);
        assert_eq!(regs.get(alice::DECOY_THRESH_BASIS_Z.offset), 49152);
        assert_eq!(regs.get(alice::RNG_SEED_LO.offset), 0x5566_7788);
        assert_eq!(regs.get(alice::RNG_SEED_HI.offset), 0x1122_3344);
        assert_eq!(regs.get(alice::RNG_CTRL.offset), 1);
        assert_eq!(
            regs.get(alice::ALICE_CTRL.offset),
            2 | 0b1011 << 4 | 10 << 8
        );
        assert_eq!(regs.get(alice::STREAM_CTRL.offset), 12);
        assert_eq!(a.thresholds().unwrap().decoy_cumulative, 49152);
        a.start().unwrap();
        assert_eq!(regs.get(alice::ALICE_CMD.offset), 1);
        a.stop().unwrap();
        assert_eq!(regs.get(alice::ALICE_CMD.offset), 2);
        // Entropy not OK in the reset image: arming refuses.
        assert!(a.arm().is_err());
        regs.set(alice::ALICE_STATE.offset, 2);
        a.arm().unwrap();
        regs.set(alice::ALICE_ALARMS.offset, 0b0101);
        assert_eq!(
            a.alarms().unwrap().active,
            vec!["RNG_RCT", "STREAM_OVERFLOW"]
        );
        regs.set(alice::ALICE_SYMBOLS_LO.offset, 5);
        regs.set(alice::ALICE_SYMBOLS_HI.offset, 1);
        assert_eq!(a.symbol_index().unwrap(), (1 << 32) + 5);
    }

    #[test]
    fn bob_configure_checks_and_writes() {
        let (dev, regs) = device(GenParams::bob(4, 8, 2));
        let mut b = Bob::new(dev).unwrap();
        let mut c = BobConfig {
            detector_enable_mask: 0b11,
            gate_window: GateWindow {
                start_bin: 2,
                end_bin: 6,
            },
            dead_time_slots: dead_time_slots(1000.0, 3200.0).unwrap(),
            basis_z: 0.5,
            fiber_delay_slots: 12345,
            ..BobConfig::default()
        };
        b.configure(&c).unwrap();
        assert_eq!(regs.get(bob::GATE_DEAD_TIME_SLOTS.offset), 313);
        assert_eq!(regs.get(bob::GATE_WINDOW.offset), 2 | 6 << 8);
        assert_eq!(regs.get(bob::GATE_BASIS_THRESH_Z.offset), 32768);
        assert_eq!(regs.get(bob::BOB_FIBER_DELAY_SLOTS.offset), 12345);
        assert_eq!(regs.get(bob::BOB_CTRL.offset), 3);
        c.detector_enable_mask = 0b100;
        assert!(b
            .configure(&c)
            .unwrap_err()
            .to_string()
            .contains("detector_enable_mask"));
        c.detector_enable_mask = 1;
        c.gate_window.end_bin = 8;
        assert!(b.configure(&c).is_err());
        regs.set(
            bob::BOB_STATE.offset,
            0b11 | (bob::alarm::PHOTOCURRENT << 8),
        );
        let s = b.state().unwrap();
        assert!(s.running && s.synced && s.alarms_live.contains("PHOTOCURRENT"));
        assert!(b.arm().is_err());
        regs.set(bob::CLICKS[1].offset, 77);
        regs.set(bob::GATES_LO.offset, 9);
        let k = b.counters().unwrap();
        assert_eq!((k.gates, k.clicks.clone()), (9, vec![0, 77]));
        assert!(dead_time_slots(1e6, 3200.0).is_err());
        assert_eq!(dead_time_slots(3.3, 3200.0).unwrap(), 2, "rounded up");
    }

    #[test]
    fn typed_wrappers_refuse_the_other_role() {
        let (dev, _) = device(GenParams::alice(4));
        assert_eq!(
            Bob::new(dev).unwrap_err().to_string(),
            "wrong role: found alice, expected bob"
        );
    }
}

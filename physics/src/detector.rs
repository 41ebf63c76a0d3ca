// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's detectors as parameters: two gated APDs (efficiency, dark counts,
//! afterpulses, the APD's recovery and the gateware's common dead time,
//! timing jitter) and the TDC gate window that accepts their clicks. The
//! simulator draws clicks from them (`qkd_sim::physics::detector`); the
//! closed-form receiver model (`receiver`) averages over them.

use crate::ParamError;
use qkd_abi::regmap::bob as regs;

/// Detector parameters (SI units in names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorParams {
    /// Bob's optics x detector efficiency.
    pub efficiency: f64,
    /// Dark count probability per detector per gate.
    pub dark_count_per_gate: f64,
    /// Afterpulse probability per avalanche.
    pub afterpulse_probability: f64,
    /// Exponential trap-release time constant in ns.
    pub afterpulse_time_constant_ns: f64,
    /// The gateware's common dead time in ns (sets `GATE_DEAD_TIME_SLOTS`).
    pub dead_time_ns: f64,
    /// The APD's own recovery after an avalanche, in ns (at least one slot).
    pub apd_recovery_ns: f64,
    /// Probability that a photon measured in the right basis hits the wrong detector.
    pub misalignment_error: f64,
    /// RMS timing jitter of detector + TDC in ps.
    pub jitter_rms_ps: f64,
}

impl Default for DetectorParams {
    /// The link TOML defaults (Lim et al. evaluation parameters).
    fn default() -> DetectorParams {
        DetectorParams {
            efficiency: 0.10,
            dark_count_per_gate: 6e-7,
            afterpulse_probability: 0.04,
            afterpulse_time_constant_ns: 200.0,
            dead_time_ns: 1000.0,
            apd_recovery_ns: 10.0,
            misalignment_error: 0.005,
            jitter_rms_ps: 100.0,
        }
    }
}

impl DetectorParams {
    /// Check ranges; the error names the field.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |field: &'static str, value: f64| ParamError::OutOfRange { field, value };
        let unit = |field: &'static str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(field, v))
            }
        };
        unit("detector.efficiency", self.efficiency)?;
        if !(0.0..0.5).contains(&self.dark_count_per_gate) {
            return Err(bad(
                "detector.dark_count_per_gate",
                self.dark_count_per_gate,
            ));
        }
        if !(0.0..1.0).contains(&self.afterpulse_probability) {
            return Err(bad(
                "detector.afterpulse_probability",
                self.afterpulse_probability,
            ));
        }
        unit("detector.misalignment_error", self.misalignment_error)?;
        for (f, v) in [
            (
                "detector.afterpulse_time_constant_ns",
                self.afterpulse_time_constant_ns,
            ),
            ("detector.dead_time_ns", self.dead_time_ns),
            ("detector.apd_recovery_ns", self.apd_recovery_ns),
            ("detector.jitter_rms_ps", self.jitter_rms_ps),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(f, v));
            }
        }
        Ok(())
    }

    /// `GATE_DEAD_TIME_SLOTS` for a slot of `slot_ps` (16-bit register).
    pub fn dead_time_slots(&self, slot_ps: f64) -> u32 {
        ((self.dead_time_ns * 1e3 / slot_ps).round()).clamp(0.0, 65535.0) as u32
    }

    /// APD recovery in whole slots (at least 1: a detector clicks at most
    /// once per slot and its output pulse must fall before the next edge).
    pub fn apd_recovery_slots(&self, slot_ps: f64) -> u64 {
        ((self.apd_recovery_ns * 1e3 / slot_ps).ceil() as u64).max(1)
    }

    /// `ln(1 - q)` where `q` is the per-slot trap-release probability, so
    /// that the delay in slots `1 + Geometric(q)` has mean `tau / slot`.
    pub fn afterpulse_ln_q(&self, slot_ps: f64) -> f64 {
        let tau_slots = (self.afterpulse_time_constant_ns * 1e3 / slot_ps).max(1e-9);
        // q = 1 - exp(-1/tau): exponential law sampled on the slot grid.
        -1.0 / tau_slots
    }
}

/// Bob's TDC gate window: the fine bins per slot (OVERSAMPLE) and the
/// first and last bin a click is accepted in (`GATE_WINDOW.START_BIN`,
/// `GATE_WINDOW.END_BIN`, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateWindow {
    /// TDC fine bins per slot.
    pub oversample: u8,
    /// First accepted bin.
    pub start_bin: u8,
    /// Last accepted bin.
    pub end_bin: u8,
}

impl Default for GateWindow {
    /// The default receiver generation (8 bins per slot) with the
    /// `GATE_WINDOW` register at reset.
    fn default() -> GateWindow {
        let gw = regs::GATE_WINDOW.reset;
        GateWindow {
            oversample: 8,
            start_bin: (gw & 0xFF) as u8,
            end_bin: ((gw >> 8) & 0xFF) as u8,
        }
    }
}

impl GateWindow {
    /// Length of the accepted window in seconds for a slot of `slot_ps`.
    pub fn duration_s(&self, slot_ps: f64) -> f64 {
        let bins = f64::from(self.end_bin.saturating_sub(self.start_bin)) + 1.0;
        bins * slot_ps * 1e-12 / f64::from(self.oversample.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The reset GATE_WINDOW accepts bins 1..=5 of 8: 5/8 of a 3.2 ns slot.
    #[test]
    fn the_reset_window_is_five_eighths_of_a_slot() {
        let g = GateWindow::default();
        assert_eq!((g.oversample, g.start_bin, g.end_bin), (8, 1, 5));
        assert!((g.duration_s(3200.0) - 2e-9).abs() < 1e-21);
    }
}

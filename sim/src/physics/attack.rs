// SPDX-License-Identifier: MIT OR Apache-2.0
//! Eavesdropping attacks, with what Eve learns about every click.
//!
//! * Intercept-resend on a fraction of pulses (Bennett, Brassard 1984;
//!   Eve measures in a random basis with a perfect detector and resends one
//!   photon of her result into the channel).
//! * Photon-number splitting (Brassard, Lütkenhaus, Mor, Sanders, PRL 85,
//!   1330 (2000)): Eve keeps one photon of every multi-photon pulse, sends
//!   the rest over a lossless channel, and blocks single photons as needed
//!   to keep Bob's signal click rate; decoy states reveal it (Lo, Ma, Chen,
//!   PRL 94, 230504 (2005)).
//! * CW detector blinding and pulsed blinding (Lydersen et al., Nat.
//!   Photon. 4, 686 (2010)): blinded APDs work in linear mode, see no single
//!   photons and no dark counts, and click only on Eve's bright trigger,
//!   which she sends in her measured basis; a trigger clicks only if Bob's
//!   basis matches (faked-state attack, Makarov and Hjelme, J. Mod. Opt. 52,
//!   691 (2005)). CW blinding keeps the photocurrent high; pulsed blinding
//!   keeps the average low, but a single ADC sample can catch a pulse.
//! * After-gate attack (Wiechers et al., NJP 13, 013043 (2011)): bright
//!   triggers just after the gate, so clicks land in fine bins outside the
//!   window.
//! * Dead-time attack (Weier et al., NJP 13, 073024 (2011)): bright pulses
//!   force a click on one detector; while that detector alone is dead the
//!   other one's clicks reveal the bit. The gateware's common dead time
//!   closes every gate, which defeats it.
//!
//! Knowledge rule ([`EveInfo`]): Eve "knows" a click when she holds a guess
//! of Bob's bit that is certain given her information and correct.

use super::detector::{detector_fractions, ClickLaw, PhotonNumber};
use super::SimError;
use qkd_abi::symbol::Basis;

/// Which attack, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttackKind {
    /// No eavesdropper.
    None,
    /// Intercept-resend on a fraction of the pulses.
    InterceptResend {
        /// Fraction of pulses intercepted (0..=1).
        fraction: f64,
    },
    /// Photon-number splitting with a lossless channel.
    PhotonNumberSplitting,
    /// CW blinding: the photocurrent ADC reads `adc_code` on every sample.
    CwBlinding {
        /// ADC code of the blinding photocurrent.
        adc_code: u16,
    },
    /// Pulsed blinding: each ADC sample catches a pulse with probability
    /// `duty` (reads `peak_adc_code`), else reads `mean_adc_code`.
    PulsedBlinding {
        /// Fraction of time the blinding pulses are on.
        duty: f64,
        /// ADC code during a pulse.
        peak_adc_code: u16,
        /// ADC code between pulses.
        mean_adc_code: u16,
    },
    /// Bright triggers just after the gate window.
    AfterGate,
    /// Bright pulses every `period_slots` force a click on `detector`.
    DeadTime {
        /// Slots between Eve's bright pulses.
        period_slots: u64,
        /// Detector Eve blinds by making it click.
        detector: u8,
    },
}

impl AttackKind {
    /// The names [`AttackKind::from_str`] accepts, for help texts.
    pub const NAMES: &'static str =
        "none, intercept-resend[:FRACTION], pns, cw-blinding[:ADC_CODE], \
pulsed-blinding[:DUTY], after-gate, dead-time[:PERIOD_SLOTS]";
}

impl std::str::FromStr for AttackKind {
    type Err = String;

    /// Parse `name[:parameter]`, e.g. `intercept-resend:0.5`. Parameters
    /// left out take the values the attack tests use: fraction 1.0, CW
    /// photocurrent code 0xE00, pulsed duty 0.02 (peak 0xF00, mean 0x200),
    /// dead-time period 314 slots on detector 1.
    fn from_str(s: &str) -> Result<AttackKind, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        fn num<T: std::str::FromStr>(name: &str, a: Option<&str>, default: T) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            match a {
                None => Ok(default),
                Some(a) => {
                    let a = a.trim();
                    let parsed = match a.strip_prefix("0x") {
                        Some(hex) => u64::from_str_radix(hex, 16)
                            .map_err(|e| e.to_string())
                            .and_then(|v| v.to_string().parse::<T>().map_err(|e| e.to_string())),
                        None => a.parse::<T>().map_err(|e| e.to_string()),
                    };
                    parsed.map_err(|e| format!("attack {name}: parameter '{a}': {e}"))
                }
            }
        }
        let no_arg = |k: AttackKind| match arg {
            None => Ok(k),
            Some(a) => Err(format!("attack {name} takes no parameter, got '{a}'")),
        };
        let kind = match name {
            "none" => no_arg(AttackKind::None)?,
            "intercept-resend" => AttackKind::InterceptResend {
                fraction: num(name, arg, 1.0)?,
            },
            "pns" => no_arg(AttackKind::PhotonNumberSplitting)?,
            "cw-blinding" => AttackKind::CwBlinding {
                adc_code: num(name, arg, 0xE00)?,
            },
            "pulsed-blinding" => AttackKind::PulsedBlinding {
                duty: num(name, arg, 0.02)?,
                peak_adc_code: 0xF00,
                mean_adc_code: 0x200,
            },
            "after-gate" => no_arg(AttackKind::AfterGate)?,
            "dead-time" => AttackKind::DeadTime {
                period_slots: num(name, arg, 314)?,
                detector: 1,
            },
            other => {
                return Err(format!(
                    "unknown attack '{other}' (expected one of: {})",
                    AttackKind::NAMES
                ))
            }
        };
        AttackConfig::always(kind)
            .validate()
            .map_err(|e| e.to_string())?;
        Ok(kind)
    }
}

/// An attack and the slots during which it is active.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttackConfig {
    /// The attack.
    pub kind: AttackKind,
    /// First attacked slot.
    pub start_slot: u64,
    /// First slot no longer attacked (`u64::MAX` = until the end).
    pub end_slot: u64,
}

impl Default for AttackConfig {
    fn default() -> AttackConfig {
        AttackConfig {
            kind: AttackKind::None,
            start_slot: 0,
            end_slot: u64::MAX,
        }
    }
}

impl AttackConfig {
    /// An attack active during the whole run.
    pub fn always(kind: AttackKind) -> AttackConfig {
        AttackConfig {
            kind,
            ..AttackConfig::default()
        }
    }

    /// Check parameters; the error names the field.
    pub fn validate(&self) -> Result<(), SimError> {
        match self.kind {
            AttackKind::InterceptResend { fraction } if !(0.0..=1.0).contains(&fraction) => {
                Err(SimError::OutOfRange {
                    field: "attack.fraction",
                    value: fraction,
                })
            }
            AttackKind::PulsedBlinding { duty, .. } if !(0.0..=1.0).contains(&duty) => {
                Err(SimError::OutOfRange {
                    field: "attack.duty",
                    value: duty,
                })
            }
            AttackKind::DeadTime {
                period_slots: 0, ..
            } => Err(SimError::OutOfRange {
                field: "attack.period_slots",
                value: 0.0,
            }),
            AttackKind::DeadTime { detector, .. } if detector > 1 => Err(SimError::OutOfRange {
                field: "attack.detector",
                value: f64::from(detector),
            }),
            _ => Ok(()),
        }
    }

    /// Whether the attack acts on slot `slot`.
    #[inline]
    pub fn active(&self, slot: u64) -> bool {
        !matches!(self.kind, AttackKind::None) && slot >= self.start_slot && slot < self.end_slot
    }

    /// Whether Bob's detectors are blinded (linear mode) while active.
    pub fn blinds(&self) -> bool {
        matches!(
            self.kind,
            AttackKind::CwBlinding { .. } | AttackKind::PulsedBlinding { .. }
        )
    }
}

/// What Eve knows about a click's bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EveInfo {
    /// Nothing.
    #[default]
    None,
    /// She knows the state was `bit` in `basis`: she knows Bob's bit when he
    /// measured in `basis` and detector `bit` clicked alone.
    BitInBasis {
        /// Eve's basis.
        basis: Basis,
        /// Eve's bit.
        bit: bool,
    },
    /// She knows which detector clicks (forced click, or the other detector
    /// was dead because of her): Bob's bit is `detector` when it clicks alone.
    Detector(u8),
}

impl EveInfo {
    /// Whether this information pins down the bit of a single click of
    /// `detector` measured in `bob_basis`.
    pub fn knows(&self, bob_basis: Basis, detector: u8) -> bool {
        match *self {
            EveInfo::None => false,
            EveInfo::BitInBasis { basis, bit } => basis == bob_basis && u8::from(bit) == detector,
            EveInfo::Detector(d) => d == detector,
        }
    }
}

/// What caused a click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClickSource {
    /// A photon of Alice's pulse (possibly resent or forwarded by Eve).
    Photon,
    /// Dark count or background light.
    Noise,
    /// Afterpulse of an earlier avalanche.
    Afterpulse,
    /// Eve's bright trigger or pulse.
    EveTrigger,
}

/// One alternative of what happens to a pulse, with its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Branch {
    /// Probability of this alternative.
    pub weight: f64,
    /// Click law at Bob's two detectors.
    pub law: ClickLaw,
    /// What Eve learns.
    pub eve: EveInfo,
    /// Clicks are bright triggers with this fine bin (otherwise photon/noise bins).
    pub trigger_bin: Option<u8>,
}

/// Everything about a slot the branch builder needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotCtx {
    /// Mean photon number Alice sent.
    pub mu: f64,
    /// Alice's basis and bit.
    pub alice: (Basis, bool),
    /// Bob's basis.
    pub bob_basis: Basis,
    /// Detector available (gate open, APD recovered).
    pub avail: [bool; 2],
    /// Channel transmittance.
    pub transmittance: f64,
    /// Bob's efficiency.
    pub eta_bob: f64,
    /// Misalignment.
    pub e_mis: f64,
    /// Dark + background click probability per detector and gate.
    pub noise: f64,
    /// Fine bin of an in-gate trigger.
    pub in_gate_bin: u8,
    /// Fine bin of an after-gate trigger.
    pub after_gate_bin: u8,
}

/// Eve's calibration, fixed at link set-up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EveCalibration {
    /// PNS: probability of forwarding a single-photon pulse.
    pub pns_q1: f64,
    /// PNS: probability of forwarding a multi-photon pulse.
    pub pns_q2: f64,
    /// Blinding / after-gate: probability of sending a trigger after a
    /// successful measurement (matches Bob's expected signal click rate).
    pub trigger_probability: f64,
}

impl EveCalibration {
    /// Eve tunes her attack so Bob's click rate for signal pulses (`mu1`)
    /// stays at its attack-free value `1 - exp(-mu1 t eta)`.
    pub fn new(kind: AttackKind, mu1: f64, transmittance: f64, eta_bob: f64) -> EveCalibration {
        let y_norm = 1.0 - (-mu1 * transmittance * eta_bob).exp();
        let p0 = (-mu1).exp();
        let p1 = mu1 * p0;
        let p_ge2 = 1.0 - p0 - p1;
        let mut c = EveCalibration::default();
        match kind {
            AttackKind::PhotonNumberSplitting => {
                // Multi-photon yield through a lossless channel.
                let m2 = p_ge2 * (1.0 - PhotonNumber::PnsRemainder(mu1).pgf(1.0 - eta_bob));
                if m2 >= y_norm {
                    c.pns_q2 = if m2 > 0.0 { y_norm / m2 } else { 0.0 };
                    c.pns_q1 = 0.0;
                } else {
                    c.pns_q2 = 1.0;
                    c.pns_q1 = if p1 > 0.0 {
                        ((y_norm - m2) / (p1 * eta_bob)).min(1.0)
                    } else {
                        0.0
                    };
                }
            }
            AttackKind::CwBlinding { .. }
            | AttackKind::PulsedBlinding { .. }
            | AttackKind::AfterGate => {
                // Eve detects with probability 1 - p0; half her triggers meet Bob's basis.
                c.trigger_probability = (y_norm / ((1.0 - p0) * 0.5)).min(1.0);
            }
            _ => {}
        }
        c
    }
}

/// The attack-free branch: Alice's Poisson pulse through the channel.
pub fn honest_branch(ctx: &SlotCtx, weight: f64) -> Branch {
    let f = detector_fractions(ctx.alice.0, ctx.alice.1, ctx.bob_basis, ctx.e_mis);
    Branch {
        weight,
        law: ClickLaw::photons(
            PhotonNumber::Poisson(ctx.mu * ctx.transmittance),
            eta(ctx, f),
            noise(ctx),
        ),
        eve: EveInfo::None,
        trigger_bin: None,
    }
}

fn eta(ctx: &SlotCtx, f: [f64; 2]) -> [f64; 2] {
    [
        if ctx.avail[0] {
            ctx.eta_bob * f[0]
        } else {
            0.0
        },
        if ctx.avail[1] {
            ctx.eta_bob * f[1]
        } else {
            0.0
        },
    ]
}

fn noise(ctx: &SlotCtx) -> [f64; 2] {
    [
        if ctx.avail[0] { ctx.noise } else { 0.0 },
        if ctx.avail[1] { ctx.noise } else { 0.0 },
    ]
}

/// Eve's measurement outcomes `(basis, bit, probability)` of a detected
/// pulse with a perfect detector in a random basis.
fn eve_outcomes(alice: (Basis, bool)) -> [(Basis, bool, f64); 4] {
    let mut out = [(Basis::Z, false, 0.0); 4];
    let mut i = 0;
    for b in [Basis::Z, Basis::X] {
        for x in [false, true] {
            let p = if b == alice.0 {
                if x == alice.1 {
                    1.0
                } else {
                    0.0
                }
            } else {
                0.5
            };
            out[i] = (b, x, 0.5 * p);
            i += 1;
        }
    }
    out
}

/// The branches of an attacked slot (appended to `out`).
pub fn attack_branches(
    kind: AttackKind,
    cal: &EveCalibration,
    ctx: &SlotCtx,
    out: &mut Vec<Branch>,
) {
    let p0 = (-ctx.mu).exp();
    match kind {
        AttackKind::None | AttackKind::DeadTime { .. } => out.push(honest_branch(ctx, 1.0)),
        AttackKind::InterceptResend { fraction } => {
            out.push(honest_branch(ctx, 1.0 - fraction));
            out.push(Branch {
                weight: fraction * p0,
                law: ClickLaw::photons(PhotonNumber::Zero, [0.0; 2], noise(ctx)),
                eve: EveInfo::None,
                trigger_bin: None,
            });
            for (b, x, p) in eve_outcomes(ctx.alice) {
                if p > 0.0 {
                    let f = detector_fractions(b, x, ctx.bob_basis, ctx.e_mis);
                    out.push(Branch {
                        weight: fraction * (1.0 - p0) * p,
                        law: ClickLaw::photons(
                            PhotonNumber::Single(ctx.transmittance),
                            eta(ctx, f),
                            noise(ctx),
                        ),
                        eve: EveInfo::BitInBasis { basis: b, bit: x },
                        trigger_bin: None,
                    });
                }
            }
        }
        AttackKind::PhotonNumberSplitting => {
            let p1 = ctx.mu * p0;
            let p2 = (1.0 - p0 - p1).max(0.0);
            let f = detector_fractions(ctx.alice.0, ctx.alice.1, ctx.bob_basis, ctx.e_mis);
            out.push(Branch {
                weight: p0 + p1 * (1.0 - cal.pns_q1) + p2 * (1.0 - cal.pns_q2),
                law: ClickLaw::photons(PhotonNumber::Zero, [0.0; 2], noise(ctx)),
                eve: EveInfo::None,
                trigger_bin: None,
            });
            out.push(Branch {
                weight: p1 * cal.pns_q1,
                law: ClickLaw::photons(PhotonNumber::Single(1.0), eta(ctx, f), noise(ctx)),
                eve: EveInfo::None,
                trigger_bin: None,
            });
            out.push(Branch {
                weight: p2 * cal.pns_q2,
                law: ClickLaw::photons(PhotonNumber::PnsRemainder(ctx.mu), eta(ctx, f), noise(ctx)),
                eve: EveInfo::BitInBasis {
                    basis: ctx.alice.0,
                    bit: ctx.alice.1,
                },
                trigger_bin: None,
            });
        }
        AttackKind::CwBlinding { .. }
        | AttackKind::PulsedBlinding { .. }
        | AttackKind::AfterGate => {
            let after = matches!(kind, AttackKind::AfterGate);
            // Blinded detectors: no single-photon sensitivity, no dark counts.
            // After-gate: detectors stay sensitive to noise, Alice's pulse is intercepted.
            let idle_noise = if after { noise(ctx) } else { [0.0; 2] };
            let t = cal.trigger_probability;
            out.push(Branch {
                weight: p0 + (1.0 - p0) * (1.0 - t),
                law: ClickLaw::photons(PhotonNumber::Zero, [0.0; 2], idle_noise),
                eve: EveInfo::None,
                trigger_bin: None,
            });
            for (b, x, p) in eve_outcomes(ctx.alice) {
                if p <= 0.0 {
                    continue;
                }
                let d = usize::from(x);
                let fires = b == ctx.bob_basis && ctx.avail[d];
                let law = if fires {
                    ClickLaw::forced(d, idle_noise[1 - d])
                } else {
                    ClickLaw::photons(PhotonNumber::Zero, [0.0; 2], idle_noise)
                };
                out.push(Branch {
                    weight: (1.0 - p0) * t * p,
                    law,
                    eve: EveInfo::BitInBasis { basis: b, bit: x },
                    trigger_bin: Some(if after {
                        ctx.after_gate_bin
                    } else {
                        ctx.in_gate_bin
                    }),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(mu: f64) -> SlotCtx {
        SlotCtx {
            mu,
            alice: (Basis::Z, true),
            bob_basis: Basis::Z,
            avail: [true, true],
            transmittance: 0.1,
            eta_bob: 0.1,
            e_mis: 0.0,
            noise: 0.0,
            in_gate_bin: 3,
            after_gate_bin: 6,
        }
    }

    fn p_any(kind: AttackKind, cal: &EveCalibration, c: &SlotCtx) -> f64 {
        let mut v = Vec::new();
        attack_branches(kind, cal, c, &mut v);
        let w: f64 = v.iter().map(|b| b.weight).sum();
        assert!((w - 1.0).abs() < 1e-12, "weights sum {w}");
        v.iter().map(|b| b.weight * b.law.p_any()).sum()
    }

    #[test]
    fn pns_keeps_signal_yield_but_changes_decoy_yield() {
        let kind = AttackKind::PhotonNumberSplitting;
        let cal = EveCalibration::new(kind, 0.42, 0.1, 0.1);
        let honest = |mu: f64| 1.0 - (-mu * 0.01f64).exp();
        let ys = p_any(kind, &cal, &ctx(0.42));
        assert!(
            (ys - honest(0.42)).abs() / honest(0.42) < 1e-9,
            "signal {ys}"
        );
        // The decoy (0.23) yield ratio differs from the honest one: that is
        // what the decoy-state estimate detects.
        let yd = p_any(kind, &cal, &ctx(0.23));
        assert!(
            (yd / ys - honest(0.23) / honest(0.42)).abs() > 0.05,
            "decoy {yd}"
        );
    }

    #[test]
    fn blinding_clicks_only_in_eves_basis_and_she_knows_them() {
        let kind = AttackKind::CwBlinding { adc_code: 0xF00 };
        let cal = EveCalibration::new(kind, 0.42, 0.1, 0.1);
        let mut v = Vec::new();
        attack_branches(kind, &cal, &ctx(0.42), &mut v);
        for b in &v {
            if b.law.p_any() > 0.0 {
                let EveInfo::BitInBasis { basis, bit } = b.eve else {
                    panic!("unknown click")
                };
                assert_eq!(basis, Basis::Z);
                assert!(b.eve.knows(Basis::Z, u8::from(bit)));
            }
        }
    }

    #[test]
    fn intercept_resend_rule() {
        let e = EveInfo::BitInBasis {
            basis: Basis::X,
            bit: false,
        };
        assert!(e.knows(Basis::X, 0));
        assert!(!e.knows(Basis::Z, 0));
        assert!(!e.knows(Basis::X, 1));
        assert!(EveInfo::Detector(1).knows(Basis::Z, 1));
    }
}

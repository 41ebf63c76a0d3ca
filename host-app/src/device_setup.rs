// SPDX-License-Identifier: MIT OR Apache-2.0
//! Programming a board from the link configuration before a role runs:
//! the link TOML's choice probabilities, basis bias and dead time become
//! qkd-driver's typed [`AliceConfig`] / [`BobConfig`]; then configure, arm
//! (which refuses an unhealthy entropy source or a live detector alarm) and
//! START, through the driver's register API derived from qkd-abi.
//!
//! What the registers cannot set is left to the board's calibration: the
//! mean photon numbers themselves (the modulator drive), Bob's gate window
//! and the fiber delay in slots (measured on the installed link) keep the
//! core's reset values or the driver's defaults.
//!
//! `sim:` devices are not programmed: the simulated link runs from open with
//! the same configuration passed directly (see `qkd_sim::physics::device`).

use crate::config::LinkConfig;
use qkd_abi::Role;
use qkd_driver::regs::{
    dead_time_slots, Alice, AliceConfig, AliceMode, Bob, BobConfig, DecoyProbabilities, RngSource,
};
use qkd_driver::Device;

/// A STATUS record every 2^20 slots (3.4 ms at 312.5 MHz): the granularity
/// at which Bob's sifter can latch an alarm.
pub const STATUS_INTERVAL_LOG2: u8 = 20;

/// Does this URI name a device the role must program itself?
pub fn needs_programming(uri: &str) -> bool {
    !(uri.starts_with("sim:") || uri.starts_with("sim+"))
}

/// Alice's register configuration for `link`: random decoy-state symbols
/// from the QRNG (never the test PRNG for key), the link's probabilities.
pub fn alice_config(link: &LinkConfig) -> AliceConfig {
    let [p1, p2, _p3] = link.source.probabilities;
    AliceConfig {
        mode: AliceMode::Run,
        probabilities: DecoyProbabilities {
            signal: p1,
            decoy: p2,
            basis_z: link.source.basis_z_probability,
        },
        rng: RngSource::Qrng,
        status_interval_log2: STATUS_INTERVAL_LOG2,
        ..AliceConfig::default()
    }
}

/// Bob's register configuration for `link` on a core with `detectors`
/// detectors (all gated): basis bias, the detector's dead time in slots of
/// the link's pulse period (rounded up), QRNG basis choice.
pub fn bob_config(link: &LinkConfig, detectors: u8) -> Result<BobConfig, qkd_driver::Error> {
    let slot_period_ps = 1e12 / link.source.pulse_rate_hz;
    Ok(BobConfig {
        detector_enable_mask: ((1u16 << detectors.min(8)) - 1) as u8,
        basis_z: link.source.basis_z_probability,
        dead_time_slots: dead_time_slots(link.detector.dead_time_ns, slot_period_ps)?,
        rng: RngSource::Qrng,
        status_interval_log2: STATUS_INTERVAL_LOG2,
        ..BobConfig::default()
    })
}

/// Configure, arm and start `dev` as `role` for `link`; gives the device
/// back. Any refusal (a probability the thresholds cannot express, an
/// unhealthy QRNG, a live alarm) is the driver's typed error.
pub fn program(dev: Device, role: Role, link: &LinkConfig) -> Result<Device, qkd_driver::Error> {
    match role {
        Role::Alice => {
            let mut a = Alice::new(dev)?;
            a.configure(&alice_config(link))?;
            a.arm()?;
            a.start()?;
            tracing::info!(device = %a.device().uri, "Alice configured, armed and started");
            Ok(a.into_device())
        }
        Role::Bob => {
            let detectors = dev.header.detectors;
            let mut b = Bob::new(dev)?;
            b.configure(&bob_config(link, detectors)?)?;
            b.arm()?;
            b.start()?;
            tracing::info!(device = %b.device().uri, "Bob configured, armed and started");
            Ok(b.into_device())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_abi::regmap::{alice, bob};
    use qkd_abi::{GenParams, RegisterMap};
    use qkd_driver::device::Backend;
    use qkd_driver::MemRegs;

    fn card(role: Role) -> (Device, MemRegs) {
        let p = GenParams::default_for(role);
        let regs = MemRegs::from_map(&RegisterMap::new(p));
        let backend = Backend {
            regs: Box::new(regs.clone()),
            events: None,
        };
        (
            Device::bind("test:card", backend, Some(role)).unwrap(),
            regs,
        )
    }

    fn field(regs: &MemRegs, r: &qkd_abi::Register, name: &str) -> u32 {
        let f = r.fields.iter().find(|f| f.name == name).unwrap();
        f.get(regs.get(r.offset))
    }

    #[test]
    fn alice_registers_follow_the_link_config() {
        let link = LinkConfig::default();
        let (dev, regs) = card(Role::Alice);
        // The card's QRNG passes its health tests.
        let ok = alice::ALICE_STATE
            .fields
            .iter()
            .find(|f| f.name == "ENTROPY_OK")
            .unwrap();
        regs.set(alice::ALICE_STATE.offset, 1 << ok.lsb);
        program(dev, Role::Alice, &link).unwrap();
        // Thresholds: round(p * 2^16) of P(mu1), P(mu1) + P(mu2), P(Z)
        // (spec: the intensity class is the first cumulative threshold the
        // 16-bit random value lies below).
        let [p1, p2, _] = link.source.probabilities;
        let t = |p: f64| (p * 65536.0).round() as u32;
        assert_eq!(field(&regs, &alice::DECOY_THRESH_SIGNAL, "THRESH"), t(p1));
        assert_eq!(
            field(&regs, &alice::DECOY_THRESH_DECOY, "THRESH"),
            t(p1 + p2)
        );
        assert_eq!(
            field(&regs, &alice::DECOY_THRESH_BASIS_Z, "THRESH"),
            t(link.source.basis_z_probability)
        );
        assert_eq!(field(&regs, &alice::RNG_CTRL, "SOURCE"), 0, "QRNG for key");
        assert_eq!(field(&regs, &alice::ALICE_CTRL, "MODE"), alice::mode::RUN);
        assert_eq!(field(&regs, &alice::ALICE_CMD, "START"), 1);
    }

    #[test]
    fn alice_refuses_to_start_on_unhealthy_entropy() {
        let (dev, regs) = card(Role::Alice);
        regs.set(alice::ALICE_STATE.offset, 0);
        let e = program(dev, Role::Alice, &LinkConfig::default()).unwrap_err();
        assert!(e.to_string().contains("ENTROPY_OK"), "{e}");
        assert_eq!(field(&regs, &alice::ALICE_CMD, "START"), 0);
    }

    #[test]
    fn bob_dead_time_is_rounded_up_to_slots() {
        let mut link = LinkConfig::default();
        link.detector.dead_time_ns = 1000.0;
        link.source.pulse_rate_hz = 312.5e6;
        let (dev, regs) = card(Role::Bob);
        program(dev, Role::Bob, &link).unwrap();
        // 1 us at 3.2 ns per slot = 312.5 slots -> 313 (never shorter).
        assert_eq!(field(&regs, &bob::GATE_DEAD_TIME_SLOTS, "SLOTS"), 313);
        assert_eq!(
            field(&regs, &bob::GATE_BASIS_THRESH_Z, "THRESH"),
            (link.source.basis_z_probability * 65536.0).round() as u32
        );
        assert_eq!(field(&regs, &bob::BOB_CTRL, "DETECTOR_ENABLE"), 0b11);
        assert_eq!(field(&regs, &bob::BOB_CMD, "START"), 1);
    }

    #[test]
    fn bob_refuses_to_start_with_a_live_alarm() {
        let (dev, regs) = card(Role::Bob);
        regs.set(bob::BOB_STATE.offset, u32::MAX);
        let e = program(dev, Role::Bob, &LinkConfig::default()).unwrap_err();
        assert!(e.to_string().contains("ALARM_LIVE"), "{e}");
        assert_eq!(field(&regs, &bob::BOB_CMD, "START"), 0);
    }

    #[test]
    fn sim_devices_are_not_programmed() {
        assert!(!needs_programming("sim:alice?link=l1"));
        assert!(!needs_programming("sim+verilator:bob"));
        assert!(needs_programming("xdma:/dev/xdma0"));
        assert!(needs_programming("vfio:0000:03:00.0"));
    }
}

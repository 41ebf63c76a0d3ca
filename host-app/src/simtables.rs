// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `[sim]` and `[attack]` tables of the link TOML: what they may hold
//! (unknown keys are refused) and what they mean for a simulated link.
//! Flags (`--seed`, `--attack`) override them. A hardware device has no
//! use for either table, so a configuration holding one is refused there
//! unless the caller asks to ignore them.

use crate::config::LinkConfig;
#[cfg(feature = "sim")]
use qkd_sim::physics::{AttackConfig, AttackKind};
use serde::Deserialize;

/// `[sim]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTable {
    /// Seed of the simulation.
    pub seed: Option<u64>,
}

/// `[attack]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackTable {
    /// The attack as `--attack` spells it (`intercept-resend:0.5`, ...).
    pub kind: String,
    /// First attacked slot (default 0).
    pub start_slot: Option<u64>,
    /// First slot no longer attacked (default: until the end).
    pub end_slot: Option<u64>,
}

/// Errors of the two tables.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimTableError {
    /// `[sim]` holds an unknown key or a value of the wrong type.
    #[error("link configuration [sim]")]
    Sim(#[source] toml::de::Error),
    /// `[attack]` holds an unknown key or a value of the wrong type.
    #[error("link configuration [attack]")]
    Attack(#[source] toml::de::Error),
    /// `[attack] kind` is not an attack.
    #[error("link configuration [attack] kind = {kind:?}: {reason}")]
    Kind {
        /// The value.
        kind: String,
        /// Why it was refused.
        reason: String,
    },
    /// `[attack] start_slot` is not before `end_slot`.
    #[error("link configuration [attack]: start_slot {start} must be below end_slot {end}")]
    Slots {
        /// `start_slot`.
        start: u64,
        /// `end_slot`.
        end: u64,
    },
    /// A hardware device was given a configuration with simulator tables.
    #[error("the link configuration has a [{table}] table, which only a simulated device (sim:) uses, but the device is {device}; remove the table, or pass --ignore-sim-tables")]
    Hardware {
        /// `sim` or `attack`.
        table: &'static str,
        /// The device URI.
        device: String,
    },
}

/// The `[sim]` table, if any.
pub fn sim_table(cfg: &LinkConfig) -> Result<Option<SimTable>, SimTableError> {
    cfg.sim
        .as_ref()
        .map(|t| toml::Value::Table(t.clone()).try_into())
        .transpose()
        .map_err(SimTableError::Sim)
}

/// The `[attack]` table as an attack configuration, if any.
#[cfg(feature = "sim")]
pub fn attack_table(cfg: &LinkConfig) -> Result<Option<AttackConfig>, SimTableError> {
    let Some(t) = &cfg.attack else {
        return Ok(None);
    };
    let t: AttackTable = toml::Value::Table(t.clone())
        .try_into()
        .map_err(SimTableError::Attack)?;
    let kind: AttackKind = t.kind.parse().map_err(|reason| SimTableError::Kind {
        kind: t.kind.clone(),
        reason,
    })?;
    let a = AttackConfig {
        kind,
        start_slot: t.start_slot.unwrap_or(0),
        end_slot: t.end_slot.unwrap_or(u64::MAX),
    };
    if a.start_slot >= a.end_slot {
        return Err(SimTableError::Slots {
            start: a.start_slot,
            end: a.end_slot,
        });
    }
    Ok(Some(a))
}

/// True for the URI of a simulated device.
pub fn is_simulated(device: &str) -> bool {
    device.starts_with("sim:") || device.starts_with("sim+")
}

/// Checks the tables: both parse, and a hardware device gets neither
/// unless `ignore_on_hardware`.
pub fn check(
    cfg: &LinkConfig,
    device: &str,
    ignore_on_hardware: bool,
) -> Result<(), SimTableError> {
    sim_table(cfg)?;
    #[cfg(feature = "sim")]
    attack_table(cfg)?;
    if !is_simulated(device) && !ignore_on_hardware {
        for (table, present) in [("sim", cfg.sim.is_some()), ("attack", cfg.attack.is_some())] {
            if present {
                return Err(SimTableError::Hardware {
                    table,
                    device: device.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sim")]
    #[test]
    fn attack_table_parses_like_the_flag() {
        let cfg = LinkConfig::from_toml_str(
            "[attack]\nkind = \"intercept-resend:0.5\"\nstart_slot = 10\n",
        )
        .unwrap();
        let a = attack_table(&cfg).unwrap().unwrap();
        assert_eq!(a.kind, "intercept-resend:0.5".parse().unwrap());
        assert_eq!((a.start_slot, a.end_slot), (10, u64::MAX));
    }

    #[cfg(feature = "sim")]
    #[test]
    fn unknown_keys_and_bad_kinds_are_refused() {
        let cfg = LinkConfig::from_toml_str("[attack]\nkind = \"pns\"\nfoo = 1\n").unwrap();
        assert!(matches!(attack_table(&cfg), Err(SimTableError::Attack(_))));
        let cfg = LinkConfig::from_toml_str("[attack]\nkind = \"blinding\"\n").unwrap();
        assert!(matches!(
            attack_table(&cfg),
            Err(SimTableError::Kind { .. })
        ));
        let cfg = LinkConfig::from_toml_str("[sim]\nseed = 3\nspeed = 2\n").unwrap();
        assert!(matches!(sim_table(&cfg), Err(SimTableError::Sim(_))));
        let cfg = LinkConfig::from_toml_str("[sim]\nseed = 3\n").unwrap();
        assert_eq!(sim_table(&cfg).unwrap(), Some(SimTable { seed: Some(3) }));
    }

    #[test]
    fn hardware_refuses_the_tables_unless_told_to_ignore_them() {
        let cfg = LinkConfig::from_toml_str("[attack]\nkind = \"pns\"\n").unwrap();
        assert!(check(&cfg, "sim:alice", false).is_ok());
        assert!(matches!(
            check(&cfg, "xdma:/dev/xdma0", false),
            Err(SimTableError::Hardware {
                table: "attack",
                ..
            })
        ));
        assert!(check(&cfg, "xdma:/dev/xdma0", true).is_ok());
    }
}

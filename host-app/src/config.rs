// SPDX-License-Identifier: MIT OR Apache-2.0
//! Link configuration: the one TOML file type shared by the planner, the
//! simulator and the pipeline (issue 6, item 1).
//!
//! Every key has a default (the values of issue 6, close to the evaluation
//! parameters of Lim et al., PRA 89, 022307, 2014), so an empty file, or no
//! file at all, is a valid configuration. Unknown keys are rejected inside
//! the five sections owned here; the optional top-level `[sim]` and
//! `[attack]` tables are kept raw for the simulator to interpret.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading link configuration {path}")]
    Io {
        /// File that was read.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key or a value of the wrong type.
    #[error("parsing link configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is outside its allowed range.
    #[error("{key} must be {requirement}, got {value}")]
    OutOfRange {
        /// Dotted key, e.g. `detector.efficiency`.
        key: &'static str,
        /// Allowed range in words, e.g. `in (0, 1]`.
        requirement: &'static str,
        /// The offending value, as written.
        value: String,
    },
}

/// `[source]`: Alice's transmitter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// Symbol (pulse) rate, Hz.
    pub pulse_rate_hz: f64,
    /// Mean photon numbers [mu1 signal, mu2 decoy, mu3 vacuum].
    #[serde(deserialize_with = "exactly_three")]
    pub intensities: [f64; 3],
    /// Probabilities of choosing each intensity (sum to 1).
    #[serde(deserialize_with = "exactly_three")]
    pub probabilities: [f64; 3],
    /// Probability of the key basis Z (both Alice and Bob); X gets the rest.
    pub basis_z_probability: f64,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            pulse_rate_hz: 312.5e6,
            intensities: [0.42, 0.23, 0.0002],
            probabilities: [0.31, 0.51, 0.18],
            basis_z_probability: 0.86,
        }
    }
}

/// Which kind of quantum channel `[channel]` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelKind {
    /// Optical fibre: `length_km`, `loss_db_per_km`, `extra_loss_db`.
    #[default]
    Fiber,
    /// A horizontal free-space link: `[channel.free_space]`.
    FreeSpace,
    /// A satellite downlink pass: `[channel.satellite_pass]`.
    SatellitePass,
}

/// `[channel]`: the fibre, or a free-space link (`kind = "free-space"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelConfig {
    /// `"fiber"` (default), `"free-space"` or `"satellite-pass"`.
    pub kind: ChannelKind,
    /// Fibre length, km.
    pub length_km: f64,
    /// Fibre attenuation, dB/km.
    pub loss_db_per_km: f64,
    /// Extra loss (connectors, splices, receiver optics), dB; applies to
    /// every kind.
    pub extra_loss_db: f64,
    /// `[channel.free_space]`, used when `kind = "free-space"`; its sky
    /// and receiver keys (`wavelength_nm`, `rx_aperture_m`,
    /// `sky_radiance_w_m2_sr_nm`, `filter_bandwidth_nm`, `fov_urad`) also
    /// give a satellite pass's background.
    pub free_space: FreeSpaceConfig,
    /// `[channel.satellite_pass]`, used when `kind = "satellite-pass"`.
    pub satellite_pass: SatellitePassConfig,
}

/// `[channel.satellite_pass]`: orbit, pass and telescopes of a downlink;
/// the physics' own parameter type (`qkd_physics::satellite`).
pub use qkd_physics::satellite::SatellitePassParams as SatellitePassConfig;

/// `[channel.free_space]`: telescopes, atmosphere and sky of a free-space
/// link; the physics' own parameter type (`qkd_physics::free_space`).
pub use qkd_physics::free_space::FreeSpaceParams as FreeSpaceConfig;

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            kind: ChannelKind::Fiber,
            length_km: 50.0,
            loss_db_per_km: 0.2,
            extra_loss_db: 0.0,
            free_space: FreeSpaceConfig::default(),
            satellite_pass: SatellitePassConfig::default(),
        }
    }
}

/// `[detector]`: Bob's receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Bob's optics x detector efficiency, (0, 1].
    pub efficiency: f64,
    /// Dark-count probability per gate and detector.
    pub dark_count_per_gate: f64,
    /// Afterpulse probability per avalanche.
    pub afterpulse_probability: f64,
    /// Time constant of the exponential afterpulse delay, ns.
    pub afterpulse_time_constant_ns: f64,
    /// Common dead time after every click, ns.
    pub dead_time_ns: f64,
    /// Misalignment (optical) error probability.
    pub misalignment_error: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            efficiency: 0.10,
            dark_count_per_gate: 6e-7,
            afterpulse_probability: 0.04,
            afterpulse_time_constant_ns: 200.0,
            dead_time_ns: 1000.0,
            misalignment_error: 0.005,
        }
    }
}

/// `[postprocessing]`: finite-key and error-correction parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostprocessingConfig {
    /// Error-correction efficiency f assumed by the planner (leak = f n h(Q)).
    pub ec_efficiency: f64,
    /// Total secrecy parameter of Lim et al. Eq. (1).
    pub eps_sec: f64,
    /// Correctness parameter of Lim et al. Eq. (1).
    pub eps_cor: f64,
    /// n_Z, sifted key-basis bits per block. Written as a number (1e7 or
    /// 10000000); must be a whole number.
    pub block_bits: f64,
    /// Authentication pads per direction each end keeps in reserve and
    /// refills from every new block before key is delivered
    /// (`budget::DEFAULT_RESERVE_PADS` by default; at least
    /// `budget::MAX_PADS_PER_BLOCK`, at most 2^20).
    pub auth_reserve_pads: u64,
    /// Error correction: `"cascade"`, `"ldpc"` or `"auto"` (the faster of
    /// the two for each block at `classical.rtt_ms`,
    /// `crate::latency::resolve`). Both ends of a link must use the same
    /// value (checked in every block's TEST_BITS / ESTIMATE).
    #[serde(deserialize_with = "reconciliation_value")]
    pub reconciliation: Reconciliation,
}

/// `postprocessing.reconciliation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reconciliation {
    /// Cascade (option 8) for every block.
    Cascade,
    /// Blind LDPC for every block.
    Ldpc,
    /// Per block, the one with the shorter estimated time per block
    /// (round trips x RTT + computation) at the block's QBER.
    #[default]
    Auto,
}

impl Reconciliation {
    /// The value as written in the TOML.
    pub fn as_str(self) -> &'static str {
        match self {
            Reconciliation::Cascade => "cascade",
            Reconciliation::Ldpc => "ldpc",
            Reconciliation::Auto => "auto",
        }
    }
}

impl std::fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Reconciliation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cascade" => Ok(Reconciliation::Cascade),
            "ldpc" => Ok(Reconciliation::Ldpc),
            "auto" => Ok(Reconciliation::Auto),
            other => Err(format!(
                "postprocessing.reconciliation must be \"cascade\", \"ldpc\" or \"auto\", got {other:?}"
            )),
        }
    }
}

/// `postprocessing.reconciliation` from its string, the error naming the key.
fn reconciliation_value<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Reconciliation, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// `[classical]`: the classical (post-processing) channel between the ends.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassicalConfig {
    /// Round-trip time of the classical channel, ms. Absent: the
    /// propagation delay of the quantum channel's path
    /// (`crate::latency::rtt_ms`: 2 L n_g / c over fibre, ~0.49 ms at
    /// 50 km).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
}

impl Default for PostprocessingConfig {
    fn default() -> Self {
        PostprocessingConfig {
            ec_efficiency: 1.16,
            eps_sec: 1e-9,
            eps_cor: 1e-15,
            block_bits: 1e7,
            auth_reserve_pads: crate::budget::DEFAULT_RESERVE_PADS,
            reconciliation: Reconciliation::Auto,
        }
    }
}

/// The whole link file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkConfig {
    /// `[source]`.
    pub source: SourceConfig,
    /// `[channel]`.
    pub channel: ChannelConfig,
    /// `[detector]`.
    pub detector: DetectorConfig,
    /// `[postprocessing]`.
    pub postprocessing: PostprocessingConfig,
    /// `[classical]`.
    pub classical: ClassicalConfig,
    /// `[sim]`, owned and validated by the simulator (kept raw here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim: Option<toml::Table>,
    /// `[attack]`, owned and validated by the simulator (kept raw here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<toml::Table>,
}

/// Largest integer exactly representable in f64 (bounds `block_bits`).
const F64_EXACT_MAX: f64 = 9_007_199_254_740_992.0;

fn need(
    ok: bool,
    key: &'static str,
    requirement: &'static str,
    value: impl std::fmt::Display,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            key,
            requirement,
            value: value.to_string(),
        })
    }
}

/// A list of exactly three numbers (serde's array impl ignores extras).
fn exactly_three<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 3], D::Error> {
    let v: Vec<f64> = Deserialize::deserialize(d)?;
    <[f64; 3]>::try_from(v.as_slice()).map_err(|_| {
        serde::de::Error::invalid_length(v.len(), &"exactly 3 numbers (one per intensity)")
    })
}

fn list(v: &[f64; 3]) -> String {
    format!("[{}, {}, {}]", v[0], v[1], v[2])
}

impl LinkConfig {
    /// Parse and validate TOML text.
    pub fn from_toml_str(text: &str) -> Result<LinkConfig, ConfigError> {
        let cfg: LinkConfig = toml::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read, parse and validate a file.
    pub fn load(path: &Path) -> Result<LinkConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        LinkConfig::from_toml_str(&text)
    }

    /// The defaults as TOML text (what `LinkConfig::default()` holds).
    pub fn default_toml() -> String {
        toml::to_string(&LinkConfig::default()).unwrap_or_default()
    }

    /// `postprocessing.block_bits` as an integer (validated whole and >= 1).
    pub fn block_bits(&self) -> u64 {
        self.postprocessing.block_bits as u64
    }

    /// Check every range; the error names the first offending key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.source;
        need(
            s.pulse_rate_hz.is_finite() && s.pulse_rate_hz > 0.0,
            "source.pulse_rate_hz",
            "a finite number > 0",
            s.pulse_rate_hz,
        )?;
        let [m1, m2, m3] = s.intensities;
        need(
            s.intensities.iter().all(|m| m.is_finite() && *m >= 0.0),
            "source.intensities",
            "finite and >= 0",
            list(&s.intensities),
        )?;
        // Lim et al. (2014), conditions under Eq. (3): mu1 > mu2 + mu3, mu2 > mu3 >= 0.
        need(
            m2 > m3 && m1 > m2 + m3,
            "source.intensities",
            "ordered with mu1 > mu2 + mu3 and mu2 > mu3",
            list(&s.intensities),
        )?;
        need(
            s.probabilities
                .iter()
                .all(|p| p.is_finite() && *p > 0.0 && *p < 1.0),
            "source.probabilities",
            "each in (0, 1)",
            list(&s.probabilities),
        )?;
        need(
            (s.probabilities.iter().sum::<f64>() - 1.0).abs() <= 1e-9,
            "source.probabilities",
            "summing to 1",
            list(&s.probabilities),
        )?;
        need(
            s.basis_z_probability > 0.0 && s.basis_z_probability < 1.0,
            "source.basis_z_probability",
            "in (0, 1)",
            s.basis_z_probability,
        )?;
        let c = &self.channel;
        need(
            c.length_km.is_finite() && c.length_km >= 0.0,
            "channel.length_km",
            "finite and >= 0",
            c.length_km,
        )?;
        need(
            c.loss_db_per_km.is_finite() && c.loss_db_per_km >= 0.0,
            "channel.loss_db_per_km",
            "finite and >= 0",
            c.loss_db_per_km,
        )?;
        need(
            c.extra_loss_db.is_finite() && c.extra_loss_db >= 0.0,
            "channel.extra_loss_db",
            "finite and >= 0",
            c.extra_loss_db,
        )?;
        let f = &c.free_space;
        for (key, v, positive) in [
            ("channel.free_space.range_m", f.range_m, false),
            ("channel.free_space.wavelength_nm", f.wavelength_nm, true),
            ("channel.free_space.tx_aperture_m", f.tx_aperture_m, false),
            ("channel.free_space.rx_aperture_m", f.rx_aperture_m, true),
            (
                "channel.free_space.divergence_urad",
                f.divergence_urad,
                false,
            ),
            ("channel.free_space.visibility_km", f.visibility_km, true),
            (
                "channel.free_space.scintillation_index",
                f.scintillation_index,
                false,
            ),
            (
                "channel.free_space.correlation_time_ms",
                f.correlation_time_ms,
                true,
            ),
            (
                "channel.free_space.pointing_jitter_urad",
                f.pointing_jitter_urad,
                false,
            ),
            (
                "channel.free_space.sky_radiance_w_m2_sr_nm",
                f.sky_radiance_w_m2_sr_nm,
                false,
            ),
            (
                "channel.free_space.filter_bandwidth_nm",
                f.filter_bandwidth_nm,
                false,
            ),
            ("channel.free_space.fov_urad", f.fov_urad, false),
        ] {
            need(
                v.is_finite() && v >= 0.0 && (!positive || v > 0.0),
                key,
                if positive {
                    "finite and > 0"
                } else {
                    "finite and >= 0"
                },
                v,
            )?;
        }
        need(
            f.tx_aperture_m + f.divergence_urad * 1e-6 * f.range_m > 0.0,
            "channel.free_space.tx_aperture_m",
            "> 0 when the divergence is 0",
            f.tx_aperture_m,
        )?;
        let sp = &c.satellite_pass;
        need(
            sp.altitude_km > 0.0 && sp.altitude_km < 1e5,
            "channel.satellite_pass.altitude_km",
            "in (0, 1e5)",
            sp.altitude_km,
        )?;
        need(
            sp.max_elevation_deg > 0.0 && sp.max_elevation_deg <= 90.0,
            "channel.satellite_pass.max_elevation_deg",
            "in (0, 90]",
            sp.max_elevation_deg,
        )?;
        need(
            sp.min_elevation_deg > 0.0 && sp.min_elevation_deg < sp.max_elevation_deg,
            "channel.satellite_pass.min_elevation_deg",
            "in (0, max_elevation_deg)",
            sp.min_elevation_deg,
        )?;
        for (key, v) in [
            ("channel.satellite_pass.rx_aperture_m", sp.rx_aperture_m),
            ("channel.satellite_pass.divergence_urad", sp.divergence_urad),
            ("channel.satellite_pass.step_s", sp.step_s),
        ] {
            need(v.is_finite() && v > 0.0, key, "finite and > 0", v)?;
        }
        for (key, v) in [
            ("channel.satellite_pass.tx_aperture_m", sp.tx_aperture_m),
            (
                "channel.satellite_pass.pointing_jitter_urad",
                sp.pointing_jitter_urad,
            ),
        ] {
            need(v.is_finite() && v >= 0.0, key, "finite and >= 0", v)?;
        }
        need(
            sp.zenith_transmittance > 0.0 && sp.zenith_transmittance <= 1.0,
            "channel.satellite_pass.zenith_transmittance",
            "in (0, 1]",
            sp.zenith_transmittance,
        )?;
        let d = &self.detector;
        need(
            d.efficiency > 0.0 && d.efficiency <= 1.0,
            "detector.efficiency",
            "in (0, 1]",
            d.efficiency,
        )?;
        need(
            (0.0..0.5).contains(&d.dark_count_per_gate),
            "detector.dark_count_per_gate",
            "in [0, 0.5)",
            d.dark_count_per_gate,
        )?;
        need(
            (0.0..1.0).contains(&d.afterpulse_probability),
            "detector.afterpulse_probability",
            "in [0, 1)",
            d.afterpulse_probability,
        )?;
        need(
            d.afterpulse_time_constant_ns.is_finite() && d.afterpulse_time_constant_ns >= 0.0,
            "detector.afterpulse_time_constant_ns",
            "finite and >= 0",
            d.afterpulse_time_constant_ns,
        )?;
        need(
            d.dead_time_ns.is_finite() && d.dead_time_ns >= 0.0,
            "detector.dead_time_ns",
            "finite and >= 0",
            d.dead_time_ns,
        )?;
        need(
            (0.0..=0.5).contains(&d.misalignment_error),
            "detector.misalignment_error",
            "in [0, 0.5]",
            d.misalignment_error,
        )?;
        let p = &self.postprocessing;
        need(
            p.ec_efficiency.is_finite() && p.ec_efficiency >= 1.0,
            "postprocessing.ec_efficiency",
            "finite and >= 1",
            p.ec_efficiency,
        )?;
        need(
            p.eps_sec > 0.0 && p.eps_sec < 1.0,
            "postprocessing.eps_sec",
            "in (0, 1)",
            p.eps_sec,
        )?;
        need(
            p.eps_cor > 0.0 && p.eps_cor < 1.0,
            "postprocessing.eps_cor",
            "in (0, 1)",
            p.eps_cor,
        )?;
        need(
            (crate::budget::MAX_PADS_PER_BLOCK..=1 << 20).contains(&p.auth_reserve_pads),
            "postprocessing.auth_reserve_pads",
            "in [8, 2^20]",
            p.auth_reserve_pads as f64,
        )?;
        need(
            p.block_bits >= 1.0 && p.block_bits <= F64_EXACT_MAX && p.block_bits.fract() == 0.0,
            "postprocessing.block_bits",
            "a whole number in [1, 2^53]",
            p.block_bits,
        )?;
        if let Some(rtt) = self.classical.rtt_ms {
            need(
                rtt.is_finite() && (0.0..=1e6).contains(&rtt),
                "classical.rtt_ms",
                "in [0, 1e6]",
                rtt,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_issue_defaults() {
        let c = LinkConfig::from_toml_str("").unwrap();
        assert_eq!(c, LinkConfig::default());
        assert_eq!(c.source.pulse_rate_hz, 312.5e6);
        assert_eq!(c.source.intensities, [0.42, 0.23, 0.0002]);
        assert_eq!(c.source.probabilities, [0.31, 0.51, 0.18]);
        assert_eq!(c.source.basis_z_probability, 0.86);
        assert_eq!(c.channel.length_km, 50.0);
        assert_eq!(c.channel.loss_db_per_km, 0.2);
        assert_eq!(c.channel.extra_loss_db, 0.0);
        assert_eq!(c.detector.efficiency, 0.10);
        assert_eq!(c.detector.dark_count_per_gate, 6e-7);
        assert_eq!(c.detector.afterpulse_probability, 0.04);
        assert_eq!(c.detector.afterpulse_time_constant_ns, 200.0);
        assert_eq!(c.detector.dead_time_ns, 1000.0);
        assert_eq!(c.detector.misalignment_error, 0.005);
        assert_eq!(c.postprocessing.ec_efficiency, 1.16);
        assert_eq!(c.postprocessing.eps_sec, 1e-9);
        assert_eq!(c.postprocessing.eps_cor, 1e-15);
        assert_eq!(c.block_bits(), 10_000_000);
    }

    #[test]
    fn issue_example_file_parses() {
        let text = r#"
[source]
pulse_rate_hz = 312.5e6
intensities = [0.42, 0.23, 0.0002]      # mu1 (signal), mu2 (decoy), mu3 (vacuum)
probabilities = [0.31, 0.51, 0.18]      # of choosing each intensity
basis_z_probability = 0.86              # key basis Z, test basis X
[channel]
length_km = 50.0
loss_db_per_km = 0.2
extra_loss_db = 0.0
[detector]
efficiency = 0.10                       # Bob's optics x detector
dark_count_per_gate = 6e-7
afterpulse_probability = 0.04
dead_time_ns = 1000.0
misalignment_error = 0.005
[postprocessing]
ec_efficiency = 1.16                    # used by the planner; the pipeline uses what EC really leaks
eps_sec = 1e-9
eps_cor = 1e-15
block_bits = 1e7                        # n_Z, sifted key-basis bits per block
"#;
        assert_eq!(
            LinkConfig::from_toml_str(text).unwrap(),
            LinkConfig::default()
        );
        // Integers are accepted for float keys.
        let c = LinkConfig::from_toml_str("[postprocessing]\nblock_bits = 100000\n").unwrap();
        assert_eq!(c.block_bits(), 100_000);
    }

    #[test]
    fn out_of_range_names_the_key() {
        let e = LinkConfig::from_toml_str("[detector]\nefficiency = 1.5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "detector.efficiency must be in (0, 1], got 1.5"
        );
        let cases = [
            ("[source]\npulse_rate_hz = 0", "source.pulse_rate_hz"),
            (
                "[source]\nintensities = [0.2, 0.3, 0.0]",
                "source.intensities",
            ),
            (
                "[source]\nintensities = [0.3, 0.2, 0.15]",
                "source.intensities",
            ),
            (
                "[source]\nprobabilities = [0.5, 0.5, 0.1]",
                "source.probabilities",
            ),
            (
                "[source]\nprobabilities = [1.0, 0.0, 0.0]",
                "source.probabilities",
            ),
            (
                "[source]\nbasis_z_probability = 1.0",
                "source.basis_z_probability",
            ),
            ("[channel]\nlength_km = -1", "channel.length_km"),
            ("[channel]\nloss_db_per_km = -0.2", "channel.loss_db_per_km"),
            ("[channel]\nextra_loss_db = -3", "channel.extra_loss_db"),
            (
                "[detector]\ndark_count_per_gate = 0.6",
                "detector.dark_count_per_gate",
            ),
            (
                "[detector]\nafterpulse_probability = 1.0",
                "detector.afterpulse_probability",
            ),
            ("[detector]\ndead_time_ns = -1", "detector.dead_time_ns"),
            (
                "[detector]\nafterpulse_time_constant_ns = -1",
                "detector.afterpulse_time_constant_ns",
            ),
            (
                "[detector]\nmisalignment_error = 0.7",
                "detector.misalignment_error",
            ),
            (
                "[postprocessing]\nec_efficiency = 0.9",
                "postprocessing.ec_efficiency",
            ),
            ("[postprocessing]\neps_sec = 0", "postprocessing.eps_sec"),
            (
                "[postprocessing]\nauth_reserve_pads = 2",
                "postprocessing.auth_reserve_pads",
            ),
            ("[postprocessing]\neps_cor = 1", "postprocessing.eps_cor"),
            (
                "[postprocessing]\nblock_bits = 1.5",
                "postprocessing.block_bits",
            ),
            (
                "[postprocessing]\nblock_bits = 0",
                "postprocessing.block_bits",
            ),
            ("[classical]\nrtt_ms = -1", "classical.rtt_ms"),
        ];
        for (text, key) in cases {
            match LinkConfig::from_toml_str(text) {
                Err(ConfigError::OutOfRange { key: k, .. }) => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: expected OutOfRange({key}), got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        for (text, name) in [
            ("[detector]\nefficency = 0.1\n", "efficency"),
            ("[source]\nrate = 1\n", "rate"),
            ("[postprocessing]\nblock = 1\n", "block"),
            ("[detectr]\nefficiency = 0.1\n", "detectr"),
            ("top = 1\n", "top"),
        ] {
            let e = LinkConfig::from_toml_str(text).unwrap_err();
            assert!(matches!(e, ConfigError::Parse(_)), "{text}");
            assert!(e.to_string().contains(name), "{text}: {e}");
        }
        // Wrong type and wrong list length are parse errors too.
        assert!(LinkConfig::from_toml_str("[source]\nintensities = [0.4, 0.2]\n").is_err());
        assert!(LinkConfig::from_toml_str("[channel]\nlength_km = \"far\"\n").is_err());
    }

    #[test]
    fn three_element_arrays_refuse_extra_elements() {
        for key in ["intensities", "probabilities"] {
            let e = LinkConfig::from_toml_str(&format!("[source]\n{key} = [0.4, 0.3, 0.2, 0.1]\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("exactly 3 numbers") && e.contains(key), "{e}");
        }
    }

    #[test]
    fn channel_kinds_parse_and_free_space_ranges_are_checked() {
        let c = LinkConfig::from_toml_str(
            "[channel]\nkind = \"free-space\"\n[channel.free_space]\nrange_m = 1000\n",
        )
        .unwrap();
        assert_eq!(c.channel.kind, ChannelKind::FreeSpace);
        assert_eq!(c.channel.free_space.range_m, 1000.0);
        assert_eq!(
            LinkConfig::from_toml_str("").unwrap().channel.kind,
            ChannelKind::Fiber
        );
        let sat = LinkConfig::from_toml_str(
            "[channel]\nkind = \"satellite-pass\"\n[channel.satellite_pass]\naltitude_km = 600\n",
        )
        .unwrap();
        assert_eq!(sat.channel.kind, ChannelKind::SatellitePass);
        assert_eq!(sat.channel.satellite_pass.altitude_km, 600.0);
        match LinkConfig::from_toml_str("[channel.satellite_pass]\nmin_elevation_deg = 60\n") {
            Err(ConfigError::OutOfRange { key, .. }) => {
                assert_eq!(key, "channel.satellite_pass.min_elevation_deg")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            LinkConfig::from_toml_str("[channel]\nkind = \"wormhole\"\n"),
            Err(ConfigError::Parse(_))
        ));
        match LinkConfig::from_toml_str("[channel.free_space]\nvisibility_km = 0\n") {
            Err(ConfigError::OutOfRange { key, .. }) => {
                assert_eq!(key, "channel.free_space.visibility_km")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sim_and_attack_tables_are_kept_raw() {
        let c =
            LinkConfig::from_toml_str("[sim]\nseed = 3\n[attack]\nkind = \"blinding\"\n").unwrap();
        assert_eq!(c.sim.unwrap()["seed"].as_integer(), Some(3));
        assert_eq!(c.attack.unwrap()["kind"].as_str(), Some("blinding"));
    }

    #[test]
    fn reconciliation_values() {
        for (v, want) in [
            ("cascade", Reconciliation::Cascade),
            ("ldpc", Reconciliation::Ldpc),
            ("auto", Reconciliation::Auto),
        ] {
            let c =
                LinkConfig::from_toml_str(&format!("[postprocessing]\nreconciliation = \"{v}\"\n"))
                    .unwrap();
            assert_eq!(c.postprocessing.reconciliation, want);
        }
        assert_eq!(
            LinkConfig::default().postprocessing.reconciliation,
            Reconciliation::Auto
        );
        for bad in ["\"turbo\"", "\"Cascade\"", "1"] {
            let text = format!("[postprocessing]\nreconciliation = {bad}\n");
            let e = LinkConfig::from_toml_str(&text).unwrap_err();
            assert!(matches!(e, ConfigError::Parse(_)), "{text}");
            assert!(e.to_string().contains("reconciliation"), "{text}: {e}");
        }
        let c = LinkConfig::from_toml_str("[classical]\nrtt_ms = 40\n").unwrap();
        assert_eq!(c.classical.rtt_ms, Some(40.0));
        assert!(LinkConfig::from_toml_str("[classical]\nrtt = 40\n").is_err());
    }

    #[test]
    fn default_toml_round_trips() {
        let text = LinkConfig::default_toml();
        assert_eq!(
            LinkConfig::from_toml_str(&text).unwrap(),
            LinkConfig::default()
        );
    }
}

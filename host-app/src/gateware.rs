// SPDX-License-Identifier: MIT OR Apache-2.0
//! The gateware a `sim+verilator:` run executes: the Verilog of `qkd_alice`
//! and `qkd_bob` generated from this build's rust-hdl source (qkd-gateware,
//! the same generator as `qkd-gateware generate`, run by `build.rs` at
//! build time and embedded here), or read from a directory the user names,
//! and its identity (SHA-256 of each file) for the summary.
//!
//! The tops are the default generation (`GenParams::default_for`: Alice 4
//! lanes; Bob 4 lanes, 8 TDC samples per slot, 2 detectors), the
//! parameters the exact link's physics and the co-simulation tests use.

use qkd_sim::verilator::ExactVerilog;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Where the Verilog came from and what it is.
#[derive(Debug, Clone, Serialize)]
pub struct GatewareIdentity {
    /// `generated` (from this build's rust-hdl source) or the directory read.
    pub source: String,
    /// SHA-256 of `qkd_alice.v`, hex.
    pub alice_sha256: String,
    /// SHA-256 of `qkd_bob.v`, hex.
    pub bob_sha256: String,
}

/// Errors getting the gateware.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewareError {
    /// This qkd-host was built without the generator.
    #[error(
        "this qkd-host was built without the `gateware` feature: give the Verilog with \
         sim+verilator:?verilog_dir=DIR (`qkd-gateware generate --role both --out DIR`) or \
         rebuild with default features"
    )]
    NoGenerator,
    /// The named directory does not hold both tops.
    #[error(transparent)]
    Read(#[from] qkd_sim::verilator::ExactError),
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Both tops as generated from this build's rust-hdl source (by `build.rs`).
#[cfg(feature = "gateware")]
pub fn generate() -> Result<(ExactVerilog, GatewareIdentity), GatewareError> {
    let v = ExactVerilog {
        alice: include_str!(concat!(env!("OUT_DIR"), "/qkd_alice.v")).to_string(),
        bob: include_str!(concat!(env!("OUT_DIR"), "/qkd_bob.v")).to_string(),
    };
    let id = identity(&v, "generated".into());
    Ok((v, id))
}

/// Without the `gateware` feature there is no generator in this build.
#[cfg(not(feature = "gateware"))]
pub fn generate() -> Result<(ExactVerilog, GatewareIdentity), GatewareError> {
    Err(GatewareError::NoGenerator)
}

/// Read both tops from `dir` (`qkd_alice.v` and `qkd_bob.v`, or the
/// `alice/` and `bob/` layout of `qkd-gateware generate --role both`).
pub fn from_dir(dir: &Path) -> Result<(ExactVerilog, GatewareIdentity), GatewareError> {
    let v = ExactVerilog::from_dir(dir)?;
    let id = identity(&v, dir.display().to_string());
    Ok((v, id))
}

fn identity(v: &ExactVerilog, source: String) -> GatewareIdentity {
    GatewareIdentity {
        source,
        alice_sha256: sha256_hex(&v.alice),
        bob_sha256: sha256_hex(&v.bob),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_fips_180_2_example() {
        // FIPS 180-2, Appendix B.1.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_directory_without_the_tops_names_what_is_missing() {
        let d = std::env::temp_dir().join(format!("qkd-gw-empty-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let e = from_dir(&d).unwrap_err().to_string();
        assert!(e.contains("qkd_alice.v"), "{e}");
        std::fs::remove_dir_all(&d).ok();
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The device backends this build opens beside the driver's own (`xdma:`,
//! `vfio:`): with the `sim` feature the simulator's `sim:` and
//! `sim+verilator:`; without it (a hardware-only build) those schemes, and
//! every command that needs the simulator, are refused with
//! [`NoSimulator`] (exit code 2).

/// Something that needs the simulator, asked of a build without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this qkd-host was built without the `sim` feature: {what} needs the simulator; \
     rebuild with default features (cargo build --release -p qkd-host)"
)]
pub struct NoSimulator {
    /// What was asked (`qkd-host run`, `device sim:alice`).
    pub what: String,
}

/// Succeeds when this build has the simulator; otherwise a [`NoSimulator`]
/// naming `what`.
pub fn require_simulator(what: &str) -> Result<(), NoSimulator> {
    if cfg!(feature = "sim") {
        Ok(())
    } else {
        Err(NoSimulator { what: what.into() })
    }
}

/// The backend provider of this build: the simulator's.
#[cfg(feature = "sim")]
pub type Provider = qkd_sim::physics::device::SimProvider;

/// The backend provider of a hardware-only build: it names the simulator's
/// schemes only to refuse them with [`NoSimulator`].
#[cfg(not(feature = "sim"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Provider;

#[cfg(not(feature = "sim"))]
impl Provider {
    /// The provider.
    pub fn new() -> Provider {
        Provider
    }
}

#[cfg(not(feature = "sim"))]
impl qkd_driver::BackendProvider for Provider {
    fn schemes(&self) -> Vec<String> {
        vec!["sim".into(), "sim+verilator".into()]
    }

    fn open_backend(&self, uri: &qkd_driver::DeviceUri) -> qkd_driver::Result<qkd_driver::Backend> {
        Err(qkd_driver::Error::Backend {
            scheme: uri.scheme.clone(),
            source: Box::new(NoSimulator {
                what: format!("device {}", uri.uri),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_feature() {
        let e = NoSimulator {
            what: "qkd-host run".into(),
        };
        assert!(e.to_string().contains("built without the `sim` feature"));
        assert_eq!(require_simulator("x").is_ok(), cfg!(feature = "sim"));
    }

    #[cfg(not(feature = "sim"))]
    #[test]
    fn simulated_devices_are_refused_by_name() {
        let e = qkd_driver::open_with("sim:alice", &Provider::new(), None).unwrap_err();
        let msg = anyhow::Error::new(e);
        assert!(msg.chain().any(|c| c.is::<NoSimulator>()), "{msg:#}");
        assert!(format!("{msg:#}").contains("without the `sim` feature"));
    }
}

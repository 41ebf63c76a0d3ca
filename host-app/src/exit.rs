// SPDX-License-Identifier: MIT OR Apache-2.0
//! Process exit codes of `qkd-host`, the mapping from the crate's error
//! types to them, and the error report printed on failure: the error and
//! each of its causes once, then a hint where one helps (permissions, a
//! kernel module not loaded, a card not bound to vfio-pci).
//!
//! | code | meaning                                                   |
//! |------|-----------------------------------------------------------|
//! | 0    | success                                                   |
//! | 1    | internal error (a bug, or an output that cannot be written)|
//! | 2    | usage: unknown flag, bad or out-of-range flag value       |
//! | 3    | configuration: link TOML, role file, PSK file, TLS files  |
//! | 4    | device: open, bind, registers, event stream               |
//! | 5    | link or authentication: peer gone, tag mismatch, link down|
//! | 6    | key store or state directory                              |
//! | 7    | paused for lack of authentication key (pads)              |

use std::fmt::Write as _;
use std::io;

/// An exit code of `qkd-host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// Internal error: a bug, or output that could not be written.
    Internal = 1,
    /// Usage: unknown flag, bad or out-of-range flag value.
    Usage = 2,
    /// Configuration: link TOML, role file, PSK file, TLS files.
    Config = 3,
    /// Device: open, bind, registers, event stream.
    Device = 4,
    /// Link or authentication: peer gone, tag mismatch, link down.
    Link = 5,
    /// Key store or state directory.
    KeyStore = 6,
    /// Paused for lack of authentication key (pads).
    Paused = 7,
}

impl ExitCode {
    /// Every code, in numeric order.
    pub const ALL: [ExitCode; 8] = [
        ExitCode::Ok,
        ExitCode::Internal,
        ExitCode::Usage,
        ExitCode::Config,
        ExitCode::Device,
        ExitCode::Link,
        ExitCode::KeyStore,
        ExitCode::Paused,
    ];

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// One-line meaning, as in the table.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitCode::Ok => "success",
            ExitCode::Internal => "internal error (a bug, or output that cannot be written)",
            ExitCode::Usage => "usage: unknown flag, bad or out-of-range flag value",
            ExitCode::Config => "configuration: link TOML, role file, PSK file, TLS files",
            ExitCode::Device => "device: open, bind, registers, event stream",
            ExitCode::Link => "link or authentication: peer gone, tag mismatch, link down",
            ExitCode::KeyStore => "key store or state directory",
            ExitCode::Paused => "paused for lack of authentication key (pads)",
        }
    }
}

/// The exit-code table shown by `--help` (and in the README).
pub const TABLE: &str = "Exit codes:
  0  success
  1  internal error (a bug, or output that cannot be written)
  2  usage: unknown flag, bad or out-of-range flag value
  3  configuration: link TOML, role file, PSK file, TLS files
  4  device: open, bind, registers, event stream
  5  link or authentication: peer gone, tag mismatch, link down
  6  key store or state directory
  7  paused for lack of authentication key (pads)";

impl From<ExitCode> for std::process::ExitCode {
    fn from(c: ExitCode) -> Self {
        std::process::ExitCode::from(c.code())
    }
}

/// An error tagged with its exit code where it is raised (flag checks,
/// `status` answers); other errors get theirs from [`classify`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Coded {
    /// The exit code.
    pub code: ExitCode,
    /// What went wrong.
    pub message: String,
    /// Cause.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// An error with an explicit exit code and an optional cause.
pub fn coded(
    code: ExitCode,
    message: impl Into<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
) -> anyhow::Error {
    Coded {
        code,
        message: message.into(),
        source,
    }
    .into()
}

/// A usage error (exit code 2), e.g. a flag value out of its range.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    coded(ExitCode::Usage, message, None)
}

/// A configuration error (exit code 3).
pub fn config(message: impl Into<String>) -> anyhow::Error {
    coded(ExitCode::Config, message, None)
}

/// Exit code of a role error.
pub fn role_code(e: &crate::roles::RoleError) -> ExitCode {
    use crate::roles::RoleError as E;
    match e {
        E::Config(_) | E::Psk(_) => ExitCode::Config,
        E::State(_) | E::Store(_) | E::StoreState(_) => ExitCode::KeyStore,
        E::Driver(_) => ExitCode::Device,
        E::Kme(k) => kme_code(k),
        E::Auth(_) | E::Net { .. } | E::Inconsistent(_) | E::NoProgress { .. } => ExitCode::Link,
        E::Paused { .. } => ExitCode::Paused,
    }
}

/// Exit code of a run error.
#[cfg(feature = "sim")]
pub fn run_code(e: &crate::run::RunError) -> ExitCode {
    use crate::run::RunError as E;
    match e {
        E::Sim(_) => ExitCode::Config,
        E::Driver(_) | E::Sift(_) | E::Gateware(_) => ExitCode::Device,
        E::Auth(_) => ExitCode::Link,
        E::KeyOutput(_) => ExitCode::KeyStore,
        E::Thread(_) => ExitCode::Internal,
    }
}

fn kme_code(e: &qkd_kme::KmeError) -> ExitCode {
    match e {
        qkd_kme::KmeError::Store(_) => ExitCode::KeyStore,
        qkd_kme::KmeError::Runtime(_) => ExitCode::Internal,
        _ => ExitCode::Config,
    }
}

/// The exit code of an error: the outermost error in its chain that this
/// crate knows decides; [`ExitCode::Internal`] when none does.
pub fn classify(err: &anyhow::Error) -> ExitCode {
    // A hardware-only build asked for the simulator, whatever wraps it.
    if err.chain().any(|c| c.is::<crate::devices::NoSimulator>()) {
        return ExitCode::Usage;
    }
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if cause.is::<clap::Error>() {
            return ExitCode::Usage;
        }
        if cause.is::<crate::config::ConfigError>() {
            return ExitCode::Config;
        }
        if let Some(e) = cause.downcast_ref::<crate::roles::RoleError>() {
            return role_code(e);
        }
        #[cfg(feature = "sim")]
        if let Some(e) = cause.downcast_ref::<crate::run::RunError>() {
            return run_code(e);
        }
        if cause.is::<qkd_driver::Error>() {
            return ExitCode::Device;
        }
        if let Some(e) = cause.downcast_ref::<qkd_driver::cli::CliError>() {
            return match e {
                qkd_driver::cli::CliError::Driver(_) => ExitCode::Device,
                _ => ExitCode::Internal,
            };
        }
        if cause.is::<qkd_kme::StoreError>() {
            return ExitCode::KeyStore;
        }
        if let Some(e) = cause.downcast_ref::<qkd_kme::KmeError>() {
            return kme_code(e);
        }
        if cause.is::<crate::simtables::SimTableError>()
            || cause.is::<crate::rolefile::RoleFileError>()
        {
            return ExitCode::Config;
        }
        #[cfg(feature = "sim")]
        if cause.is::<crate::network::topology::TopologyError>() {
            return ExitCode::Config;
        }
        if cause.is::<crate::history::HistoryError>() {
            return ExitCode::KeyStore;
        }
        if cause.is::<qkd_kme::certs::CertError>() {
            return ExitCode::Config;
        }
        if cause.is::<qkd_keyproc::keyfile::KeyFileError>() {
            return ExitCode::Config;
        }
        if cause.is::<qkd_keyproc::auth::AuthError>() {
            return ExitCode::Link;
        }
    }
    ExitCode::Internal
}

/// The message printed on failure: `qkd-host: ` then the error and its
/// causes joined with `: `, each once (a cause whose text the message
/// already holds is not repeated), then `hint:` lines. Never a backtrace.
pub fn report(err: &anyhow::Error) -> String {
    let mut msg = String::from("qkd-host: ");
    let mut first = true;
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || msg.contains(&text) {
            continue;
        }
        if !first {
            msg.push_str(": ");
        }
        msg.push_str(&text);
        first = false;
    }
    for h in hints(err) {
        let _ = write!(msg, "\nhint: {h}");
    }
    msg
}

/// Hints for OS errors on device files.
fn hints(err: &anyhow::Error) -> Vec<String> {
    let mut out = Vec::new();
    for cause in err.chain() {
        let Some(e) = cause.downcast_ref::<qkd_driver::Error>() else {
            continue;
        };
        let (path, source) = match e {
            qkd_driver::Error::Open { path, source }
            | qkd_driver::Error::Sysfs { path, source } => (path, source),
            _ => continue,
        };
        let p = path.to_string_lossy();
        let h = match (source.kind(), p.as_ref()) {
            (io::ErrorKind::PermissionDenied, _) => format!(
                "no permission on {p}: run as root, or give the service user access (a udev rule or the file's group)"
            ),
            (io::ErrorKind::NotFound, p) if p.starts_with("/dev/xdma") => {
                "the xdma kernel module is not loaded or did not find the card: check `lsmod | grep xdma` and `lspci -d 10ee:`".to_string()
            }
            (io::ErrorKind::NotFound, p) if p.starts_with("/dev/vfio") || p.starts_with("/sys/") => {
                "the card is not bound to vfio-pci, or the IOMMU is off: check `lspci -k`, bind it (driverctl set-override ADDRESS vfio-pci) and boot with intel_iommu=on / amd_iommu=on".to_string()
            }
            _ => continue,
        };
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_each_cause_once_and_hints_at_the_module() {
        let e = qkd_driver::Error::Open {
            path: "/dev/xdma0_user".into(),
            source: io::Error::from_raw_os_error(2),
        };
        let e = anyhow::Error::new(e).context("opening the device");
        let r = report(&e);
        assert!(
            r.starts_with(
                "qkd-host: opening the device: opening /dev/xdma0_user: No such file or directory (os error 2)\nhint: "
            ),
            "{r}"
        );
        assert!(r.contains("xdma kernel module"), "{r}");
        assert_eq!(classify(&e), ExitCode::Device);
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let toml_err = toml::from_str::<crate::config::LinkConfig>("[source\n").unwrap_err();
        let text = toml_err.to_string();
        let e = anyhow::Error::new(crate::config::ConfigError::Parse(toml_err));
        let r = report(&e);
        assert_eq!(r.matches(text.trim()).count(), 1, "{r}");
        assert_eq!(classify(&e), ExitCode::Config);
    }

    #[test]
    fn permission_denied_hints_at_access() {
        let e = anyhow::Error::new(qkd_driver::Error::Open {
            path: "/dev/vfio/7".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        });
        assert!(report(&e).contains("hint: no permission on /dev/vfio/7"));
    }

    #[test]
    fn codes_are_distinct_and_the_table_lists_them() {
        let t = TABLE;
        for c in ExitCode::ALL {
            assert!(t.contains(&format!("  {}  {}", c.code(), c.meaning())));
        }
        let mut codes: Vec<u8> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        codes.dedup();
        assert_eq!(codes, (0..8).collect::<Vec<u8>>());
    }
}

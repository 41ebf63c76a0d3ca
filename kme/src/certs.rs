//! Test PKI for the KME's mutual TLS (X.509 v3, RFC 5280) made with rcgen:
//! one CA, KME server certificates (EKU serverAuth, SAN localhost and
//! 127.0.0.1) and SAE client certificates (EKU clientAuth, CN = SAE ID).
//! ECDSA P-256 keys. For tests and lab setups only; `kme/README.md` gives
//! the equivalent openssl commands.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// Errors while making the PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// rcgen refused a parameter or failed to sign.
    #[error("generating certificate for {name:?}")]
    Generate {
        /// Subject name.
        name: String,
        /// Cause.
        #[source]
        source: rcgen::Error,
    },
    /// Writing a file failed.
    #[error("writing {path}")]
    Write {
        /// File.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A name cannot be used as a file name.
    #[error("name {0:?} is not usable as a file name")]
    BadName(String),
    /// A file of the PKI exists and overwriting was not asked for.
    #[error("{0} exists; refusing to overwrite it (remove it, or pass --force)")]
    Exists(PathBuf),
    /// A certificate file could not be read or is not an X.509 certificate.
    #[error("reading the certificate {path}: {reason}")]
    Read {
        /// File.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// When the first certificate of the PEM file `path` stops being valid:
/// its `notAfter` (RFC 5280, 4.1.2.5) in seconds since the Unix epoch.
pub fn cert_not_after_unix(path: &Path) -> Result<i64, CertError> {
    use rustls_pki_types::pem::PemObject;
    let read_err = |reason: String| CertError::Read {
        path: path.to_owned(),
        reason,
    };
    let der = rustls_pki_types::CertificateDer::from_pem_file(path)
        .map_err(|e| read_err(e.to_string()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| read_err(format!("not an X.509 certificate: {e}")))?;
    Ok(cert.validity().not_after.timestamp())
}

/// Seconds from `now` until `not_after_unix` (negative once it has passed).
pub fn seconds_until(not_after_unix: i64, now: std::time::SystemTime) -> i64 {
    let now_unix = match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    not_after_unix.saturating_sub(now_unix)
}

/// What to put in the PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiSpec {
    /// KME IDs; each gets `<id>.pem` / `<id>.key` (server certificate).
    pub kme_ids: Vec<String>,
    /// SAE IDs; each gets `<id>.pem` / `<id>.key` (client certificate).
    pub sae_ids: Vec<String>,
    /// Replace files that exist; without it an existing file is an error
    /// and nothing is written.
    pub overwrite: bool,
}

impl Default for PkiSpec {
    /// Two KMEs and three SAEs: `SAE_A` (master), `SAE_B` (slave) and an
    /// unrelated `SAE_C`.
    fn default() -> Self {
        PkiSpec {
            kme_ids: vec!["KME_A".into(), "KME_B".into()],
            sae_ids: vec!["SAE_A".into(), "SAE_B".into(), "SAE_C".into()],
            overwrite: false,
        }
    }
}

/// Paths of a PKI written to disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPki {
    /// Directory holding everything.
    pub dir: PathBuf,
    /// CA certificate (`ca.pem`); its key is `ca.key`.
    pub ca_cert: PathBuf,
}

impl TestPki {
    /// Certificate file of a KME or SAE.
    pub fn cert(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }
    /// Private key file of a KME or SAE (mode 0600).
    pub fn key(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.key"))
    }
}

fn write_file(path: PathBuf, data: &str, mode: u32) -> Result<(), CertError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&path)
        .map_err(|source| CertError::Write {
            path: path.clone(),
            source,
        })?;
    f.write_all(data.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| CertError::Write { path, source })
}

fn params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationName, "qkd test PKI");
    p.distinguished_name = dn;
    p
}

/// Writes the default PKI ([`PkiSpec::default`]) to `dir`.
pub fn make_test_pki(dir: impl AsRef<Path>) -> Result<TestPki, CertError> {
    make_pki(dir, &PkiSpec::default())
}

/// Writes a CA, KME server and SAE client certificates to `dir` (created if
/// missing). Keys are written mode 0600, certificates 0644; every file and
/// then the directory are fsynced. Refuses, before writing anything, when
/// a file exists and `spec.overwrite` is false.
pub fn make_pki(dir: impl AsRef<Path>, spec: &PkiSpec) -> Result<TestPki, CertError> {
    let dir = dir.as_ref().to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|source| CertError::Write {
        path: dir.clone(),
        source,
    })?;
    for n in spec.kme_ids.iter().chain(&spec.sae_ids) {
        if n.is_empty() || n == "ca" || n.contains(['/', '\0']) || n.starts_with('.') {
            return Err(CertError::BadName(n.clone()));
        }
    }
    if !spec.overwrite {
        let names = std::iter::once("ca")
            .chain(spec.kme_ids.iter().chain(&spec.sae_ids).map(String::as_str));
        for n in names {
            for ext in ["pem", "key"] {
                let f = dir.join(format!("{n}.{ext}"));
                if f.symlink_metadata().is_ok() {
                    return Err(CertError::Exists(f));
                }
            }
        }
    }
    fn gen(name: &str) -> impl FnOnce(rcgen::Error) -> CertError + '_ {
        move |source| CertError::Generate {
            name: name.to_owned(),
            source,
        }
    }

    let ca_key = KeyPair::generate().map_err(gen("ca"))?;
    let mut ca_params = params("qkd test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).map_err(gen("ca"))?;
    write_file(dir.join("ca.pem"), &ca.pem(), 0o644)?;
    write_file(dir.join("ca.key"), &ca_key.serialize_pem(), 0o600)?;

    for (names, server) in [(&spec.kme_ids, true), (&spec.sae_ids, false)] {
        for name in names {
            let key = KeyPair::generate().map_err(gen(name))?;
            let mut p = params(name);
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            if server {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                p.subject_alt_names = vec![
                    SanType::DnsName("localhost".try_into().map_err(gen(name))?),
                    SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                ];
            } else {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            }
            let cert = p.signed_by(&key, &ca, &ca_key).map_err(gen(name))?;
            write_file(dir.join(format!("{name}.pem")), &cert.pem(), 0o644)?;
            write_file(dir.join(format!("{name}.key")), &key.serialize_pem(), 0o600)?;
        }
    }
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| CertError::Write {
            path: dir.clone(),
            source,
        })?;
    Ok(TestPki {
        ca_cert: dir.join("ca.pem"),
        dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certs_refuse_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        make_test_pki(dir.path()).unwrap();
        let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
        let e = make_test_pki(dir.path()).unwrap_err();
        assert!(
            matches!(&e, CertError::Exists(p) if p.ends_with("ca.pem")),
            "{e}"
        );
        assert_eq!(std::fs::read(dir.path().join("ca.pem")).unwrap(), ca);
        let spec = PkiSpec {
            overwrite: true,
            ..PkiSpec::default()
        };
        make_pki(dir.path(), &spec).unwrap();
        assert_ne!(std::fs::read(dir.path().join("ca.pem")).unwrap(), ca);
    }

    #[test]
    fn cert_expiry_is_the_certificates_not_after() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = params("kme-expiring");
        p.not_after = rcgen::date_time_ymd(2031, 5, 17);
        let key = KeyPair::generate().unwrap();
        let pem = p.self_signed(&key).unwrap().pem();
        let path = dir.path().join("kme.pem");
        std::fs::write(&path, pem).unwrap();
        // 2031-05-17T00:00:00Z, from Python's calendar.timegm.
        let t = cert_not_after_unix(&path).unwrap();
        assert_eq!(t, 1_936_742_400);
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_936_742_400 - 86_400);
        assert_eq!(seconds_until(t, now), 86_400);
        let later = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_936_742_400 + 5);
        assert_eq!(seconds_until(t, later), -5);

        std::fs::write(&path, "not a certificate").unwrap();
        let e = cert_not_after_unix(&path).unwrap_err();
        assert!(
            matches!(&e, CertError::Read { path: q, .. } if q == &path),
            "{e}"
        );
        assert!(cert_not_after_unix(&dir.path().join("missing.pem")).is_err());
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Key files: raw key bytes written only on explicit request, created new
//! with mode 0600 (owner read/write only); reading refuses files that group
//! or others can access. Paths are logged, key bytes never.

use crate::key::SecretKey;
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Errors of key-file I/O.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Creating or writing the file failed (it may already exist: files are
    /// never overwritten).
    #[error("writing key file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Opening or reading the file failed.
    #[error("reading key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is accessible by group or others.
    #[error("key file {path} has mode {mode:o}; it must not be accessible by group or others (use 0600)")]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file holds no key bytes.
    #[error("key file {path} is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Write `key` (bytes, LSB-first bit order, length rounded up to whole bytes)
/// to a new file at `path` with mode 0600. Fails if the file exists.
pub fn write_key_file(path: &Path, key: &SecretKey) -> Result<(), KeyFileError> {
    let err = |source| KeyFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    let bytes = key.to_bytes();
    f.write_all(&bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    tracing::info!(path = %path.display(), bits = key.len_bits().get(), "key written");
    Ok(())
}

/// Read a key file (all bytes, 8 bits each). Refuses files with any
/// group/other permission bits.
pub fn read_key_file(path: &Path) -> Result<SecretKey, KeyFileError> {
    let err = |source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = OpenOptions::new().read(true).open(path).map_err(err)?;
    let mode = f.metadata().map_err(err)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut buf = Zeroizing::new(Vec::new());
    f.read_to_end(&mut buf).map_err(err)?;
    if buf.is_empty() {
        return Err(KeyFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(SecretKey::from_bytes(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_mode_0600_and_no_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.bin");
        let k = SecretKey::from_bytes(&[1, 2, 3, 250]);
        write_key_file(&p, &k).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_key_file(&p).unwrap(), k);
        assert!(matches!(
            write_key_file(&p, &k),
            Err(KeyFileError::Write { .. })
        ));
    }

    #[test]
    fn refuses_world_readable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.bin");
        std::fs::write(&p, [9u8; 32]).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_key_file(&p),
            Err(KeyFileError::InsecurePermissions { mode: 0o644, .. })
        ));
    }
}

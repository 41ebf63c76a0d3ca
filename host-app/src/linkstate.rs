// SPDX-License-Identifier: MIT OR Apache-2.0
//! Durable per-role link state for `qkd-host alice|bob` (issue 8): the
//! Wegman-Carter pad pool at the last committed block, the block awaiting
//! the two-phase commit, and write-ahead reservations (pads this end may
//! have sent with, device windows it may have fed to a pipeline).
//!
//! Files in the role's state directory, each replaced atomically (written to
//! a temporary file mode 0600, `fsync`ed, renamed, directory `fsync`ed):
//!
//! * `pool.committed`: `QKDCOMM3 | next_block u64 | last_stored u64 |
//!   epoch_known u8 | epoch [16] | KeyPool::export | crc32`. The pool as it
//!   stood when block `next_block - 1` produced its key (both ends hold the
//!   identical pool at that instant), or as bootstrapped from the pre-shared
//!   key; the last block appended to the key store (`u64::MAX` = none),
//!   which the restart compares with the store (a lost or older store is
//!   refused); and the link epoch ([`LinkEpoch`]) that key IDs derive from.
//! * `pool.pending`: `QKDPEND2 | block u64 | unit_bytes u32 | units u32 |
//!   key units | KeyPool::export | crc32`: a key both pipelines produced but
//!   that is not yet in the key store, with the pool after that block.
//! * `progress`: `QKDPROG3 | send_reserved u64 | fed_windows u64 |
//!   hello_pos u64 | hello_fed u64 | hello_answering u64 | peer_hello u64 |
//!   crc32` (`u64::MAX` = none): upper bounds, written before they are reached, so
//!   that after a crash this end never reuses a pad it may have sent with
//!   (Wegman & Carter, JCSS 22, 1981: each pad authenticates one message)
//!   and never feeds sifted data whose bases or parities may have left in
//!   an interrupted block; and the session-opening state
//!   (`roles::handshake`): this end's outstanding HELLO, re-sent unchanged
//!   until the peer answers it, and the last peer HELLO accepted.
//!
//! `crc32` is CRC-32 (IEEE) of every byte before it: a damaged file is
//! refused with [`StateError::Malformed`], which names the file and what to
//! do, never worked around. Files of the earlier versions (`QKDCOMM2`, with
//! the CRC and no epoch; `QKDCOMM1`, `QKDPEND1`, `QKDPROG2`, without the
//! CRC) are still read; the next write replaces them with the current
//! version.
//!
//! The files hold secret material (pads, key); they are created 0600 and
//! zeroized in memory.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Errors of the state directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// File I/O failed.
    #[error("{what} {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A reservation would pass `u64::MAX` (a position or window number
    /// out of range, e.g. announced by the peer); nothing is written.
    #[error("{what} {value} is out of range: no reservation past 2^64 - 1")]
    OutOfRange {
        /// What was being reserved.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A state file is malformed (bad header, length or checksum).
    #[error("state file {path} is malformed ({why}); refusing to start: {advice}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        why: &'static str,
        /// What the operator can do.
        advice: &'static str,
    },
}

/// What to do about a damaged or lost state file, by file name.
pub fn advice(name: &str) -> &'static str {
    match name {
        "pool.committed" => {
            "it holds the authentication pool and the committed block count; restore \
             it from a backup of this end's state directory, or start the link over \
             with a new pre-shared key and empty state directories at both ends"
        }
        "pool.pending" => {
            "it holds a key block awaiting the two-phase commit; restore it from a \
             backup of this end's state directory (moving it aside discards the block \
             at this end, which the restart refuses if the peer or the key store \
             already committed it)"
        }
        "progress" => {
            "it holds the pad and window reservations (a pad must never be used \
             twice); restore it from a backup of this end's state directory, or start \
             the link over with a new pre-shared key and empty state directories at \
             both ends"
        }
        _ => "restore the state directory from a backup",
    }
}

const COMMITTED_MAGIC: &[u8; 8] = b"QKDCOMM3";
const COMMITTED_MAGIC_V2: &[u8; 8] = b"QKDCOMM2";
const COMMITTED_MAGIC_V1: &[u8; 8] = b"QKDCOMM1";
const PENDING_MAGIC: &[u8; 8] = b"QKDPEND2";
const PENDING_MAGIC_V1: &[u8; 8] = b"QKDPEND1";
const PROGRESS_MAGIC: &[u8; 8] = b"QKDPROG3";
const PROGRESS_MAGIC_V2: &[u8; 8] = b"QKDPROG2";
const NONE: u64 = u64::MAX;

/// A state file's bytes (CRC trailer checked and removed) and its version:
/// `Some(i)` for the `i`-th CRC-framed magic asked for (0: current), `None`
/// for the earliest version (no CRC).
type Framed = (Zeroizing<Vec<u8>>, Option<usize>);

/// The incarnation of a link that key IDs derive from. A link started over
/// (new pre-shared key, empty state directories) under the same
/// `--link-name` gets a new epoch, so it never issues a key ID of the
/// earlier incarnation again: an application holding such an ID for a key
/// could otherwise be served a different key under it (ETSI GS QKD 014
/// key IDs name one key). Alice draws the epoch from the operating
/// system's CSPRNG when her state directory is created; Bob learns it from
/// her first authenticated HELLO and keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEpoch {
    /// Bob before Alice's first authenticated HELLO.
    Unknown,
    /// The agreed epoch. All zeros: a state directory of an earlier version,
    /// whose key IDs derive from the link name alone (kept, so that a
    /// running link's IDs do not change under an upgrade).
    Known([u8; 16]),
}

impl LinkEpoch {
    /// The epoch of a state directory written before epochs existed.
    pub const LEGACY: LinkEpoch = LinkEpoch::Known([0; 16]);

    /// A fresh random epoch (never the legacy all-zero value).
    pub fn random() -> LinkEpoch {
        loop {
            let e: [u8; 16] = rand::random();
            if e != [0; 16] {
                return LinkEpoch::Known(e);
            }
        }
    }
}

/// What `pool.committed` says about the key store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastStored {
    /// An earlier-version file that does not say (not checked).
    Unknown,
    /// No block has been appended to the key store.
    Nothing,
    /// The last block appended to the key store.
    Block(u64),
}

/// The committed pool.
pub struct Committed {
    /// Number of key blocks committed (the next block number).
    pub next_block: u64,
    /// The last block appended to the key store (blocks without keys are
    /// not appended).
    pub last_stored: LastStored,
    /// The link epoch key IDs derive from.
    pub epoch: LinkEpoch,
    /// `KeyPool::export` bytes.
    pub pool: Zeroizing<Vec<u8>>,
}

/// A produced key awaiting the commit.
pub struct Pending {
    /// Global key-block number.
    pub block: u64,
    /// Key units (each `unit_bytes` long), in order.
    pub units: Vec<Zeroizing<Vec<u8>>>,
    /// `KeyPool::export` bytes right after the block.
    pub pool: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pending {{ block: {}, units: {}, key: <redacted> }}",
            self.block,
            self.units.len()
        )
    }
}

/// This end's session-opening HELLO that the peer has not answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnHello {
    /// Absolute send-pad position that tags it.
    pub pad_pos: u64,
    /// Fed windows it announces.
    pub fed_windows: u64,
    /// Alice: the pad position of the Bob HELLO it answers.
    pub answering: Option<u64>,
}

/// Write-ahead reservations and the session-opening state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Send pads below this absolute position may have been used.
    pub send_reserved: u64,
    /// Device windows that may have been fed to a pipeline.
    pub fed_windows: u64,
    /// The outstanding HELLO of this end, if any.
    pub hello: Option<OwnHello>,
    /// Pad position of the last peer HELLO accepted.
    pub peer_hello: Option<u64>,
}

/// The state directory of one role.
#[derive(Debug, Clone)]
pub struct StateDir {
    dir: PathBuf,
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_le_bytes(a))
}

impl StateDir {
    /// Create (mode 0700) or open the directory.
    pub fn open(dir: &Path) -> Result<StateDir, StateError> {
        std::fs::create_dir_all(dir).map_err(io("creating state directory", dir))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(io("setting mode 0700 on", dir))?;
        Ok(StateDir {
            dir: dir.to_path_buf(),
        })
    }

    /// Path of a file in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Whether a file of the directory exists.
    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// Writes `bytes` followed by their CRC-32 (see [`Self::write_atomic`]).
    fn write_framed(&self, name: &str, bytes: &mut Zeroizing<Vec<u8>>) -> Result<(), StateError> {
        let crc = crc32fast::hash(bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        self.write_atomic(name, bytes)
    }

    /// Reads `name`; for one of the CRC-framed `magics` (current first),
    /// checks and strips the CRC-32 trailer; for `legacy` (the earliest
    /// version) returns the bytes as they are.
    fn read_framed(
        &self,
        name: &str,
        magics: &[&[u8; 8]],
        legacy: &[u8; 8],
    ) -> Result<Option<Framed>, StateError> {
        let Some(mut b) = self.read(name)? else {
            return Ok(None);
        };
        if let Some(v) = magics.iter().position(|m| b.len() >= 12 && &b[..8] == *m) {
            let n = b.len() - 4;
            let mut c = [0u8; 4];
            c.copy_from_slice(&b[n..]);
            if u32::from_le_bytes(c) != crc32fast::hash(&b[..n]) {
                return Err(self.malformed(name, "checksum mismatch"));
            }
            b.truncate(n);
            Ok(Some((b, Some(v))))
        } else if b.len() >= 8 && &b[..8] == legacy {
            Ok(Some((b, None)))
        } else if b.is_empty() {
            Err(self.malformed(name, "empty file"))
        } else {
            Err(self.malformed(name, "bad header"))
        }
    }

    fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), StateError> {
        let path = self.path(name);
        let tmp = self.path(&format!("{name}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("creating", &tmp))?;
        f.write_all(bytes).map_err(io("writing", &tmp))?;
        f.sync_all().map_err(io("syncing", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io("renaming into place", &path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing directory", &self.dir))
    }

    fn read(&self, name: &str) -> Result<Option<Zeroizing<Vec<u8>>>, StateError> {
        let path = self.path(name);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(Zeroizing::new(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("reading", &path)(e)),
        }
    }

    fn malformed(&self, name: &str, why: &'static str) -> StateError {
        StateError::Malformed {
            path: self.path(name),
            why,
            advice: advice(name),
        }
    }

    /// The committed pool, if any.
    pub fn load_committed(&self) -> Result<Option<Committed>, StateError> {
        let name = "pool.committed";
        let Some((b, version)) = self.read_framed(
            name,
            &[COMMITTED_MAGIC, COMMITTED_MAGIC_V2],
            COMMITTED_MAGIC_V1,
        )?
        else {
            return Ok(None);
        };
        let next_block = u64_at(&b, 8).ok_or(self.malformed(name, "short"))?;
        let last_stored = || {
            let l = u64_at(&b, 16).ok_or(self.malformed(name, "short"))?;
            Ok::<_, StateError>(if l == NONE {
                LastStored::Nothing
            } else {
                LastStored::Block(l)
            })
        };
        let (last_stored, epoch, pool_at) = match version {
            Some(0) => {
                let e = b.get(24..41).ok_or(self.malformed(name, "short"))?;
                let mut epoch = [0u8; 16];
                epoch.copy_from_slice(&e[1..]);
                let epoch = match e[0] {
                    0 if epoch == [0; 16] => LinkEpoch::Unknown,
                    1 => LinkEpoch::Known(epoch),
                    _ => return Err(self.malformed(name, "bad link epoch")),
                };
                (last_stored()?, epoch, 41)
            }
            Some(_) => (last_stored()?, LinkEpoch::LEGACY, 24),
            None => (LastStored::Unknown, LinkEpoch::LEGACY, 16),
        };
        Ok(Some(Committed {
            next_block,
            last_stored,
            epoch,
            pool: Zeroizing::new(b[pool_at..].to_vec()),
        }))
    }

    /// Replace the committed pool.
    pub fn store_committed(&self, c: &Committed) -> Result<(), StateError> {
        let mut b = Zeroizing::new(Vec::with_capacity(45 + c.pool.len()));
        b.extend_from_slice(COMMITTED_MAGIC);
        b.extend_from_slice(&c.next_block.to_le_bytes());
        let last = match c.last_stored {
            LastStored::Block(l) => l,
            LastStored::Nothing | LastStored::Unknown => NONE,
        };
        b.extend_from_slice(&last.to_le_bytes());
        match c.epoch {
            LinkEpoch::Unknown => b.extend_from_slice(&[0; 17]),
            LinkEpoch::Known(e) => {
                b.push(1);
                b.extend_from_slice(&e);
            }
        }
        b.extend_from_slice(&c.pool);
        self.write_framed("pool.committed", &mut b)
    }

    /// The pending block, if any.
    pub fn load_pending(&self) -> Result<Option<Pending>, StateError> {
        let name = "pool.pending";
        let Some((b, _)) = self.read_framed(name, &[PENDING_MAGIC], PENDING_MAGIC_V1)? else {
            return Ok(None);
        };
        let bad = |why| self.malformed(name, why);
        if b.len() < 24 {
            return Err(bad("short"));
        }
        let block = u64_at(&b, 8).ok_or(bad("short"))?;
        let unit = u32_at(&b, 16).ok_or(bad("short"))? as usize;
        let n = u32_at(&b, 20).ok_or(bad("short"))? as usize;
        let end = unit
            .checked_mul(n)
            .and_then(|k| k.checked_add(24))
            .filter(|&e| e <= b.len())
            .ok_or(bad("key units past the end"))?;
        let units = b[24..end]
            .chunks_exact(unit.max(1))
            .take(n)
            .map(|c| Zeroizing::new(c.to_vec()))
            .collect();
        Ok(Some(Pending {
            block,
            units,
            pool: Zeroizing::new(b[end..].to_vec()),
        }))
    }

    /// Make a pending block durable.
    pub fn store_pending(&self, p: &Pending) -> Result<(), StateError> {
        let unit = p.units.first().map_or(0, |u| u.len());
        let mut b = Zeroizing::new(Vec::new());
        b.extend_from_slice(PENDING_MAGIC);
        b.extend_from_slice(&p.block.to_le_bytes());
        b.extend_from_slice(&(unit as u32).to_le_bytes());
        b.extend_from_slice(&(p.units.len() as u32).to_le_bytes());
        for u in &p.units {
            b.extend_from_slice(u);
        }
        b.extend_from_slice(&p.pool);
        self.write_framed("pool.pending", &mut b)
    }

    /// Remove the pending block (after commit or discard): overwritten with
    /// zeros, synced, then unlinked.
    pub fn clear_pending(&self) -> Result<(), StateError> {
        let path = self.path("pool.pending");
        match std::fs::metadata(&path) {
            Ok(m) => {
                let mut f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io("opening", &path))?;
                let mut zeros = vec![0u8; m.len() as usize];
                f.write_all(&zeros).map_err(io("erasing", &path))?;
                f.sync_all().map_err(io("syncing", &path))?;
                zeros.zeroize();
                std::fs::remove_file(&path).map_err(io("removing", &path))?;
                File::open(&self.dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io("syncing directory", &self.dir))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("inspecting", &path)(e)),
        }
    }

    /// The reservations (zero if never written).
    pub fn load_progress(&self) -> Result<Progress, StateError> {
        let Some((b, _)) = self.read_framed("progress", &[PROGRESS_MAGIC], PROGRESS_MAGIC_V2)?
        else {
            return Ok(Progress::default());
        };
        if b.len() != 56 {
            return Err(self.malformed("progress", "bad length"));
        }
        let at = |i: usize| u64_at(&b, 8 + 8 * i).unwrap_or(NONE);
        let some = |v: u64| (v != NONE).then_some(v);
        Ok(Progress {
            send_reserved: at(0),
            fed_windows: at(1),
            hello: some(at(2)).map(|pad_pos| OwnHello {
                pad_pos,
                fed_windows: at(3),
                answering: some(at(4)),
            }),
            peer_hello: some(at(5)),
        })
    }

    /// Replace the reservations.
    pub fn store_progress(&self, p: Progress) -> Result<(), StateError> {
        let h = p.hello;
        let mut b = Zeroizing::new(PROGRESS_MAGIC.to_vec());
        for v in [
            p.send_reserved,
            p.fed_windows,
            h.map_or(NONE, |h| h.pad_pos),
            h.map_or(NONE, |h| h.fed_windows),
            h.and_then(|h| h.answering).unwrap_or(NONE),
            p.peer_hello.unwrap_or(NONE),
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        self.write_framed("progress", &mut b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_are_private() {
        let t = tempfile::tempdir().unwrap();
        let s = StateDir::open(&t.path().join("st")).unwrap();
        assert!(s.load_committed().unwrap().is_none());
        assert!(s.load_pending().unwrap().is_none());
        assert_eq!(s.load_progress().unwrap(), Progress::default());
        s.store_committed(&Committed {
            next_block: 7,
            last_stored: LastStored::Block(5),
            epoch: LinkEpoch::Known([3; 16]),
            pool: Zeroizing::new(vec![1, 2, 3]),
        })
        .unwrap();
        let c = s.load_committed().unwrap().unwrap();
        assert_eq!((c.next_block, &c.pool[..]), (7, &[1u8, 2, 3][..]));
        assert_eq!(c.last_stored, LastStored::Block(5));
        assert_eq!(c.epoch, LinkEpoch::Known([3; 16]));
        for epoch in [LinkEpoch::Unknown, LinkEpoch::LEGACY, LinkEpoch::random()] {
            s.store_committed(&Committed {
                epoch,
                pool: c.pool.clone(),
                ..c
            })
            .unwrap();
            assert_eq!(s.load_committed().unwrap().unwrap().epoch, epoch);
        }
        s.store_pending(&Pending {
            block: 7,
            units: vec![Zeroizing::new(vec![9; 4]), Zeroizing::new(vec![8; 4])],
            pool: Zeroizing::new(vec![5, 6]),
        })
        .unwrap();
        let p = s.load_pending().unwrap().unwrap();
        assert_eq!(p.block, 7);
        assert_eq!(p.units.len(), 2);
        assert_eq!(&p.units[1][..], &[8u8; 4][..]);
        assert_eq!(&p.pool[..], &[5u8, 6][..]);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.path("pool.pending"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        s.clear_pending().unwrap();
        assert!(s.load_pending().unwrap().is_none());
        let p = Progress {
            send_reserved: 4096,
            fed_windows: 3,
            hello: Some(OwnHello {
                pad_pos: 4095,
                fed_windows: 3,
                answering: Some(17),
            }),
            peer_hello: Some(17),
        };
        s.store_progress(p).unwrap();
        assert_eq!(s.load_progress().unwrap(), p);
        let p = Progress {
            hello: None,
            peer_hello: None,
            ..p
        };
        s.store_progress(p).unwrap();
        assert_eq!(s.load_progress().unwrap(), p);
        std::fs::write(s.path("progress"), b"junk").unwrap();
        assert!(matches!(
            s.load_progress(),
            Err(StateError::Malformed { .. })
        ));
        std::fs::write(
            s.path("pool.pending"),
            b"QKDPEND1\0\0\0\0\0\0\0\0\xff\xff\0\0\xff\0\0\0",
        )
        .unwrap();
        assert!(s.load_pending().is_err());
    }

    /// Issue 18: every state file carries a CRC-32; a flipped byte or a cut
    /// anywhere is refused with the file's path and what to do, never read
    /// as other values.
    #[test]
    fn damaged_state_files_are_refused_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        let s = StateDir::open(&t.path().join("st")).unwrap();
        s.store_committed(&Committed {
            next_block: 3,
            last_stored: LastStored::Nothing,
            epoch: LinkEpoch::random(),
            pool: Zeroizing::new(vec![7; 40]),
        })
        .unwrap();
        s.store_pending(&Pending {
            block: 3,
            units: vec![Zeroizing::new(vec![9; 4])],
            pool: Zeroizing::new(vec![5; 40]),
        })
        .unwrap();
        s.store_progress(Progress {
            send_reserved: 9,
            ..Progress::default()
        })
        .unwrap();
        for name in ["pool.committed", "pool.pending", "progress"] {
            let good = std::fs::read(s.path(name)).unwrap();
            let load = |s: &StateDir| match name {
                "pool.committed" => s.load_committed().map(|_| ()),
                "pool.pending" => s.load_pending().map(|_| ()),
                _ => s.load_progress().map(|_| ()),
            };
            load(&s).unwrap();
            let mut images = Vec::new();
            for at in 0..good.len() {
                let mut b = good.clone();
                b[at] ^= 0x20;
                images.push(b);
                images.push(good[..at].to_vec());
            }
            for b in images {
                std::fs::write(s.path(name), &b).unwrap();
                let e = load(&s).unwrap_err();
                let msg = e.to_string();
                assert!(
                    matches!(e, StateError::Malformed { .. })
                        && msg.contains(name)
                        && msg.contains("restore"),
                    "{name} ({} bytes): {msg}",
                    b.len()
                );
            }
            std::fs::write(s.path(name), &good).unwrap();
        }
    }

    /// Files of the earlier versions (no CRC) are still read.
    #[test]
    fn earlier_version_files_are_read() {
        let t = tempfile::tempdir().unwrap();
        let s = StateDir::open(&t.path().join("st")).unwrap();
        let mut b = b"QKDCOMM1".to_vec();
        b.extend_from_slice(&5u64.to_le_bytes());
        b.extend_from_slice(&[1, 2, 3]);
        std::fs::write(s.path("pool.committed"), &b).unwrap();
        let c = s.load_committed().unwrap().unwrap();
        assert_eq!(c.next_block, 5);
        assert_eq!(c.last_stored, LastStored::Unknown);
        assert_eq!(c.epoch, LinkEpoch::LEGACY);
        assert_eq!(&c.pool[..], &[1u8, 2, 3][..]);
        // The CRC-framed version before epochs: its key IDs keep deriving
        // from the link name alone.
        let mut b = b"QKDCOMM2".to_vec();
        b.extend_from_slice(&6u64.to_le_bytes());
        b.extend_from_slice(&4u64.to_le_bytes());
        b.extend_from_slice(&[1, 2, 3]);
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        std::fs::write(s.path("pool.committed"), &b).unwrap();
        let c = s.load_committed().unwrap().unwrap();
        assert_eq!((c.next_block, c.last_stored), (6, LastStored::Block(4)));
        assert_eq!(c.epoch, LinkEpoch::LEGACY);
        assert_eq!(&c.pool[..], &[1u8, 2, 3][..]);
        let mut b = b"QKDPROG2".to_vec();
        for v in [4u64, 2, NONE, NONE, NONE, NONE] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(s.path("progress"), &b).unwrap();
        let p = s.load_progress().unwrap();
        assert_eq!((p.send_reserved, p.fed_windows, p.hello), (4, 2, None));
    }
}

//! Durable append-only key store: confirmed keys in, each key handed out at
//! most once, consumed keys erased on disk.
//!
//! File format (all integers little-endian), designed for crash safety with
//! the smallest possible amount of code; see `kme/README.md` for the
//! justification against an embedded database:
//!
//! ```text
//! file     := HEADER record*
//! HEADER   := "QKDKEYS" 0x01                                   (8 bytes)
//! KEY      := 0x01 rec_len:u32 key_id:[16] m_len:u16 master[m_len]
//!             s_len:u16 slave[s_len] key_len:u32 meta_crc:u32
//!             key[key_len] key_crc:u32
//! CONSUMED := 0x02 rec_len:u32 count:u32 key_id:[16]*count crc:u32
//! ```
//!
//! `rec_len` is the whole record length; `meta_crc` is CRC-32 (IEEE) of every
//! byte of the record before it, `key_crc` the CRC-32 of the key bytes, `crc`
//! that of every byte of the CONSUMED record before it.
//!
//! Protocol: a KEY record is appended and `fdatasync`ed before the key is
//! offered. Handing keys out appends one CONSUMED record for the whole batch
//! and syncs it *before* the keys are returned (so a crash can never cause a
//! key to be handed out twice), then overwrites `key[..] key_crc` of each
//! consumed KEY record with zeros and syncs again. On open, a torn final
//! record (a crash mid-append) is cut off, and consumed keys whose erasure
//! was interrupted are erased again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

/// File magic and format version.
pub const FILE_HEADER: [u8; 8] = *b"QKDKEYS\x01";
/// Largest key accepted by [`KeyStore::append_confirmed`] (bytes).
pub const MAX_KEY_BYTES: usize = 1 << 20;
/// Largest SAE ID accepted (bytes of UTF-8).
pub const MAX_SAE_ID_BYTES: usize = 255;
/// Largest number of key IDs in one CONSUMED record.
pub const MAX_IDS_PER_RECORD: usize = 1 << 20;

const KIND_KEY: u8 = 1;
const KIND_CONSUMED: u8 = 2;
const REC_HEAD_BYTES: usize = 5;
const MAX_RECORD_BYTES: usize = REC_HEAD_BYTES + 4 + 16 * MAX_IDS_PER_RECORD + 4;

/// Errors of the key store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O operation on the store file failed.
    #[error("key store {path}: {what}")]
    Io {
        /// Store file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the key store header.
    #[error("key store {path}: not a key store file (bad header)")]
    BadHeader {
        /// Store file.
        path: PathBuf,
    },
    /// A record before the end of the file is damaged (not a torn append).
    #[error("key store {path}: corrupt record at byte offset {offset}: {reason}")]
    Corrupt {
        /// Store file.
        path: PathBuf,
        /// Byte offset of the damaged record.
        offset: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key ID was already stored (or stored and consumed) before.
    #[error("key ID {0} already used in this store")]
    DuplicateKeyId(Uuid),
    /// Invalid argument to `append_confirmed`.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Fewer matching keys are stored than requested.
    #[error("not enough keys: {requested} requested, {available} available")]
    NotEnoughKeys {
        /// Keys requested.
        requested: usize,
        /// Keys available for that link and size.
        available: usize,
    },
    /// A requested key ID is not stored for this link (unknown, consumed, or
    /// addressed to another pair of SAEs).
    #[error("key ID {0} not available")]
    UnknownKeyId(Uuid),
    /// The same key ID appears twice in one request.
    #[error("key ID {0} requested twice")]
    RepeatedKeyId(Uuid),
}

/// Secret key bytes: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyBytes(Zeroizing<Vec<u8>>);

impl KeyBytes {
    /// Wraps (and takes ownership of) key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// The key bytes. Never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Key length in bytes.
    pub fn len_bytes(&self) -> usize {
        self.0.len()
    }
    /// True for an empty key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyBytes([REDACTED; {} bytes])", self.0.len())
    }
}

/// A key handed out of the store (its on-disk copy is erased).
#[derive(Debug, Clone)]
pub struct DeliveredKey {
    /// Key ID agreed by both ends of the link.
    pub key_id: Uuid,
    /// Master SAE of the link the key belongs to.
    pub master_sae: String,
    /// Slave SAE of the link the key belongs to.
    pub slave_sae: String,
    /// The key.
    pub key: KeyBytes,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    master_sae: String,
    slave_sae: String,
    key: KeyBytes,
    /// Offset of the key bytes in the file (erasure covers key + key_crc).
    key_offset: u64,
}

/// Counts for the status snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreCounts {
    /// Keys stored and not yet delivered.
    pub stored_keys: u64,
    /// Their total size in bits.
    pub stored_bits: u64,
    /// Keys delivered (consumed) over the store's whole life.
    pub delivered_keys: u64,
    /// Store file size in bytes.
    pub file_bytes: u64,
}

/// The durable key store. One per KME (per side of a link).
pub struct KeyStore {
    path: PathBuf,
    file: File,
    end_offset: u64,
    entries: HashMap<Uuid, Entry>,
    order: BTreeMap<u64, Uuid>,
    next_seq: u64,
    used_ids: HashSet<Uuid>,
    delivered_keys: u64,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.path)
            .field("stored_keys", &self.entries.len())
            .field("delivered_keys", &self.delivered_keys)
            .finish_non_exhaustive()
    }
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

fn rd_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One parsed record (offsets relative to the file).
enum Record {
    Key {
        key_id: Uuid,
        master_sae: String,
        slave_sae: String,
        key_offset: u64,
        key_len: usize,
        key_crc_ok: bool,
    },
    Consumed(Vec<Uuid>),
}

/// Parses the record at the start of `b`; `Err(reason)` if it is incomplete
/// or damaged. Returns the record and its length.
fn parse_record(b: &[u8], file_offset: u64) -> Result<(Record, usize), &'static str> {
    let kind = *b.first().ok_or("empty")?;
    let rec_len = rd_u32(b, 1).ok_or("truncated length")? as usize;
    if !(REC_HEAD_BYTES + 4..=MAX_RECORD_BYTES).contains(&rec_len) {
        return Err("record length out of range");
    }
    let rec = b.get(..rec_len).ok_or("truncated record")?;
    match kind {
        KIND_KEY => {
            let mut at = REC_HEAD_BYTES;
            let id: [u8; 16] = rec
                .get(at..at + 16)
                .ok_or("short")?
                .try_into()
                .map_err(|_| "short")?;
            at += 16;
            let m_len = rd_u16(rec, at).ok_or("short")? as usize;
            at += 2;
            let master = rec.get(at..at + m_len).ok_or("short")?;
            at += m_len;
            let s_len = rd_u16(rec, at).ok_or("short")? as usize;
            at += 2;
            let slave = rec.get(at..at + s_len).ok_or("short")?;
            at += s_len;
            let key_len = rd_u32(rec, at).ok_or("short")? as usize;
            at += 4;
            let meta_crc = rd_u32(rec, at).ok_or("short")?;
            if meta_crc != crc32(&[&rec[..at]]) {
                return Err("metadata checksum mismatch");
            }
            at += 4;
            if at + key_len + 4 != rec_len {
                return Err("key length disagrees with record length");
            }
            let key = &rec[at..at + key_len];
            let key_crc = rd_u32(rec, at + key_len).ok_or("short")?;
            let master_sae = std::str::from_utf8(master).map_err(|_| "master SAE ID not UTF-8")?;
            let slave_sae = std::str::from_utf8(slave).map_err(|_| "slave SAE ID not UTF-8")?;
            Ok((
                Record::Key {
                    key_id: Uuid::from_bytes(id),
                    master_sae: master_sae.to_owned(),
                    slave_sae: slave_sae.to_owned(),
                    key_offset: file_offset + at as u64,
                    key_len,
                    key_crc_ok: key_crc == crc32(&[key]),
                },
                rec_len,
            ))
        }
        KIND_CONSUMED => {
            let count = rd_u32(rec, REC_HEAD_BYTES).ok_or("short")? as usize;
            if REC_HEAD_BYTES + 4 + 16 * count + 4 != rec_len {
                return Err("id count disagrees with record length");
            }
            let body_end = rec_len - 4;
            if rd_u32(rec, body_end) != Some(crc32(&[&rec[..body_end]])) {
                return Err("checksum mismatch");
            }
            let ids = rec[REC_HEAD_BYTES + 4..body_end]
                .chunks_exact(16)
                .map(|c| Uuid::from_bytes(c.try_into().expect("chunk of 16")))
                .collect();
            Ok((Record::Consumed(ids), rec_len))
        }
        _ => Err("unknown record kind"),
    }
}

fn encode_key_record(key_id: Uuid, key: &[u8], master: &str, slave: &str) -> Zeroizing<Vec<u8>> {
    let rec_len = REC_HEAD_BYTES + 16 + 2 + master.len() + 2 + slave.len() + 4 + 4 + key.len() + 4;
    let mut v = Zeroizing::new(Vec::with_capacity(rec_len));
    v.push(KIND_KEY);
    v.extend_from_slice(&(rec_len as u32).to_le_bytes());
    v.extend_from_slice(key_id.as_bytes());
    v.extend_from_slice(&(master.len() as u16).to_le_bytes());
    v.extend_from_slice(master.as_bytes());
    v.extend_from_slice(&(slave.len() as u16).to_le_bytes());
    v.extend_from_slice(slave.as_bytes());
    v.extend_from_slice(&(key.len() as u32).to_le_bytes());
    let meta_crc = crc32(&[&v]);
    v.extend_from_slice(&meta_crc.to_le_bytes());
    v.extend_from_slice(key);
    v.extend_from_slice(&crc32(&[key]).to_le_bytes());
    debug_assert_eq!(v.len(), rec_len);
    v
}

fn encode_consumed_record(ids: &[Uuid]) -> Vec<u8> {
    let rec_len = REC_HEAD_BYTES + 4 + 16 * ids.len() + 4;
    let mut v = Vec::with_capacity(rec_len);
    v.push(KIND_CONSUMED);
    v.extend_from_slice(&(rec_len as u32).to_le_bytes());
    v.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        v.extend_from_slice(id.as_bytes());
    }
    let crc = crc32(&[&v]);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

impl KeyStore {
    /// Opens (or creates, mode 0600) the store at `path`, recovering from a
    /// crash: a torn final record is cut off and interrupted erasures are
    /// completed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let io = |what: &'static str| {
            let path = path.clone();
            move |source| StoreError::Io { path, what, source }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io("opening"))?;
        let meta = file.metadata().map_err(io("reading metadata"))?;
        if meta.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(io("setting mode 0600"))?;
        }
        let mut data = Zeroizing::new(Vec::with_capacity(meta.len() as usize));
        file.read_to_end(&mut data).map_err(io("reading"))?;

        if data.len() < FILE_HEADER.len() {
            // New file, or a crash while it was being created.
            if !FILE_HEADER.starts_with(&data) {
                return Err(StoreError::BadHeader { path });
            }
            file.set_len(0).map_err(io("truncating torn header"))?;
            file.write_all_at(&FILE_HEADER, 0)
                .map_err(io("writing header"))?;
            file.sync_all().map_err(io("syncing header"))?;
            if let Some(dir) = path.parent() {
                let dir = if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                };
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(io("syncing directory"))?;
            }
            data.clear();
            data.extend_from_slice(&FILE_HEADER);
        } else if data[..FILE_HEADER.len()] != FILE_HEADER {
            return Err(StoreError::BadHeader { path });
        }

        // ---- Scan records ----
        let mut records = Vec::new();
        let mut pos = FILE_HEADER.len();
        let mut torn_at = None;
        while pos < data.len() {
            match parse_record(&data[pos..], pos as u64) {
                Ok((rec, len)) => {
                    records.push((pos, rec));
                    pos += len;
                }
                Err(reason) => {
                    let rest = &data[pos..];
                    // A torn append leaves a prefix of one record, possibly
                    // followed by zeros (blocks allocated, data not written):
                    // every nonzero byte lies within this record's span.
                    let claimed = rd_u32(rest, 1)
                        .map(|l| l as usize)
                        .filter(|l| (REC_HEAD_BYTES + 4..=MAX_RECORD_BYTES).contains(l));
                    let nonzero_end = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                    let is_tail = rest.len() < REC_HEAD_BYTES
                        || nonzero_end <= claimed.unwrap_or(REC_HEAD_BYTES)
                        || claimed.is_some_and(|l| l >= rest.len());
                    if !is_tail {
                        return Err(StoreError::Corrupt {
                            path,
                            offset: pos as u64,
                            reason,
                        });
                    }
                    torn_at = Some(pos);
                    break;
                }
            }
        }
        let mut consumed: HashSet<Uuid> = HashSet::new();
        let mut delivered_keys = 0u64;
        for (_, rec) in &records {
            if let Record::Consumed(ids) = rec {
                delivered_keys += ids.len() as u64;
                consumed.extend(ids.iter().copied());
            }
        }
        // A final KEY record whose key bytes fail their checksum (and that was
        // never consumed) is a torn append too.
        if let Some((
            off,
            Record::Key {
                key_id,
                key_crc_ok: false,
                ..
            },
        )) = records.last()
        {
            if !consumed.contains(key_id) {
                torn_at = Some(*off);
                records.pop();
            }
        }
        if let Some(at) = torn_at {
            tracing::warn!(path = %path.display(), offset = at, dropped_bytes = data.len() - at,
                "key store: cutting off torn final record");
            file.set_len(at as u64)
                .map_err(io("truncating torn record"))?;
            file.sync_all().map_err(io("syncing after truncation"))?;
            data.truncate(at);
        }

        let mut store = KeyStore {
            path: path.clone(),
            file,
            end_offset: data.len() as u64,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_seq: 0,
            used_ids: HashSet::new(),
            delivered_keys,
        };
        let mut reerased = false;
        for (off, rec) in records {
            let Record::Key {
                key_id,
                master_sae,
                slave_sae,
                key_offset,
                key_len,
                key_crc_ok,
            } = rec
            else {
                continue;
            };
            if !store.used_ids.insert(key_id) {
                return Err(StoreError::Corrupt {
                    path,
                    offset: off as u64,
                    reason: "duplicate key ID",
                });
            }
            let span = key_offset as usize..key_offset as usize + key_len + 4;
            if consumed.contains(&key_id) {
                if data[span].iter().any(|&b| b != 0) {
                    store.erase_at(key_offset, key_len)?;
                    reerased = true;
                }
                continue;
            }
            if !key_crc_ok {
                return Err(StoreError::Corrupt {
                    path,
                    offset: off as u64,
                    reason: "key checksum mismatch",
                });
            }
            let key =
                KeyBytes::new(data[key_offset as usize..key_offset as usize + key_len].to_vec());
            let seq = store.next_seq;
            store.next_seq += 1;
            store.order.insert(seq, key_id);
            store.entries.insert(
                key_id,
                Entry {
                    seq,
                    master_sae,
                    slave_sae,
                    key,
                    key_offset,
                },
            );
        }
        store.used_ids.extend(consumed);
        if reerased {
            store.file.sync_data().map_err(io("syncing erasure"))?;
        }
        tracing::info!(path = %store.path.display(), stored_keys = store.entries.len(),
            delivered_keys = store.delivered_keys, "key store opened");
        Ok(store)
    }

    fn io_err(&self, what: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = self.path.clone();
        move |source| StoreError::Io { path, what, source }
    }

    fn erase_at(&self, key_offset: u64, key_len: usize) -> Result<(), StoreError> {
        let zeros = vec![0u8; key_len + 4];
        self.file
            .write_all_at(&zeros, key_offset)
            .map_err(self.io_err("erasing consumed key"))
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a key confirmed by both ends of the link and makes it durable
    /// (`fdatasync`) before returning; only then can it be handed out.
    pub fn append_confirmed(
        &mut self,
        key_id: Uuid,
        key: &[u8],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<(), StoreError> {
        self.append_confirmed_batch(&[(key_id, key)], master_sae, slave_sae)
    }

    /// Appends several confirmed keys of one link with a single write and a
    /// single `fdatasync` (one per block of privacy-amplified key). All or
    /// nothing: on any invalid key or duplicate ID nothing is stored.
    pub fn append_confirmed_batch(
        &mut self,
        keys: &[(Uuid, &[u8])],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<(), StoreError> {
        for sae in [master_sae, slave_sae] {
            if sae.is_empty() || sae.len() > MAX_SAE_ID_BYTES {
                return Err(StoreError::InvalidKey(
                    "SAE ID length must be 1..=255 bytes",
                ));
            }
        }
        if master_sae == slave_sae {
            return Err(StoreError::InvalidKey("master and slave SAE IDs are equal"));
        }
        let mut batch_ids = HashSet::new();
        for (key_id, key) in keys {
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(StoreError::InvalidKey("key length must be 1..=1 MiB"));
            }
            if self.used_ids.contains(key_id) || !batch_ids.insert(*key_id) {
                return Err(StoreError::DuplicateKeyId(*key_id));
            }
        }
        let at = self.end_offset;
        let mut buf = Zeroizing::new(Vec::new());
        let mut placed = Vec::with_capacity(keys.len());
        for (key_id, key) in keys {
            let rec = encode_key_record(*key_id, key, master_sae, slave_sae);
            let key_offset = at + (buf.len() + rec.len() - key.len() - 4) as u64;
            buf.extend_from_slice(&rec);
            placed.push((*key_id, *key, key_offset));
        }
        if let Err(e) = self.file.write_all_at(&buf, at) {
            // Best effort: drop a partial record so the next append starts clean.
            let _ = self.file.set_len(at);
            return Err(self.io_err("appending key")(e));
        }
        self.file
            .sync_data()
            .map_err(self.io_err("syncing appended key"))?;
        self.end_offset += buf.len() as u64;
        for (key_id, key, key_offset) in placed {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.used_ids.insert(key_id);
            self.order.insert(seq, key_id);
            self.entries.insert(
                key_id,
                Entry {
                    seq,
                    master_sae: master_sae.to_owned(),
                    slave_sae: slave_sae.to_owned(),
                    key: KeyBytes::new(key.to_vec()),
                    key_offset,
                },
            );
        }
        tracing::debug!(keys = keys.len(), master_sae, slave_sae, "keys stored");
        Ok(())
    }

    /// Rewrites the store with only the undelivered keys (oldest first) and
    /// one CONSUMED record listing every delivered ID (so they stay refused),
    /// via a synced temporary file renamed over the store. The key bytes in
    /// the old file are then overwritten with zeros before it is closed.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        let tmp = self.path.with_extension("compact-tmp");
        let io = |what: &'static str| {
            let path = tmp.clone();
            move |source| StoreError::Io { path, what, source }
        };
        let mut buf = Zeroizing::new(FILE_HEADER.to_vec());
        let mut offsets = Vec::with_capacity(self.entries.len());
        for id in self.order.values() {
            let e = &self.entries[id];
            let rec = encode_key_record(*id, e.key.expose(), &e.master_sae, &e.slave_sae);
            offsets.push((*id, (buf.len() + rec.len() - e.key.len_bytes() - 4) as u64));
            buf.extend_from_slice(&rec);
        }
        let delivered: Vec<Uuid> = self
            .used_ids
            .iter()
            .filter(|id| !self.entries.contains_key(id))
            .copied()
            .collect();
        for chunk in delivered.chunks(MAX_IDS_PER_RECORD) {
            buf.extend_from_slice(&encode_consumed_record(chunk));
        }
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("creating compacted file"))?;
        f.write_all_at(&buf, 0)
            .map_err(io("writing compacted file"))?;
        f.sync_all().map_err(io("syncing compacted file"))?;
        std::fs::rename(&tmp, &self.path).map_err(io("renaming compacted file"))?;
        if let Some(dir) = self.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io("syncing directory"))?;
        }
        // Erase the live keys' old copies, then switch files.
        let old = std::mem::replace(&mut self.file, f);
        for e in self.entries.values() {
            let zeros = vec![0u8; e.key.len_bytes() + 4];
            old.write_all_at(&zeros, e.key_offset)
                .map_err(self.io_err("erasing old copy"))?;
        }
        old.sync_data()
            .map_err(self.io_err("syncing old copy erasure"))?;
        for (id, off) in offsets {
            if let Some(e) = self.entries.get_mut(&id) {
                e.key_offset = off;
            }
        }
        self.end_offset = buf.len() as u64;
        tracing::info!(path = %self.path.display(), bytes = self.end_offset, "key store compacted");
        Ok(())
    }

    fn matches(e: &Entry, master: &str, slave: &str, key_bytes: Option<usize>) -> bool {
        e.master_sae == master
            && e.slave_sae == slave
            && key_bytes.is_none_or(|n| e.key.len_bytes() == n)
    }

    /// Number of undelivered keys for the link `master -> slave`, of exactly
    /// `key_bytes` bytes if given.
    pub fn available(&self, master_sae: &str, slave_sae: &str, key_bytes: Option<usize>) -> usize {
        self.entries
            .values()
            .filter(|e| Self::matches(e, master_sae, slave_sae, key_bytes))
            .count()
    }

    /// Counts for the status snapshot.
    pub fn counts(&self) -> StoreCounts {
        StoreCounts {
            stored_keys: self.entries.len() as u64,
            stored_bits: self
                .entries
                .values()
                .map(|e| e.key.len_bytes() as u64 * 8)
                .sum(),
            delivered_keys: self.delivered_keys,
            file_bytes: self.end_offset,
        }
    }

    /// Hands out the `number` oldest keys of `key_bytes` bytes for the link
    /// `master -> slave` (the master SAE's `enc_keys`). All or nothing.
    pub fn take_oldest(
        &mut self,
        master_sae: &str,
        slave_sae: &str,
        number: usize,
        key_bytes: usize,
    ) -> Result<Vec<DeliveredKey>, StoreError> {
        let ids: Vec<Uuid> = self
            .order
            .values()
            .filter(|id| Self::matches(&self.entries[*id], master_sae, slave_sae, Some(key_bytes)))
            .take(number)
            .copied()
            .collect();
        if ids.len() < number {
            return Err(StoreError::NotEnoughKeys {
                requested: number,
                available: ids.len(),
            });
        }
        self.consume(&ids)
    }

    /// Hands out the keys with the given IDs, which must all belong to the
    /// link `master -> slave` (the slave SAE's `dec_keys`). All or nothing.
    pub fn take_by_ids(
        &mut self,
        master_sae: &str,
        slave_sae: &str,
        ids: &[Uuid],
    ) -> Result<Vec<DeliveredKey>, StoreError> {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(*id) {
                return Err(StoreError::RepeatedKeyId(*id));
            }
            match self.entries.get(id) {
                Some(e) if Self::matches(e, master_sae, slave_sae, None) => {}
                _ => return Err(StoreError::UnknownKeyId(*id)),
            }
        }
        self.consume(ids)
    }

    /// Durably marks `ids` consumed, then erases them on disk and returns them.
    fn consume(&mut self, ids: &[Uuid]) -> Result<Vec<DeliveredKey>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rec = encode_consumed_record(ids);
        let at = self.end_offset;
        if let Err(e) = self.file.write_all_at(&rec, at) {
            let _ = self.file.set_len(at);
            return Err(self.io_err("appending consumed record")(e));
        }
        // Durable delivery state before any key leaves the store.
        self.file
            .sync_data()
            .map_err(self.io_err("syncing consumed record"))?;
        self.end_offset += rec.len() as u64;
        self.delivered_keys += ids.len() as u64;
        let mut out = Vec::with_capacity(ids.len());
        let mut erase_result = Ok(());
        for id in ids {
            let e = self.entries.remove(id).expect("checked by caller");
            self.order.remove(&e.seq);
            if erase_result.is_ok() {
                erase_result = self.erase_at(e.key_offset, e.key.len_bytes());
            }
            out.push(DeliveredKey {
                key_id: *id,
                master_sae: e.master_sae,
                slave_sae: e.slave_sae,
                key: e.key,
            });
        }
        if erase_result.is_ok() {
            erase_result = self
                .file
                .sync_data()
                .map_err(self.io_err("syncing erasure"));
        }
        if let Err(e) = erase_result {
            // The keys are consumed durably; a failed erase is redone at the
            // next open. Do not hand them out now (they may be retried never).
            for k in &mut out {
                k.key.0.zeroize();
            }
            return Err(e);
        }
        tracing::debug!(keys = ids.len(), "keys delivered and erased");
        Ok(out)
    }
}

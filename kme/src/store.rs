//! Durable key store: blocks of confirmed keys appended atomically, each key
//! handed out at most once, consumed keys erased on disk, the file compacted
//! so that its size follows the live keys.
//!
//! File format (all integers little-endian); see `kme/README.md` for the
//! guarantees and for why this is not an embedded database:
//!
//! ```text
//! file     := HEADER record*
//! HEADER   := "QKDKEYS" 0x02                                   (8 bytes)
//! record   := kind:u8 rec_len:u32 head_crc:u32 body            (rec_len = whole record)
//! BLOCK    := kind 3: flags:u8 block_index:u64 count:u32
//!             m_len:u16 master[m_len] s_len:u16 slave[s_len]
//!             entry*count meta_crc:u32
//! entry    := key_id:[16] key_len:u32 key[key_len] key_crc:u32
//! CONSUMED := kind 2: count:u32 key_id:[16]*count crc:u32
//! COUNTERS := kind 4: delivered_keys:u64 crc:u32
//! ```
//!
//! `head_crc` is CRC-32 (IEEE) of `kind rec_len`, so a record's length is
//! trusted before its body is read. `meta_crc` covers every byte of the
//! BLOCK record except the key bytes, the `key_crc` fields and itself (so it
//! stays valid when consumed keys are erased); `key_crc` is the CRC-32 of the
//! key bytes; `crc` covers every byte of its record before it. `flags` bit 0
//! says whether `block_index` is set (blocks appended by
//! [`KeyStore::append_block`]). An entry with `key_len` 0 is a key already
//! delivered (written by compaction; its ID is kept while its block is kept).
//!
//! Protocol. A block of keys is one record, written with one positioned write
//! and `fdatasync`ed before any of its keys is offered; on open, a final
//! record that is incomplete or fails a checksum (a crash mid-append, at any
//! byte) is cut off as a whole, so a block is wholly present or wholly
//! absent. Handing keys out appends one CONSUMED record and syncs it *before*
//! the keys are returned (a crash never lets a key out twice), then
//! overwrites `key[..] key_crc` of each consumed entry with zeros and syncs
//! again. A damaged record before the end is a [`StoreError::Corrupt`], never
//! skipped. Compaction rewrites the live blocks to a temporary file, syncs it,
//! renames it over the store and syncs the directory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

/// File magic and format version.
pub const FILE_HEADER: [u8; 8] = *b"QKDKEYS\x02";
/// Largest key accepted (bytes).
pub const MAX_KEY_BYTES: usize = 1 << 20;
/// Largest SAE ID accepted (bytes of UTF-8).
pub const MAX_SAE_ID_BYTES: usize = 255;
/// Largest number of keys in one block, and of key IDs in one CONSUMED record.
pub const MAX_IDS_PER_RECORD: usize = 1 << 20;
/// Largest record (bytes): a block is refused above this size.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Default for [`StoreOptions::compact_min_dead_bytes`].
pub const DEFAULT_COMPACT_MIN_DEAD_BYTES: u64 = 1 << 20;

const KIND_CONSUMED: u8 = 2;
const KIND_BLOCK: u8 = 3;
const KIND_COUNTERS: u8 = 4;
const HEAD_BYTES: usize = 9;
const ENTRY_FIXED_BYTES: usize = 16 + 4 + 4;
const FLAG_INDEXED: u8 = 1;

/// What to do about a store that cannot be opened safely.
const CORRUPT_ADVICE: &str = "the store is damaged before its end and is not opened; \
keep the file for inspection, restore it from a backup or move it aside to start an \
empty store (both ends of the link must then discard the same key blocks)";

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
    #[error(
        "key store {path}: not a key store file (bad header); move it aside or choose another path"
    )]
    BadHeader {
        /// Store file.
        path: PathBuf,
    },
    /// The file is a key store of another format version.
    #[error("key store {path}: format version {found}, this build reads version {}; \
             drain it with the build that wrote it or move it aside", FILE_HEADER[7])]
    UnsupportedVersion {
        /// Store file.
        path: PathBuf,
        /// Version byte found.
        found: u8,
    },
    /// A record before the end of the file is damaged (not a torn append).
    #[error("key store {path}: corrupt record at byte offset {offset}: {reason}; {advice}", advice = CORRUPT_ADVICE)]
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
    /// Invalid argument to an append.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The store holds `max_key_count` keys: the block is refused whole.
    #[error("key store full: {stored} keys stored, {adding} more refused (max_key_count {max})")]
    StoreFull {
        /// Keys stored now.
        stored: u64,
        /// Keys in the refused block.
        adding: u64,
        /// The store's limit.
        max: u64,
    },
    /// A block with this index is stored with other contents.
    #[error("block {block_index} of link {master_sae} -> {slave_sae} differs from the stored block: {reason}")]
    BlockMismatch {
        /// Block index.
        block_index: u64,
        /// Master SAE of the link.
        master_sae: String,
        /// Slave SAE of the link.
        slave_sae: String,
        /// What differs.
        reason: &'static str,
    },
    /// The block index is not after the link's last stored block.
    #[error("block {block_index} of link {master_sae} -> {slave_sae} is not after the last stored block {last_block_index}")]
    BlockOutOfOrder {
        /// Block index given.
        block_index: u64,
        /// Last block index stored for the link.
        last_block_index: u64,
        /// Master SAE of the link.
        master_sae: String,
        /// Slave SAE of the link.
        slave_sae: String,
    },
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

/// Options of [`KeyStore::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Largest number of undelivered keys; an append beyond it is refused
    /// with [`StoreError::StoreFull`]. `None`: no limit.
    pub max_key_count: Option<u64>,
    /// Compaction runs when the bytes of delivered keys and their records
    /// exceed both the live bytes and this many bytes.
    pub compact_min_dead_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_key_count: None,
            compact_min_dead_bytes: DEFAULT_COMPACT_MIN_DEAD_BYTES,
        }
    }
}

/// Whether a block is in the store, from [`KeyStore::block_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    /// No block with this index and none of its key IDs are stored.
    Absent,
    /// The block is stored whole: same key IDs in the same order, and every
    /// key not yet delivered has the same bytes.
    Complete,
    /// A block with this index, or some of its key IDs, are stored with
    /// other contents.
    Mismatch {
        /// What differs.
        reason: &'static str,
    },
    /// The link's last stored block is later than this one, whose keys were
    /// all delivered and are no longer kept: its contents cannot be checked.
    Superseded {
        /// The link's last stored block index.
        last_block_index: u64,
    },
}

/// Outcome of [`KeyStore::append_block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockAppend {
    /// The block was appended and synced.
    Appended,
    /// The same block was already stored (e.g. before a crash); nothing written.
    AlreadyStored,
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

/// Recovery and maintenance counters of the open store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreHealth {
    /// Torn final records cut off when the store was opened.
    pub torn_tails_cut: u64,
    /// Bytes cut off with them.
    pub torn_bytes_cut: u64,
    /// Compactions since the store was opened.
    pub compactions: u64,
    /// `max_key_count` enforced (0: none).
    pub max_key_count: u64,
}

type Link = (Arc<str>, Arc<str>);

#[derive(Debug)]
struct Entry {
    seq: u64,
    block: u64,
    key: KeyBytes,
    /// Offset of the key bytes in the file (erasure covers key + key_crc).
    key_offset: u64,
}

#[derive(Debug)]
struct Block {
    index: Option<u64>,
    link: Link,
    ids: Vec<Uuid>,
    /// Keys of the block not yet delivered.
    live: usize,
    /// Bytes this block takes in a compacted file (0 when not kept).
    footprint: u64,
}

/// The durable key store. One per KME (per side of a link).
pub struct KeyStore {
    path: PathBuf,
    file: File,
    opts: StoreOptions,
    end_offset: u64,
    entries: HashMap<Uuid, Entry>,
    order: BTreeMap<u64, Uuid>,
    next_seq: u64,
    /// Kept blocks (with a live key, or their link's last indexed block).
    blocks: BTreeMap<u64, Block>,
    next_block: u64,
    /// Link -> (last block index, internal block number).
    last_indexed: HashMap<Link, (u64, u64)>,
    /// IDs of delivered keys still recorded in the file.
    consumed: HashSet<Uuid>,
    delivered_keys: u64,
    /// Bytes a compacted file would have.
    live_bytes: u64,
    torn_tails_cut: u64,
    torn_bytes_cut: u64,
    compactions: u64,
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
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}
fn rd_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}
fn rd_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

fn head(kind: u8, rec_len: usize) -> [u8; HEAD_BYTES] {
    let mut h = [0u8; HEAD_BYTES];
    h[0] = kind;
    h[1..5].copy_from_slice(&(rec_len as u32).to_le_bytes());
    let c = crc32(&[&h[..5]]);
    h[5..].copy_from_slice(&c.to_le_bytes());
    h
}

/// Checks a record head; returns (kind, rec_len) if valid.
fn parse_head(h: &[u8]) -> Option<(u8, usize)> {
    let kind = *h.first()?;
    let len = rd_u32(h, 1)? as usize;
    if rd_u32(h, 5)? != crc32(&[&h[..5]]) {
        return None;
    }
    if !matches!(kind, KIND_CONSUMED | KIND_BLOCK | KIND_COUNTERS)
        || !(HEAD_BYTES + 4..=MAX_RECORD_BYTES).contains(&len)
    {
        return None;
    }
    Some((kind, len))
}

/// One entry of a parsed BLOCK record.
struct ParsedEntry {
    key_id: Uuid,
    /// Offset of the key bytes in the record.
    key_at: usize,
    key_len: usize,
    key_crc_ok: bool,
    /// Key bytes or key_crc not all zero.
    dirty: bool,
}

/// One parsed record.
enum Record {
    Block {
        index: Option<u64>,
        master: String,
        slave: String,
        entries: Vec<ParsedEntry>,
    },
    Consumed(Vec<Uuid>),
    Counters {
        delivered_keys: u64,
    },
}

/// Parses a whole record (head included, head already checked).
fn parse_record(rec: &[u8]) -> Result<Record, &'static str> {
    let kind = rec[0];
    let n = rec.len();
    match kind {
        KIND_BLOCK => {
            let mut meta = crc32fast::Hasher::new();
            let mut at = HEAD_BYTES;
            let flags = *rec.get(at).ok_or("short block")?;
            if flags & !FLAG_INDEXED != 0 {
                return Err("unknown block flags");
            }
            let index = rd_u64(rec, at + 1).ok_or("short block")?;
            let count = rd_u32(rec, at + 9).ok_or("short block")? as usize;
            if count == 0 || count > MAX_IDS_PER_RECORD {
                return Err("block key count out of range");
            }
            at += 13;
            let m_len = rd_u16(rec, at).ok_or("short block")? as usize;
            let master = rec.get(at + 2..at + 2 + m_len).ok_or("short block")?;
            at += 2 + m_len;
            let s_len = rd_u16(rec, at).ok_or("short block")? as usize;
            let slave = rec.get(at + 2..at + 2 + s_len).ok_or("short block")?;
            at += 2 + s_len;
            meta.update(&rec[..at]);
            let mut entries = Vec::with_capacity(count.min(n / ENTRY_FIXED_BYTES));
            for _ in 0..count {
                let fixed = rec.get(at..at + 20).ok_or("short block entry")?;
                meta.update(fixed);
                let key_id = Uuid::from_bytes(fixed[..16].try_into().map_err(|_| "short")?);
                let key_len = rd_u32(fixed, 16).ok_or("short")? as usize;
                if key_len > MAX_KEY_BYTES {
                    return Err("key length out of range");
                }
                let key_at = at + 20;
                let key = rec
                    .get(key_at..key_at + key_len)
                    .ok_or("short block entry")?;
                let key_crc = rd_u32(rec, key_at + key_len).ok_or("short block entry")?;
                entries.push(ParsedEntry {
                    key_id,
                    key_at,
                    key_len,
                    key_crc_ok: if key_len == 0 {
                        key_crc == 0
                    } else {
                        key_crc == crc32(&[key])
                    },
                    dirty: key_crc != 0 || key.iter().any(|&b| b != 0),
                });
                at = key_at + key_len + 4;
            }
            if at + 4 != n {
                return Err("block length disagrees with its entries");
            }
            if rd_u32(rec, at) != Some(meta.finalize()) {
                return Err("block metadata checksum mismatch");
            }
            let master = std::str::from_utf8(master).map_err(|_| "master SAE ID not UTF-8")?;
            let slave = std::str::from_utf8(slave).map_err(|_| "slave SAE ID not UTF-8")?;
            check_saes(master, slave)?;
            Ok(Record::Block {
                index: (flags & FLAG_INDEXED != 0).then_some(index),
                master: master.to_owned(),
                slave: slave.to_owned(),
                entries,
            })
        }
        KIND_CONSUMED => {
            let count = rd_u32(rec, HEAD_BYTES).ok_or("short consumed record")? as usize;
            if count > MAX_IDS_PER_RECORD || HEAD_BYTES + 4 + 16 * count + 4 != n {
                return Err("id count disagrees with record length");
            }
            let body_end = n - 4;
            if rd_u32(rec, body_end) != Some(crc32(&[&rec[..body_end]])) {
                return Err("consumed record checksum mismatch");
            }
            Ok(Record::Consumed(
                rec[HEAD_BYTES + 4..body_end]
                    .chunks_exact(16)
                    .filter_map(|c| Some(Uuid::from_bytes(c.try_into().ok()?)))
                    .collect(),
            ))
        }
        KIND_COUNTERS => {
            if n != HEAD_BYTES + 8 + 4 {
                return Err("counters record length");
            }
            if rd_u32(rec, n - 4) != Some(crc32(&[&rec[..n - 4]])) {
                return Err("counters record checksum mismatch");
            }
            Ok(Record::Counters {
                delivered_keys: rd_u64(rec, HEAD_BYTES).ok_or("short counters record")?,
            })
        }
        _ => Err("unknown record kind"),
    }
}

fn check_saes(master: &str, slave: &str) -> Result<(), &'static str> {
    for sae in [master, slave] {
        if sae.is_empty() || sae.len() > MAX_SAE_ID_BYTES {
            return Err("SAE ID length must be 1..=255 bytes");
        }
    }
    if master == slave {
        return Err("master and slave SAE IDs are equal");
    }
    Ok(())
}

fn block_record_len(master: &str, slave: &str, key_lens: impl Iterator<Item = usize>) -> usize {
    HEAD_BYTES
        + 13
        + 2
        + master.len()
        + 2
        + slave.len()
        + key_lens.map(|l| ENTRY_FIXED_BYTES + l).sum::<usize>()
        + 4
}

/// Encodes a BLOCK record; entries with `None` are delivered keys (length
/// 0). Returns the record and the offset of each entry's key bytes in it.
fn encode_block(
    index: Option<u64>,
    master: &str,
    slave: &str,
    entries: &[(Uuid, Option<&[u8]>)],
) -> (Zeroizing<Vec<u8>>, Vec<usize>) {
    let rec_len = block_record_len(
        master,
        slave,
        entries.iter().map(|(_, k)| k.map_or(0, <[u8]>::len)),
    );
    let mut v = Zeroizing::new(Vec::with_capacity(rec_len));
    v.extend_from_slice(&head(KIND_BLOCK, rec_len));
    v.push(if index.is_some() { FLAG_INDEXED } else { 0 });
    v.extend_from_slice(&index.unwrap_or(0).to_le_bytes());
    v.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    v.extend_from_slice(&(master.len() as u16).to_le_bytes());
    v.extend_from_slice(master.as_bytes());
    v.extend_from_slice(&(slave.len() as u16).to_le_bytes());
    v.extend_from_slice(slave.as_bytes());
    let mut meta = crc32fast::Hasher::new();
    meta.update(&v);
    let mut offsets = Vec::with_capacity(entries.len());
    for (id, key) in entries {
        let key = key.unwrap_or(&[]);
        let fixed_at = v.len();
        v.extend_from_slice(id.as_bytes());
        v.extend_from_slice(&(key.len() as u32).to_le_bytes());
        meta.update(&v[fixed_at..]);
        offsets.push(v.len());
        v.extend_from_slice(key);
        let crc = if key.is_empty() { 0 } else { crc32(&[key]) };
        v.extend_from_slice(&crc.to_le_bytes());
    }
    v.extend_from_slice(&meta.finalize().to_le_bytes());
    debug_assert_eq!(v.len(), rec_len);
    (v, offsets)
}

fn encode_consumed(ids: &[Uuid]) -> Vec<u8> {
    let rec_len = HEAD_BYTES + 4 + 16 * ids.len() + 4;
    let mut v = Vec::with_capacity(rec_len);
    v.extend_from_slice(&head(KIND_CONSUMED, rec_len));
    v.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for id in ids {
        v.extend_from_slice(id.as_bytes());
    }
    let crc = crc32(&[&v]);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

const COUNTERS_BYTES: usize = HEAD_BYTES + 8 + 4;

fn encode_counters(delivered_keys: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(COUNTERS_BYTES);
    v.extend_from_slice(&head(KIND_COUNTERS, COUNTERS_BYTES));
    v.extend_from_slice(&delivered_keys.to_le_bytes());
    let crc = crc32(&[&v]);
    v.extend_from_slice(&crc.to_le_bytes());
    v
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Reads `len` bytes at `at` (short at end of file).
fn read_at(file: &File, at: u64, len: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(vec![0u8; len]);
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// True if every byte of the file in `from..to` is zero.
fn all_zero(file: &File, from: u64, to: u64) -> std::io::Result<bool> {
    let mut at = from;
    while at < to {
        let n = (to - at).min(1 << 20) as usize;
        let b = read_at(file, at, n)?;
        if b.is_empty() {
            break;
        }
        if b.iter().any(|&x| x != 0) {
            return Ok(false);
        }
        at += b.len() as u64;
    }
    Ok(true)
}

/// True if a whole valid record starts somewhere in `from..to`.
fn valid_record_in(file: &File, from: u64, to: u64) -> std::io::Result<bool> {
    const CHUNK: u64 = 1 << 20;
    let mut at = from;
    while at + HEAD_BYTES as u64 <= to {
        let n = (to - at).min(CHUNK + HEAD_BYTES as u64) as usize;
        let b = read_at(file, at, n)?;
        if b.len() < HEAD_BYTES {
            break;
        }
        for i in 0..=b.len() - HEAD_BYTES {
            if let Some((_, len)) = parse_head(&b[i..i + HEAD_BYTES]) {
                let q = at + i as u64;
                if q + len as u64 <= to {
                    let rec = read_at(file, q, len)?;
                    if rec.len() == len && parse_record(&rec).is_ok() {
                        return Ok(true);
                    }
                }
            }
        }
        at += (b.len() - HEAD_BYTES + 1) as u64;
    }
    Ok(false)
}

/// Result of scanning the records of a file up to `limit`.
struct Scan {
    store: KeyStore,
    /// Offset of the last whole record read.
    last_record: Option<(u64, u8)>,
    /// Where the valid records end (< limit: a torn tail follows).
    valid_end: u64,
    /// Live keys whose checksum failed: (block record offset, id).
    bad_keys: Vec<(u64, Uuid)>,
    /// Consumed keys whose erasure did not reach the disk: (offset, len).
    reerase: Vec<(u64, usize)>,
    /// Offset of each block record read, by internal block number.
    block_offsets: HashMap<u64, u64>,
}

impl KeyStore {
    /// Opens (or creates, mode 0600) the store at `path` with default
    /// options (no key limit).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates, mode 0600) the store at `path`, recovering from a
    /// crash: a torn final record is cut off whole (logged at WARN, counted
    /// in [`StoreHealth::torn_tails_cut`]), interrupted erasures are
    /// completed, a compaction interrupted before its rename is discarded.
    /// Records are read one at a time (memory: the live keys plus the
    /// largest record).
    pub fn open_with(path: impl AsRef<Path>, opts: StoreOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let io = |what: &'static str| {
            let path = path.clone();
            move |source| StoreError::Io { path, what, source }
        };
        remove_stale_tmp(&tmp_path(&path)).map_err(io("removing an interrupted compaction"))?;
        let file = OpenOptions::new()
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
        let len = meta.len();
        let header = read_at(&file, 0, FILE_HEADER.len()).map_err(io("reading header"))?;
        if header.len() < FILE_HEADER.len() {
            // New file, or a crash while it was being created.
            if !FILE_HEADER.starts_with(&header) {
                return Err(StoreError::BadHeader { path });
            }
            file.set_len(0).map_err(io("truncating torn header"))?;
            file.write_all_at(&FILE_HEADER, 0)
                .map_err(io("writing header"))?;
            file.sync_all().map_err(io("syncing header"))?;
            sync_dir(&path).map_err(io("syncing directory"))?;
        } else if header[..7] == FILE_HEADER[..7] && header[7] != FILE_HEADER[7] {
            return Err(StoreError::UnsupportedVersion {
                path,
                found: header[7],
            });
        } else if header[..] != FILE_HEADER {
            return Err(StoreError::BadHeader { path });
        }
        let len = len.max(FILE_HEADER.len() as u64);

        let mut limit = len;
        let mut torn: Option<u64> = None;
        let scan = loop {
            let file = file.try_clone().map_err(io("opening"))?;
            let scan = Self::scan(path.clone(), file, opts, limit)?;
            if scan.valid_end < limit {
                torn = Some(scan.valid_end);
            }
            // A final block with a live key failing its checksum is a torn
            // append whose bytes reached the disk out of order; any other
            // is corruption.
            if let Some(&(off, _)) = scan.bad_keys.first() {
                let last_block = match scan.last_record {
                    Some((o, KIND_BLOCK)) => Some(o),
                    _ => None,
                };
                if scan.bad_keys.iter().all(|(o, _)| Some(*o) == last_block) {
                    limit = off;
                    torn = Some(off);
                    continue;
                }
                let first = scan.bad_keys.iter().map(|(o, _)| *o).min().unwrap_or(off);
                return Err(StoreError::Corrupt {
                    path,
                    offset: first,
                    reason: "key checksum mismatch",
                });
            }
            break scan;
        };
        let Scan {
            mut store, reerase, ..
        } = scan;
        if let Some(at) = torn {
            tracing::warn!(path = %path.display(), offset = at, dropped_bytes = len - at,
                "key store: cutting off a torn final record (crash during an append)");
            store
                .file
                .set_len(at)
                .map_err(io("truncating torn record"))?;
            store
                .file
                .sync_all()
                .map_err(io("syncing after truncation"))?;
            store.torn_tails_cut = 1;
            store.torn_bytes_cut = len - at;
        }
        store.end_offset = torn.unwrap_or(len);
        if !reerase.is_empty() {
            for (off, n) in &reerase {
                store.erase_at(*off, *n)?;
            }
            store.file.sync_data().map_err(io("syncing erasure"))?;
        }
        store.maybe_compact();
        tracing::info!(path = %store.path.display(), stored_keys = store.entries.len(),
            delivered_keys = store.delivered_keys, file_bytes = store.end_offset, "key store opened");
        Ok(store)
    }

    fn scan(path: PathBuf, file: File, opts: StoreOptions, limit: u64) -> Result<Scan, StoreError> {
        let io = |what: &'static str| {
            let path = path.clone();
            move |source| StoreError::Io { path, what, source }
        };
        let mut reader =
            BufReader::with_capacity(1 << 16, file.try_clone().map_err(io("opening"))?);
        reader
            .seek(SeekFrom::Start(FILE_HEADER.len() as u64))
            .map_err(io("reading"))?;
        let mut s = Scan {
            store: KeyStore {
                path: path.clone(),
                file,
                opts,
                end_offset: 0,
                entries: HashMap::new(),
                order: BTreeMap::new(),
                next_seq: 0,
                blocks: BTreeMap::new(),
                next_block: 0,
                last_indexed: HashMap::new(),
                consumed: HashSet::new(),
                delivered_keys: 0,
                live_bytes: 0,
                torn_tails_cut: 0,
                torn_bytes_cut: 0,
                compactions: 0,
            },
            last_record: None,
            valid_end: limit,
            bad_keys: Vec::new(),
            reerase: Vec::new(),
            block_offsets: HashMap::new(),
        };
        let mut pos = FILE_HEADER.len() as u64;
        let mut crc_bad: HashMap<Uuid, u64> = HashMap::new();
        // Live keys whose bytes or checksum on disk are not all zero.
        let mut dirty: HashSet<Uuid> = HashSet::new();
        let corrupt = |offset: u64, reason: &'static str| StoreError::Corrupt {
            path: path.clone(),
            offset,
            reason,
        };
        while pos < limit {
            let rest = limit - pos;
            let mut h = [0u8; HEAD_BYTES];
            let got = if rest >= HEAD_BYTES as u64 {
                reader.read_exact(&mut h).map_err(io("reading"))?;
                parse_head(&h)
            } else {
                None
            };
            let parsed = match got {
                None => Err("bad record head"),
                Some((_, len)) if len as u64 > rest => {
                    Err("record reaches past the end of the file")
                }
                Some((_, len)) => {
                    let mut rec = Zeroizing::new(vec![0u8; len]);
                    rec[..HEAD_BYTES].copy_from_slice(&h);
                    reader
                        .read_exact(&mut rec[HEAD_BYTES..])
                        .map_err(io("reading"))?;
                    parse_record(&rec).map(|r| (r, rec))
                }
            };
            let (record, rec) = match parsed {
                Ok(x) => x,
                Err(reason) => {
                    let f = &s.store.file;
                    let is_tail = match got {
                        None => {
                            rest < HEAD_BYTES as u64
                                || all_zero(f, pos, limit).map_err(io("reading"))?
                                || !valid_record_in(f, pos + 1, limit).map_err(io("reading"))?
                        }
                        Some((_, len)) => {
                            pos + len as u64 >= limit
                                || all_zero(f, pos + len as u64, limit).map_err(io("reading"))?
                        }
                    };
                    if !is_tail {
                        return Err(corrupt(pos, reason));
                    }
                    s.valid_end = pos;
                    break;
                }
            };
            s.last_record = Some((pos, rec[0]));
            let st = &mut s.store;
            match record {
                Record::Counters { delivered_keys } => {
                    st.delivered_keys = st.delivered_keys.saturating_add(delivered_keys);
                }
                Record::Consumed(ids) => {
                    for id in ids {
                        if let Some(e) = st.entries.remove(&id) {
                            st.order.remove(&e.seq);
                            crc_bad.remove(&id);
                            if dirty.remove(&id) {
                                s.reerase.push((e.key_offset, e.key.len_bytes()));
                            }
                            if let Some(b) = st.blocks.get_mut(&e.block) {
                                b.live -= 1;
                            }
                            st.delivered_keys += 1;
                        }
                        st.consumed.insert(id);
                    }
                }
                Record::Block {
                    index,
                    master,
                    slave,
                    entries,
                } => {
                    let link: Link = (master.into(), slave.into());
                    let bno = st.next_block;
                    st.next_block += 1;
                    if let Some(i) = index {
                        if let Some((last, _)) = st.last_indexed.get(&link) {
                            if i <= *last {
                                return Err(corrupt(
                                    pos,
                                    "block index not after the link's last block",
                                ));
                            }
                        }
                        st.last_indexed.insert(link.clone(), (i, bno));
                    }
                    let mut ids = Vec::with_capacity(entries.len());
                    let mut live = 0;
                    for pe in entries {
                        if st.entries.contains_key(&pe.key_id) || st.consumed.contains(&pe.key_id) {
                            return Err(corrupt(pos, "duplicate key ID"));
                        }
                        ids.push(pe.key_id);
                        if pe.key_len == 0 {
                            if !pe.key_crc_ok {
                                return Err(corrupt(pos, "delivered key entry not erased"));
                            }
                            st.consumed.insert(pe.key_id);
                            continue;
                        }
                        if !pe.key_crc_ok {
                            crc_bad.insert(pe.key_id, pos);
                        }
                        let key_offset = pos + pe.key_at as u64;
                        let seq = st.next_seq;
                        st.next_seq += 1;
                        st.order.insert(seq, pe.key_id);
                        let bytes = rec[pe.key_at..pe.key_at + pe.key_len].to_vec();
                        if pe.dirty {
                            dirty.insert(pe.key_id);
                        }
                        st.entries.insert(
                            pe.key_id,
                            Entry {
                                seq,
                                block: bno,
                                key: KeyBytes::new(bytes),
                                key_offset,
                            },
                        );
                        live += 1;
                    }
                    s.block_offsets.insert(bno, pos);
                    st.blocks.insert(
                        bno,
                        Block {
                            index,
                            link,
                            ids,
                            live,
                            footprint: 0,
                        },
                    );
                }
            }
            pos += rec.len() as u64;
        }
        s.bad_keys = crc_bad.into_iter().map(|(id, off)| (off, id)).collect();
        s.bad_keys.sort();
        // Keep only blocks with a live key or last of their link.
        let st = &mut s.store;
        let keep: Vec<u64> = st.blocks.keys().copied().collect();
        for bno in keep {
            st.refresh_block(bno);
        }
        Ok(s)
    }

    fn is_last_of_link(&self, bno: u64, b: &Block) -> bool {
        self.last_indexed
            .get(&b.link)
            .is_some_and(|(_, last)| *last == bno)
    }

    /// Recomputes a block's footprint (dropping it when no longer kept) and
    /// the compacted size.
    fn refresh_block(&mut self, bno: u64) {
        let Some(b) = self.blocks.get(&bno) else {
            return;
        };
        let kept = b.live > 0 || self.is_last_of_link(bno, b);
        let new = if kept {
            let lens = b
                .ids
                .iter()
                .map(|id| self.entries.get(id).map_or(0, |e| e.key.len_bytes()));
            block_record_len(&b.link.0, &b.link.1, lens) as u64
        } else {
            0
        };
        let b = self.blocks.get_mut(&bno).expect("present");
        self.live_bytes = self.live_bytes - b.footprint + new;
        b.footprint = new;
        if !kept {
            self.blocks.remove(&bno);
        }
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

    /// Sets the largest number of undelivered keys (`None`: no limit).
    pub fn set_max_key_count(&mut self, max: Option<u64>) {
        self.opts.max_key_count = max;
    }

    /// Keys that can still be appended before [`StoreError::StoreFull`]
    /// (`None`: no limit).
    pub fn free_key_slots(&self) -> Option<u64> {
        self.opts
            .max_key_count
            .map(|m| m.saturating_sub(self.entries.len() as u64))
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

    /// Appends several confirmed keys of one link as one block without an
    /// index: one write, one `fdatasync`, all or nothing (also across a
    /// crash). Prefer [`KeyStore::append_block`], whose restart check
    /// compares contents.
    pub fn append_confirmed_batch(
        &mut self,
        keys: &[(Uuid, &[u8])],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<(), StoreError> {
        self.write_block(None, keys, master_sae, slave_sae)
    }

    /// Appends block `block_index` of the link `master -> slave` (its keys in
    /// order) as one record: one write, one `fdatasync`, wholly present or
    /// wholly absent after a crash at any byte. Block indices of a link must
    /// increase. If the same block is already stored (a restart after a
    /// crash that came after the append) nothing is written and
    /// `AlreadyStored` is returned; see [`KeyStore::block_status`] for the
    /// errors when it differs.
    pub fn append_block(
        &mut self,
        block_index: u64,
        keys: &[(Uuid, &[u8])],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<BlockAppend, StoreError> {
        match self.block_status(block_index, keys, master_sae, slave_sae) {
            BlockStatus::Complete => Ok(BlockAppend::AlreadyStored),
            BlockStatus::Absent => {
                self.write_block(Some(block_index), keys, master_sae, slave_sae)?;
                Ok(BlockAppend::Appended)
            }
            BlockStatus::Mismatch { reason } => Err(StoreError::BlockMismatch {
                block_index,
                master_sae: master_sae.to_owned(),
                slave_sae: slave_sae.to_owned(),
                reason,
            }),
            BlockStatus::Superseded { last_block_index } => Err(StoreError::BlockOutOfOrder {
                block_index,
                last_block_index,
                master_sae: master_sae.to_owned(),
                slave_sae: slave_sae.to_owned(),
            }),
        }
    }

    /// Whether block `block_index` of the link `master -> slave`, with these
    /// keys in this order, is in the store: compares the key IDs and the
    /// bytes of every key not yet delivered (delivered keys are erased).
    pub fn block_status(
        &self,
        block_index: u64,
        keys: &[(Uuid, &[u8])],
        master_sae: &str,
        slave_sae: &str,
    ) -> BlockStatus {
        let last = self
            .last_indexed
            .iter()
            .find(|((m, s), _)| &**m == master_sae && &**s == slave_sae)
            .map(|(_, v)| *v);
        let stored = self.blocks.iter().find(|(_, b)| {
            b.index == Some(block_index) && &*b.link.0 == master_sae && &*b.link.1 == slave_sae
        });
        if let Some((_, b)) = stored {
            if b.ids.len() != keys.len() || b.ids.iter().zip(keys).any(|(a, (k, _))| a != k) {
                return BlockStatus::Mismatch {
                    reason: "key IDs differ",
                };
            }
            for (id, key) in keys {
                if let Some(e) = self.entries.get(id) {
                    if e.key.expose() != *key {
                        return BlockStatus::Mismatch {
                            reason: "key bytes differ",
                        };
                    }
                }
            }
            return BlockStatus::Complete;
        }
        if let Some((l, _)) = last {
            if block_index <= l {
                return BlockStatus::Superseded {
                    last_block_index: l,
                };
            }
        }
        if keys
            .iter()
            .any(|(id, _)| self.entries.contains_key(id) || self.consumed.contains(id))
        {
            return BlockStatus::Mismatch {
                reason: "key IDs already stored in another block",
            };
        }
        BlockStatus::Absent
    }

    /// Last block index stored for the link `master -> slave`.
    pub fn last_block_index(&self, master_sae: &str, slave_sae: &str) -> Option<u64> {
        self.last_indexed
            .iter()
            .find(|((m, s), _)| &**m == master_sae && &**s == slave_sae)
            .map(|(_, (i, _))| *i)
    }

    fn write_block(
        &mut self,
        index: Option<u64>,
        keys: &[(Uuid, &[u8])],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<(), StoreError> {
        check_saes(master_sae, slave_sae).map_err(StoreError::InvalidKey)?;
        if keys.is_empty() || keys.len() > MAX_IDS_PER_RECORD {
            return Err(StoreError::InvalidKey("a block holds 1..=2^20 keys"));
        }
        let mut batch_ids = HashSet::with_capacity(keys.len());
        for (key_id, key) in keys {
            if key.is_empty() || key.len() > MAX_KEY_BYTES {
                return Err(StoreError::InvalidKey("key length must be 1..=1 MiB"));
            }
            if self.entries.contains_key(key_id)
                || self.consumed.contains(key_id)
                || !batch_ids.insert(*key_id)
            {
                return Err(StoreError::DuplicateKeyId(*key_id));
            }
        }
        let link_last = self.last_block_index(master_sae, slave_sae);
        if let (Some(i), Some(l)) = (index, link_last) {
            if i <= l {
                return Err(StoreError::BlockOutOfOrder {
                    block_index: i,
                    last_block_index: l,
                    master_sae: master_sae.to_owned(),
                    slave_sae: slave_sae.to_owned(),
                });
            }
        }
        if block_record_len(master_sae, slave_sae, keys.iter().map(|(_, k)| k.len()))
            > MAX_RECORD_BYTES
        {
            return Err(StoreError::InvalidKey("block larger than 64 MiB"));
        }
        if let Some(max) = self.opts.max_key_count {
            let stored = self.entries.len() as u64;
            if stored + keys.len() as u64 > max {
                return Err(StoreError::StoreFull {
                    stored,
                    adding: keys.len() as u64,
                    max,
                });
            }
        }
        let entries: Vec<(Uuid, Option<&[u8]>)> =
            keys.iter().map(|(id, k)| (*id, Some(*k))).collect();
        let (rec, offsets) = encode_block(index, master_sae, slave_sae, &entries);
        let at = self.end_offset;
        if let Err(e) = self.file.write_all_at(&rec, at) {
            // Best effort: drop a partial record so the next append starts clean.
            let _ = self.file.set_len(at);
            return Err(self.io_err("appending block")(e));
        }
        if let Err(e) = self.file.sync_data() {
            let _ = self.file.set_len(at);
            return Err(self.io_err("syncing appended block")(e));
        }
        self.end_offset += rec.len() as u64;
        let link: Link = self
            .last_indexed
            .keys()
            .find(|(m, s)| &**m == master_sae && &**s == slave_sae)
            .cloned()
            .unwrap_or_else(|| (master_sae.into(), slave_sae.into()));
        let bno = self.next_block;
        self.next_block += 1;
        for ((key_id, key), off) in keys.iter().zip(offsets) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.order.insert(seq, *key_id);
            self.entries.insert(
                *key_id,
                Entry {
                    seq,
                    block: bno,
                    key: KeyBytes::new(key.to_vec()),
                    key_offset: at + off as u64,
                },
            );
        }
        self.blocks.insert(
            bno,
            Block {
                index,
                link: link.clone(),
                ids: keys.iter().map(|(id, _)| *id).collect(),
                live: keys.len(),
                footprint: 0,
            },
        );
        if let Some(i) = index {
            let prev = self.last_indexed.insert(link, (i, bno));
            if let Some((_, p)) = prev {
                self.refresh_block(p);
            }
        }
        self.refresh_block(bno);
        tracing::debug!(keys = keys.len(), block_index = ?index, master_sae, slave_sae, "key block stored");
        Ok(())
    }

    /// Bytes of the file not needed by the live blocks.
    fn dead_bytes(&self) -> u64 {
        self.end_offset.saturating_sub(self.compacted_bytes())
    }

    fn compacted_bytes(&self) -> u64 {
        (FILE_HEADER.len() + COUNTERS_BYTES) as u64 + self.live_bytes
    }

    /// Compacts when the dead bytes exceed both the live bytes and
    /// `compact_min_dead_bytes`. A failure is logged; the store stays usable.
    fn maybe_compact(&mut self) {
        let dead = self.dead_bytes();
        if dead > self.compacted_bytes() && dead >= self.opts.compact_min_dead_bytes {
            if let Err(e) = self.compact() {
                tracing::error!(error = %e, "key store compaction failed; the store keeps its current file");
            }
        }
    }

    /// Rewrites the store with only the kept blocks (those with an
    /// undelivered key, and each link's last indexed block; delivered keys as
    /// IDs without bytes) and the delivered-key counter, via a synced
    /// temporary file renamed over the store and a directory sync. The old
    /// copies of the live keys are then overwritten with zeros. Runs by
    /// itself after deliveries; callable directly.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        let tmp = tmp_path(&self.path);
        let io = |what: &'static str| {
            let path = tmp.clone();
            move |source| StoreError::Io { path, what, source }
        };
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("creating compacted file"))?;
        let written = (|| -> Result<(u64, Vec<(Uuid, u64)>), StoreError> {
            let mut at = 0u64;
            f.write_all_at(&FILE_HEADER, at)
                .map_err(io("writing compacted file"))?;
            at += FILE_HEADER.len() as u64;
            let c = encode_counters(self.delivered_keys);
            f.write_all_at(&c, at)
                .map_err(io("writing compacted file"))?;
            at += c.len() as u64;
            let mut offsets = Vec::with_capacity(self.entries.len());
            for b in self.blocks.values() {
                let entries: Vec<(Uuid, Option<&[u8]>)> = b
                    .ids
                    .iter()
                    .map(|id| (*id, self.entries.get(id).map(|e| e.key.expose())))
                    .collect();
                let (rec, offs) = encode_block(b.index, &b.link.0, &b.link.1, &entries);
                for ((id, k), off) in entries.iter().zip(offs) {
                    if k.is_some() {
                        offsets.push((*id, at + off as u64));
                    }
                }
                f.write_all_at(&rec, at)
                    .map_err(io("writing compacted file"))?;
                at += rec.len() as u64;
            }
            f.sync_all().map_err(io("syncing compacted file"))?;
            Ok((at, offsets))
        })();
        let (end, offsets) = match written {
            Ok(x) => x,
            Err(e) => {
                drop(f);
                let _ = remove_stale_tmp(&tmp);
                return Err(e);
            }
        };
        if let Err(e) = std::fs::rename(&tmp, &self.path) {
            drop(f);
            let _ = remove_stale_tmp(&tmp);
            return Err(io("renaming compacted file")(e));
        }
        // The new file is in place from here on.
        let old = std::mem::replace(&mut self.file, f);
        for (id, off) in offsets {
            if let Some(e) = self.entries.get_mut(&id) {
                let old_off = std::mem::replace(&mut e.key_offset, off);
                let _ = old.write_all_at(&vec![0u8; e.key.len_bytes() + 4], old_off);
            }
        }
        let before = self.end_offset;
        self.end_offset = end;
        // Delivered IDs outside the kept blocks are no longer recorded.
        let kept: HashSet<Uuid> = self
            .blocks
            .values()
            .flat_map(|b| b.ids.iter().copied())
            .collect();
        self.consumed.retain(|id| kept.contains(id));
        self.compactions += 1;
        old.sync_data()
            .map_err(self.io_err("syncing old copy erasure"))?;
        sync_dir(&self.path).map_err(self.io_err("syncing directory after compaction"))?;
        tracing::info!(path = %self.path.display(), bytes_before = before, bytes = end,
            stored_keys = self.entries.len(), "key store compacted");
        Ok(())
    }

    fn matches(&self, e: &Entry, master: &str, slave: &str, key_bytes: Option<usize>) -> bool {
        self.blocks
            .get(&e.block)
            .is_some_and(|b| &*b.link.0 == master && &*b.link.1 == slave)
            && key_bytes.is_none_or(|n| e.key.len_bytes() == n)
    }

    /// Number of undelivered keys for the link `master -> slave`, of exactly
    /// `key_bytes` bytes if given.
    pub fn available(&self, master_sae: &str, slave_sae: &str, key_bytes: Option<usize>) -> usize {
        self.entries
            .values()
            .filter(|e| self.matches(e, master_sae, slave_sae, key_bytes))
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

    /// Recovery and maintenance counters.
    pub fn health(&self) -> StoreHealth {
        StoreHealth {
            torn_tails_cut: self.torn_tails_cut,
            torn_bytes_cut: self.torn_bytes_cut,
            compactions: self.compactions,
            max_key_count: self.opts.max_key_count.unwrap_or(0),
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
            .filter(|id| self.matches(&self.entries[*id], master_sae, slave_sae, Some(key_bytes)))
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
                Some(e) if self.matches(e, master_sae, slave_sae, None) => {}
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
        let mut out = Vec::with_capacity(ids.len());
        let mut erase_result = Ok(());
        for chunk in ids.chunks(MAX_IDS_PER_RECORD) {
            let rec = encode_consumed(chunk);
            let at = self.end_offset;
            if let Err(e) = self.file.write_all_at(&rec, at) {
                let _ = self.file.set_len(at);
                return Err(self.io_err("appending consumed record")(e));
            }
            // Durable delivery state before any key leaves the store.
            if let Err(e) = self.file.sync_data() {
                let _ = self.file.set_len(at);
                return Err(self.io_err("syncing consumed record")(e));
            }
            self.end_offset += rec.len() as u64;
            self.delivered_keys += chunk.len() as u64;
            let mut touched = Vec::new();
            for id in chunk {
                let e = self.entries.remove(id).expect("checked by caller");
                self.order.remove(&e.seq);
                self.consumed.insert(*id);
                if let Some(b) = self.blocks.get_mut(&e.block) {
                    b.live -= 1;
                    touched.push(e.block);
                }
                if erase_result.is_ok() {
                    erase_result = self.erase_at(e.key_offset, e.key.len_bytes());
                }
                let link = &self.blocks[&e.block].link;
                out.push(DeliveredKey {
                    key_id: *id,
                    master_sae: link.0.to_string(),
                    slave_sae: link.1.to_string(),
                    key: e.key,
                });
            }
            touched.dedup();
            for b in touched {
                self.refresh_block(b);
            }
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
        self.maybe_compact();
        Ok(out)
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".compact-tmp");
    PathBuf::from(s)
}

/// Removes a temporary compaction file left by a crash, zeroing it first
/// (it holds copies of live keys).
fn remove_stale_tmp(tmp: &Path) -> std::io::Result<()> {
    match OpenOptions::new().write(true).open(tmp) {
        Ok(f) => {
            let len = f.metadata()?.len();
            let zeros = vec![0u8; 1 << 16];
            let mut at = 0;
            while at < len {
                let n = (len - at).min(zeros.len() as u64) as usize;
                f.write_all_at(&zeros[..n], at)?;
                at += n as u64;
            }
            f.sync_data()?;
            drop(f);
            std::fs::remove_file(tmp)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

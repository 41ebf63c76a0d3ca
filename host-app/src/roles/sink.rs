// SPDX-License-Identifier: MIT OR Apache-2.0
//! Where a role's committed keys go: the key store file alone, or the
//! store of a serving KME (ETSI GS QKD 014), which also shows the link state.
//! A block is appended as one CRC-framed record (`KeyStore::append_block`):
//! after a crash at any byte it is wholly in the store or wholly absent, and
//! a restart compares its contents, not its first key ID.

use qkd_kme::store::{BlockAppend, BlockStatus};
use qkd_kme::{KeyStore, StoreError, Uuid};

pub(super) enum Sink {
    Store(KeyStore),
    Kme(qkd_kme::BlockingKmeHandle),
}

impl Sink {
    fn with<R>(&mut self, f: impl FnOnce(&mut KeyStore) -> R) -> R {
        match self {
            Sink::Store(s) => f(s),
            Sink::Kme(h) => f(&mut h.handle().store().lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Appends block `block` (keys in order), or finds it already stored
    /// with the same contents.
    pub(super) fn append_block(
        &mut self,
        block: u64,
        keys: &[(Uuid, &[u8])],
        master: &str,
        slave: &str,
    ) -> Result<BlockAppend, StoreError> {
        self.with(|s| s.append_block(block, keys, master, slave))
    }

    /// Whether block `block` with these keys is in the store.
    pub(super) fn block_status(
        &mut self,
        block: u64,
        keys: &[(Uuid, &[u8])],
        master: &str,
        slave: &str,
    ) -> BlockStatus {
        self.with(|s| s.block_status(block, keys, master, slave))
    }

    /// Keys that can still be appended (`None`: no limit).
    pub(super) fn free_key_slots(&mut self) -> Option<u64> {
        self.with(|s| s.free_key_slots())
    }

    /// The last block stored for the link, if any.
    pub(super) fn last_block(&mut self, master: &str, slave: &str) -> Option<u64> {
        self.with(|s| s.last_block_index(master, slave))
    }

    /// Path of the store file.
    pub(super) fn path(&mut self) -> std::path::PathBuf {
        self.with(|s| s.path().to_path_buf())
    }

    pub(super) fn set_link(&self, l: qkd_kme::LinkState) {
        if let Sink::Kme(h) = self {
            h.handle().set_link_state(l);
        }
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Where a role's committed keys go: the key store file alone, or the
//! store of a serving KME (ETSI GS QKD 014), which also shows the link state.

use qkd_kme::Uuid;

pub(super) enum Sink {
    Store(qkd_kme::KeyStore),
    Kme(qkd_kme::BlockingKmeHandle),
}

impl Sink {
    pub(super) fn append(
        &mut self,
        keys: &[(Uuid, &[u8])],
        master: &str,
        slave: &str,
    ) -> Result<(), qkd_kme::StoreError> {
        match self {
            Sink::Store(s) => s.append_confirmed_batch(keys, master, slave),
            Sink::Kme(h) => h
                .handle()
                .store()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .append_confirmed_batch(keys, master, slave),
        }
    }
    pub(super) fn set_link(&self, l: qkd_kme::LinkState) {
        if let Sink::Kme(h) = self {
            h.handle().set_link_state(l);
        }
    }
}

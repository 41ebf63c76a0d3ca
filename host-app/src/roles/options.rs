// SPDX-License-Identifier: MIT OR Apache-2.0
//! What a role runs with (options), how it can fail (errors) and what it
//! reports when it ends (summary).

use crate::config::LinkConfig;
use crate::linkstate::StateError;
use qkd_abi::Role;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a role's keys go: the store file alone, or a serving KME.
#[derive(Debug, Clone)]
pub struct KmeOptions {
    /// HTTPS listen address of the ETSI 014 API.
    pub listen: SocketAddr,
    /// Plain-HTTP operations listener (`/status`, `/metrics`), loopback.
    pub ops_listen: Option<SocketAddr>,
    /// TLS files.
    pub tls: qkd_kme::TlsFiles,
    /// This KME's ID.
    pub kme_id: String,
    /// The peer KME's ID.
    pub peer_kme_id: String,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RoleOptions {
    /// Alice (listens) or Bob (connects).
    pub role: Role,
    /// Device URI.
    pub device: String,
    /// Alice: listen address; Bob: address to connect to.
    pub addr: String,
    /// Pre-shared key file (used only while the state directory has no pool).
    pub psk: PathBuf,
    /// The link.
    pub config: LinkConfig,
    /// Seed of the simulated fiber (`sim:` devices).
    pub seed: u64,
    /// Pulses the simulated link runs (`sim:` devices).
    pub pulses: u64,
    /// Eve's attack on the simulated fiber (`sim:` devices; both ends must agree).
    #[cfg(feature = "sim")]
    pub attack: qkd_sim::physics::AttackConfig,
    /// Slots per data window.
    pub window_pulses: u64,
    /// Durable state directory (pool, pending block, key store).
    pub state_dir: PathBuf,
    /// Link name: the key IDs derive from it.
    pub link_name: String,
    /// Master SAE (calls enc_keys at Alice's KME).
    pub master_sae: String,
    /// Slave SAE (calls dec_keys at Bob's KME).
    pub slave_sae: String,
    /// Size of each delivered key, bits (multiple of 8).
    pub key_size_bits: u32,
    /// Undelivered keys the key store holds at most; a block that would
    /// pass it is held at both ends until applications fetch keys.
    pub max_key_count: u64,
    /// Serve the ETSI 014 API.
    pub kme: Option<KmeOptions>,
    /// Give up reconnecting after this long without a session.
    pub reconnect_timeout: Duration,
    /// Keep serving the API after the link ended (until killed).
    pub serve_after_end: bool,
    /// Classical-channel receive timeout.
    pub recv_timeout: Duration,
}

/// Errors that end a role.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleError {
    /// Bad options.
    #[error("{0}")]
    Config(String),
    /// State directory.
    #[error("state directory")]
    State(#[from] StateError),
    /// Device.
    #[error("device")]
    Driver(#[from] qkd_driver::Error),
    /// The pre-shared key.
    #[error("pre-shared key")]
    Psk(#[from] qkd_keyproc::keyfile::KeyFileError),
    /// Authentication pool.
    #[error("authentication pool: {0}")]
    Auth(#[from] qkd_keyproc::auth::AuthError),
    /// Key store.
    #[error("key store")]
    Store(#[from] qkd_kme::StoreError),
    /// KME server.
    #[error("KME server")]
    Kme(#[from] qkd_kme::KmeError),
    /// Network (listen, connect).
    #[error("{what}")]
    Net {
        /// What failed.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The two ends disagree in a way no reconnection can repair.
    #[error("link state: {0}")]
    Inconsistent(String),
    /// The key store and the state files disagree, or one of them is lost
    /// (the message names the files and what to do); never worked around.
    #[error("key store and state directory: {0}")]
    StoreState(String),
    /// No progress (no authenticated session opening, no committed block)
    /// for the reconnect timeout.
    #[error("no progress with the peer for {after:?} (last: {why}); giving up")]
    NoProgress {
        /// The timeout that ran out.
        after: Duration,
        /// The last reason a connection or session failed.
        why: String,
    },
    /// The authentication pad pool cannot pay for another block: key
    /// production paused (for the reconnect timeout) and the role gave up.
    #[error(
        "key production paused: the authentication pad pool holds {send_pads} send and \
         {recv_pads} receive pads, a block needs {needed} per direction; \
         provision a new pre-shared key (qkd-host psk) and a fresh state directory"
    )]
    Paused {
        /// Send pads left.
        send_pads: u64,
        /// Receive pads left.
        recv_pads: u64,
        /// Pads per direction a block needs.
        needed: u64,
    },
}

/// Summary printed when a role ends.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoleSummary {
    /// Sessions (connections) used.
    pub sessions: u64,
    /// Blocks processed (key or aborted) over all sessions.
    pub blocks: u64,
    /// Blocks aborted.
    pub aborted_blocks: u64,
    /// Key blocks committed to the store (total, including earlier runs).
    pub committed_blocks: u64,
    /// Keys (units of `key_size_bits`) committed by this run.
    pub committed_keys: u64,
    /// Pending blocks discarded because the peer did not hold them.
    pub discarded_blocks: u64,
    /// QBER (Z, signal) of the last completed block.
    pub qber: Option<f64>,
    /// Secret bits the pipelines made by this run (before the pool refill).
    pub secret_bits: u64,
    /// Key bits stored for delivery by this run (secret bits less the pool
    /// refill, in whole keys).
    pub stored_bits: u64,
    /// Authentication pad bits this run spent (both directions, 128 per pad).
    pub auth_bits: u64,
    /// Pads left in the pool at the end (send, receive).
    pub pool_pads: (u64, u64),
    /// Windows fed.
    pub windows: u64,
    /// Wall seconds.
    pub wall_seconds: f64,
}

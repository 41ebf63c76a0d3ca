//! qkd-kme: key management entity of the QKD stack. A durable key store
//! ([`store`]), the ETSI GS QKD 014 v1.1.1 key-delivery REST API ([`api`])
//! served over HTTPS with mutual TLS ([`server`]), a test PKI maker
//! ([`certs`]) and operations data ([`ops`]). See `kme/README.md`.

pub mod api;
pub mod certs;
pub mod ops;
pub mod server;
pub mod store;

pub use api::{ApiConfig, LinkConfig, SaeIdentity, Side};
pub use ops::{KmeStatus, LinkPhase, LinkState};
pub use server::{
    BlockingKmeHandle, ConnectionCounts, Kme, KmeConfig, KmeError, KmeHandle, ServerLimits,
    TlsFiles,
};
pub use store::{
    BlockAppend, BlockStatus, DeliveredKey, KeyBytes, KeyStore, StoreError, StoreHealth,
    StoreOptions,
};
pub use uuid::Uuid;

/// Key ID both ends of a link derive without talking: UUID version 5
/// (RFC 4122 section 4.3, SHA-1 name-based) in the namespace `link_id` of
/// the name `block_index (u64 LE) || key_index (u32 LE)`.
pub fn derive_key_id(link_id: Uuid, block_index: u64, key_index: u32) -> Uuid {
    let mut name = [0u8; 12];
    name[..8].copy_from_slice(&block_index.to_le_bytes());
    name[8..].copy_from_slice(&key_index.to_le_bytes());
    Uuid::new_v5(&link_id, &name)
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The authentication pad budget of a link: how many 128-bit Wegman-Carter
//! pads (Wegman & Carter, JCSS 22, 265, 1981: one pad per tag) a session
//! opening and a key block may spend, the reserve each end keeps, and the
//! pre-shared key sizes that follow from them.
//!
//! Every classical message of a block is covered by a tag over the block's
//! transcript at a fixed number of decision points (`qkd_keyproc::auth`,
//! transcript mode), so the cost per block does not depend on how many
//! round trips error correction needs.

/// Bytes of one one-time pad (one tag).
pub const PAD_BYTES: usize = 16;
/// Bytes of the long-term universal-hash key at the head of a pre-shared key.
pub const HASH_KEY_BYTES: usize = 16;

/// Pads per direction one key block may spend, its commit exchange included.
pub const MAX_PADS_PER_BLOCK: u64 = 8;
/// Pads per direction one session opening (HELLO and the opening commit
/// exchange) may spend.
pub const MAX_PADS_PER_SESSION_OPEN: u64 = 4;
/// The fewest pads per direction with which a session can open and run
/// one block.
pub const MIN_PADS_PER_DIRECTION: u64 = MAX_PADS_PER_SESSION_OPEN + MAX_PADS_PER_BLOCK;
/// Default reserve per direction kept back from delivery: refilled from
/// each new block before any key goes to applications (16 blocks).
pub const DEFAULT_RESERVE_PADS: u64 = 16 * MAX_PADS_PER_BLOCK;

/// The smallest pre-shared key `qkd-host psk` writes and the roles accept:
/// the hash key and [`MIN_PADS_PER_DIRECTION`] pads for each direction.
pub const MIN_PSK_BYTES: usize = HASH_KEY_BYTES + 2 * PAD_BYTES * MIN_PADS_PER_DIRECTION as usize;
/// The largest pre-shared key `qkd-host psk` writes (1 MiB, 32767 pads per
/// direction; a link refills its pads from its own key).
pub const MAX_PSK_BYTES: usize = 1 << 20;

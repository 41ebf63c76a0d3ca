// SPDX-License-Identifier: MIT OR Apache-2.0
//! The two-phase commit of a key block between the two roles. When both
//! pipelines return a key for block g (verified and authenticated by the
//! pipeline's last checkpoint), each end writes it durably as pending
//! (`linkstate`), then
//! ```text
//!  A->B SYNC       committed blocks, pending block, room
//!  B->A SYNC_REPLY committed blocks, pending block, room
//!       checkpoint exchange (both directions)
//!       Alice commits g (key store, fsync) if Bob holds it and both stores
//!       have room for it, holds it if Bob holds it and a store is full,
//!       else discards it
//!  A->B SYNC_DONE  committed blocks after Alice's decision, held, checkpoint
//!       Bob commits g if Alice did, holds it if she held it, else discards
//! ```
//! Each decision is taken only on authenticated messages. The same exchange
//! opens every session, so a drop or crash at any point resolves at the
//! next connection: Alice commits only keys Bob holds durably, Bob only
//! keys Alice committed. Key IDs are `derive_key_id(ns, g, i)`, `ns` the
//! link's name and epoch (`roles::key_id_namespace`).
//!
//! Committing block g appends it to the key store as one CRC-framed record
//! (`KeyStore::append_block`: wholly present or wholly absent after a crash
//! at any byte), then records it in `pool.committed`, then removes
//! `pool.pending`. A restart that finds g still pending compares the
//! store's block g with the pending keys (IDs and bytes): the same block
//! completes the commit without a second write, an absent one is appended
//! (or discarded, if the peer does not hold it), and different contents, or
//! a block in the store that the peer does not hold (its keys may have been
//! served), stop the role with an error naming the store.
//!
//! A full key store (`--max-key-count`, the ETSI GS QKD 014 limit) never
//! loses a block: both ends keep it pending, key production pauses (the
//! link state says "paused" and why), each end waits until its own store
//! can take the block, and the exchange at the next session commits it.

use super::end::End;
use super::{broken, msg, u64_at, RoleError, RoleRun, SessionEnd, NO_PENDING};
use crate::linkstate::{Committed, LastStored, Pending};
use crate::pipeline::BlockSummary;
use qkd_abi::Role;
use qkd_keyproc::auth::AuthChannel;
use qkd_keyproc::channel::{ClassicalChannel, Frame};
use qkd_kme::store::{BlockAppend, BlockStatus};
use qkd_kme::{derive_key_id, Uuid};
use zeroize::Zeroizing;

/// Fault injection for tests (`tests/two_host.rs`): with
/// `QKD_HOST_CRASH_AT=POINT:BLOCK` the process exits at once (no cleanup
/// beyond what is already durable) at that point of the commit of that key
/// block: `key` (both pipelines made the key, not yet durable), `pending`
/// (durable as pending, before SYNC), `appended` (in the key store, not yet
/// in `pool.committed`), `committed` (this end committed it; Alice has not
/// yet sent SYNC_DONE).
fn crash_point(point: &str, block: u64) {
    if let Ok(v) = std::env::var("QKD_HOST_CRASH_AT") {
        if v == format!("{point}:{block}") {
            tracing::error!(point, block, "QKD_HOST_CRASH_AT: exiting now");
            std::process::exit(86);
        }
    }
}

/// A SYNC or SYNC_REPLY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sync {
    /// Key blocks the sender committed.
    pub committed: u64,
    /// The sender's pending block and its number of keys.
    pub pending: Option<(u64, u32)>,
    /// Whether the sender's key store can take its pending block.
    pub room: bool,
}

impl Sync {
    /// `committed u64 | pending block u64 (u64::MAX: none) | keys u32 |
    /// room u8 (0 or 1)`, little-endian, 21 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (b, n) = self.pending.unwrap_or((NO_PENDING, 0));
        let mut m = self.committed.to_le_bytes().to_vec();
        m.extend_from_slice(&b.to_le_bytes());
        m.extend_from_slice(&n.to_le_bytes());
        m.push(u8::from(self.room));
        m
    }
}

/// Parse a SYNC / SYNC_REPLY payload (`None`: malformed).
pub fn parse_sync(b: &[u8]) -> Option<Sync> {
    if b.len() != 21 || b[20] > 1 {
        return None;
    }
    let c = u64_at(b, 0)?;
    let p = u64_at(b, 8)?;
    let mut n = [0u8; 4];
    n.copy_from_slice(&b[16..20]);
    let n = u32::from_le_bytes(n);
    if p == NO_PENDING && n != 0 {
        return None;
    }
    Some(Sync {
        committed: c,
        pending: (p != NO_PENDING).then_some((p, n)),
        room: b[20] == 1,
    })
}

/// SYNC_DONE flags: the block stays pending because Alice's / Bob's key
/// store cannot take it.
const HELD_ALICE_FULL: u8 = 1;
const HELD_BOB_FULL: u8 = 2;

/// Parse a SYNC_DONE payload: `committed u64 | held u8` (`None`: malformed).
pub fn parse_sync_done(b: &[u8]) -> Option<(u64, u8)> {
    if b.len() != 9 || b[8] & !(HELD_ALICE_FULL | HELD_BOB_FULL) != 0 {
        return None;
    }
    Some((u64_at(b, 0)?, b[8]))
}

/// Why a block is held, for the status and the log.
fn held_reason(flags: u8, block: u64) -> String {
    let who = match flags {
        HELD_ALICE_FULL => "alice's",
        HELD_BOB_FULL => "bob's",
        _ => "both",
    };
    format!(
        "key store full: block {block} held at both ends until {who} key store{} room \
         (applications fetch keys, or raise --max-key-count)",
        if flags == HELD_ALICE_FULL | HELD_BOB_FULL {
            "s have"
        } else {
            " has"
        }
    )
}

impl RoleRun {
    /// Both pipelines produced a key: make it durable as pending.
    pub(super) fn on_key<E: End>(&mut self, p: &mut E, s: &BlockSummary) -> Result<(), RoleError> {
        let unit = (self.o.key_size_bits / 8) as usize;
        let mut key = Zeroizing::new(Vec::new());
        while let Some((_, k)) = p.keys().pop() {
            // Whole bytes only (the pipeline's keys are byte-aligned in
            // practice; a trailing partial byte is dropped on both ends).
            let bytes = k.to_bytes();
            key.extend_from_slice(&bytes[..k.len_bits().get() as usize / 8]);
        }
        let units: Vec<Zeroizing<Vec<u8>>> = key[..]
            .chunks_exact(unit)
            .map(|c| Zeroizing::new(c.to_vec()))
            .collect();
        let bits = units.len() * unit * 8;
        crash_point("key", self.committed.next_block);
        let pending = Pending {
            block: self.committed.next_block,
            units,
            pool: p.chan().pool().export(),
        };
        tracing::info!(
            block = pending.block,
            session_block = s.block_index,
            keys = pending.units.len(),
            secret_bits = s.secret_bits,
            pool_refill_bits = s.auth_replenished_bits,
            "key produced; pending commit"
        );
        self.summary.stored_bits += bits as u64;
        self.summary.secret_bits += s.secret_bits;
        self.state.store_pending(&pending)?;
        crash_point("pending", pending.block);
        self.pending = Some(pending);
        Ok(())
    }

    /// Key IDs of a pending block, in order.
    fn block_ids(&self, p: &Pending) -> Result<Vec<Uuid>, RoleError> {
        let ns = self.key_ids()?;
        Ok((0..p.units.len())
            .map(|i| derive_key_id(ns, p.block, i as u32))
            .collect())
    }

    fn commit(&mut self, p: Pending) -> Result<(), RoleError> {
        let ids = self.block_ids(&p)?;
        let keys: Vec<(Uuid, &[u8])> = ids
            .iter()
            .zip(&p.units)
            .map(|(id, u)| (*id, &u[..]))
            .collect();
        let (m, s) = (&self.o.master_sae, &self.o.slave_sae);
        if !keys.is_empty() {
            match self.sink.append_block(p.block, &keys, m, s) {
                Ok(BlockAppend::Appended) => {}
                // Appended before a crash that came before pool.committed
                // was written: the same IDs and key bytes are stored.
                Ok(BlockAppend::AlreadyStored) => tracing::info!(
                    block = p.block,
                    "block already in the key store with the same contents; completing its commit"
                ),
                Err(
                    e @ (qkd_kme::StoreError::BlockMismatch { .. }
                    | qkd_kme::StoreError::BlockOutOfOrder { .. }),
                ) => {
                    return Err(RoleError::StoreState(format!(
                        "key store {}: {e}; the key store and pool.pending of this end disagree \
                         (a store or state file restored from another time or link?). Keep both \
                         for inspection; restore the state directory from one backup, or start \
                         the link over with empty state directories at both ends",
                        self.sink.path().display()
                    )))
                }
                Err(e) => return Err(e.into()),
            }
            crash_point("appended", p.block);
        }
        self.summary.committed_keys += keys.len() as u64;
        let last_stored = match self.sink.last_block(m, s) {
            Some(b) => LastStored::Block(b),
            None => LastStored::Nothing,
        };
        let c = Committed {
            next_block: p.block + 1,
            last_stored,
            epoch: self.committed.epoch,
            pool: p.pool.clone(),
        };
        self.state.store_committed(&c)?;
        self.committed = c;
        self.state.clear_pending()?;
        tracing::info!(block = p.block, keys = keys.len(), "block committed");
        crash_point("committed", p.block);
        Ok(())
    }

    fn discard(&mut self, p: Pending) -> Result<(), RoleError> {
        let ids = self.block_ids(&p)?;
        let keys: Vec<(Uuid, &[u8])> = ids
            .iter()
            .zip(&p.units)
            .map(|(id, u)| (*id, &u[..]))
            .collect();
        if !keys.is_empty() {
            let (m, s) = (&self.o.master_sae, &self.o.slave_sae);
            let status = self.sink.block_status(p.block, &keys, m, s);
            if status != BlockStatus::Absent {
                // A block this end appended can only be rolled back while
                // none of it was served; the protocol never gets here
                // unless a peer's state file or store was lost or restored.
                return Err(RoleError::StoreState(format!(
                    "block {} must be discarded (the peer does not hold it) but the key store {} \
                     has it ({status:?}): its keys may have been served, so it cannot be rolled \
                     back. The peer's pool.pending, pool.committed or key store was lost or \
                     restored from an older copy; restore it, or start the link over with empty \
                     state directories at both ends",
                    p.block,
                    self.sink.path().display()
                )));
            }
        }
        tracing::warn!(
            block = p.block,
            "pending block discarded: the peer does not hold it"
        );
        self.summary.discarded_blocks += 1;
        self.summary.stored_bits = self
            .summary
            .stored_bits
            .saturating_sub(p.units.iter().map(|u| u.len() as u64 * 8).sum());
        self.state.clear_pending().map_err(RoleError::from)
    }

    fn sync_msg(&mut self) -> Vec<u8> {
        Sync {
            committed: self.committed.next_block,
            pending: self
                .pending
                .as_ref()
                .map(|p| (p.block, p.units.len() as u32)),
            room: self.has_room(),
        }
        .encode()
    }

    /// Keep the pending block after an exchange that held it.
    fn hold(&mut self, p: Pending, flags: u8) -> Option<SessionEnd> {
        let reason = held_reason(flags, p.block);
        if self.held.as_deref() != Some(&reason) {
            tracing::warn!(block = p.block, %reason, "key production paused");
        }
        self.held = Some(reason);
        self.pending = Some(p);
        Some(SessionEnd::Held)
    }

    /// The two-phase commit exchange. `Ok(Some(_))`: the session broke.
    pub(super) fn sync<C: ClassicalChannel>(
        &mut self,
        chan: &mut AuthChannel<C>,
    ) -> Result<Option<SessionEnd>, RoleError> {
        let t = self.o.recv_timeout;
        let mut held = None;
        macro_rules! net {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Ok(Some(broken(e))),
                }
            };
        }
        match self.o.role {
            Role::Alice => {
                let m = self.sync_msg();
                net!(chan.send(&Frame::new(msg::SYNC, m)));
                let r = net!(chan.recv_type(msg::SYNC_REPLY, t));
                // SYNC_REPLY authenticated before Alice decides.
                net!(chan.send_checkpoint());
                net!(chan.recv_checkpoint(t));
                let Some(Sync {
                    committed: c_b,
                    pending: p_b,
                    room: b_room,
                }) = parse_sync(&r)
                else {
                    return Ok(Some(broken("malformed SYNC_REPLY")));
                };
                let a_room = self.has_room();
                let mut flags = 0;
                if let Some(p) = self.pending.take() {
                    let bob_holds = match p_b {
                        Some((b, n)) if b == p.block => {
                            if n as usize != p.units.len() {
                                return Err(RoleError::Inconsistent(format!(
                                    "block {}: Bob holds {n} keys, Alice {}",
                                    p.block,
                                    p.units.len()
                                )));
                            }
                            true
                        }
                        _ => c_b > p.block,
                    };
                    let b_full = p_b.is_some_and(|(b, _)| b == p.block) && !b_room;
                    flags = if bob_holds && (!a_room || b_full) {
                        u8::from(!a_room) * HELD_ALICE_FULL + u8::from(b_full) * HELD_BOB_FULL
                    } else {
                        0
                    };
                    if flags != 0 {
                        held = self.hold(p, flags);
                    } else if bob_holds {
                        self.commit(p)?;
                    } else {
                        self.discard(p)?;
                    }
                }
                let c_a = self.committed.next_block;
                let mut done = c_a.to_le_bytes().to_vec();
                done.push(flags);
                net!(chan.send(&Frame::new(msg::SYNC_DONE, done)));
                net!(chan.send_checkpoint());
                let bob_final = match p_b {
                    Some((g, _)) if c_a > g => g + 1,
                    _ => c_b,
                };
                if bob_final != c_a {
                    return Err(RoleError::Inconsistent(format!(
                        "key stores out of step: Alice committed {c_a} blocks, Bob {bob_final}"
                    )));
                }
            }
            Role::Bob => {
                let a = net!(chan.recv_type(msg::SYNC, t));
                if parse_sync(&a).is_none() {
                    return Ok(Some(broken("malformed SYNC")));
                }
                let m = self.sync_msg();
                net!(chan.send(&Frame::new(msg::SYNC_REPLY, m)));
                net!(chan.send_checkpoint());
                net!(chan.recv_checkpoint(t));
                let d = net!(chan.recv_type(msg::SYNC_DONE, t));
                // SYNC_DONE authenticated before Bob decides.
                net!(chan.recv_checkpoint(t));
                let Some((c_a, flags)) = parse_sync_done(&d) else {
                    return Ok(Some(broken("malformed SYNC_DONE")));
                };
                if let Some(p) = self.pending.take() {
                    if flags != 0 && c_a == p.block {
                        held = self.hold(p, flags);
                    } else if c_a > p.block {
                        self.commit(p)?;
                    } else {
                        self.discard(p)?;
                    }
                }
                if self.committed.next_block != c_a {
                    return Err(RoleError::Inconsistent(format!(
                        "key stores out of step: Alice committed {c_a} blocks, Bob {}",
                        self.committed.next_block
                    )));
                }
            }
        }
        if held.is_none() && self.held.take().is_some() {
            tracing::info!("key stores have room again; key production resumes");
        }
        Ok(held)
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Durable write-ahead reservations of a role (`linkstate::Progress`) and
//! the classical channel that makes them before a pad leaves: a pad this
//! end may have sent with is never used again after a crash (Wegman &
//! Carter, JCSS 22, 265, 1981: one pad per tag), and sifted data of a
//! window that may have reached a pipeline is never fed again.

use crate::linkstate::{Progress, StateDir, StateError};
use qkd_keyproc::auth::MSG_CHECKPOINT;
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, TcpChannel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The role's `progress` file and its in-memory copy.
pub(super) struct Keeper {
    pub(super) dir: StateDir,
    pub(super) p: Progress,
}

impl Keeper {
    /// Durably allow send pads below `pos + 1` (before pad `pos` is used).
    pub(super) fn reserve_send(&mut self, pos: u64) -> Result<(), StateError> {
        if pos >= self.p.send_reserved {
            self.p.send_reserved = pos + 1;
            self.dir.store_progress(self.p)?;
        }
        Ok(())
    }
    /// Durably record that window `w` may be fed.
    pub(super) fn reserve_window(&mut self, w: u64) -> Result<(), StateError> {
        if w >= self.p.fed_windows {
            self.p.fed_windows = w + 1;
            self.dir.store_progress(self.p)?;
        }
        Ok(())
    }
    /// Replace the whole state (session opening).
    pub(super) fn store(&mut self, p: &Progress) -> Result<(), StateError> {
        self.p = *p;
        self.dir.store_progress(self.p)
    }
}

/// Lock a keeper; a poisoned lock still holds consistent data (every
/// update is one assignment followed by a file write).
pub(super) fn lock(k: &Mutex<Keeper>) -> std::sync::MutexGuard<'_, Keeper> {
    k.lock().unwrap_or_else(|e| e.into_inner())
}

/// The TCP channel under a transcript-mode `AuthChannel`: checkpoints are
/// the only frames that use a pad, and before the checkpoint at absolute
/// send position p leaves, `progress` says at least p + 1.
pub(super) struct CountingChannel {
    pub(super) inner: TcpChannel,
    pub(super) keeper: Arc<Mutex<Keeper>>,
    /// Absolute send position of the next checkpoint.
    pub(super) next_send: u64,
}

impl ClassicalChannel for CountingChannel {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        if frame.msg_type == MSG_CHECKPOINT {
            lock(&self.keeper)
                .reserve_send(self.next_send)
                .map_err(|e| ChannelError::Io(std::io::Error::other(e.to_string())))?;
            self.next_send += 1;
        }
        self.inner.send(frame)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        self.inner.recv(timeout)
    }
}

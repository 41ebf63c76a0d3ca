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
            self.p.send_reserved = next(pos, "send pad position")?;
            self.dir.store_progress(self.p)?;
        }
        Ok(())
    }
    /// Durably record that window `w` may be fed. `w` can follow the peer's
    /// announced window count: never wrapped to 0 (which would let windows
    /// be fed again).
    pub(super) fn reserve_window(&mut self, w: u64) -> Result<(), StateError> {
        if w >= self.p.fed_windows {
            self.p.fed_windows = next(w, "window number")?;
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

/// `v + 1`, or [`StateError::OutOfRange`] at `u64::MAX`.
fn next(v: u64, what: &'static str) -> Result<u64, StateError> {
    v.checked_add(1)
        .ok_or(StateError::OutOfRange { what, value: v })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a window or pad position at `u64::MAX` (a peer's HELLO can
    /// announce the window count) is a typed error, not a wrap of the
    /// reservation to 0; the progress file keeps its earlier values.
    #[test]
    fn reservations_at_the_top_of_u64_are_refused_not_wrapped() {
        let t = tempfile::tempdir().unwrap();
        let dir = StateDir::open(t.path()).unwrap();
        let mut k = Keeper {
            dir: dir.clone(),
            p: Progress::default(),
        };
        k.reserve_window(4).unwrap();
        k.reserve_send(9).unwrap();
        let e = k.reserve_window(u64::MAX).unwrap_err();
        assert!(
            matches!(
                e,
                StateError::OutOfRange {
                    value: u64::MAX,
                    ..
                }
            ),
            "{e}"
        );
        assert!(matches!(
            k.reserve_send(u64::MAX),
            Err(StateError::OutOfRange { .. })
        ));
        let p = dir.load_progress().unwrap();
        assert_eq!((p.fed_windows, p.send_reserved), (5, 10));
        k.reserve_window(u64::MAX - 1).unwrap();
        assert_eq!(dir.load_progress().unwrap().fed_windows, u64::MAX);
    }
}

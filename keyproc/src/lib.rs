// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-keyproc: information-theoretic post-processing primitives of the QKD
//! key pipeline (issue 6, items 4-8): packed key bits and key material
//! ([`bits`], [`key`], [`keyfile`]), Cascade reconciliation behind a generic
//! [`reconcile::Reconciler`] ([`cascade`]), universal-hash verification
//! ([`verify`]), Toeplitz privacy amplification ([`privacy`]) and a framed,
//! Wegman-Carter authenticated classical channel ([`channel`], [`auth`]).
//! Key material is zeroized on drop and never printed.

pub mod auth;
pub mod bits;
pub mod cascade;
pub mod channel;
pub mod key;
pub mod keyfile;
pub mod ldpc;
pub mod privacy;
pub mod reconcile;
pub mod verify;

pub use bits::{BitVec, Bits};
pub use cascade::{Cascade, CascadeConfig, CascadeResponder, InMemoryPeer, ParityPeer};
pub use channel::{ClassicalChannel, Frame, InProcChannel, TcpChannel};
pub use key::{RawKey, SecretKey};
pub use reconcile::{ReconcilePeer, ReconcileReport, ReconcileResponder, Reconciler};

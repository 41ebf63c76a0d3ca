// SPDX-License-Identifier: MIT OR Apache-2.0
//! qkd-abi: the one contract between the QKD gateware and its hosts.
//!
//! * [`regmap`]: the register maps of both roles (Alice, Bob) as plain Rust
//!   data. The gateware's CSR decode, the driver's typed accessors and the
//!   exported `csr.json`, C header and Markdown tables are all derived from it.
//! * [`records`]: the 64-bit little-endian stream records (DETECTION,
//!   ALICE_SYMBOLS, STATUS, GAP, EPOCH) with typed encode/decode.
//! * [`symbol`]: Alice's 4-bit per-slot symbol (intensity class, basis, bit).
//! * [`pcie`]: the boards' PCIe BAR layout (user BAR, XDMA DMA BAR).
//! * [`export`]: LiteX-compatible `csr.json`, C header and Markdown exports.
//!
//! No rust-hdl, no OS code: every other crate may depend on this one.

pub mod export;
pub mod pcie;
pub mod records;
pub mod regmap;
pub mod symbol;

pub use records::{DecodeError, EncodeError, Record};
pub use regmap::{Access, Field, GenParams, Register, RegisterBlock, RegisterMap, Role};

/// `MAGIC` register value at offset 0 of every QKD core: ASCII "QKD1".
pub const MAGIC: u32 = 0x514B_4431;
/// ABI major version: bumped on any incompatible register or record change.
pub const ABI_VERSION_MAJOR: u16 = 1;
/// ABI minor version: bumped on compatible additions.
pub const ABI_VERSION_MINOR: u16 = 0;
/// The packed `ABI_VERSION` register value (`major << 16 | minor`).
pub const ABI_VERSION: u32 = ((ABI_VERSION_MAJOR as u32) << 16) | ABI_VERSION_MINOR as u32;

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The driver's error type: one `#[non_exhaustive]` enum, each variant naming
//! what was wrong, the OS cause carried as `#[source]` (STYLE.md habit 14).

use qkd_abi::Role;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong talking to a QKD core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URI's scheme is not one this build (plus the caller's provider) knows.
    #[error("unsupported device URI scheme '{scheme}' in '{uri}' (supported: {supported})")]
    UnknownScheme {
        /// The whole URI.
        uri: String,
        /// Its scheme.
        scheme: String,
        /// Comma-separated list of the supported schemes.
        supported: String,
    },
    /// The URI could not be parsed.
    #[error("malformed device URI '{uri}': {reason}")]
    BadUri {
        /// The whole URI.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A device or sysfs file could not be opened.
    #[error("opening {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// OS cause.
        #[source]
        source: io::Error,
    },
    /// A BAR or DMA buffer could not be mapped.
    #[error("mapping {len_bytes} bytes of {what}")]
    Map {
        /// The file or region mapped.
        what: String,
        /// Requested length.
        len_bytes: usize,
        /// OS cause.
        #[source]
        source: io::Error,
    },
    /// A register access outside the mapped BAR.
    #[error(
        "register offset {offset:#x} (4 bytes) is outside the {len_bytes}-byte register window"
    )]
    OutOfBounds {
        /// Byte offset requested.
        offset: u32,
        /// Size of the window.
        len_bytes: usize,
    },
    /// A register access not aligned to 32 bits.
    #[error("register offset {offset:#x} is not 32-bit aligned")]
    Unaligned {
        /// Byte offset requested.
        offset: u32,
    },
    /// The word at offset 0 is not the QKD magic.
    #[error(
        "wrong magic at offset 0: found {found:#010x}, expected {expected:#010x} (ASCII \"QKD1\")"
    )]
    BadMagic {
        /// Value read.
        found: u32,
        /// [`qkd_abi::MAGIC`].
        expected: u32,
    },
    /// The core's ABI major version is not the one this driver speaks.
    #[error("unsupported ABI version: found {found_major}.{found_minor}, expected major {expected_major}")]
    AbiMismatch {
        /// Major found on the card.
        found_major: u16,
        /// Minor found on the card.
        found_minor: u16,
        /// [`qkd_abi::ABI_VERSION_MAJOR`].
        expected_major: u16,
    },
    /// IDENT.ROLE holds a code that is no role.
    #[error("IDENT.ROLE holds unknown role code {code} (expected 1 = alice or 2 = bob)")]
    UnknownRole {
        /// The 4-bit code.
        code: u32,
    },
    /// The core is the other end of the link.
    #[error("wrong role: found {found}, expected {expected}")]
    WrongRole {
        /// Role read from IDENT.
        found: Role,
        /// Role the caller asked for.
        expected: Role,
    },
    /// The header's generation parameters are not ones the gateware supports.
    #[error("IDENT holds unsupported generation parameters")]
    BadParams(#[source] qkd_abi::regmap::ParamError),
    /// A register block has a known type but a major version this driver refuses.
    #[error("register block {index} ('{name}', type {type_id:#06x}): found major {found_major}, driver supports major {expected_major}")]
    BlockMajor {
        /// Block index.
        index: u8,
        /// Block name in qkd-abi.
        name: &'static str,
        /// Block type code.
        type_id: u16,
        /// Major version found.
        found_major: u8,
        /// Major version this driver speaks.
        expected_major: u8,
    },
    /// The BLOCK_ID chain is broken (loop, out of range, missing block).
    #[error("register block chain: {reason}")]
    BlockChain {
        /// What is wrong.
        reason: String,
    },
    /// No register of that name in this core's map.
    #[error("no register named '{0}' in this core's map")]
    UnknownRegister(String),
    /// No field of that name in the register.
    #[error("register {register} has no field '{field}'")]
    UnknownField {
        /// Register name.
        register: &'static str,
        /// Field name.
        field: String,
    },
    /// A value does not fit its register field.
    #[error("writing {register}")]
    Field {
        /// Register name.
        register: &'static str,
        /// Which field and value.
        #[source]
        source: qkd_abi::regmap::FieldRangeError,
    },
    /// A configuration value is outside what the hardware can do.
    #[error("invalid configuration {what} = {value}: {reason}")]
    InvalidConfig {
        /// The setting.
        what: &'static str,
        /// The value given, formatted.
        value: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Reading the event stream failed.
    #[error("reading the event stream {path}")]
    StreamIo {
        /// The stream device.
        path: PathBuf,
        /// OS cause.
        #[source]
        source: io::Error,
    },
    /// The event stream ended: the device file was closed, removed or its
    /// driver unloaded. No more records will come.
    #[error("event stream {path} ended (device closed or removed)")]
    StreamEnded {
        /// The stream device.
        path: PathBuf,
    },
    /// The device was opened without an event stream.
    #[error("device {uri} has no event stream")]
    NoEventStream {
        /// The device URI.
        uri: String,
    },
    /// A register read returned all ones where that is impossible: the card
    /// has fallen off the bus (surprise removal, link down).
    #[error("device appears removed: register {offset:#x} read 0xffffffff")]
    DeviceGone {
        /// Offset read.
        offset: u32,
    },
    /// A sysfs file is missing or unreadable.
    #[error("sysfs {path}")]
    Sysfs {
        /// The file.
        path: PathBuf,
        /// OS cause.
        #[source]
        source: io::Error,
    },
    /// A sysfs file has unexpected contents.
    #[error("sysfs {path}: {reason}")]
    SysfsFormat {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A VFIO ioctl failed.
    #[error("VFIO {op}")]
    Vfio {
        /// The operation.
        op: &'static str,
        /// OS cause.
        #[source]
        source: io::Error,
    },
    /// VFIO setup found something it cannot use.
    #[error("VFIO: {0}")]
    VfioSetup(String),
    /// The DMA BAR does not hold the XDMA channel the design needs.
    #[error("XDMA identifier at DMA BAR offset {offset:#06x} = {found:#010x} {reason}")]
    XdmaIdentify {
        /// Register offset in the DMA BAR.
        offset: u32,
        /// Value read.
        found: u32,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The XDMA C2H channel stopped or misbehaves.
    #[error("XDMA C2H channel (status {status:#010x}): {reason}")]
    XdmaChannel {
        /// C2H Channel Status register.
        status: u32,
        /// What happened.
        reason: String,
    },
    /// A C2H stream writeback that cannot be right.
    #[error("XDMA C2H stream writeback of descriptor {index} (word {word:#010x}, length {len_bytes}): {reason}")]
    XdmaWriteback {
        /// Descriptor index in the ring.
        index: u32,
        /// First writeback word (magic and status).
        word: u32,
        /// Length field.
        len_bytes: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// The descriptor ring's bookkeeping and the engine disagree.
    #[error("XDMA descriptor ring: {reason}")]
    XdmaRing {
        /// What is inconsistent.
        reason: String,
    },
    /// An error from a backend supplied by a [`crate::BackendProvider`].
    #[error("backend for '{scheme}'")]
    Backend {
        /// The scheme.
        scheme: String,
        /// The provider's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

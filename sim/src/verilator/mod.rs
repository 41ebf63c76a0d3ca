// SPDX-License-Identifier: MIT OR Apache-2.0
//! Verilator harness for the generated cores (Verilator 5 C++ API).
//!
//! The generated Verilog of a top is Verilated at run time, wrapped in a
//! generated `extern "C"` shim ([`shim`]), compiled into a shared library
//! that is cached by content hash ([`build`]), and opened with `dlopen`
//! ([`model`]). qkd-sim does not depend on qkd-gateware: callers pass the
//! Verilog text, so rust-hdl is compiled only once.
//!
//! On top of the cycle-level [`Sim`]: an AXI4-Lite master and an
//! AXI4-Stream sink with programmable back-pressure ([`axi`], AMBA AXI4 /
//! AXI4-Stream protocol specifications, ARM IHI 0022 and IHI 0051). The
//! record-stream checker of `docs/gateware-spec.md` section 6 is
//! `qkd_model::stream_check` (written with the golden models).
//!
//! VCD traces: set `QKD_VCD=/path/trace.vcd` before the model is built and
//! instantiated (optionally `QKD_VCD_MAX_CYCLES`, default 200000); open the
//! file with `gtkwave /path/trace.vcd`.

pub mod axi;
pub mod batch;
pub mod bench;
pub mod build;
pub mod link;
pub mod model;
pub mod ports;
pub mod shim;

pub use axi::{AxiLiteMaster, AxiLitePorts, Backpressure, LiteResp, StreamSink};
pub use batch::{Batch, CapturedWord, InputWrite, StreamPorts};
pub use bench::CoreBench;
pub use build::{BuildOptions, Built, Toolchain};
pub use link::{ExactError, ExactLink, ExactVerilog};
pub use model::{Model, PortId, Sim};
pub use ports::{Direction, Port};

use std::path::PathBuf;

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An external program could not be started.
    #[error("could not run {what}")]
    Spawn {
        /// What was being run.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// An external program failed.
    #[error("{what} failed ({status}):\n{stderr}")]
    ToolFailed {
        /// What was being run.
        what: String,
        /// Exit status.
        status: String,
        /// Its standard error (truncated).
        stderr: String,
    },
    /// Verilator or the compiler is unusable.
    #[error("toolchain: {0}")]
    Toolchain(String),
    /// A file operation failed.
    #[error("file operation on {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of the Verilated header could not be read as a port.
    #[error("port declaration at header line {line} `{text}`: {why}")]
    PortParse {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
        /// What is wrong.
        why: String,
    },
    /// The Verilated header declares no ports.
    #[error("the Verilated header declares no ports")]
    NoPorts,
    /// A port is missing or unsuitable.
    #[error("port `{name}`: {why}")]
    NoSuchPort {
        /// Port name.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// A cache entry is unreadable.
    #[error("corrupt cache entry {0} (delete the directory)")]
    CacheCorrupt(PathBuf),
    /// The library could not be loaded.
    #[error("loading {path}: {why}")]
    Load {
        /// Library path.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// VCD tracing could not start.
    #[error("VCD trace {path}: {why}")]
    Vcd {
        /// VCD path.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// A bus transaction did not complete.
    #[error("AXI4-Lite {op} at {addr:#x}: no response within {cycles} cycles")]
    BusTimeout {
        /// "read" or "write".
        op: &'static str,
        /// Byte address.
        addr: u32,
        /// Cycles waited.
        cycles: u64,
    },
    /// A bus transaction completed with an error response.
    #[error("AXI4-Lite {op} at {addr:#x}: response {response}")]
    BusResponse {
        /// "read" or "write".
        op: &'static str,
        /// Byte address.
        addr: u32,
        /// The response (and data) received.
        response: String,
    },
    /// The register map has no register of this name.
    #[error("no register named {0} in the core's map")]
    NoSuchRegister(String),
    /// The stream violated AXI4-Stream framing (tlast) or record encoding.
    #[error("AXI4-Stream word {word_index} (cycle {cycle}): {why}")]
    Stream {
        /// Index of the word in the stream.
        word_index: usize,
        /// Cycle of the transfer.
        cycle: u64,
        /// What is wrong.
        why: String,
    },
}

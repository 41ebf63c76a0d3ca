// SPDX-License-Identifier: MIT OR Apache-2.0
//! The XDMA engine's register space, descriptor and writeback formats as
//! the `vfio:` backend uses them, and identification of a C2H channel.
//!
//! Follows the Xilinx DMA/Bridge Subsystem for PCI Express product guide
//! (PG195 v4.1, chapter "Register Space"), cross-checked against the Linux
//! kernel's `drivers/dma/xilinx/xdma-regs.h`. Section and table names are
//! PG195's.

use crate::error::{Error, Result};
use crate::transport::RegIo;
use serde::Serialize;

/// Register address of `target`, `channel`, `byte` within the DMA BAR
/// (PG195 Table "PCIe to DMA Address Format": bits 15:12 target, 11:8
/// channel, 7:0 byte offset).
pub const fn reg_addr(target: u32, channel: u32, byte: u32) -> u32 {
    (target << 12) | (channel << 8) | byte
}

/// Targets (PG195 Table "PCIe to DMA Address Field Descriptions").
pub mod target {
    /// H2C channels.
    pub const H2C: u32 = 0x0;
    /// C2H channels.
    pub const C2H: u32 = 0x1;
    /// IRQ block.
    pub const IRQ: u32 = 0x2;
    /// Config block.
    pub const CONFIG: u32 = 0x3;
    /// H2C SGDMA.
    pub const H2C_SGDMA: u32 = 0x4;
    /// C2H SGDMA.
    pub const C2H_SGDMA: u32 = 0x5;
    /// SGDMA common.
    pub const SGDMA_COMMON: u32 = 0x6;
}

/// C2H channel registers, byte offsets within the channel (PG195 Table
/// "C2H Channel Register Space").
pub mod c2h {
    /// C2H Channel Identifier (0x00).
    pub const IDENTIFIER: u32 = 0x00;
    /// C2H Channel Control (0x04), read/write.
    pub const CONTROL: u32 = 0x04;
    /// C2H Channel Control (0x08), write 1 to set.
    pub const CONTROL_W1S: u32 = 0x08;
    /// C2H Channel Control (0x0C), write 1 to clear.
    pub const CONTROL_W1C: u32 = 0x0C;
    /// C2H Channel Status (0x40), write 1 to clear.
    pub const STATUS: u32 = 0x40;
    /// C2H Channel Status (0x44), clear on read.
    pub const STATUS_RC: u32 = 0x44;
    /// C2H Channel Completed Descriptor Count (0x48).
    pub const COMPLETED_COUNT: u32 = 0x48;
    /// C2H Channel Alignments (0x4C).
    pub const ALIGNMENTS: u32 = 0x4C;
    /// C2H Poll Mode Low Write Back Address (0x88).
    pub const POLL_WB_LO: u32 = 0x88;
    /// C2H Poll Mode High Write Back Address (0x8C).
    pub const POLL_WB_HI: u32 = 0x8C;
    /// C2H Channel Interrupt Enable Mask (0x90).
    pub const INT_ENABLE: u32 = 0x90;
}

/// C2H SGDMA registers (PG195 Table "C2H SGDMA Register Space").
pub mod c2h_sgdma {
    /// C2H SGDMA Identifier (0x00).
    pub const IDENTIFIER: u32 = 0x00;
    /// C2H SGDMA Descriptor Low Address (0x80).
    pub const DESC_LO: u32 = 0x80;
    /// C2H SGDMA Descriptor High Address (0x84).
    pub const DESC_HI: u32 = 0x84;
    /// C2H SGDMA Descriptor Adjacent (0x88).
    pub const DESC_ADJ: u32 = 0x88;
    /// C2H SGDMA Descriptor Credits (0x8C): writes add credits.
    pub const DESC_CREDITS: u32 = 0x8C;
    /// Largest value the credit register holds (10 bits).
    pub const MAX_CREDITS: u32 = (1 << 10) - 1;
}

/// SGDMA common registers (PG195 Table "SGDMA Common Register Space").
pub mod sgdma_common {
    /// SGDMA Descriptor Control (0x10), read/write: `c2h_dsc_halt[3:0]` at 19:16.
    pub const DESC_CONTROL: u32 = 0x10;
    /// SGDMA Descriptor Control, write 1 to set (0x14).
    pub const DESC_CONTROL_W1S: u32 = 0x14;
    /// SGDMA Descriptor Control, write 1 to clear (0x18).
    pub const DESC_CONTROL_W1C: u32 = 0x18;
    /// SGDMA Descriptor Credit Mode Enable (0x20): `c2h_dsc_credit_enable[3:0]` at 19:16.
    pub const CREDIT_MODE: u32 = 0x20;
    /// Credit Mode Enable, write 1 to set (0x24).
    pub const CREDIT_MODE_W1S: u32 = 0x24;
    /// Credit Mode Enable, write 1 to clear (0x28).
    pub const CREDIT_MODE_W1C: u32 = 0x28;
    /// Bit of C2H channel `ch` in the halt and credit-mode registers.
    pub const fn c2h_bit(ch: u32) -> u32 {
        1 << (16 + ch)
    }
}

/// Fields of the identifier registers (PG195 Tables "C2H Channel
/// Identifier (0x00)", "C2H SGDMA Identifier (0x00)").
pub mod ident {
    /// Subsystem identifier, bits 31:20: 12'h1FC.
    pub const SUBSYSTEM_SHIFT: u32 = 20;
    /// The XDMA subsystem identifier.
    pub const SUBSYSTEM_XDMA: u32 = 0x1FC;
    /// Target, bits 19:16.
    pub const TARGET_SHIFT: u32 = 16;
    /// Bit 15: 1 = AXI4-Stream interface, 0 = AXI4 memory mapped.
    pub const STREAM: u32 = 1 << 15;
    /// Channel ID, bits 11:8.
    pub const CHANNEL_SHIFT: u32 = 8;
    /// Version, bits 7:0.
    pub const VERSION_MASK: u32 = 0xFF;
}

/// C2H Channel Control bits (PG195 Table "C2H Channel Control (0x04)").
pub mod ctrl {
    /// `run`: start the SGDMA engine; 0 stops it.
    pub const RUN: u32 = 1 << 0;
    /// `ie_descriptor_stopped`.
    pub const IE_DESC_STOPPED: u32 = 1 << 1;
    /// `ie_descriptor_completed`.
    pub const IE_DESC_COMPLETED: u32 = 1 << 2;
    /// `ie_align_mismatch`.
    pub const IE_ALIGN_MISMATCH: u32 = 1 << 3;
    /// `ie_magic_stopped`.
    pub const IE_MAGIC_STOPPED: u32 = 1 << 4;
    /// `ie_invalid_length`.
    pub const IE_INVALID_LENGTH: u32 = 1 << 5;
    /// `ie_idle_stopped`.
    pub const IE_IDLE_STOPPED: u32 = 1 << 6;
    /// `ie_read_error[4:0]`.
    pub const IE_READ_ERROR: u32 = 0x1F << 9;
    /// `ie_desc_error[4:0]`.
    pub const IE_DESC_ERROR: u32 = 0x1F << 19;
    /// `pollmode_wb_enable`: write the completed descriptor count back to
    /// host memory when a descriptor with the Completed bit completes.
    pub const POLLMODE_WB: u32 = 1 << 26;
    /// `disable_wb`: no C2H stream writeback (never set here).
    pub const STREAM_WB_DISABLE: u32 = 1 << 27;
}

/// C2H Channel Status bits (PG195 Table "C2H Channel Status (0x40)").
pub mod status {
    /// `busy`.
    pub const BUSY: u32 = 1 << 0;
    /// `descriptor_stopped`.
    pub const DESC_STOPPED: u32 = 1 << 1;
    /// `descriptor_completed`.
    pub const DESC_COMPLETED: u32 = 1 << 2;
    /// `align_mismatch`.
    pub const ALIGN_MISMATCH: u32 = 1 << 3;
    /// `magic_stopped`.
    pub const MAGIC_STOPPED: u32 = 1 << 4;
    /// `invalid_length`.
    pub const INVALID_LENGTH: u32 = 1 << 5;
    /// `idle_stopped`.
    pub const IDLE_STOPPED: u32 = 1 << 6;
    /// `read_error[4:0]`.
    pub const READ_ERROR: u32 = 0x1F << 9;
    /// `desc_error[4:0]`.
    pub const DESC_ERROR: u32 = 0x1F << 19;
    /// Every bit that means the engine stopped on an error.
    pub const ERRORS: u32 =
        ALIGN_MISMATCH | MAGIC_STOPPED | INVALID_LENGTH | READ_ERROR | DESC_ERROR;
}

/// The descriptor (PG195 Table "Descriptor Format" and "Descriptor
/// Fields"): 32 bytes, little endian.
pub mod desc {
    /// Size in bytes.
    pub const BYTES: usize = 32;
    /// `magic[15:0]` in bits 31:16 of the first word.
    pub const MAGIC: u32 = 0xAD4B;
    /// Control bit 0: Stop fetching after this descriptor.
    pub const STOP: u32 = 1 << 0;
    /// Control bit 1: Completed (report completion of this descriptor).
    pub const COMPLETED: u32 = 1 << 1;
    /// Control bit 4: EOP (H2C stream only).
    pub const EOP: u32 = 1 << 4;
    /// `Nxt_adj[5:0]` at bits 13:8.
    pub const NXT_ADJ_SHIFT: u32 = 8;
    /// The length field is 28 bits.
    pub const LEN_MASK: u32 = (1 << 28) - 1;
    /// First word: magic, `nxt_adj`, control.
    pub const fn control_word(nxt_adj: u32, control: u32) -> u32 {
        (MAGIC << 16) | ((nxt_adj & 0x3F) << NXT_ADJ_SHIFT) | (control & 0xFF)
    }
    /// Encode a descriptor: `src` (the C2H stream writeback address for a
    /// C2H stream channel), `dst` (the data buffer), `next`.
    pub fn encode(control: u32, len: u32, src: u64, dst: u64, next: u64) -> [u8; BYTES] {
        let mut d = [0u8; BYTES];
        d[0..4].copy_from_slice(&control_word(0, control).to_le_bytes());
        d[4..8].copy_from_slice(&(len & LEN_MASK).to_le_bytes());
        d[8..16].copy_from_slice(&src.to_le_bytes());
        d[16..24].copy_from_slice(&dst.to_le_bytes());
        d[24..32].copy_from_slice(&next.to_le_bytes());
        d
    }
}

/// Writeback formats (PG195, "Poll Mode" and Table "C2H Stream Writeback").
pub mod wb {
    /// Stream writeback, first word bits 31:16: `wb_magic` 0x52B4.
    pub const STREAM_MAGIC: u32 = 0x52B4;
    /// Stream writeback, first word bit 0: EOP (TLAST ended the descriptor).
    pub const STREAM_EOP: u32 = 1 << 0;
    /// Stream writeback size in bytes: `{magic_status, length}`.
    pub const STREAM_BYTES: usize = 8;
    /// Completed-count writeback: bit 31 `sts_err` (OR of the status error bits).
    pub const COUNT_ERR: u32 = 1 << 31;
    /// Completed-count writeback: bits 23:0, the low 24 bits of the
    /// Completed Descriptor Count register.
    pub const COUNT_MASK: u32 = 0x00FF_FFFF;
}

/// A decoded identifier register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EngineId {
    /// The raw register value.
    pub raw: u32,
    /// Subsystem identifier (0x1FC for XDMA).
    pub subsystem: u32,
    /// Target (1 for a C2H channel).
    pub target: u32,
    /// AXI4-Stream (true) or memory mapped.
    pub stream: bool,
    /// Channel id.
    pub channel: u32,
    /// IP version code.
    pub version: u32,
}

impl EngineId {
    /// Decode an identifier register.
    pub fn decode(raw: u32) -> EngineId {
        EngineId {
            raw,
            subsystem: raw >> ident::SUBSYSTEM_SHIFT,
            target: (raw >> ident::TARGET_SHIFT) & 0xF,
            stream: raw & ident::STREAM != 0,
            channel: (raw >> ident::CHANNEL_SHIFT) & 0xF,
            version: raw & ident::VERSION_MASK,
        }
    }
    /// The Vivado release a version code stands for (PG195, C2H Channel
    /// Identifier, `version`).
    pub fn release(&self) -> &'static str {
        match self.version {
            0x01 => "2015.3/2015.4",
            0x02 => "2016.1",
            0x03 => "2016.2",
            0x04 => "2016.3",
            0x05 => "2016.4",
            0x06 => "2017.1 or later",
            _ => "unknown release",
        }
    }
}

/// What a stream backend says about the card-side DMA engine it drives
/// (shown by `device info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmaEngineInfo {
    /// Engine name, e.g. "Xilinx XDMA (PG195)".
    pub engine: &'static str,
    /// Which channel and interface, e.g. "C2H channel 0, AXI4-Stream".
    pub channel: String,
    /// The identifier register, decoded.
    pub id: EngineId,
    /// Descriptors in the ring.
    pub descriptors: u32,
    /// Bytes per descriptor buffer.
    pub buffer_bytes: u32,
}

impl std::fmt::Display for DmaEngineInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}, version {:#04x} (Vivado {}), id {:#010x}, ring {} x {} bytes",
            self.engine,
            self.channel,
            self.id.version,
            self.id.release(),
            self.id.raw,
            self.descriptors,
            self.buffer_bytes
        )
    }
}

/// Check that the DMA BAR holds an XDMA AXI4-Stream C2H channel `channel`
/// with its SGDMA block, and return its identifier.
pub fn identify_c2h(bar: &mut dyn RegIo, channel: u32) -> Result<EngineId> {
    let at = reg_addr(target::C2H, channel, c2h::IDENTIFIER);
    let id = EngineId::decode(bar.read32(at)?);
    let what = if id.raw == u32::MAX {
        Some("reads all ones (card gone or BAR not enabled)")
    } else if id.subsystem != ident::SUBSYSTEM_XDMA {
        Some("is not an XDMA subsystem identifier (0x1FC)")
    } else if id.target != target::C2H {
        Some("is not a C2H channel (target 1)")
    } else if id.channel != channel {
        Some("names another channel")
    } else if !id.stream {
        Some("is a memory-mapped channel, the design streams (AXI4-Stream)")
    } else {
        None
    };
    if let Some(reason) = what {
        return Err(Error::XdmaIdentify {
            offset: at,
            found: id.raw,
            reason,
        });
    }
    let sg_at = reg_addr(target::C2H_SGDMA, channel, c2h_sgdma::IDENTIFIER);
    let sg = EngineId::decode(bar.read32(sg_at)?);
    if sg.subsystem != ident::SUBSYSTEM_XDMA || sg.target != target::C2H_SGDMA {
        return Err(Error::XdmaIdentify {
            offset: sg_at,
            found: sg.raw,
            reason: "is not the C2H SGDMA identifier (0x1FC5....)",
        });
    }
    Ok(id)
}

/// Names of the error bits set in a C2H status value.
pub fn status_errors(st: u32) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (bit, name) in [
        (status::ALIGN_MISMATCH, "align_mismatch"),
        (status::MAGIC_STOPPED, "magic_stopped"),
        (status::INVALID_LENGTH, "invalid_length"),
        (status::READ_ERROR, "read_error"),
        (status::DESC_ERROR, "desc_error"),
    ] {
        if st & bit != 0 {
            v.push(name);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemRegs;

    #[test]
    fn identifier_fields_and_checks() {
        let id = EngineId::decode(0x1FC1_8006);
        assert_eq!(
            (id.subsystem, id.target, id.stream, id.channel, id.version),
            (0x1FC, 1, true, 0, 6)
        );
        assert_eq!(id.release(), "2017.1 or later");
        let mut bar = MemRegs::new(0x1_0000);
        bar.write32(0x1000, 0x1FC1_8006).unwrap();
        assert!(identify_c2h(&mut bar, 0)
            .unwrap_err()
            .to_string()
            .contains("0x5000"));
        bar.write32(0x5000, 0x1FC5_8006).unwrap();
        assert_eq!(identify_c2h(&mut bar, 0).unwrap(), id);
        bar.write32(0x1000, 0x1FC1_0006).unwrap();
        assert!(identify_c2h(&mut bar, 0)
            .unwrap_err()
            .to_string()
            .contains("memory-mapped"));
        bar.write32(0x1000, 0x1FC0_8006).unwrap();
        assert!(identify_c2h(&mut bar, 0).is_err());
        assert_eq!(
            status_errors(status::MAGIC_STOPPED | 1 << 19),
            ["magic_stopped", "desc_error"]
        );
        let d = desc::encode(desc::COMPLETED, 4096, 0x10, 0x2000, 0x40);
        assert_eq!(&d[0..4], &0xAD4B_0002u32.to_le_bytes());
    }
}

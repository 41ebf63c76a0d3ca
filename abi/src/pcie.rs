// SPDX-License-Identifier: MIT OR Apache-2.0
//! PCIe layout of the boards: which BAR carries the cores' AXI4-Lite
//! registers (the "user" BAR) and which carries the DMA engine's registers,
//! and what the DMA engine is configured to look like.
//!
//! The reference design (constraints/xilinx/kc705/build.tcl) instantiates
//! the Xilinx DMA/Bridge Subsystem for PCI Express (XDMA, PG195) with the
//! PCIe-to-AXI4-Lite master enabled, 32-bit BARs, no bypass BAR: PG195
//! ("PCIe BARs Tab") then places the AXI4-Lite master on BAR0 and the DMA
//! register space on BAR1, the order Xilinx's own driver assumes for a
//! two-BAR function (dma_ip_drivers, `identify_bars`). The DMA register
//! space is 64 KiB (PG195, "Register Space": targets 0x0-0x8, 4 KiB each).
//!
//! Both the `xdma:` backend (through Xilinx's kernel module) and the
//! `vfio:` backend (driving the engine from userspace) serve the same
//! bitstream from this one description.

use serde::Serialize;

/// BAR layout and DMA configuration of one board's PCIe function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct XdmaBoard {
    /// Board name as used on command lines (`kc705`).
    pub name: &'static str,
    /// PCI vendor id of the function.
    pub vendor_id: u16,
    /// PCI device id of the function.
    pub device_id: u16,
    /// BAR of the AXI4-Lite master: the QKD core's CSR space at offset 0.
    pub user_bar: u8,
    /// Size of the user BAR in bytes.
    pub user_bar_bytes: u64,
    /// BAR of the XDMA register space.
    pub dma_bar: u8,
    /// Size of the DMA BAR in bytes.
    pub dma_bar_bytes: u64,
    /// Card-to-host channel carrying the record stream (AXI4-Stream).
    pub c2h_channel: u8,
    /// Number of C2H channels configured.
    pub c2h_channels: u8,
    /// Width of the AXI4-Stream datapath in bytes: descriptor lengths must
    /// be multiples of it (PG195, C2H Channel Status, `invalid_length`).
    pub stream_width_bytes: u32,
}

/// The Xilinx KC705 reference design (constraints/xilinx/kc705/build.tcl:
/// `pf0_device_id 7024`, `axilite_master_size 1 Megabytes`,
/// `axi_data_width 64_bit`, `xdma_rnum_chnl 1`, AXI4-Stream interface).
pub const KC705: XdmaBoard = XdmaBoard {
    name: "kc705",
    vendor_id: 0x10EE,
    device_id: 0x7024,
    user_bar: 0,
    user_bar_bytes: 1 << 20,
    dma_bar: 1,
    dma_bar_bytes: 64 << 10,
    c2h_channel: 0,
    c2h_channels: 1,
    stream_width_bytes: 8,
};

/// Every board described here.
pub const BOARDS: &[XdmaBoard] = &[KC705];

/// The board called `name`.
pub fn board(name: &str) -> Option<&'static XdmaBoard> {
    BOARDS.iter().find(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The description must say what the Vivado script builds.
    #[test]
    fn kc705_matches_the_vivado_script() {
        let tcl = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../constraints/xilinx/kc705/build.tcl"
        ))
        .unwrap();
        let setting = |key: &str| -> String {
            let at = tcl
                .find(&format!("CONFIG.{key} {{"))
                .unwrap_or_else(|| panic!("{key} not set in build.tcl"));
            let rest = &tcl[at + key.len() + 9..];
            rest[..rest.find('}').unwrap()].to_string()
        };
        assert_eq!(
            u16::from_str_radix(&setting("pf0_device_id"), 16).unwrap(),
            KC705.device_id
        );
        assert_eq!(setting("axilite_master_en"), "true");
        assert_eq!(setting("axilite_master_scale"), "Megabytes");
        assert_eq!(
            setting("axilite_master_size").parse::<u64>().unwrap() << 20,
            KC705.user_bar_bytes
        );
        assert_eq!(
            setting("axi_data_width"),
            format!("{}_bit", 8 * KC705.stream_width_bytes)
        );
        assert_eq!(setting("xdma_axi_intf_mm"), "AXI_Stream");
        assert_eq!(
            setting("xdma_wnum_chnl").parse::<u8>().unwrap(),
            KC705.c2h_channels
        );
        const { assert!(KC705.c2h_channel < KC705.c2h_channels) };
        assert!(!tcl.contains("bar0_64bit") && !tcl.contains("xdma_bypass"));
        assert_eq!(board("kc705"), Some(&KC705));
        assert_eq!(board("nope"), None);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `vfio:` backend: pure userspace access through VFIO (Linux
//! `Documentation/driver-api/vfio.rst`): container, group, device; the
//! user BAR (the cores' AXI4-Lite registers) and the DMA BAR (the XDMA
//! engine, PG195) mmapped through the device fd, bus mastering enabled in
//! the config region, and the XDMA C2H channel driven from userspace over a
//! descriptor ring in memory mapped through the IOMMU (type1v2), see
//! [`c2h`]. Which BAR is which comes from qkd-abi's board description
//! ([`qkd_abi::pcie`]).
//!
//! The ioctls are hand-written over `nix` in [`crate::sys`] (see
//! driver/README.md for why), their numbers and argument layouts pinned by
//! the tests below against `include/uapi/linux/vfio.h`.

pub mod c2h;
pub mod engine;
pub mod sysfs;

use crate::device::{Backend, DeviceUri};
use crate::error::{Error, Result};
use crate::sys::{self, vfio_abi, IommuBuffer, Mapping};
use crate::transport::{check_offset, RegIo};
use c2h::{C2hStream, RingConfig};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// Default IOVA of the DMA memory (4 GiB, clear of the x86 MSI window).
pub const DEFAULT_IOVA: u64 = 1 << 32;

/// `PCI_COMMAND` offset in configuration space.
const PCI_COMMAND: u64 = 0x04;
/// `PCI_COMMAND_MEMORY`: respond to memory accesses (the BARs).
const PCI_COMMAND_MEMORY: u16 = 1 << 1;
/// `PCI_COMMAND_MASTER`: the function may issue DMA.
const PCI_COMMAND_MASTER: u16 = 1 << 2;

/// Keeps the container, group and device fds open as long as any part of
/// the backend is alive.
#[derive(Debug)]
struct VfioHandles {
    _container: File,
    _group: File,
    _device: File,
}

/// A BAR mapped through the VFIO device fd.
#[derive(Debug)]
pub struct VfioRegs {
    map: Arc<Mapping>,
    _handles: Arc<VfioHandles>,
}

impl RegIo for VfioRegs {
    fn read32(&mut self, offset: u32) -> Result<u32> {
        let off = check_offset(offset, self.map.len())?;
        self.map.read32(off).ok_or(Error::OutOfBounds {
            offset,
            len_bytes: self.map.len(),
        })
    }
    fn write32(&mut self, offset: u32, value: u32) -> Result<()> {
        let off = check_offset(offset, self.map.len())?;
        self.map.write32(off, value).ok_or(Error::OutOfBounds {
            offset,
            len_bytes: self.map.len(),
        })
    }
    fn window_bytes(&self) -> usize {
        self.map.len()
    }
}

fn vfio_err(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Vfio { op, source }
}

/// Map BAR `index` of `device` (at least `min_bytes` long).
fn map_bar(device: &File, bdf: &str, index: u8, min_bytes: u64) -> Result<Mapping> {
    let info = sys::vfio_device_get_region_info(
        device.as_fd(),
        vfio_abi::VFIO_PCI_BAR0_REGION_INDEX + u32::from(index),
    )
    .map_err(vfio_err("DEVICE_GET_REGION_INFO"))?;
    if info.flags & vfio_abi::VFIO_REGION_INFO_FLAG_MMAP == 0 || info.size < min_bytes {
        return Err(Error::VfioSetup(format!(
            "BAR{index} of {bdf} cannot be used: mmap flag {}, size {} bytes, the board description needs {min_bytes} (see driver/README.md, 'One bitstream, two backends')",
            info.flags & vfio_abi::VFIO_REGION_INFO_FLAG_MMAP != 0,
            info.size
        )));
    }
    let len = usize::try_from(info.size)
        .map_err(|_| Error::VfioSetup(format!("BAR{index} larger than the address space")))?;
    Mapping::map_shared(device.as_fd(), info.offset, len).map_err(|source| Error::Map {
        what: format!("BAR{index} of {bdf}"),
        len_bytes: len,
        source,
    })
}

/// Set memory-space and bus-master enable in the PCI command register
/// through the VFIO config region: vfio-pci leaves bus mastering to the
/// user, and the XDMA engine cannot write to host memory without it.
fn enable_bus_master(device: &File) -> Result<()> {
    let cfg =
        sys::vfio_device_get_region_info(device.as_fd(), vfio_abi::VFIO_PCI_CONFIG_REGION_INDEX)
            .map_err(vfio_err("DEVICE_GET_REGION_INFO (config)"))?;
    let mut b = [0u8; 2];
    device
        .read_exact_at(&mut b, cfg.offset + PCI_COMMAND)
        .map_err(vfio_err("config read of PCI_COMMAND"))?;
    let cmd = u16::from_le_bytes(b) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    device
        .write_all_at(&cmd.to_le_bytes(), cfg.offset + PCI_COMMAND)
        .map_err(vfio_err("config write of PCI_COMMAND"))
}

/// Check what sysfs says about the function against the board
/// description before touching VFIO: both BARs present, memory BARs, large
/// enough. A different vendor/device id is only warned about (a board may
/// be built with another id).
pub fn check_board(dev: &sysfs::PciDevice, board: &qkd_abi::pcie::XdmaBoard) -> Result<()> {
    if (dev.vendor, dev.device) != (board.vendor_id, board.device_id) {
        tracing::warn!(
            "{}: PCI id {:04x}:{:04x}, board {} is built as {:04x}:{:04x}",
            dev.bdf,
            dev.vendor,
            dev.device,
            board.name,
            board.vendor_id,
            board.device_id
        );
    }
    for (index, what, min) in [
        (board.user_bar, "user (AXI4-Lite) BAR", board.user_bar_bytes),
        (board.dma_bar, "DMA (XDMA) BAR", board.dma_bar_bytes),
    ] {
        let ok = dev
            .bars
            .iter()
            .any(|b| b.index == index && b.is_memory() && b.len_bytes >= min);
        if !ok {
            let found: Vec<String> = dev
                .bars
                .iter()
                .map(|b| format!("BAR{} {} bytes", b.index, b.len_bytes))
                .collect();
            return Err(Error::VfioSetup(format!(
                "{}: board {} expects its {what} at BAR{index} with at least {min} bytes; sysfs shows {} (see driver/README.md, 'One bitstream, two backends')",
                dev.bdf,
                board.name,
                if found.is_empty() { "no memory BARs".to_string() } else { found.join(", ") }
            )));
        }
    }
    Ok(())
}

/// Open `vfio:DDDD:BB:DD.F[?board=kc705&descriptors=N&buffer_bytes=B&iova=A&sysfs=/sys]`.
pub fn open(uri: &DeviceUri) -> Result<Backend> {
    uri.only_options(&["board", "descriptors", "buffer_bytes", "iova", "sysfs"])?;
    let board_name = uri.option("board").unwrap_or(qkd_abi::pcie::KC705.name);
    let board = qkd_abi::pcie::board(board_name).ok_or_else(|| Error::BadUri {
        uri: uri.uri.clone(),
        reason: format!(
            "unknown board '{board_name}' (known: {})",
            qkd_abi::pcie::BOARDS
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })?;
    let narrow = |key: &'static str, v: u64| {
        u32::try_from(v).map_err(|_| Error::InvalidConfig {
            what: key,
            value: v.to_string(),
            reason: "does not fit 32 bits",
        })
    };
    let cfg = RingConfig {
        channel: u32::from(board.c2h_channel),
        descriptors: narrow(
            "descriptors",
            uri.option_u64("descriptors", c2h::DEFAULT_DESCRIPTORS.into())?,
        )?,
        buffer_bytes: narrow(
            "buffer_bytes",
            uri.option_u64("buffer_bytes", c2h::DEFAULT_BUFFER_BYTES.into())?,
        )?,
        stream_width_bytes: board.stream_width_bytes,
        ..RingConfig::default()
    };
    cfg.validate()?;
    let iova = uri.option_u64("iova", DEFAULT_IOVA)?;
    let root = Path::new(uri.option("sysfs").unwrap_or("/sys"));
    let dev = sysfs::discover(root, &uri.target)?;
    if dev.driver.as_deref() != Some("vfio-pci") {
        return Err(Error::VfioSetup(format!(
            "{} is bound to {}, not vfio-pci (see driver/README.md, 'Binding to vfio-pci')",
            dev.bdf,
            dev.driver.as_deref().unwrap_or("no driver")
        )));
    }
    let group_no = dev.iommu_group.ok_or_else(|| {
        Error::VfioSetup(format!(
            "{} has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on)",
            dev.bdf
        ))
    })?;
    check_board(&dev, board)?;
    let open_rw = |p: &Path| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(p)
            .map_err(|source| Error::Open {
                path: p.to_path_buf(),
                source,
            })
    };
    let container = open_rw(Path::new("/dev/vfio/vfio"))?;
    let api = sys::vfio_get_api_version(container.as_fd()).map_err(vfio_err("GET_API_VERSION"))?;
    if api != vfio_abi::VFIO_API_VERSION {
        return Err(Error::VfioSetup(format!(
            "kernel VFIO API version {api}, driver speaks {}",
            vfio_abi::VFIO_API_VERSION
        )));
    }
    if sys::vfio_check_extension(container.as_fd(), vfio_abi::VFIO_TYPE1V2_IOMMU)
        .map_err(vfio_err("CHECK_EXTENSION"))?
        <= 0
    {
        return Err(Error::VfioSetup(
            "the kernel lacks the type1v2 IOMMU backend".into(),
        ));
    }
    let group = open_rw(&Path::new("/dev/vfio").join(group_no.to_string()))?;
    let status = sys::vfio_group_get_status(group.as_fd()).map_err(vfio_err("GROUP_GET_STATUS"))?;
    if status.flags & vfio_abi::VFIO_GROUP_FLAGS_VIABLE == 0 {
        return Err(Error::VfioSetup(format!(
            "IOMMU group {group_no} is not viable: bind every device of /sys/kernel/iommu_groups/{group_no}/devices to vfio-pci"
        )));
    }
    sys::vfio_group_set_container(group.as_fd(), container.as_fd())
        .map_err(vfio_err("GROUP_SET_CONTAINER"))?;
    sys::vfio_set_iommu(container.as_fd(), vfio_abi::VFIO_TYPE1V2_IOMMU)
        .map_err(vfio_err("SET_IOMMU"))?;
    let name = CString::new(dev.bdf.clone())
        .map_err(|_| Error::VfioSetup("PCI address contains NUL".into()))?;
    let device: File = sys::vfio_group_get_device_fd(group.as_fd(), &name)
        .map_err(vfio_err("GROUP_GET_DEVICE_FD"))?
        .into();
    enable_bus_master(&device)?;
    let user = map_bar(&device, &dev.bdf, board.user_bar, board.user_bar_bytes)?;
    let dma = map_bar(&device, &dev.bdf, board.dma_bar, board.dma_bar_bytes)?;
    let lay = cfg.layout();
    let mem = IommuBuffer::new(container.as_fd(), lay.total_bytes, iova)
        .map_err(vfio_err("IOMMU_MAP_DMA"))?;
    let handles = Arc::new(VfioHandles {
        _container: container,
        _group: group,
        _device: device,
    });
    let dma_regs = VfioRegs {
        map: Arc::new(dma),
        _handles: handles.clone(),
    };
    let stream = C2hStream::new(dma_regs, mem, cfg)?;
    Ok(Backend {
        regs: Box::new(VfioRegs {
            map: Arc::new(user),
            _handles: handles,
        }),
        events: Some(Box::new(stream)),
    })
}

#[cfg(test)]
mod ioctl_abi {
    //! Kernel ABI pinned against include/uapi/linux/vfio.h (STYLE.md habit 13).
    use crate::sys::vfio_abi::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn ioctl_numbers_match_the_kernel() {
        assert_eq!(VFIO_GET_API_VERSION, 15204); // _IO(';', 100) = 0x3B64
        assert_eq!(VFIO_CHECK_EXTENSION, 0x3B65);
        assert_eq!(VFIO_SET_IOMMU, 0x3B66);
        assert_eq!(VFIO_GROUP_GET_STATUS, 0x3B67);
        assert_eq!(VFIO_GROUP_SET_CONTAINER, 0x3B68);
        assert_eq!(VFIO_GROUP_GET_DEVICE_FD, 0x3B6A);
        assert_eq!(VFIO_DEVICE_GET_INFO, 0x3B6B);
        assert_eq!(VFIO_DEVICE_GET_REGION_INFO, 0x3B6C);
        assert_eq!(VFIO_DEVICE_RESET, 0x3B6F);
        assert_eq!(VFIO_IOMMU_MAP_DMA, 0x3B71);
        assert_eq!(VFIO_IOMMU_UNMAP_DMA, 0x3B72);
        assert_eq!(VFIO_TYPE1V2_IOMMU, 3);
        assert_eq!(VFIO_API_VERSION, 0);
    }

    #[test]
    fn argument_layouts_match_the_kernel() {
        assert_eq!(size_of::<VfioGroupStatus>(), 8);
        assert_eq!(size_of::<VfioDeviceInfo>(), 16);
        assert_eq!(offset_of!(VfioDeviceInfo, num_irqs), 12);
        assert_eq!(size_of::<VfioRegionInfo>(), 32);
        assert_eq!(offset_of!(VfioRegionInfo, index), 8);
        assert_eq!(offset_of!(VfioRegionInfo, size), 16);
        assert_eq!(offset_of!(VfioRegionInfo, offset), 24);
        assert_eq!(size_of::<VfioIommuType1DmaMap>(), 32);
        assert_eq!(offset_of!(VfioIommuType1DmaMap, vaddr), 8);
        assert_eq!(offset_of!(VfioIommuType1DmaMap, iova), 16);
        assert_eq!(offset_of!(VfioIommuType1DmaMap, size), 24);
        assert_eq!(size_of::<VfioIommuType1DmaUnmap>(), 24);
        assert_eq!(offset_of!(VfioIommuType1DmaUnmap, iova), 8);
        assert_eq!(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, 3);
        assert_eq!(VFIO_REGION_INFO_FLAG_MMAP, 4);
        assert_eq!(VFIO_PCI_BAR0_REGION_INDEX, 0);
        assert_eq!(VFIO_PCI_CONFIG_REGION_INDEX, 7);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The `vfio:` backend: pure userspace access through VFIO (Linux
//! `Documentation/driver-api/vfio.rst`): container, group, device; BAR 0
//! mmapped through the device fd; a DMA ring in host memory mapped through
//! the IOMMU (type1v2) and read by polling the card's write pointer.
//!
//! The ioctls are hand-written over `nix` in [`crate::sys`] (see
//! driver/README.md for why), their numbers and argument layouts pinned by
//! the tests below against `include/uapi/linux/vfio.h`.

pub mod ring;
pub mod sysfs;

use crate::device::{Backend, DeviceUri};
use crate::error::{Error, Result};
use crate::sys::{self, vfio_abi, IommuBuffer, Mapping};
use crate::transport::{check_offset, EventSource, RegIo};
use qkd_abi::regmap::{header, BLOCK_BYTES, BLOCK_ID_FIELDS};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

/// Default ring size: 4 MiB.
pub const DEFAULT_RING_BYTES: u64 = 4 << 20;
/// Default IOVA of the ring (4 GiB, clear of the x86 MSI window).
pub const DEFAULT_RING_IOVA: u64 = 1 << 32;

/// Keeps the container, group and device fds open as long as any part of
/// the backend is alive.
#[derive(Debug)]
struct VfioHandles {
    _container: File,
    _group: File,
    _device: OwnedFd,
}

/// BAR 0 mapped through the VFIO device fd.
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

/// Find a block of `type_id` on the BLOCK_ID chain; returns (index, major).
pub fn find_block(regs: &mut dyn RegIo, type_id: u16) -> Result<Option<(u8, u8)>> {
    let ident = regs.read32(header::IDENT.offset)?;
    let mut idx = header::IDENT_FIELDS[4].get(ident) as u8;
    let mut hops = 0;
    while idx != 0 && hops < 256 {
        let off = u32::from(idx) * BLOCK_BYTES;
        if off as usize + 4 > regs.window_bytes() {
            break;
        }
        let id = regs.read32(off)?;
        if BLOCK_ID_FIELDS[0].get(id) as u16 == type_id {
            return Ok(Some((idx, BLOCK_ID_FIELDS[1].get(id) as u8)));
        }
        idx = BLOCK_ID_FIELDS[2].get(id) as u8;
        hops += 1;
    }
    Ok(None)
}

/// Open `vfio:DDDD:BB:DD.F[?ring_bytes=N&iova=A&sysfs=/sys]`.
pub fn open(uri: &DeviceUri) -> Result<Backend> {
    uri.only_options(&["ring_bytes", "iova", "sysfs"])?;
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
    let device = sys::vfio_group_get_device_fd(group.as_fd(), &name)
        .map_err(vfio_err("GROUP_GET_DEVICE_FD"))?;
    let bar0 =
        sys::vfio_device_get_region_info(device.as_fd(), vfio_abi::VFIO_PCI_BAR0_REGION_INDEX)
            .map_err(vfio_err("DEVICE_GET_REGION_INFO"))?;
    if bar0.flags & vfio_abi::VFIO_REGION_INFO_FLAG_MMAP == 0 || bar0.size == 0 {
        return Err(Error::VfioSetup(format!(
            "BAR0 of {} cannot be mmapped (flags {:#x}, size {})",
            dev.bdf, bar0.flags, bar0.size
        )));
    }
    let bar_len = usize::try_from(bar0.size)
        .map_err(|_| Error::VfioSetup("BAR0 larger than the address space".into()))?;
    let map =
        Mapping::map_shared(device.as_fd(), bar0.offset, bar_len).map_err(|source| Error::Map {
            what: format!("BAR0 of {}", dev.bdf),
            len_bytes: bar_len,
            source,
        })?;
    let ring_bytes = uri.option_u64("ring_bytes", DEFAULT_RING_BYTES)?;
    let iova = uri.option_u64("iova", DEFAULT_RING_IOVA)?;
    let handles = Arc::new(VfioHandles {
        _container: container.try_clone().map_err(vfio_err("dup container"))?,
        _group: group,
        _device: device,
    });
    let map = Arc::new(map);
    let mut regs = VfioRegs {
        map: map.clone(),
        _handles: handles.clone(),
    };
    let events: Option<Box<dyn EventSource>> = match find_block(&mut regs, ring::RING_BLOCK_TYPE)? {
        Some((idx, major)) if major == ring::RING_BLOCK_MAJOR => {
            let len = usize::try_from(ring_bytes).map_err(|_| Error::InvalidConfig {
                what: "ring_bytes",
                value: ring_bytes.to_string(),
                reason: "larger than the address space",
            })?;
            let buf = IommuBuffer::new(container.as_fd(), len, iova)
                .map_err(vfio_err("IOMMU_MAP_DMA"))?;
            let ring_regs = VfioRegs {
                map,
                _handles: handles,
            };
            Some(Box::new(ring::RingReader::new(
                ring_regs,
                u32::from(idx) * BLOCK_BYTES,
                buf,
                iova,
            )?))
        }
        Some((idx, major)) => {
            return Err(Error::BlockMajor {
                index: idx,
                name: "dma_ring",
                type_id: ring::RING_BLOCK_TYPE,
                found_major: major,
                expected_major: ring::RING_BLOCK_MAJOR,
            })
        }
        None => {
            tracing::warn!(
                "{}: no DMA ring block (type {:#06x}); registers only",
                dev.bdf,
                ring::RING_BLOCK_TYPE
            );
            None
        }
    };
    Ok(Backend {
        regs: Box::new(regs),
        events,
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
    }
}

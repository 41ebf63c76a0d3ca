// SPDX-License-Identifier: MIT OR Apache-2.0
//! Every OS call of the driver that needs `unsafe`: mmap/munmap of BARs and
//! DMA buffers, volatile 32-bit register access, poll+read of stream
//! devices, and the VFIO ioctls (Linux `include/uapi/linux/vfio.h`).
//!
//! The layout follows cloud-hypervisor's `MmapRegion` (RAII mapping,
//! `checked_add` before pointer arithmetic, accessors bounds-checked
//! against the mapped length) and rust-vmm's `vfio-ioctls` (STYLE.md
//! habits 10-12). Each `unsafe` block carries a `// SAFETY:` comment.

use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::mman::{MapFlags, ProtFlags};
use std::ffi::{c_void, CStr};
use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::time::Duration;

fn to_io(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

// ---- Memory mappings ----

/// A shared memory mapping (BAR window, DMA buffer), unmapped on drop.
///
/// All accessors are bounds-checked against the mapped length and use
/// volatile accesses, since the other side (a card, a device model) may
/// change the memory at any time.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<c_void>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value; every
// access goes through volatile reads/writes of naturally aligned words, so
// moving the owner to another thread cannot create a data race in Rust's
// sense beyond what the hardware protocol already has.
unsafe impl Send for Mapping {}
// SAFETY: as for Send; `&Mapping` only allows volatile word accesses.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map `len_bytes` of `fd` from byte `offset`, shared, read/write.
    pub fn map_shared(fd: BorrowedFd<'_>, offset: u64, len_bytes: usize) -> io::Result<Mapping> {
        let len = NonZeroUsize::new(len_bytes)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "zero-length mapping"))?;
        let off = i64::try_from(offset).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "mapping offset exceeds off_t")
        })?;
        // SAFETY: we request a fresh mapping (addr = None) so no existing
        // memory is replaced; the fd is valid for the call (borrowed); the
        // returned region is owned by the `Mapping` and unmapped in Drop.
        let ptr = unsafe {
            nix::sys::mman::mmap(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
                fd,
                off,
            )
        }
        .map_err(to_io)?;
        Ok(Mapping {
            ptr,
            len: len_bytes,
        })
    }

    /// Anonymous, shared, zero-filled, pre-faulted memory (a DMA buffer).
    pub fn anonymous(len_bytes: usize) -> io::Result<Mapping> {
        let len = NonZeroUsize::new(len_bytes)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "zero-length mapping"))?;
        // SAFETY: fresh anonymous mapping (addr = None, no fd); owned by the
        // returned `Mapping`, unmapped in Drop.
        let ptr = unsafe {
            nix::sys::mman::mmap_anonymous(
                None,
                len,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED | MapFlags::MAP_POPULATE,
            )
        }
        .map_err(to_io)?;
        Ok(Mapping {
            ptr,
            len: len_bytes,
        })
    }

    /// Mapped length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false (mappings are never empty).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Host virtual address (for VFIO DMA mapping).
    pub fn vaddr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    fn check(&self, offset: usize, size: usize, align: usize) -> Option<usize> {
        let end = offset.checked_add(size)?;
        (end <= self.len && offset.is_multiple_of(align)).then_some(offset)
    }

    /// Volatile 32-bit read at byte `offset`; `None` if out of bounds or unaligned.
    pub fn read32(&self, offset: usize) -> Option<u32> {
        let off = self.check(offset, 4, 4)?;
        // SAFETY: `off + 4 <= len` and `off` is 4-aligned (checked above);
        // the mapping is page-aligned, so the pointer is aligned and inside
        // the live mapping owned by `self`.
        Some(unsafe {
            std::ptr::read_volatile(self.ptr.as_ptr().cast::<u8>().add(off).cast::<u32>())
        })
    }

    /// Volatile 32-bit write at byte `offset`; `None` if out of bounds or unaligned.
    pub fn write32(&self, offset: usize, value: u32) -> Option<()> {
        let off = self.check(offset, 4, 4)?;
        // SAFETY: as in `read32`; the mapping is writable (PROT_WRITE).
        unsafe {
            std::ptr::write_volatile(self.ptr.as_ptr().cast::<u8>().add(off).cast::<u32>(), value)
        };
        Some(())
    }

    /// Copy `dst.len()` bytes from byte `offset` with volatile 64-bit loads.
    /// `offset` and `dst.len()` must be multiples of 8; `None` otherwise or
    /// if out of bounds.
    pub fn copy_out(&self, offset: usize, dst: &mut [u8]) -> Option<()> {
        let off = self.check(offset, dst.len(), 8)?;
        if !dst.len().is_multiple_of(8) {
            return None;
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        for (i, chunk) in dst.chunks_exact_mut(8).enumerate() {
            // SAFETY: `off + dst.len() <= len` and `off` is 8-aligned, so
            // word i lies inside the mapping and is aligned.
            let w = unsafe {
                std::ptr::read_volatile(
                    self.ptr
                        .as_ptr()
                        .cast::<u8>()
                        .add(off + 8 * i)
                        .cast::<u64>(),
                )
            };
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        Some(())
    }

    /// Copy `src` to byte `offset` with volatile 64-bit stores (what a card
    /// or device model does). Same alignment rules as [`Mapping::copy_out`].
    pub fn copy_in(&self, offset: usize, src: &[u8]) -> Option<()> {
        let off = self.check(offset, src.len(), 8)?;
        if !src.len().is_multiple_of(8) {
            return None;
        }
        for (i, chunk) in src.chunks_exact(8).enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            // SAFETY: as in `copy_out`; the mapping is writable.
            unsafe {
                std::ptr::write_volatile(
                    self.ptr
                        .as_ptr()
                        .cast::<u8>()
                        .add(off + 8 * i)
                        .cast::<u64>(),
                    u64::from_ne_bytes(b),
                )
            };
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        Some(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe exactly the region returned by mmap,
        // which nothing else unmaps; after Drop no accessor can run.
        if let Err(e) = unsafe { nix::sys::mman::munmap(self.ptr, self.len) } {
            tracing::error!("munmap of {} bytes failed: {e}", self.len);
        }
    }
}

// ---- Stream reads ----

/// Result of [`poll_read`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were read (> 0).
    Data(usize),
    /// Nothing arrived before the timeout.
    Timeout,
    /// The writer closed or the device went away.
    Eof,
}

/// Wait up to `timeout` for `fd` to be readable, then read once.
pub fn poll_read(fd: BorrowedFd<'_>, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome> {
    let t = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let revents = loop {
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, t) {
            Ok(0) => return Ok(ReadOutcome::Timeout),
            Ok(_) => break fds[0].revents().unwrap_or(PollFlags::empty()),
            Err(nix::Error::EINTR) => continue,
            Err(e) => return Err(to_io(e)),
        }
    };
    if revents.contains(PollFlags::POLLNVAL) {
        return Err(io::Error::from_raw_os_error(libc_ebadf()));
    }
    if !revents.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
        return Ok(ReadOutcome::Timeout);
    }
    loop {
        match nix::unistd::read(fd.as_raw_fd(), buf) {
            Ok(0) => return Ok(ReadOutcome::Eof),
            Ok(n) => return Ok(ReadOutcome::Data(n)),
            Err(nix::Error::EINTR) => continue,
            Err(nix::Error::EAGAIN) => return Ok(ReadOutcome::Timeout),
            // The XDMA driver returns ENODEV/EIO once the card or module is gone.
            Err(nix::Error::ENODEV) | Err(nix::Error::ENXIO) => return Ok(ReadOutcome::Eof),
            Err(e) => return Err(to_io(e)),
        }
    }
}

/// Non-blocking follow-up reads into `buf` after [`poll_read`] returned
/// data: keeps reading until `buf` is full or the descriptor has nothing
/// more (`EAGAIN`), so one call moves as much as the pipe holds. EOF or an
/// error stop the loop silently; the next [`poll_read`] reports them.
pub fn read_more(fd: BorrowedFd<'_>, buf: &mut [u8]) -> usize {
    let mut total = 0;
    while total < buf.len() {
        match nix::unistd::read(fd.as_raw_fd(), &mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(nix::Error::EINTR) => continue,
            Err(_) => break,
        }
    }
    total
}

fn libc_ebadf() -> i32 {
    nix::libc::EBADF
}

// ---- VFIO (include/uapi/linux/vfio.h) ----

/// VFIO kernel ABI: constants and `#[repr(C)]` argument structures, as in
/// `include/uapi/linux/vfio.h`. Pinned by the tests in `vfio::ioctl_abi`.
pub mod vfio_abi {
    /// `VFIO_TYPE` (`';'`).
    pub const VFIO_TYPE: u8 = b';';
    /// `VFIO_BASE`.
    pub const VFIO_BASE: u8 = 100;
    /// `VFIO_API_VERSION`.
    pub const VFIO_API_VERSION: i32 = 0;
    /// `VFIO_TYPE1v2_IOMMU`.
    pub const VFIO_TYPE1V2_IOMMU: i32 = 3;
    /// `VFIO_GROUP_FLAGS_VIABLE`.
    pub const VFIO_GROUP_FLAGS_VIABLE: u32 = 1 << 0;
    /// `VFIO_DMA_MAP_FLAG_READ`.
    pub const VFIO_DMA_MAP_FLAG_READ: u32 = 1 << 0;
    /// `VFIO_DMA_MAP_FLAG_WRITE`.
    pub const VFIO_DMA_MAP_FLAG_WRITE: u32 = 1 << 1;
    /// `VFIO_REGION_INFO_FLAG_MMAP`.
    pub const VFIO_REGION_INFO_FLAG_MMAP: u32 = 1 << 2;
    /// `VFIO_PCI_BAR0_REGION_INDEX`.
    pub const VFIO_PCI_BAR0_REGION_INDEX: u32 = 0;
    /// `VFIO_PCI_CONFIG_REGION_INDEX`.
    pub const VFIO_PCI_CONFIG_REGION_INDEX: u32 = 7;

    /// `_IO(VFIO_TYPE, VFIO_BASE + n)`: VFIO ioctls encode no size or direction.
    pub const fn vfio_io(n: u8) -> u64 {
        ((VFIO_TYPE as u64) << 8) | (VFIO_BASE as u64 + n as u64)
    }
    /// `VFIO_GET_API_VERSION`.
    pub const VFIO_GET_API_VERSION: u64 = vfio_io(0);
    /// `VFIO_CHECK_EXTENSION`.
    pub const VFIO_CHECK_EXTENSION: u64 = vfio_io(1);
    /// `VFIO_SET_IOMMU`.
    pub const VFIO_SET_IOMMU: u64 = vfio_io(2);
    /// `VFIO_GROUP_GET_STATUS`.
    pub const VFIO_GROUP_GET_STATUS: u64 = vfio_io(3);
    /// `VFIO_GROUP_SET_CONTAINER`.
    pub const VFIO_GROUP_SET_CONTAINER: u64 = vfio_io(4);
    /// `VFIO_GROUP_GET_DEVICE_FD`.
    pub const VFIO_GROUP_GET_DEVICE_FD: u64 = vfio_io(6);
    /// `VFIO_DEVICE_GET_INFO`.
    pub const VFIO_DEVICE_GET_INFO: u64 = vfio_io(7);
    /// `VFIO_DEVICE_GET_REGION_INFO`.
    pub const VFIO_DEVICE_GET_REGION_INFO: u64 = vfio_io(8);
    /// `VFIO_DEVICE_RESET`.
    pub const VFIO_DEVICE_RESET: u64 = vfio_io(11);
    /// `VFIO_IOMMU_MAP_DMA`.
    pub const VFIO_IOMMU_MAP_DMA: u64 = vfio_io(13);
    /// `VFIO_IOMMU_UNMAP_DMA`.
    pub const VFIO_IOMMU_UNMAP_DMA: u64 = vfio_io(14);

    /// `struct vfio_group_status`.
    #[repr(C)]
    #[derive(Debug, Default, Clone, Copy)]
    pub struct VfioGroupStatus {
        /// Size of the structure.
        pub argsz: u32,
        /// `VFIO_GROUP_FLAGS_*`.
        pub flags: u32,
    }

    /// `struct vfio_device_info` (up to `num_irqs`; `cap_offset` not used).
    #[repr(C)]
    #[derive(Debug, Default, Clone, Copy)]
    pub struct VfioDeviceInfo {
        /// Size of the structure.
        pub argsz: u32,
        /// `VFIO_DEVICE_FLAGS_*`.
        pub flags: u32,
        /// Number of regions.
        pub num_regions: u32,
        /// Number of IRQ indices.
        pub num_irqs: u32,
    }

    /// `struct vfio_region_info`.
    #[repr(C)]
    #[derive(Debug, Default, Clone, Copy)]
    pub struct VfioRegionInfo {
        /// Size of the structure.
        pub argsz: u32,
        /// `VFIO_REGION_INFO_FLAG_*`.
        pub flags: u32,
        /// Region index.
        pub index: u32,
        /// Offset of the first capability.
        pub cap_offset: u32,
        /// Region size in bytes.
        pub size: u64,
        /// Offset of the region within the device fd.
        pub offset: u64,
    }

    /// `struct vfio_iommu_type1_dma_map`.
    #[repr(C)]
    #[derive(Debug, Default, Clone, Copy)]
    pub struct VfioIommuType1DmaMap {
        /// Size of the structure.
        pub argsz: u32,
        /// `VFIO_DMA_MAP_FLAG_*`.
        pub flags: u32,
        /// Process virtual address.
        pub vaddr: u64,
        /// IO virtual address the card uses.
        pub iova: u64,
        /// Size in bytes.
        pub size: u64,
    }

    /// `struct vfio_iommu_type1_dma_unmap`.
    #[repr(C)]
    #[derive(Debug, Default, Clone, Copy)]
    pub struct VfioIommuType1DmaUnmap {
        /// Size of the structure.
        pub argsz: u32,
        /// Flags.
        pub flags: u32,
        /// IO virtual address.
        pub iova: u64,
        /// Size in bytes.
        pub size: u64,
    }
}

use vfio_abi::*;

nix::ioctl_none_bad!(ioc_get_api_version, VFIO_GET_API_VERSION);
nix::ioctl_write_int_bad!(ioc_check_extension, VFIO_CHECK_EXTENSION);
nix::ioctl_write_int_bad!(ioc_set_iommu, VFIO_SET_IOMMU);
nix::ioctl_readwrite_bad!(ioc_group_get_status, VFIO_GROUP_GET_STATUS, VfioGroupStatus);
nix::ioctl_write_ptr_bad!(ioc_group_set_container, VFIO_GROUP_SET_CONTAINER, i32);
nix::ioctl_write_ptr_bad!(
    ioc_group_get_device_fd,
    VFIO_GROUP_GET_DEVICE_FD,
    nix::libc::c_char
);
nix::ioctl_readwrite_bad!(ioc_device_get_info, VFIO_DEVICE_GET_INFO, VfioDeviceInfo);
nix::ioctl_readwrite_bad!(
    ioc_device_get_region_info,
    VFIO_DEVICE_GET_REGION_INFO,
    VfioRegionInfo
);
nix::ioctl_none_bad!(ioc_device_reset, VFIO_DEVICE_RESET);
nix::ioctl_write_ptr_bad!(ioc_iommu_map_dma, VFIO_IOMMU_MAP_DMA, VfioIommuType1DmaMap);
nix::ioctl_readwrite_bad!(
    ioc_iommu_unmap_dma,
    VFIO_IOMMU_UNMAP_DMA,
    VfioIommuType1DmaUnmap
);

fn argsz<T>() -> u32 {
    std::mem::size_of::<T>() as u32
}

/// `VFIO_GET_API_VERSION` on a container fd.
pub fn vfio_get_api_version(container: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: argument-less ioctl on a valid (borrowed) fd.
    unsafe { ioc_get_api_version(container.as_raw_fd()) }.map_err(to_io)
}

/// `VFIO_CHECK_EXTENSION`: > 0 if the container supports `ext`.
pub fn vfio_check_extension(container: BorrowedFd<'_>, ext: i32) -> io::Result<i32> {
    // SAFETY: integer-argument ioctl on a valid fd; no memory is passed.
    unsafe { ioc_check_extension(container.as_raw_fd(), ext) }.map_err(to_io)
}

/// `VFIO_SET_IOMMU`.
pub fn vfio_set_iommu(container: BorrowedFd<'_>, iommu_type: i32) -> io::Result<()> {
    // SAFETY: integer-argument ioctl on a valid fd; no memory is passed.
    unsafe { ioc_set_iommu(container.as_raw_fd(), iommu_type) }
        .map(drop)
        .map_err(to_io)
}

/// `VFIO_GROUP_GET_STATUS`.
pub fn vfio_group_get_status(group: BorrowedFd<'_>) -> io::Result<VfioGroupStatus> {
    let mut s = VfioGroupStatus {
        argsz: argsz::<VfioGroupStatus>(),
        flags: 0,
    };
    // SAFETY: `s` is a live, correctly sized `vfio_group_status` the kernel
    // reads `argsz` from and writes `flags` to.
    unsafe { ioc_group_get_status(group.as_raw_fd(), &mut s) }.map_err(to_io)?;
    Ok(s)
}

/// `VFIO_GROUP_SET_CONTAINER`.
pub fn vfio_group_set_container(
    group: BorrowedFd<'_>,
    container: BorrowedFd<'_>,
) -> io::Result<()> {
    let fd: i32 = container.as_raw_fd();
    // SAFETY: the kernel reads one int (the container fd) through the pointer,
    // which points at a live local.
    unsafe { ioc_group_set_container(group.as_raw_fd(), &fd) }
        .map(drop)
        .map_err(to_io)
}

/// `VFIO_GROUP_GET_DEVICE_FD` for the device named `name` (`0000:03:00.0`).
pub fn vfio_group_get_device_fd(group: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: the kernel reads a NUL-terminated string from `name`, which
    // outlives the call.
    let fd: RawFd =
        unsafe { ioc_group_get_device_fd(group.as_raw_fd(), name.as_ptr()) }.map_err(to_io)?;
    // SAFETY: on success the ioctl returns a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `VFIO_DEVICE_GET_INFO`.
pub fn vfio_device_get_info(device: BorrowedFd<'_>) -> io::Result<VfioDeviceInfo> {
    let mut i = VfioDeviceInfo {
        argsz: argsz::<VfioDeviceInfo>(),
        ..Default::default()
    };
    // SAFETY: `i` is a live `vfio_device_info` prefix whose `argsz` tells the
    // kernel how much it may write.
    unsafe { ioc_device_get_info(device.as_raw_fd(), &mut i) }.map_err(to_io)?;
    Ok(i)
}

/// `VFIO_DEVICE_GET_REGION_INFO` for region `index`.
pub fn vfio_device_get_region_info(
    device: BorrowedFd<'_>,
    index: u32,
) -> io::Result<VfioRegionInfo> {
    let mut r = VfioRegionInfo {
        argsz: argsz::<VfioRegionInfo>(),
        index,
        ..Default::default()
    };
    // SAFETY: `r` is a live `vfio_region_info`; `argsz` bounds the kernel's write.
    unsafe { ioc_device_get_region_info(device.as_raw_fd(), &mut r) }.map_err(to_io)?;
    Ok(r)
}

/// `VFIO_DEVICE_RESET`.
pub fn vfio_device_reset(device: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: argument-less ioctl on a valid fd.
    unsafe { ioc_device_reset(device.as_raw_fd()) }
        .map(drop)
        .map_err(to_io)
}

/// A host buffer mapped for card DMA through the IOMMU; unmapped from the
/// IOMMU and then from the process on drop, in that order, so the card
/// can never write into freed memory.
#[derive(Debug)]
pub struct IommuBuffer {
    mem: Mapping,
    container: OwnedFd,
    iova: u64,
}

impl IommuBuffer {
    /// Allocate `len_bytes` and map them at `iova` for card reads and writes.
    pub fn new(container: BorrowedFd<'_>, len_bytes: usize, iova: u64) -> io::Result<IommuBuffer> {
        let mem = Mapping::anonymous(len_bytes)?;
        let container = container.try_clone_to_owned()?;
        let m = VfioIommuType1DmaMap {
            argsz: argsz::<VfioIommuType1DmaMap>(),
            flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
            vaddr: mem.vaddr(),
            iova,
            size: len_bytes as u64,
        };
        // SAFETY: `m` describes memory owned by `mem`, which this value keeps
        // alive until Drop has unmapped it from the IOMMU.
        unsafe { ioc_iommu_map_dma(container.as_raw_fd(), &m) }.map_err(to_io)?;
        Ok(IommuBuffer {
            mem,
            container,
            iova,
        })
    }
    /// The host-side memory.
    pub fn mem(&self) -> &Mapping {
        &self.mem
    }
    /// The IO virtual address the card uses.
    pub fn iova(&self) -> u64 {
        self.iova
    }
}

impl Drop for IommuBuffer {
    fn drop(&mut self) {
        let mut u = VfioIommuType1DmaUnmap {
            argsz: argsz::<VfioIommuType1DmaUnmap>(),
            flags: 0,
            iova: self.iova,
            size: self.mem.len() as u64,
        };
        // SAFETY: `u` is a live `vfio_iommu_type1_dma_unmap`; the range is the
        // one mapped in `new`. `mem` is unmapped afterwards by its own Drop.
        if let Err(e) = unsafe { ioc_iommu_unmap_dma(self.container.as_raw_fd(), &mut u) } {
            tracing::error!("VFIO_IOMMU_UNMAP_DMA of iova {:#x} failed: {e}", self.iova);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsFd;

    #[test]
    fn mapping_accessors_are_bounds_checked() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&[0u8; 64]).unwrap();
        let m = Mapping::map_shared(f.as_fd(), 0, 64).unwrap();
        assert_eq!(m.write32(60, 0xDEAD_BEEF), Some(()));
        assert_eq!(m.read32(60), Some(0xDEAD_BEEF));
        assert_eq!(m.read32(61), None, "unaligned");
        assert_eq!(m.read32(64), None, "past the end");
        assert_eq!(m.read32(usize::MAX - 1), None, "overflowing offset");
        assert_eq!(m.write32(62, 0), None);
        let mut b = [0u8; 8];
        assert_eq!(m.copy_out(56, &mut b), Some(()));
        assert_eq!(&b[4..], &0xDEAD_BEEFu32.to_le_bytes());
        assert_eq!(m.copy_out(60, &mut b), None);
        assert_eq!(m.copy_out(64, &mut b), None);
    }

    #[test]
    fn anonymous_mapping_round_trips() {
        let m = Mapping::anonymous(4096).unwrap();
        m.copy_in(4088, &7u64.to_le_bytes()).unwrap();
        let mut b = [0u8; 8];
        m.copy_out(4088, &mut b).unwrap();
        assert_eq!(u64::from_le_bytes(b), 7);
        assert!(m.copy_in(4090, &b).is_none());
    }
}

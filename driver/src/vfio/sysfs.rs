// SPDX-License-Identifier: MIT OR Apache-2.0
//! PCI device discovery through sysfs (Linux `Documentation/ABI/testing/
//! sysfs-bus-pci`): `vendor`, `device`, the `iommu_group` and `driver`
//! links, and the `resource` table. The sysfs root is a parameter so the
//! tests run over a fake tree in a temp dir.

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `IORESOURCE_IO`.
pub const IORESOURCE_IO: u64 = 0x0000_0100;
/// `IORESOURCE_MEM`.
pub const IORESOURCE_MEM: u64 = 0x0000_0200;
/// `IORESOURCE_PREFETCH`.
pub const IORESOURCE_PREFETCH: u64 = 0x0000_2000;
/// `IORESOURCE_MEM_64`.
pub const IORESOURCE_MEM_64: u64 = 0x0010_0000;

/// One BAR from the `resource` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bar {
    /// BAR index (0..=5).
    pub index: u8,
    /// Host physical start address.
    pub start: u64,
    /// Length in bytes.
    pub len_bytes: u64,
    /// `IORESOURCE_*` flags.
    pub flags: u64,
}

impl Bar {
    /// A memory (not I/O port) BAR.
    pub fn is_memory(&self) -> bool {
        self.flags & IORESOURCE_MEM != 0
    }
}

/// What sysfs says about one PCI function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PciDevice {
    /// `DDDD:BB:DD.F`.
    pub bdf: String,
    /// `<sysfs>/bus/pci/devices/<bdf>`.
    pub path: PathBuf,
    /// PCI vendor id.
    pub vendor: u16,
    /// PCI device id.
    pub device: u16,
    /// IOMMU group number (None: no IOMMU, VFIO impossible).
    pub iommu_group: Option<u32>,
    /// Name of the bound kernel driver (`vfio-pci`, `xdma`, ...).
    pub driver: Option<String>,
    /// Implemented BARs.
    pub bars: Vec<Bar>,
}

/// Check a PCI address has the form `DDDD:BB:DD.F` (hex).
pub fn parse_bdf(bdf: &str) -> Result<()> {
    let ok = bdf.len() == 12
        && bdf.char_indices().all(|(i, c)| match i {
            4 | 7 => c == ':',
            10 => c == '.',
            11 => ('0'..='7').contains(&c),
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err(Error::BadUri {
            uri: format!("vfio:{bdf}"),
            reason: "expected a PCI address DDDD:BB:DD.F, e.g. 0000:03:00.0".into(),
        })
    }
}

fn read_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|source| Error::Sysfs {
            path: path.to_path_buf(),
            source,
        })
}

fn parse_hex(path: &Path, s: &str) -> Result<u64> {
    let t = s.trim();
    u64::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).map_err(|_| Error::SysfsFormat {
        path: path.to_path_buf(),
        reason: format!("'{t}' is not a hex number"),
    })
}

fn link_name(path: &Path) -> Result<Option<String>> {
    match std::fs::read_link(path) {
        Ok(t) => Ok(t.file_name().map(|n| n.to_string_lossy().into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Sysfs {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parse a `resource` file: one `start end flags` line per resource; the
/// first six are BARs 0-5, unused ones are all zero.
pub fn parse_resource(path: &Path, text: &str) -> Result<Vec<Bar>> {
    let mut bars = Vec::new();
    for (i, line) in text.lines().take(6).enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            return Err(Error::SysfsFormat {
                path: path.to_path_buf(),
                reason: format!(
                    "line {} has {} fields, expected 3 (start end flags)",
                    i + 1,
                    f.len()
                ),
            });
        }
        let (start, end, flags) = (
            parse_hex(path, f[0])?,
            parse_hex(path, f[1])?,
            parse_hex(path, f[2])?,
        );
        if start == 0 && end == 0 {
            continue;
        }
        if end < start {
            return Err(Error::SysfsFormat {
                path: path.to_path_buf(),
                reason: format!("BAR{i} ends ({end:#x}) before it starts ({start:#x})"),
            });
        }
        bars.push(Bar {
            index: i as u8,
            start,
            len_bytes: end - start + 1,
            flags,
        });
    }
    Ok(bars)
}

/// Describe PCI function `bdf` from the sysfs tree at `sysfs_root` (`/sys`).
pub fn discover(sysfs_root: &Path, bdf: &str) -> Result<PciDevice> {
    parse_bdf(bdf)?;
    let path = sysfs_root.join("bus/pci/devices").join(bdf);
    if !path.exists() {
        return Err(Error::Sysfs {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such PCI device"),
        });
    }
    let vendor_path = path.join("vendor");
    let device_path = path.join("device");
    let vendor = parse_hex(&vendor_path, &read_string(&vendor_path)?)?;
    let device = parse_hex(&device_path, &read_string(&device_path)?)?;
    let group_link = path.join("iommu_group");
    let iommu_group = match link_name(&group_link)? {
        Some(n) => Some(n.parse::<u32>().map_err(|_| Error::SysfsFormat {
            path: group_link.clone(),
            reason: format!("link target '{n}' is not a group number"),
        })?),
        None => None,
    };
    let driver = link_name(&path.join("driver"))?;
    let res_path = path.join("resource");
    let bars = parse_resource(&res_path, &read_string(&res_path)?)?;
    let narrow = |v: u64, p: &Path| {
        u16::try_from(v).map_err(|_| Error::SysfsFormat {
            path: p.to_path_buf(),
            reason: format!("{v:#x} does not fit 16 bits"),
        })
    };
    Ok(PciDevice {
        bdf: bdf.to_string(),
        vendor: narrow(vendor, &vendor_path)?,
        device: narrow(device, &device_path)?,
        path,
        iommu_group,
        driver,
        bars,
    })
}

/// PCI addresses of every function with this vendor and device id, sorted.
pub fn find_by_id(sysfs_root: &Path, vendor: u16, device: u16) -> Result<Vec<String>> {
    let dir = sysfs_root.join("bus/pci/devices");
    let rd = std::fs::read_dir(&dir).map_err(|source| Error::Sysfs {
        path: dir.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let bdf = e.file_name().to_string_lossy().into_owned();
        if let Ok(d) = discover(sysfs_root, &bdf) {
            if d.vendor == vendor && d.device == device {
                out.push(bdf);
            }
        }
    }
    out.sort();
    Ok(out)
}

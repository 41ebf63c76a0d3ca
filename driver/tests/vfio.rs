// SPDX-License-Identifier: MIT OR Apache-2.0
//! The VFIO code paths that run without /dev/vfio:
//!
//! ```text
//!   fake sysfs tree (temp dir)            ring model thread ("card")
//!   bus/pci/devices/0000:03:00.0/          writes records into a 4 KiB ring,
//!     vendor device resource               advances RING_WR_PTR, respects RING_RD_PTR
//!     iommu_group -> ../../../kernel/iommu_groups/12   |
//!     driver -> ../../../bus/pci/drivers/vfio-pci      v
//!   sysfs::discover                        RingReader (MemRegs + Mapping) -> StreamReader
//! ```

use qkd_abi::records::{Detection, SLOT_MASK};
use qkd_abi::symbol::Basis;
use qkd_abi::Record;
use qkd_driver::stream::StreamReader;
use qkd_driver::sys::Mapping;
use qkd_driver::vfio::ring::{
    RingReader, CTRL_ENABLE, RING_BASE_HI, RING_BASE_LO, RING_CTRL, RING_RD_PTR, RING_SIZE_LOG2,
    RING_WR_PTR,
};
use qkd_driver::vfio::sysfs::{discover, find_by_id, IORESOURCE_MEM};
use qkd_driver::{open, Error, MemRegs, RegIo};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn fake_device(
    root: &Path,
    bdf: &str,
    vendor: &str,
    device: &str,
    group: Option<u32>,
    driver: Option<&str>,
) {
    let dev = root.join("bus/pci/devices").join(bdf);
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("vendor"), format!("{vendor}\n")).unwrap();
    std::fs::write(dev.join("device"), format!("{device}\n")).unwrap();
    let mut res = String::new();
    res.push_str("0x00000000f7000000 0x00000000f700ffff 0x0000000000040200\n");
    res.push_str("0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    res.push_str("0x00000000f6000000 0x00000000f60fffff 0x0000000000140204\n");
    for _ in 0..10 {
        res.push_str("0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
    }
    std::fs::write(dev.join("resource"), res).unwrap();
    if let Some(g) = group {
        let gdir = root.join("kernel/iommu_groups").join(g.to_string());
        std::fs::create_dir_all(&gdir).unwrap();
        symlink(
            format!("../../../kernel/iommu_groups/{g}"),
            dev.join("iommu_group"),
        )
        .unwrap();
    }
    if let Some(d) = driver {
        std::fs::create_dir_all(root.join("bus/pci/drivers").join(d)).unwrap();
        symlink(format!("../../../bus/pci/drivers/{d}"), dev.join("driver")).unwrap();
    }
}

#[test]
fn sysfs_discovery_over_a_fake_tree() {
    let t = tempfile::tempdir().unwrap();
    fake_device(
        t.path(),
        "0000:03:00.0",
        "0x10ee",
        "0x9038",
        Some(12),
        Some("vfio-pci"),
    );
    fake_device(
        t.path(),
        "0000:04:00.0",
        "0x8086",
        "0x1533",
        Some(13),
        Some("igb"),
    );
    fake_device(t.path(), "0000:05:00.0", "0x10ee", "0x9038", None, None);
    let d = discover(t.path(), "0000:03:00.0").unwrap();
    assert_eq!((d.vendor, d.device), (0x10ee, 0x9038));
    assert_eq!(d.iommu_group, Some(12));
    assert_eq!(d.driver.as_deref(), Some("vfio-pci"));
    assert_eq!(d.bars.len(), 2);
    assert_eq!(
        (d.bars[0].index, d.bars[0].start, d.bars[0].len_bytes),
        (0, 0xf700_0000, 0x1_0000)
    );
    assert!(d.bars[0].is_memory() && d.bars[0].flags & IORESOURCE_MEM != 0);
    assert_eq!((d.bars[1].index, d.bars[1].len_bytes), (2, 0x10_0000));
    let d5 = discover(t.path(), "0000:05:00.0").unwrap();
    assert_eq!((d5.iommu_group, d5.driver), (None, None));
    assert_eq!(
        find_by_id(t.path(), 0x10ee, 0x9038).unwrap(),
        vec!["0000:03:00.0", "0000:05:00.0"]
    );
    assert!(discover(t.path(), "0000:09:00.0").is_err());
    assert!(discover(t.path(), "03:00.0")
        .unwrap_err()
        .to_string()
        .contains("DDDD:BB:DD.F"));
    std::fs::write(
        t.path().join("bus/pci/devices/0000:04:00.0/resource"),
        "0x1 0x2\n",
    )
    .unwrap();
    assert!(discover(t.path(), "0000:04:00.0")
        .unwrap_err()
        .to_string()
        .contains("expected 3"));
}

#[test]
fn vfio_open_explains_a_device_not_bound_to_vfio_pci() {
    let t = tempfile::tempdir().unwrap();
    fake_device(
        t.path(),
        "0000:04:00.0",
        "0x10ee",
        "0x9038",
        Some(13),
        Some("xdma"),
    );
    fake_device(
        t.path(),
        "0000:05:00.0",
        "0x10ee",
        "0x9038",
        None,
        Some("vfio-pci"),
    );
    let e = open(&format!("vfio:0000:04:00.0?sysfs={}", t.path().display())).unwrap_err();
    assert_eq!(e.to_string(), "VFIO: 0000:04:00.0 is bound to xdma, not vfio-pci (see driver/README.md, 'Binding to vfio-pci')");
    let e = open(&format!("vfio:0000:05:00.0?sysfs={}", t.path().display())).unwrap_err();
    assert!(e.to_string().contains("no IOMMU group"), "{e}");
    assert!(matches!(
        open("vfio:0000:05:00.0?bogus=1"),
        Err(Error::BadUri { .. })
    ));
}

fn det(slot: u64) -> Record {
    Record::Detection(Detection {
        slot,
        detector: 0,
        fine_bin: 2,
        basis: Basis::Z,
        invalid: false,
    })
}

#[test]
fn dma_ring_wraps_and_delivers_every_record() {
    const BASE: u32 = 0x700;
    const RING: usize = 4096;
    const N: u64 = 20_000; // 160 KB through a 4 KiB ring: ~39 wraps
    let regs = MemRegs::new(0x800);
    let mem = Arc::new(Mapping::anonymous(RING).unwrap());
    let mut reader = RingReader::new(regs.clone(), BASE, mem.clone(), 0x1_0000_0000).unwrap();
    reader.set_poll_interval(Duration::from_micros(20));
    assert_eq!(regs.get(BASE + RING_CTRL), CTRL_ENABLE);
    assert_eq!(
        (regs.get(BASE + RING_BASE_LO), regs.get(BASE + RING_BASE_HI)),
        (0, 1)
    );
    assert_eq!(regs.get(BASE + RING_SIZE_LOG2), 12);

    // The card: writes whole words, never more than the ring holds.
    let card = {
        let (regs, mem) = (regs.clone(), mem.clone());
        std::thread::spawn(move || {
            let mut words = Vec::new();
            Record::Epoch(0).encode(&mut words).unwrap();
            for s in 0..N {
                det(s).encode(&mut words).unwrap();
            }
            let mut wr: u32 = regs.get(BASE + RING_WR_PTR);
            let t0 = Instant::now();
            let mut i = 0;
            while i < words.len() {
                let free = RING as u32 - wr.wrapping_sub(regs.get(BASE + RING_RD_PTR));
                let n = ((free / 8) as usize).min(words.len() - i).min(37);
                if n == 0 {
                    assert!(
                        t0.elapsed() < Duration::from_secs(30),
                        "host stopped reading"
                    );
                    std::thread::yield_now();
                    continue;
                }
                for w in &words[i..i + n] {
                    let pos = (wr as usize) % RING;
                    mem.copy_in(pos, &w.to_le_bytes()).unwrap();
                    wr = wr.wrapping_add(8);
                }
                regs.set(BASE + RING_WR_PTR, wr);
                i += n;
            }
        })
    };
    let mut r = StreamReader::with_read_bytes(reader, 1000);
    let mut slots = Vec::new();
    let t0 = Instant::now();
    while slots.len() < N as usize {
        let b = r.next_batch(Duration::from_millis(100)).unwrap();
        slots.extend(b.detections.iter().map(|d| d.slot & SLOT_MASK));
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "ring reader stalled at {}",
            slots.len()
        );
    }
    card.join().unwrap();
    assert_eq!(slots, (0..N).collect::<Vec<_>>());
    assert!(r.total_loss().is_lossless());
    assert_eq!(regs.get(BASE + RING_RD_PTR), regs.get(BASE + RING_WR_PTR));
}

#[test]
fn dma_ring_refuses_bad_geometry_and_pointers() {
    let regs = MemRegs::new(0x800);
    let mem = Arc::new(Mapping::anonymous(4096).unwrap());
    assert!(RingReader::new(
        regs.clone(),
        0x700,
        Arc::new(Mapping::anonymous(3 * 4096).unwrap()),
        0
    )
    .is_err());
    assert!(
        RingReader::new(regs.clone(), 0x700, mem.clone(), 0x800).is_err(),
        "IOVA not aligned to the ring"
    );
    let mut rr = RingReader::new(regs.clone(), 0x700, mem, 0).unwrap();
    regs.set(0x700 + RING_WR_PTR, 8192);
    let mut buf = [0u8; 64];
    use qkd_driver::EventSource;
    let e = rr.read_bytes(&mut buf, Duration::ZERO).unwrap_err();
    assert!(
        matches!(
            e,
            Error::RingPointers {
                used: 8192,
                size: 4096,
                ..
            }
        ),
        "{e}"
    );
    let _ = regs.clone().read32(0);
}

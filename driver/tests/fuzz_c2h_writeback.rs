// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the C2H ring's parsing of what the card writes into host memory:
//! arbitrary bytes in the C2H stream writebacks and the completed-count
//! writeback, and an arbitrary completed-count register. Whatever the card
//! writes, the driver returns whole words or a typed error, never panics
//! and never hands out more bytes than the buffers it has completed.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-driver --test fuzz_c2h_writeback`

use proptest::prelude::*;
use qkd_driver::vfio::c2h::{C2hStream, HostMemory, RingConfig};
use qkd_driver::{Error, EventSource, MemRegs, RegIo};
use std::sync::Arc;
use std::time::Duration;

const DESCRIPTORS: u32 = 4;
const BUFFER_BYTES: u32 = 64;

proptest! {
    #[test]
    fn arbitrary_writebacks_give_words_or_typed_errors(
        raw in proptest::collection::vec(any::<u8>(), (DESCRIPTORS * 8) as usize),
        // Mostly plausible writebacks (right magic, small lengths), so the
        // paths past the magic and count checks are reached too.
        plausible in proptest::collection::vec(
            (any::<bool>(), any::<u16>(), prop_oneof![0u32..=80, any::<u32>()]),
            DESCRIPTORS as usize,
        ),
        count in prop_oneof![0u32..=6, (0u32..=6).prop_map(|c| c | 1 << 31), any::<u32>()],
        count_register in any::<u32>(),
        reads in proptest::collection::vec(0usize..200, 1..6),
    ) {
        let cfg = RingConfig {
            descriptors: DESCRIPTORS,
            buffer_bytes: BUFFER_BYTES,
            poll: Duration::ZERO,
            ..RingConfig::default()
        };
        let lay = cfg.layout();
        let mem = Arc::new(HostMemory::new(lay.total_bytes, 1 << 32).unwrap());
        // A register file holding the identifiers: a plain store, so the
        // control register reads back what the driver wrote (run set).
        let mut bar = MemRegs::new(0x1_0000);
        bar.write32(0x1000, 0x1FC1_8006).unwrap();
        bar.write32(0x5000, 0x1FC5_8006).unwrap();
        let mut s = C2hStream::new(bar.clone(), mem.clone(), cfg).unwrap();
        let m = qkd_driver::vfio::c2h::DmaMemory::mem(&*mem);
        let mut writebacks = raw;
        for (i, (magic, flags, len)) in plausible.into_iter().enumerate() {
            if magic {
                let w0 = 0x52B4_0000 | u32::from(flags & 1);
                writebacks[8 * i..8 * i + 4].copy_from_slice(&w0.to_le_bytes());
                writebacks[8 * i + 4..8 * i + 8].copy_from_slice(&len.to_le_bytes());
            }
        }
        m.copy_in(lay.writebacks, &writebacks).unwrap();
        m.write32(lay.count, count).unwrap();
        bar.write32(0x1048, count_register).unwrap();
        let mut handed_out = 0usize;
        for r in reads {
            let mut buf = vec![0u8; r];
            match s.read_bytes(&mut buf, Duration::ZERO) {
                Ok(n) => {
                    prop_assert!(n <= r && n % 8 == 0);
                    handed_out += n;
                }
                Err(Error::XdmaChannel { .. })
                | Err(Error::XdmaWriteback { .. })
                | Err(Error::XdmaRing { .. }) => break,
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
        prop_assert!(handed_out <= (DESCRIPTORS * BUFFER_BYTES) as usize);
        let (completed, consumed) = s.counts();
        prop_assert!(consumed <= completed && completed <= u64::from(DESCRIPTORS));
    }
}

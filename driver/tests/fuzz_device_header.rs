// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the checks at open: the self-describing header (MAGIC,
//! ABI_VERSION, IDENT, BUILD_ID, FABRIC_CLOCK_KHZ) and the BLOCK_ID chain,
//! read from a register window the card fills. Windows of any size hold
//! arbitrary words, or a valid reset image with header and BLOCK_ID words
//! replaced, bit-flipped or re-chained. Binding gives a typed error or a
//! device whose header passed every check, never a panic; and the device
//! URI parser takes any string (parsing only: opening would touch the
//! host's devices).
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-driver --test fuzz_device_header`

use proptest::prelude::*;
use qkd_abi::regmap::header;
use qkd_abi::{GenParams, RegisterMap, Role};
use qkd_driver::regs::{Alice, Bob};
use qkd_driver::{Backend, Device, DeviceUri, Error, MemRegs};

fn arb_params() -> impl Strategy<Value = GenParams> {
    prop_oneof![
        prop::sample::select(vec![1u8, 2, 4, 8]).prop_map(GenParams::alice),
        (
            prop::sample::select(vec![1u8, 2, 4, 8]),
            prop::sample::select(vec![4u8, 8, 16]),
            1u8..=4
        )
            .prop_map(|(l, o, d)| GenParams::bob(l, o, d)),
    ]
}

/// A change to one register word of the image.
#[derive(Debug, Clone)]
enum Poke {
    /// Replace a header word (index into the five header registers).
    Header { which: usize, value: u32 },
    /// XOR a header word.
    FlipHeader { which: usize, mask: u32 },
    /// Replace or XOR a block's BLOCK_ID word (block index 1..=255).
    BlockId { index: u8, value: u32, xor: bool },
    /// Any word anywhere.
    Word { offset: u32, value: u32 },
}

fn arb_poke() -> impl Strategy<Value = Poke> {
    prop_oneof![
        (0usize..5, any::<u32>()).prop_map(|(which, value)| Poke::Header { which, value }),
        (0usize..5, (0u32..32).prop_map(|b| 1u32 << b))
            .prop_map(|(which, mask)| Poke::FlipHeader { which, mask }),
        (0usize..5, any::<u32>()).prop_map(|(which, mask)| Poke::FlipHeader { which, mask }),
        (1u8..=255, any::<u32>(), any::<bool>()).prop_map(|(index, value, xor)| Poke::BlockId {
            index,
            value,
            xor
        }),
        // A next-block pointer only (bits 31:24), so chains get loops,
        // skips and jumps out of the window.
        (1u8..8, any::<u8>()).prop_map(|(index, next)| Poke::BlockId {
            index,
            value: u32::from(next) << 24,
            xor: true
        }),
        (0u32..0x1000, any::<u32>()).prop_map(|(offset, value)| Poke::Word {
            offset: offset & !3,
            value
        }),
    ]
}

const HEADER_OFFSETS: [u32; 5] = [
    header::MAGIC.offset,
    header::ABI_VERSION.offset,
    header::IDENT.offset,
    header::BUILD_ID.offset,
    header::FABRIC_CLOCK_KHZ.offset,
];

fn apply(r: &MemRegs, p: &Poke) {
    match *p {
        Poke::Header { which, value } => r.set(HEADER_OFFSETS[which], value),
        Poke::FlipHeader { which, mask } => {
            let o = HEADER_OFFSETS[which];
            r.set(o, r.get(o) ^ mask);
        }
        Poke::BlockId { index, value, xor } => {
            let o = u32::from(index) * qkd_abi::regmap::BLOCK_BYTES;
            r.set(o, if xor { r.get(o) ^ value } else { value });
        }
        Poke::Word { offset, value } => r.set(offset, value),
    }
}

/// Bind over `regs` and check the outcome.
fn check(regs: MemRegs, expected: Option<Role>) -> Result<(), TestCaseError> {
    let backend = Backend {
        regs: Box::new(regs),
        events: None,
    };
    match Device::bind("mem:fuzz", backend, expected) {
        Ok(mut d) => {
            prop_assert_eq!(d.header.magic, qkd_abi::MAGIC);
            prop_assert_eq!(d.header.abi_major, qkd_abi::ABI_VERSION_MAJOR);
            if let Some(r) = expected {
                prop_assert_eq!(d.header.role, r);
            }
            prop_assert!(d.header.params().validate().is_ok());
            prop_assert_eq!(&d.map.params, &d.header.params());
            // Every block of the map is on the chain, at its index.
            for b in d.map.blocks.iter().skip(1) {
                prop_assert!(d
                    .blocks
                    .iter()
                    .any(|f| f.type_id == b.type_id && f.index == b.index && f.major == b.version));
            }
            let _ = d.header.slot_period_ps();
            d.check_alive().unwrap();
            let role = d.header.role;
            match role {
                Role::Alice => prop_assert!(Alice::new(d).is_ok()),
                Role::Bob => prop_assert!(Bob::new(d).is_ok()),
            }
        }
        Err(
            Error::BadMagic { .. }
            | Error::AbiMismatch { .. }
            | Error::UnknownRole { .. }
            | Error::WrongRole { .. }
            | Error::BadParams(_)
            | Error::BlockMajor { .. }
            | Error::BlockChain { .. }
            | Error::OutOfBounds { .. },
        ) => {}
        Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_windows_bind_or_give_typed_errors(
        window_words in prop_oneof![0usize..8, 8usize..0x400],
        words in prop::collection::vec(any::<u32>(), 0..0x400),
        // Mostly the right magic and ABI major, so IDENT and the chain are
        // reached.
        magic in prop_oneof![3 => Just(qkd_abi::MAGIC), 1 => any::<u32>()],
        major in prop_oneof![3 => Just(qkd_abi::ABI_VERSION_MAJOR), 1 => any::<u16>()],
        minor in any::<u16>(),
        expected in prop::option::of(prop_oneof![Just(Role::Alice), Just(Role::Bob)]),
    ) {
        let r = MemRegs::new(window_words * 4);
        for (i, w) in words.iter().enumerate() {
            r.set(4 * i as u32, *w);
        }
        r.set(header::MAGIC.offset, magic);
        r.set(header::ABI_VERSION.offset, u32::from(major) << 16 | u32::from(minor));
        check(r, expected)?;
    }

    #[test]
    fn mutated_reset_images_bind_or_give_typed_errors(
        params in arb_params(),
        pokes in prop::collection::vec(arb_poke(), 0..5),
        shrink in prop_oneof![3 => Just(0usize), 1 => 0usize..0x800],
        expected in prop::option::of(prop_oneof![Just(Role::Alice), Just(Role::Bob)]),
    ) {
        let map = RegisterMap::new(params);
        let span = map.span_bytes() as usize;
        let full = MemRegs::from_map(&map);
        // A window cut short (a smaller BAR than the map needs).
        let r = MemRegs::new(span.saturating_sub(shrink) & !3);
        for reg in map.registers() {
            r.set(reg.offset, full.get(reg.offset));
        }
        for p in &pokes {
            apply(&r, p);
        }
        let untouched = pokes.is_empty() && shrink == 0;
        if untouched {
            let d = Device::bind("mem:fuzz", Backend { regs: Box::new(r.clone()), events: None }, None);
            prop_assert!(d.is_ok(), "the reset image must bind: {:?}", d.err());
        }
        check(r, expected)?;
    }

    #[test]
    fn any_uri_parses_or_gives_a_typed_error(s in prop_oneof![
        any::<String>(),
        "(xdma|vfio|sim|sim\\+verilator|)(:)?[ -~]{0,40}",
        "(xdma|vfio):[a-z0-9/:.]{0,20}\\?([a-z_]{0,8}(=[0-9xa-fA-F]{0,22})?&?){0,4}",
    ]) {
        match DeviceUri::parse(&s) {
            Ok(u) => {
                prop_assert_eq!(&u.uri, &s);
                for k in ["ring_bytes", "c2h", "seed", ""] {
                    let _ = u.option_u64(k, 7);
                }
            }
            Err(Error::BadUri { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error kind: {e}"),
        }
    }
}

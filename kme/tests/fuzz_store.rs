//! Fuzz target: the key store file reader. Any bytes as a store file, and
//! mutations (bit flips, cuts, zeroed ranges, spliced garbage) of valid
//! store files, must open to a store or give a typed error (bad header,
//! other version, corrupt record): never a panic, never an I/O error, never
//! a key whose bytes differ from what was stored, never a delivered key
//! offered again. A store that opened reopens with the same keys.
//!
//! Default `ProptestConfig`, so
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-kme --test fuzz_store`
//! runs it as a fuzzer.
//!
//! ```text
//!   arbitrary bytes / mutated valid file --> KeyStore::open --> Ok(store) | Err(typed)
//!                                                 |
//!                     drain, reopen: nothing twice, bytes as stored
//! ```

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use qkd_kme::store::{KeyStore, StoreError, FILE_HEADER};
use qkd_kme::Uuid;

const M: &str = "SAE_A";
const S: &str = "SAE_B";

fn dir() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            if let Ok(d) = tempfile::tempdir_in(shm) {
                return d;
            }
        }
        tempfile::tempdir().unwrap()
    })
}

fn key(i: u32, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|j| (i.wrapping_mul(97) ^ j.wrapping_mul(13)) as u8 | 0x10)
        .collect()
}
fn id(i: u32) -> Uuid {
    Uuid::from_u128(0x5000_0000 + u128::from(i))
}

/// A valid store file: 3 indexed blocks and one unindexed key of mixed
/// sizes, keys 1 and 4 delivered, optionally compacted. Returns the file
/// and the key length of every key (index = key number).
fn valid_file(compacted: bool) -> &'static (Vec<u8>, Vec<usize>) {
    static F: OnceLock<[(Vec<u8>, Vec<usize>); 2]> = OnceLock::new();
    let files = F.get_or_init(|| {
        [false, true].map(|c| {
            let p = dir().path().join(format!("valid-{c}.keys"));
            let _ = std::fs::remove_file(&p);
            let mut st = KeyStore::open(&p).unwrap();
            let lens = vec![32, 32, 32, 16, 16, 32, 8];
            let mut n = 0;
            for (b, count) in [(0u64, 3u32), (1, 2), (2, 1)] {
                let keys: Vec<(Uuid, Vec<u8>)> = (n..n + count)
                    .map(|i| (id(i), key(i, lens[i as usize])))
                    .collect();
                let r: Vec<(Uuid, &[u8])> = keys.iter().map(|(i, k)| (*i, k.as_slice())).collect();
                st.append_block(b, &r, M, S).unwrap();
                n += count;
            }
            st.append_confirmed(id(6), &key(6, 8), M, S).unwrap();
            st.take_by_ids(M, S, &[id(1), id(4)]).unwrap();
            if c {
                st.compact().unwrap();
            }
            drop(st);
            (std::fs::read(&p).unwrap(), lens)
        })
    });
    &files[usize::from(compacted)]
}

/// Opens `bytes` as a store; on success drains it, checking every key
/// against the originals (`lens` known), and reopens.
fn check(bytes: &[u8], lens: Option<&[usize]>) -> Result<(), TestCaseError> {
    let p = dir()
        .path()
        .join(format!("case-{:?}.keys", std::thread::current().id()));
    std::fs::write(&p, bytes).unwrap();
    let st = match KeyStore::open(&p) {
        Ok(st) => st,
        Err(StoreError::Corrupt { offset, .. }) => {
            prop_assert!(offset < bytes.len() as u64);
            return Ok(());
        }
        Err(StoreError::BadHeader { .. } | StoreError::UnsupportedVersion { .. }) => return Ok(()),
        Err(e) => return Err(TestCaseError::fail(format!("unexpected error: {e}"))),
    };
    let stored = st.counts().stored_keys;
    drop(st);
    // Recovery is idempotent: a second open sees the same store.
    let mut st = KeyStore::open(&p).map_err(|e| TestCaseError::fail(format!("reopen: {e}")))?;
    prop_assert_eq!(st.counts().stored_keys, stored);
    prop_assert_eq!(st.health().torn_tails_cut, 0);
    if let Some(lens) = lens {
        let mut sizes: Vec<usize> = lens.to_vec();
        sizes.sort_unstable();
        sizes.dedup();
        let mut drained = 0u64;
        for len in sizes {
            let n = st.available(M, S, Some(len));
            let keys = st
                .take_oldest(M, S, n, len)
                .map_err(|e| TestCaseError::fail(format!("take: {e}")))?;
            for k in keys {
                let i = k.key_id.as_u128().wrapping_sub(0x5000_0000);
                prop_assert!(
                    i < lens.len() as u128 && i != 1 && i != 4,
                    "offered unknown or delivered key {}",
                    k.key_id
                );
                let want = key(i as u32, lens[i as usize]);
                prop_assert_eq!(k.key.expose(), want.as_slice());
                drained += 1;
            }
        }
        prop_assert_eq!(
            drained,
            stored,
            "every stored key is of a known link and size"
        );
        drop(st);
        let st = KeyStore::open(&p)
            .map_err(|e| TestCaseError::fail(format!("reopen after drain: {e}")))?;
        prop_assert_eq!(st.counts().stored_keys, 0, "nothing offered twice");
    } else {
        st.compact()
            .map_err(|e| TestCaseError::fail(format!("compact: {e}")))?;
        drop(st);
        let st = KeyStore::open(&p)
            .map_err(|e| TestCaseError::fail(format!("reopen after compact: {e}")))?;
        prop_assert_eq!(st.counts().stored_keys, stored);
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Cut(prop::sample::Index),
    Zero(prop::sample::Index, usize),
    Splice(prop::sample::Index, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        2 => any::<prop::sample::Index>().prop_map(Mutation::Cut),
        2 => (any::<prop::sample::Index>(), 1usize..64).prop_map(|(i, n)| Mutation::Zero(i, n)),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..24))
            .prop_map(|(i, v)| Mutation::Splice(i, v)),
    ]
}

fn apply(b: &mut Vec<u8>, m: &Mutation) {
    let h = FILE_HEADER.len();
    if b.len() <= h {
        return;
    }
    let at = |i: &prop::sample::Index, len: usize| h + i.index(len - h);
    match m {
        Mutation::Flip(i, x) => {
            let k = at(i, b.len());
            b[k] ^= x;
        }
        Mutation::Cut(i) => {
            let k = at(i, b.len() + 1);
            b.truncate(k);
        }
        Mutation::Zero(i, n) => {
            let k = at(i, b.len());
            let e = (k + n).min(b.len());
            b[k..e].fill(0);
        }
        Mutation::Splice(i, v) => {
            let k = at(i, b.len() + 1);
            b.splice(k..k, v.iter().copied());
        }
    }
}

proptest! {
    /// Arbitrary bytes, with or without a valid header in front.
    #[test]
    fn arbitrary_bytes_as_store_file(bytes in prop::collection::vec(any::<u8>(), 0..600),
                                     header in any::<bool>()) {
        let mut b = if header { FILE_HEADER.to_vec() } else { Vec::new() };
        b.extend_from_slice(&bytes);
        check(&b, None)?;
    }

    /// Valid files (plain and compacted) with 1 to 4 mutations.
    #[test]
    fn mutated_valid_store_file(compacted in any::<bool>(),
                                muts in prop::collection::vec(mutation(), 1..5)) {
        let (file, lens) = valid_file(compacted);
        let mut b = file.clone();
        for m in &muts {
            apply(&mut b, m);
        }
        check(&b, Some(lens))?;
    }

    /// A valid file followed by arbitrary bytes (a torn or garbage tail).
    #[test]
    fn valid_store_file_with_arbitrary_tail(compacted in any::<bool>(),
                                            tail in prop::collection::vec(any::<u8>(), 1..200)) {
        let (file, lens) = valid_file(compacted);
        let mut b = file.clone();
        b.extend_from_slice(&tail);
        check(&b, Some(lens))?;
    }
}

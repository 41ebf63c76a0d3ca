//! Key store blocks: an append is wholly present or wholly absent after a
//! crash at any byte (prefix cut, zero-filled tail, pages written out of
//! order), restart compares block contents, `max_key_count` is enforced,
//! and compaction keeps the file size following the live keys.
//!
//! ```text
//!   blocks 0..n --> [store] --append block n+1--> crash image --> reopen
//!                                                   |
//!        block n+1 all there or all gone; earlier keys intact; none twice
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use qkd_kme::store::{BlockAppend, BlockStatus, KeyStore, StoreError, StoreOptions, FILE_HEADER};
use qkd_kme::Uuid;

const M: &str = "SAE_A";
const S: &str = "SAE_B";

/// A directory on tmpfs when there is one (fsync is cheap there).
fn fast_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

/// Key `k` of block `b`: bytes derived from both, never all zero.
fn kbytes(b: u64, k: u32, len: usize) -> Vec<u8> {
    let mut x =
        (b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(k).wrapping_mul(0xC2B2_AE3D)) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 | 1
        })
        .collect()
}
fn kid(b: u64, k: u32) -> Uuid {
    Uuid::from_u128((u128::from(b) << 32) | u128::from(k) | (1 << 100))
}
fn block(b: u64, n: u32, len: usize) -> Vec<(Uuid, Vec<u8>)> {
    (0..n).map(|k| (kid(b, k), kbytes(b, k, len))).collect()
}
fn refs(v: &[(Uuid, Vec<u8>)]) -> Vec<(Uuid, &[u8])> {
    v.iter().map(|(i, k)| (*i, k.as_slice())).collect()
}

/// Opens `image` as a store file, drains every key (checking its bytes
/// against `expect`), reopens and checks nothing is offered twice. Returns
/// the drained IDs.
fn drain_image(dir: &Path, image: &[u8], expect: &[(Uuid, Vec<u8>)]) -> BTreeSet<Uuid> {
    let p = dir.join("img.keys");
    std::fs::write(&p, image).unwrap();
    let mut st = KeyStore::open(&p).unwrap();
    let mut got = BTreeSet::new();
    let lens: BTreeSet<usize> = expect.iter().map(|(_, k)| k.len()).collect();
    for len in lens {
        let n = st.available(M, S, Some(len));
        for k in st.take_oldest(M, S, n, len).unwrap() {
            let want = expect
                .iter()
                .find(|(i, _)| *i == k.key_id)
                .unwrap_or_else(|| panic!("offered a key never stored: {}", k.key_id));
            assert_eq!(k.key.expose(), want.1.as_slice(), "bytes of {}", k.key_id);
            assert!(got.insert(k.key_id), "{} offered twice", k.key_id);
        }
    }
    assert_eq!(st.available(M, S, None), 0, "keys of other sizes left");
    drop(st);
    let st = KeyStore::open(&p).unwrap();
    assert_eq!(st.available(M, S, None), 0, "offered again after reopen");
    drop(st);
    std::fs::remove_file(&p).unwrap();
    got
}

/// A store with three earlier blocks (one partly delivered), then block 3
/// appended. Returns (file before the append, file after, keys live before
/// the append, keys of block 3).
type Setup = (Vec<u8>, Vec<u8>, Vec<(Uuid, Vec<u8>)>, Vec<(Uuid, Vec<u8>)>);
fn setup(dir: &Path, n_last: u32, len_last: usize) -> Setup {
    let p = dir.join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    let mut live = Vec::new();
    for b in 0..3 {
        let keys = block(b, 4, 32);
        st.append_block(b, &refs(&keys), M, S).unwrap();
        live.extend(keys);
    }
    let gone: Vec<Uuid> = vec![kid(1, 0), kid(1, 2)];
    st.take_by_ids(M, S, &gone).unwrap();
    live.retain(|(i, _)| !gone.contains(i));
    let before = std::fs::read(&p).unwrap();
    let last = block(3, n_last, len_last);
    st.append_block(3, &refs(&last), M, S).unwrap();
    drop(st);
    let after = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    (before, after, live, last)
}

/// Checks one crash image: block 3 wholly present iff the image is the
/// complete file, every earlier live key intact, nothing twice; then the
/// restart path (`block_status`, `append_block`) ends with block 3 stored
/// exactly once.
fn check_image(dir: &Path, image: &[u8], setup: &Setup) {
    let (_, after, live, last) = setup;
    let complete = image == after.as_slice();
    let p = dir.join("restart.keys");
    std::fs::write(&p, image).unwrap();
    let mut st = KeyStore::open(&p).unwrap();
    let status = st.block_status(3, &refs(last), M, S);
    assert_eq!(
        status,
        if complete {
            BlockStatus::Complete
        } else {
            BlockStatus::Absent
        }
    );
    if !complete {
        assert!(st.health().torn_tails_cut == 1 || image.len() < after.len());
    }
    // Restart: the role re-appends its pending block.
    let r = st.append_block(3, &refs(last), M, S).unwrap();
    assert_eq!(
        r,
        if complete {
            BlockAppend::AlreadyStored
        } else {
            BlockAppend::Appended
        }
    );
    drop(st);
    let image2 = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    let mut all = live.clone();
    all.extend(last.iter().cloned());
    let got = drain_image(dir, &image2, &all);
    let want: BTreeSet<Uuid> = all.iter().map(|(i, _)| *i).collect();
    assert_eq!(got, want, "after restart: every key once, none lost");
    // Without the restart append: the block is all there or all gone.
    let got = drain_image(dir, image, &all);
    let mut want: BTreeSet<Uuid> = live.iter().map(|(i, _)| *i).collect();
    if complete {
        want.extend(last.iter().map(|(i, _)| *i));
    }
    assert_eq!(got, want, "block wholly present or wholly absent");
}

/// A torn append cut at every byte of the block record, and a zero-filled
/// tail from every byte: the block is all there or all gone.
#[test]
fn torn_block_append_is_all_or_nothing() {
    let dir = fast_dir();
    let su = setup(dir.path(), 5, 32);
    let (before, after, _, _) = &su;
    assert!(after.starts_with(before), "append-only");
    for cut in before.len()..=after.len() {
        check_image(dir.path(), &after[..cut], &su);
    }
    for z in before.len()..after.len() {
        let mut img = after.clone();
        img[z..].fill(0);
        check_image(dir.path(), &img, &su);
    }
}

/// One end restarted on a crash image: the role finds its block still
/// pending and appends it again (`append_block`, which finds it already
/// there when the append was whole). Returns the store file after that.
fn restart_end(dir: &Path, name: &str, image: &[u8], last: &[(Uuid, Vec<u8>)]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, image).unwrap();
    let mut st = KeyStore::open(&p).unwrap();
    st.append_block(3, &refs(last), M, S).unwrap();
    p
}

/// Both ends of a link append the same block 3 and crash mid-append: Alice
/// cut at every byte offset of her append, Bob at his record boundaries
/// (start and end of the record) and inside the record (after the head,
/// in the metadata, in a key, in the last CRC). Both restart and complete
/// the commit; then the master SAE drains Alice's store (oldest first) and
/// the slave SAE asks Bob's for the same IDs: the same keys, none missing,
/// none served twice, and nothing offered again after a reopen.
#[test]
fn torn_appends_at_both_ends_drain_to_the_same_keys_after_restart() {
    let dir = fast_dir();
    let su = setup(dir.path(), 5, 32);
    let (before, after, live, last) = &su;
    let (b0, n) = (before.len(), after.len());
    let bob_cuts = [b0, b0 + 1, b0 + 9, b0 + 30, b0 + 60, n - 4, n - 1, n];
    let mut want: BTreeSet<Uuid> = live.iter().map(|(i, _)| *i).collect();
    want.extend(last.iter().map(|(i, _)| *i));
    let mut cases = 0;
    for a_cut in b0..=n {
        for &b_cut in &bob_cuts {
            let pa = restart_end(dir.path(), "alice.keys", &after[..a_cut], last);
            let pb = restart_end(dir.path(), "bob.keys", &after[..b_cut], last);
            let mut a = KeyStore::open(&pa).unwrap();
            let mut b = KeyStore::open(&pb).unwrap();
            assert_eq!(a.available(M, S, None), b.available(M, S, None));
            // Every key is 32 bytes: the master SAE takes them all (enc_keys),
            // the slave SAE asks Bob for the same IDs (dec_keys).
            let mut served = BTreeSet::new();
            let k = a.available(M, S, Some(32));
            let at_alice = a.take_oldest(M, S, k, 32).unwrap();
            let ids: Vec<Uuid> = at_alice.iter().map(|k| k.key_id).collect();
            let at_bob = b.take_by_ids(M, S, &ids).unwrap();
            assert_eq!(at_bob.len(), at_alice.len());
            for (x, y) in at_alice.iter().zip(&at_bob) {
                assert_eq!(x.key_id, y.key_id);
                assert_eq!(x.key.expose(), y.key.expose(), "cuts {a_cut}/{b_cut}");
                assert!(served.insert(x.key_id), "{} served twice", x.key_id);
            }
            assert_eq!(served, want, "cuts {a_cut}/{b_cut}: keys missing or extra");
            assert_eq!(a.available(M, S, None), 0);
            assert_eq!(b.available(M, S, None), 0);
            drop((a, b));
            for p in [&pa, &pb] {
                let st = KeyStore::open(p).unwrap();
                assert_eq!(st.available(M, S, None), 0, "offered again after reopen");
                assert!(
                    matches!(st.block_status(3, &refs(last), M, S), BlockStatus::Complete),
                    "block 3 kept as the link's last block"
                );
                drop(st);
                std::fs::remove_file(p).unwrap();
            }
            cases += 1;
        }
    }
    assert_eq!(cases, (n - b0 + 1) * bob_cuts.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random block shapes; the crash keeps a prefix of the append and
    /// writes a random subset of its 64-byte pieces (out-of-order
    /// writeback), the rest zero.
    #[test]
    fn torn_block_append_property(n_last in 1u32..12, len_last in 1usize..80,
                                  cut in any::<prop::sample::Index>(),
                                  pieces in prop::collection::vec(any::<bool>(), 64)) {
        let dir = fast_dir();
        let su = setup(dir.path(), n_last, len_last);
        let (before, after, _, _) = &su;
        let span = after.len() - before.len();
        let cut_at = before.len() + cut.index(span + 1);
        check_image(dir.path(), &after[..cut_at], &su);
        let mut img = after.clone();
        for (i, chunk) in img[before.len()..].chunks_mut(64).enumerate() {
            if !pieces[i % pieces.len()] {
                chunk.fill(0);
            }
        }
        check_image(dir.path(), &img, &su);
    }
}

#[test]
fn torn_tail_is_cut_with_a_counter() {
    let dir = fast_dir();
    let su = setup(dir.path(), 3, 32);
    let (before, after, _, _) = &su;
    let p = dir.path().join("t.keys");
    std::fs::write(&p, &after[..after.len() - 1]).unwrap();
    let st = KeyStore::open(&p).unwrap();
    let c = st.counts();
    let h = st.health();
    assert_eq!(h.torn_tails_cut, 1);
    assert_eq!(h.torn_bytes_cut, (after.len() - 1 - before.len()) as u64);
    assert_eq!(c.file_bytes, before.len() as u64);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), before.len() as u64);
    drop(st);
    assert_eq!(KeyStore::open(&p).unwrap().health().torn_tails_cut, 0);
}

/// Damage before the last record is refused with the file, the offset and
/// what to do; it is never cut off as if torn.
#[test]
fn corruption_before_the_end_is_a_typed_error_naming_file_and_offset() {
    let dir = fast_dir();
    let su = setup(dir.path(), 3, 32);
    let (_, after, _, _) = &su;
    let p = dir.path().join("c.keys");
    let first = FILE_HEADER.len();
    // Inside block 0: its head, its metadata, a live key's bytes.
    for (at, what) in [
        (first + 2, "head"),
        (first + 30, "metadata"),
        (first + 60, "key"),
    ] {
        let mut img = after.clone();
        img[at] ^= 0x40;
        std::fs::write(&p, &img).unwrap();
        let e = KeyStore::open(&p).unwrap_err();
        match &e {
            StoreError::Corrupt { path, offset, .. } => {
                assert_eq!(path, &p, "{what}");
                assert_eq!(*offset, first as u64, "{what}: {e}");
            }
            other => panic!("{what}: {other}"),
        }
        let msg = e.to_string();
        assert!(msg.contains("c.keys") && msg.contains("backup"), "{msg}");
        assert_eq!(
            std::fs::read(&p).unwrap(),
            img,
            "{what}: file left as it was"
        );
    }
}

#[test]
fn old_format_version_is_refused_by_name() {
    let dir = fast_dir();
    let p = dir.path().join("v1.keys");
    std::fs::write(&p, b"QKDKEYS\x01rest").unwrap();
    let e = KeyStore::open(&p).unwrap_err();
    assert!(
        matches!(e, StoreError::UnsupportedVersion { found: 1, .. }),
        "{e}"
    );
}

/// Restart compares contents: same index with other IDs or bytes is a
/// mismatch, not "already there".
#[test]
fn block_status_compares_contents_not_the_first_id() {
    let dir = fast_dir();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    let b0 = block(0, 4, 32);
    let b1 = block(1, 4, 32);
    assert_eq!(st.block_status(0, &refs(&b0), M, S), BlockStatus::Absent);
    assert_eq!(
        st.append_block(0, &refs(&b0), M, S).unwrap(),
        BlockAppend::Appended
    );
    st.append_block(1, &refs(&b1), M, S).unwrap();
    assert_eq!(st.block_status(1, &refs(&b1), M, S), BlockStatus::Complete);
    // Same first key ID, other later IDs.
    let mut other = b1.clone();
    other[3].0 = kid(9, 9);
    assert!(matches!(
        st.block_status(1, &refs(&other), M, S),
        BlockStatus::Mismatch { .. }
    ));
    // Same IDs, other bytes.
    let mut other = b1.clone();
    other[2].1[0] ^= 1;
    assert!(matches!(
        st.block_status(1, &refs(&other), M, S),
        BlockStatus::Mismatch { .. }
    ));
    let e = st.append_block(1, &refs(&other), M, S).unwrap_err();
    assert!(
        matches!(e, StoreError::BlockMismatch { block_index: 1, .. }),
        "{e}"
    );
    // Fewer keys.
    assert!(matches!(
        st.block_status(1, &refs(&b1[..3]), M, S),
        BlockStatus::Mismatch { .. }
    ));
    // A new index reusing stored IDs.
    assert!(matches!(
        st.block_status(2, &refs(&b1), M, S),
        BlockStatus::Mismatch { .. }
    ));
    // Out of order.
    let b5 = block(5, 2, 32);
    st.append_block(5, &refs(&b5), M, S).unwrap();
    let b4 = block(4, 2, 32);
    let e = st.append_block(4, &refs(&b4), M, S).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::BlockOutOfOrder {
                block_index: 4,
                last_block_index: 5,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(st.last_block_index(M, S), Some(5));
    assert_eq!(st.last_block_index(S, M), None);
    // A partly delivered block still compares equal (delivered keys are
    // not compared, their bytes are erased).
    st.take_by_ids(M, S, &[kid(1, 0), kid(1, 3)]).unwrap();
    assert_eq!(st.block_status(1, &refs(&b1), M, S), BlockStatus::Complete);
    // A wholly delivered older block is superseded.
    st.take_by_ids(M, S, &[kid(0, 0), kid(0, 1), kid(0, 2), kid(0, 3)])
        .unwrap();
    assert_eq!(
        st.block_status(0, &refs(&b0), M, S),
        BlockStatus::Superseded {
            last_block_index: 5
        }
    );
    // The link's last block is kept after all its keys are delivered and
    // the store compacted, so a restart still recognises it.
    st.take_by_ids(M, S, &[kid(5, 0), kid(5, 1)]).unwrap();
    st.compact().unwrap();
    drop(st);
    let mut st = KeyStore::open(&p).unwrap();
    assert_eq!(st.block_status(5, &refs(&b5), M, S), BlockStatus::Complete);
    assert_eq!(
        st.append_block(5, &refs(&b5), M, S).unwrap(),
        BlockAppend::AlreadyStored
    );
    assert_eq!(st.available(M, S, None), 2, "only block 1's two keys left");
    assert_eq!(st.last_block_index(M, S), Some(5));
    // Unindexed and indexed blocks mix.
    st.append_confirmed(kid(20, 0), &kbytes(20, 0, 32), M, S)
        .unwrap();
    assert_eq!(st.available(M, S, Some(32)), 3);
}

#[test]
fn max_key_count_is_enforced() {
    let dir = fast_dir();
    let p = dir.path().join("k.keys");
    let opts = StoreOptions {
        max_key_count: Some(10),
        ..StoreOptions::default()
    };
    let mut st = KeyStore::open_with(&p, opts).unwrap();
    st.append_block(0, &refs(&block(0, 8, 32)), M, S).unwrap();
    assert_eq!(st.free_key_slots(), Some(2));
    let size = std::fs::metadata(&p).unwrap().len();
    let e = st
        .append_block(1, &refs(&block(1, 3, 32)), M, S)
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::StoreFull {
                stored: 8,
                adding: 3,
                max: 10
            }
        ),
        "{e}"
    );
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        size,
        "nothing written"
    );
    assert_eq!(
        st.block_status(1, &refs(&block(1, 3, 32)), M, S),
        BlockStatus::Absent
    );
    let e = st
        .append_confirmed(kid(7, 7), &kbytes(7, 7, 32), M, S)
        .map(|()| st.append_confirmed(kid(7, 8), &kbytes(7, 8, 32), M, S))
        .unwrap()
        .and_then(|()| st.append_confirmed(kid(7, 9), &kbytes(7, 9, 32), M, S))
        .unwrap_err();
    assert!(matches!(e, StoreError::StoreFull { stored: 10, .. }), "{e}");
    assert_eq!(st.counts().stored_keys, 10);
    assert_eq!(st.health().max_key_count, 10);
    // Delivering frees room.
    st.take_oldest(M, S, 3, 32).unwrap();
    st.append_block(1, &refs(&block(1, 3, 32)), M, S).unwrap();
    drop(st);
    // The limit is an option of the opener, not of the file.
    let mut st = KeyStore::open_with(&p, opts).unwrap();
    assert!(matches!(
        st.append_block(2, &refs(&block(2, 1, 32)), M, S),
        Err(StoreError::StoreFull { .. })
    ));
    st.set_max_key_count(None);
    st.append_block(2, &refs(&block(2, 1, 32)), M, S).unwrap();
    assert_eq!(st.free_key_slots(), None);
}

/// Compaction runs by itself: with keys stored and delivered block after
/// block, the file stays within a bound set by the live keys.
#[test]
fn compaction_is_automatic_and_the_file_follows_live_keys() {
    let dir = fast_dir();
    let p = dir.path().join("k.keys");
    let opts = StoreOptions {
        compact_min_dead_bytes: 8 << 10,
        ..StoreOptions::default()
    };
    let mut st = KeyStore::open_with(&p, opts).unwrap();
    let mut max_file = 0;
    for b in 0..400u64 {
        st.append_block(b, &refs(&block(b, 8, 32)), M, S).unwrap();
        if b >= 2 {
            // Keep about two blocks live.
            st.take_oldest(M, S, 8, 32).unwrap();
        }
        let len = std::fs::metadata(&p).unwrap().len();
        assert_eq!(len, st.counts().file_bytes);
        max_file = max_file.max(len);
    }
    let c = st.counts();
    assert!(st.health().compactions >= 10, "{c:?}");
    assert_eq!(c.stored_keys, 16);
    assert_eq!(c.delivered_keys, 398 * 8);
    // Two live blocks are ~1.1 KB; dead bytes stay under max(live, 8 KiB).
    assert!(max_file < 2 * (8 << 10) + 4096, "file grew to {max_file}");
    drop(st);
    let mut st = KeyStore::open_with(&p, opts).unwrap();
    assert_eq!(st.counts().delivered_keys, 398 * 8);
    assert_eq!(st.last_block_index(M, S), Some(399));
    let got = st.take_oldest(M, S, 16, 32).unwrap();
    assert_eq!(got[0].key_id, kid(398, 0));
    assert_eq!(got[15].key.expose(), kbytes(399, 7, 32).as_slice());
}

/// A compaction interrupted before its rename leaves a temporary file with
/// key copies: it is erased and removed at open, the store is unchanged.
#[test]
fn interrupted_compaction_is_discarded_at_open() {
    let dir = fast_dir();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    st.append_block(0, &refs(&block(0, 3, 32)), M, S).unwrap();
    drop(st);
    let mut tmp = PathBuf::from(&p).into_os_string();
    tmp.push(".compact-tmp");
    let tmp = PathBuf::from(tmp);
    let mut half = std::fs::read(&p).unwrap();
    half.truncate(half.len() / 2);
    std::fs::write(&tmp, &half).unwrap();
    let st = KeyStore::open(&p).unwrap();
    assert!(!tmp.exists());
    assert_eq!(st.available(M, S, Some(32)), 3);
}

/// Opt-in figure: store file size after 1e6 keys stored and delivered
/// (`cargo test --release -p qkd-kme --test store_blocks -- --ignored --nocapture`).
#[test]
#[ignore]
fn store_size_after_a_million_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    let per_block = 1000u32;
    let mut max_file = 0;
    let t = std::time::Instant::now();
    for b in 0..1000u64 {
        st.append_block(b, &refs(&block(b, per_block, 32)), M, S)
            .unwrap();
        for _ in 0..per_block / 100 {
            st.take_oldest(M, S, 100, 32).unwrap();
        }
        max_file = max_file.max(st.counts().file_bytes);
    }
    let c = st.counts();
    println!(
        "1e6 keys (32 B) stored in 1000 blocks and delivered 100 at a time in {:.1} s: \
         file {} bytes at the end, at most {} bytes on the way, {} compactions",
        t.elapsed().as_secs_f64(),
        c.file_bytes,
        max_file,
        st.health().compactions
    );
    assert_eq!(c.delivered_keys, 1_000_000);
}

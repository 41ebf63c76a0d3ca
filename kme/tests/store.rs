//! Key store tests: durability, at-most-once delivery, on-disk erasure, and
//! crash recovery by truncating the file at every byte of the last record.
//!
//! ```text
//!   append_confirmed --> [store file] --> take_* --> DeliveredKey
//!                          |  truncate at offset k (simulated crash)
//!                          v
//!                       reopen: every complete key back, no key twice
//! ```

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use qkd_kme::store::{KeyStore, StoreError, FILE_HEADER};
use qkd_kme::{KeyBytes, Uuid};

const M: &str = "SAE_A";
const S: &str = "SAE_B";

/// Deterministic, recognisable key bytes for key `i`.
fn key(i: u8) -> Vec<u8> {
    (0..32u8)
        .map(|j| i.wrapping_mul(31).wrapping_add(j).wrapping_mul(7) | 0x80)
        .collect()
}
fn id(i: u8) -> Uuid {
    Uuid::from_u128(0x1000 + u128::from(i))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Reopens a store file holding `bytes[..len]` and returns the IDs it
/// still offers (consuming them in the copy), in FIFO order.
fn offered_after_truncation(bytes: &[u8], len: u64, dir: &Path) -> Result<Vec<Uuid>, StoreError> {
    let p = dir.join(format!("trunc-{len}.keys"));
    std::fs::write(&p, &bytes[..len as usize]).unwrap();
    let mut st = KeyStore::open(&p)?;
    let n = st.available(M, S, None);
    let keys = st.take_oldest(M, S, n, 32)?;
    for k in &keys {
        let i = (k.key_id.as_u128() - 0x1000) as u8;
        assert_eq!(
            k.key.expose(),
            key(i).as_slice(),
            "key bytes of {} survive recovery",
            k.key_id
        );
    }
    // After delivering everything, a second reopen offers nothing: the
    // delivery state is durable.
    drop(st);
    let st = KeyStore::open(&p)?;
    assert_eq!(
        st.available(M, S, None),
        0,
        "nothing offered twice at truncation {len}"
    );
    std::fs::remove_file(&p).unwrap();
    Ok(keys.iter().map(|k| k.key_id).collect())
}

#[test]
fn append_take_reopen_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for i in 0..5 {
        st.append_confirmed(id(i), &key(i), M, S).unwrap();
    }
    assert_eq!(st.available(M, S, Some(32)), 5);
    assert_eq!(st.available(M, S, Some(16)), 0);
    assert_eq!(
        st.available(S, M, None),
        0,
        "the reverse direction is another link"
    );
    let got = st.take_oldest(M, S, 2, 32).unwrap();
    assert_eq!(
        got.iter().map(|k| k.key_id).collect::<Vec<_>>(),
        vec![id(0), id(1)],
        "FIFO"
    );
    assert_eq!(got[1].key.expose(), key(1).as_slice());
    // Not enough: all or nothing.
    let e = st.take_oldest(M, S, 4, 32).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::NotEnoughKeys {
                requested: 4,
                available: 3
            }
        ),
        "{e}"
    );
    assert_eq!(st.available(M, S, None), 3);
    drop(st);

    let mut st = KeyStore::open(&p).unwrap();
    assert_eq!(st.counts().stored_keys, 3);
    assert_eq!(st.counts().delivered_keys, 2);
    assert_eq!(st.counts().stored_bits, 3 * 256);
    let e = st.take_by_ids(M, S, &[id(4), id(1)]).unwrap_err();
    assert!(
        matches!(e, StoreError::UnknownKeyId(u) if u == id(1)),
        "consumed key refused: {e}"
    );
    assert_eq!(
        st.available(M, S, None),
        3,
        "failed request consumed nothing"
    );
    let e = st.take_by_ids(S, M, &[id(4)]).unwrap_err();
    assert!(
        matches!(e, StoreError::UnknownKeyId(_)),
        "key of another link refused: {e}"
    );
    let e = st.take_by_ids(M, S, &[id(4), id(4)]).unwrap_err();
    assert!(matches!(e, StoreError::RepeatedKeyId(_)), "{e}");
    let got = st.take_by_ids(M, S, &[id(4), id(2)]).unwrap();
    assert_eq!(got[0].key.expose(), key(4).as_slice());
    assert_eq!(got[1].key.expose(), key(2).as_slice());
}

#[test]
fn duplicate_ids_refused_even_after_consumption_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    st.append_confirmed(id(1), &key(1), M, S).unwrap();
    assert!(matches!(
        st.append_confirmed(id(1), &key(2), M, S),
        Err(StoreError::DuplicateKeyId(_))
    ));
    st.take_oldest(M, S, 1, 32).unwrap();
    drop(st);
    let mut st = KeyStore::open(&p).unwrap();
    assert!(matches!(
        st.append_confirmed(id(1), &key(1), M, S),
        Err(StoreError::DuplicateKeyId(_))
    ));
    assert!(matches!(
        st.append_confirmed(id(2), &[], M, S),
        Err(StoreError::InvalidKey(_))
    ));
    assert!(matches!(
        st.append_confirmed(id(2), &key(2), M, M),
        Err(StoreError::InvalidKey(_))
    ));
    assert!(matches!(
        st.append_confirmed(id(2), &key(2), "", S),
        Err(StoreError::InvalidKey(_))
    ));
}

#[test]
fn batch_append_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    st.append_confirmed(id(9), &key(9), M, S).unwrap();
    let (k0, k1) = (key(0), key(1));
    let e = st
        .append_confirmed_batch(&[(id(0), &k0), (id(9), &k1)], M, S)
        .unwrap_err();
    assert!(
        matches!(e, StoreError::DuplicateKeyId(u) if u == id(9)),
        "{e}"
    );
    let e = st
        .append_confirmed_batch(&[(id(0), &k0), (id(0), &k1)], M, S)
        .unwrap_err();
    assert!(
        matches!(e, StoreError::DuplicateKeyId(_)),
        "repeat inside the batch: {e}"
    );
    let e = st
        .append_confirmed_batch(&[(id(0), &k0), (id(1), &[])], M, S)
        .unwrap_err();
    assert!(matches!(e, StoreError::InvalidKey(_)), "{e}");
    assert_eq!(st.available(M, S, None), 1, "failed batches stored nothing");
    st.append_confirmed_batch(&[(id(0), &k0), (id(1), &k1)], M, S)
        .unwrap();
    drop(st);
    let mut st = KeyStore::open(&p).unwrap();
    let got = st.take_oldest(M, S, 3, 32).unwrap();
    assert_eq!(
        got.iter().map(|k| k.key_id).collect::<Vec<_>>(),
        vec![id(9), id(0), id(1)]
    );
    assert_eq!(got[2].key.expose(), k1.as_slice());
}

#[test]
fn compaction_keeps_live_keys_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    for i in 0..6 {
        st.append_confirmed(id(i), &key(i), M, S).unwrap();
    }
    st.take_by_ids(M, S, &[id(0), id(3)]).unwrap();
    let before = std::fs::metadata(&p).unwrap().len();
    st.compact().unwrap();
    let after = std::fs::metadata(&p).unwrap().len();
    assert!(after < before, "{after} < {before}");
    assert_eq!(st.counts().file_bytes, after);
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Works after compaction without reopening (offsets updated) ...
    assert_eq!(
        st.take_by_ids(M, S, &[id(4)]).unwrap()[0].key.expose(),
        key(4).as_slice()
    );
    assert!(
        !contains(&std::fs::read(&p).unwrap(), &key(4)),
        "erased in the new file"
    );
    // Delivered IDs still recorded in the file stay refused.
    assert!(matches!(
        st.append_confirmed(id(4), &key(4), M, S),
        Err(StoreError::DuplicateKeyId(_))
    ));
    st.append_confirmed(id(6), &key(6), M, S).unwrap();
    drop(st);
    // ... and after reopening: the delivered count survives compaction.
    let mut st = KeyStore::open(&p).unwrap();
    assert_eq!(st.counts().delivered_keys, 3);
    let got = st.take_oldest(M, S, 4, 32).unwrap();
    assert_eq!(
        got.iter().map(|k| k.key_id).collect::<Vec<_>>(),
        vec![id(1), id(2), id(5), id(6)]
    );
    assert_eq!(got[2].key.expose(), key(5).as_slice());
    assert_eq!(st.counts().delivered_keys, 7);
}

#[test]
fn consumed_keys_are_erased_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    for i in 0..3 {
        st.append_confirmed(id(i), &key(i), M, S).unwrap();
    }
    let raw = std::fs::read(&p).unwrap();
    assert!(
        (0..3).all(|i| contains(&raw, &key(i))),
        "keys are on disk before delivery"
    );
    st.take_by_ids(M, S, &[id(1)]).unwrap();
    let raw = std::fs::read(&p).unwrap();
    assert!(
        !contains(&raw, &key(1)),
        "delivered key overwritten on disk"
    );
    assert!(
        contains(&raw, &key(0)) && contains(&raw, &key(2)),
        "others kept"
    );
}

#[test]
fn interrupted_erasure_is_completed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    st.append_confirmed(id(7), &key(7), M, S).unwrap();
    let before = std::fs::read(&p).unwrap();
    st.take_oldest(M, S, 1, 32).unwrap();
    drop(st);
    // Simulate a crash after the CONSUMED record was synced but before the
    // in-place erasure reached the disk: put the old KEY record back.
    let mut after = std::fs::read(&p).unwrap();
    after[..before.len()].copy_from_slice(&before);
    std::fs::write(&p, &after).unwrap();
    let st = KeyStore::open(&p).unwrap();
    assert_eq!(
        st.available(M, S, None),
        0,
        "consumed key not offered again"
    );
    assert!(
        !contains(&std::fs::read(&p).unwrap(), &key(7)),
        "erasure redone at open"
    );
}

#[test]
fn corrupt_middle_record_is_an_error_not_silent_loss() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    st.append_confirmed(id(1), &key(1), M, S).unwrap();
    st.append_confirmed(id(2), &key(2), M, S).unwrap();
    drop(st);
    let mut raw = std::fs::read(&p).unwrap();
    raw[FILE_HEADER.len() + 20] ^= 0x55; // inside the first block's metadata
    std::fs::write(&p, &raw).unwrap();
    let e = KeyStore::open(&p).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { offset: 8, .. }), "{e}");
    std::fs::write(&p, b"NOTAKEYSTORE").unwrap();
    assert!(matches!(
        KeyStore::open(&p),
        Err(StoreError::BadHeader { .. })
    ));
}

/// Crash mid-append of a KEY record: for every truncation point inside the
/// last record the store reopens with exactly the complete keys, minus the
/// one delivered before, and never offers a key twice.
#[test]
fn crash_mid_key_append_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    for i in 0..3 {
        st.append_confirmed(id(i), &key(i), M, S).unwrap();
    }
    st.take_oldest(M, S, 1, 32).unwrap(); // id(0) delivered
    let before_last = std::fs::metadata(&p).unwrap().len();
    st.append_confirmed(id(3), &key(3), M, S).unwrap();
    let full = std::fs::metadata(&p).unwrap().len();
    drop(st);
    let raw = std::fs::read(&p).unwrap();
    for len in before_last..full {
        let got = offered_after_truncation(&raw, len, dir.path()).unwrap();
        assert_eq!(got, vec![id(1), id(2)], "truncated at {len} of {full}");
    }
    let got = offered_after_truncation(&raw, full, dir.path()).unwrap();
    assert_eq!(got, vec![id(1), id(2), id(3)]);
    // Also a crash that left a zero-filled tail (block allocated, data not
    // written), starting anywhere in the last record: in the metadata, or
    // only over the key bytes and their checksum.
    for start in before_last..full {
        let mut z = raw.clone();
        for b in &mut z[start as usize..] {
            *b = 0;
        }
        let got = offered_after_truncation(&z, full, dir.path()).unwrap();
        assert_eq!(got, vec![id(1), id(2)], "zero tail from {start} of {full}");
    }
}

/// Crash mid-append of a CONSUMED record: the keys were not yet handed out
/// (the caller gets them only after the sync), so they are offered again;
/// keys delivered by earlier complete records never are.
#[test]
fn crash_mid_consume_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("k.keys");
    let mut st = KeyStore::open(&p).unwrap();
    for i in 0..4 {
        st.append_confirmed(id(i), &key(i), M, S).unwrap();
    }
    st.take_by_ids(M, S, &[id(0)]).unwrap();
    // State on disk just before the second delivery; the CONSUMED record is
    // appended and synced before any in-place erasure, so a crash during the
    // append leaves `before` followed by a prefix of that record.
    let before = std::fs::read(&p).unwrap();
    st.take_by_ids(M, S, &[id(2), id(3)]).unwrap();
    let after = std::fs::read(&p).unwrap();
    drop(st);
    let mut crash = before.clone();
    crash.extend_from_slice(&after[before.len()..]);
    for len in before.len() as u64..after.len() as u64 {
        let got = offered_after_truncation(&crash, len, dir.path()).unwrap();
        assert_eq!(
            got,
            vec![id(1), id(2), id(3)],
            "truncated at {len}: undelivered keys offered, id(0) never"
        );
    }
    // The complete file: id(2), id(3) delivered, only id(1) left.
    assert_eq!(
        offered_after_truncation(&after, after.len() as u64, dir.path()).unwrap(),
        vec![id(1)]
    );
}

#[test]
fn key_bytes_debug_is_redacted() {
    let k = KeyBytes::new(vec![0xAB; 4]);
    let s = format!("{k:?}");
    assert_eq!(s, "KeyBytes([REDACTED; 4 bytes])");
    assert!(!s.contains("171") && !s.to_lowercase().contains("ab,"));
}

/// Opt-in throughput figure: `cargo test -p qkd-kme --test store -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_append_and_take_rates() {
    let dir = tempfile::tempdir().unwrap();
    let mut st = KeyStore::open(dir.path().join("k.keys")).unwrap();
    let n = 2000u32;
    let t = std::time::Instant::now();
    for i in 0..n {
        st.append_confirmed(Uuid::from_u128(u128::from(i) + 1), &key(i as u8), M, S)
            .unwrap();
    }
    let append_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let keys: Vec<Vec<u8>> = (0..256u32).map(|i| key(i as u8)).collect();
    for chunk in 0..n / 256 {
        let batch: Vec<(Uuid, &[u8])> = (0..256u32)
            .map(|j| {
                (
                    Uuid::from_u128(u128::from(n + chunk * 256 + j) + 1),
                    keys[j as usize].as_slice(),
                )
            })
            .collect();
        st.append_confirmed_batch(&batch, M, S).unwrap();
    }
    let batch_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    for _ in 0..n / 8 {
        st.take_oldest(M, S, 8, 32).unwrap();
    }
    let take_s = t.elapsed().as_secs_f64();
    println!(
        "append_confirmed: {:.0} keys/s (fdatasync each); batch of 256: {:.0} keys/s; take_oldest x8: {:.0} keys/s",
        f64::from(n) / append_s,
        f64::from(n / 256 * 256) / batch_s,
        f64::from(n) / take_s
    );
}

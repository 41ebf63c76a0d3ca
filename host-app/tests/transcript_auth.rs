// SPDX-License-Identifier: MIT OR Apache-2.0
//! Per-block transcript authentication of the key pipeline, end to end on
//! synthetic record streams:
//!
//! * a key block spends a fixed small number of pads per direction,
//!   whatever the number of Cascade round trips;
//! * flipping any byte of any classical message of a block (header, body,
//!   checkpoint tag; either direction) aborts that block at both ends,
//!   stores no key, and leaves both pools consistent: an authenticated
//!   session opening (`roles::handshake`) over the pools the two ends hold
//!   afterwards succeeds, and the next block makes identical keys;
//! * with a minimal pre-shared key the pool never decreases from one key
//!   block to the next (the link grows its own pads), and a pool too small
//!   for a block pauses both ends without a word sent.

mod synthetic;

use qkd_abi::records::Record;
use qkd_host::budget::{MAX_PADS_PER_BLOCK, MIN_PSK_BYTES};
use qkd_host::linkstate::Progress;
use qkd_host::pipeline::{random_psk, AlicePipeline, BlockOutcome, BobPipeline, PipelineConfig};
use qkd_host::roles::handshake::Opening;
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, InProcChannel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use synthetic::{config, link, seed_of};

const BLOCK_BITS: u64 = 100_000;
/// Slots that give one block of BLOCK_BITS Z bits with room to spare.
const SLOTS_PER_BLOCK: u64 = 4_200_000;

/// The in-process channel with an optional man in the middle on the send
/// side: it flips one bit of one byte of the `target`-th encoded frame
/// (header or payload), and logs the type of every frame sent.
struct Mitm {
    inner: InProcChannel,
    sent: usize,
    target: Option<(usize, usize)>,
    log: Arc<Mutex<Vec<u16>>>,
}

impl ClassicalChannel for Mitm {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let mut bytes = frame.encode().map_err(ChannelError::Frame)?;
        if let Some((n, byte)) = self.target {
            if n == self.sent {
                let i = byte % bytes.len();
                bytes[i] ^= 1 << (byte % 8);
            }
        }
        self.log.lock().unwrap().push(frame.msg_type);
        self.sent += 1;
        self.inner.send_raw(bytes)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        self.inner.recv(timeout)
    }
}

/// The message types a [`Mitm`] sent, in order.
type Log = Arc<Mutex<Vec<u16>>>;

fn mitm(inner: InProcChannel, target: Option<(usize, usize)>) -> (Mitm, Log) {
    let log = Arc::new(Mutex::new(Vec::new()));
    (
        Mitm {
            inner,
            sent: 0,
            target,
            log: log.clone(),
        },
        log,
    )
}

fn cfg(name: &str) -> PipelineConfig {
    let mut c = config(BLOCK_BITS, seed_of(name));
    c.recv_timeout = Duration::from_secs(3);
    c
}

type Outcome = (BlockOutcome, Vec<Vec<u8>>, KeyPool);
/// Alice's and Bob's records of one block's worth of slots.
type Data = (Vec<Record>, Vec<Record>);

fn data(rng: &mut ChaCha20Rng, start: u64) -> Data {
    link(0.02).generate(rng, start, SLOTS_PER_BLOCK)
}

/// One block on both ends (two threads) over the given channels, fed with
/// `data`; each end's outcome, keys and pool.
fn one_block(
    name: &str,
    pools: (KeyPool, KeyPool),
    chans: (Mitm, Mitm),
    data: &Data,
) -> (Outcome, Outcome) {
    let (ar, br) = data;
    let mut alice = AlicePipeline::new(cfg(name), AuthChannel::new_deferred(chans.0, pools.0));
    let mut bob = BobPipeline::new(cfg(name), AuthChannel::new_deferred(chans.1, pools.1));
    alice.push_records(ar).unwrap();
    bob.push_records(br);
    let ta = std::thread::spawn(move || {
        let o = alice.run_block();
        let mut keys = vec![];
        while let Some((_, k)) = alice.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (o, keys, alice.into_pool())
    });
    let tb = std::thread::spawn(move || {
        let o = bob.run_block();
        let mut keys = vec![];
        while let Some((_, k)) = bob.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (o, keys, bob.into_pool())
    });
    (ta.join().unwrap(), tb.join().unwrap())
}

/// The authenticated opening over the two pools as the two ends hold them.
fn reopen(a: KeyPool, b: KeyPool) -> (KeyPool, KeyPool) {
    let (mut a, mut b) = (a, b);
    let (mut ca, mut cb) = InProcChannel::pair();
    let mut pa = Progress {
        send_reserved: a.taken().0,
        ..Progress::default()
    };
    let mut pb = Progress {
        send_reserved: b.taken().0,
        ..Progress::default()
    };
    std::thread::scope(|s| {
        let hb = s.spawn(|| {
            Opening {
                alice: false,
                link: [1; 16],
                epoch: [0; 16],
                pool: &mut b,
                progress: &mut pb,
                timeout: Duration::from_secs(5),
            }
            .run(&mut cb, &mut |_| Ok(()))
        });
        Opening {
            alice: true,
            link: [1; 16],
            epoch: [7; 16],
            pool: &mut a,
            progress: &mut pa,
            timeout: Duration::from_secs(5),
        }
        .run(&mut ca, &mut |_| Ok(()))
        .expect("Alice opens");
        hb.join().unwrap().expect("Bob opens");
    });
    (a, b)
}

fn bootstrap(name: &str, bytes: usize) -> (KeyPool, KeyPool) {
    let psk = random_psk(seed_of(name), bytes);
    (
        KeyPool::bootstrap(&psk, Role::Initiator).unwrap(),
        KeyPool::bootstrap(&psk, Role::Responder).unwrap(),
    )
}

fn plain() -> (Mitm, Mitm, Log, Log) {
    let (ca, cb) = InProcChannel::pair();
    let (ma, la) = mitm(ca, None);
    let (mb, lb) = mitm(cb, None);
    (ma, mb, la, lb)
}

#[test]
fn a_key_block_costs_a_fixed_number_of_pads() {
    let name = "a_key_block_costs_a_fixed_number_of_pads";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ma, mb, la, lb) = plain();
    let ((oa, ka, pa), (ob, kb, pb)) =
        one_block(name, bootstrap(name, 1 << 14), (ma, mb), &data(&mut rng, 0));
    let (BlockOutcome::Key(sa), BlockOutcome::Key(_)) = (&oa, &ob) else {
        panic!("{oa:?} {ob:?}")
    };
    assert_eq!(ka, kb);
    // Three checkpoints each way, however many Cascade messages.
    assert_eq!(pa.taken(), (3, 3));
    assert_eq!(pb.taken(), (3, 3));
    assert_eq!(sa.auth_consumed_bits, 6 * 128);
    let frames = la.lock().unwrap().len() + lb.lock().unwrap().len();
    assert!(
        frames > 100,
        "only {frames} frames: Cascade should need many"
    );
    assert!(sa.ec_round_trips > 50, "{sa:?}");
}

#[test]
fn any_flipped_byte_aborts_the_block_and_the_next_block_makes_key() {
    let name = "any_flipped_byte_aborts_the_block";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    // The message types of an honest block, per direction.
    let (ma, mb, la, lb) = plain();
    // Two blocks' worth of data, used again for every case.
    let first = data(&mut rng, 0);
    let second = data(&mut rng, SLOTS_PER_BLOCK);
    let ((oa, _, _), _) = one_block(name, bootstrap(name, 1 << 14), (ma, mb), &first);
    assert!(matches!(oa, BlockOutcome::Key(_)), "{oa:?}");
    let logs = [la.lock().unwrap().clone(), lb.lock().unwrap().clone()];
    // For each direction: the first frame of every message type, the last
    // checkpoint, and one frame at random (each case costs two blocks;
    // `QKD_TAMPER_ALL=1` tries every frame of both directions instead).
    let mut cases = Vec::new();
    let all = std::env::var("QKD_TAMPER_ALL").is_ok_and(|v| v == "1");
    for (dir, log) in logs.iter().enumerate() {
        if all {
            cases.extend((0..log.len()).map(|i| (dir, i)));
            continue;
        }
        let mut types: Vec<u16> = log.clone();
        types.sort_unstable();
        types.dedup();
        for t in types {
            cases.push((dir, log.iter().position(|&x| x == t).unwrap()));
        }
        cases.push((dir, log.len() - 1));
        cases.push((dir, rng.random_range(0..log.len())));
    }
    for (dir, frame) in cases {
        let byte = rng.random_range(0..4096usize);
        let (ca, cb) = InProcChannel::pair();
        let target = Some((frame, byte));
        let (ma, _) = mitm(ca, if dir == 0 { target } else { None });
        let (mb, _) = mitm(cb, if dir == 1 { target } else { None });
        let pools = bootstrap(name, 1 << 14);
        let ((oa, ka, pa), (ob, kb, pb)) = one_block(name, pools, (ma, mb), &first);
        let what = format!(
            "{} frame {frame} (type {:#06x}) byte {byte}",
            ["A->B", "B->A"][dir],
            logs[dir][frame]
        );
        // The block aborts; at most one end (the one whose last checkpoint
        // verified before the other's failed) holds its key, so the two-phase
        // commit of the roles (`roles::commit`) never commits it.
        let (a_key, b_key) = (
            matches!(oa, BlockOutcome::Key(_)),
            matches!(ob, BlockOutcome::Key(_)),
        );
        assert!(
            !(a_key && b_key),
            "{what}: both ends made the key\nAlice {oa:?}\nBob {ob:?}"
        );
        assert!(
            ka.is_empty() || kb.is_empty(),
            "{what}: key stored at both ends"
        );
        // Both pools go on: an authenticated opening, then a key block.
        let (pa, pb) = reopen(pa, pb);
        let (ma, mb, _, _) = plain();
        let ((oa, ka, _), (ob, kb, _)) = one_block(name, (pa, pb), (ma, mb), &second);
        assert!(
            matches!(oa, BlockOutcome::Key(_)) && matches!(ob, BlockOutcome::Key(_)),
            "{what}: next block Alice {oa:?}\nBob {ob:?}"
        );
        assert!(!ka.is_empty());
        assert_eq!(ka, kb, "{what}: next block's keys differ");
    }
}

#[test]
fn a_minimal_psk_grows_and_an_empty_pool_pauses() {
    let name = "a_minimal_psk_grows";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (mut pa, mut pb) = bootstrap(name, MIN_PSK_BYTES);
    let mut levels = vec![pa.send_pads().min(pa.recv_pads())];
    let mut start = 0;
    for _ in 0..6 {
        let (ma, mb, _, _) = plain();
        let ((oa, ka, a), (ob, kb, b)) =
            one_block(name, (pa, pb), (ma, mb), &data(&mut rng, start));
        start += SLOTS_PER_BLOCK;
        assert!(matches!(oa, BlockOutcome::Key(_)) && matches!(ob, BlockOutcome::Key(_)));
        assert_eq!(ka, kb);
        assert_eq!(
            (a.send_pads(), a.recv_pads()),
            (b.recv_pads(), b.send_pads())
        );
        levels.push(a.send_pads().min(a.recv_pads()));
        (pa, pb) = (a, b);
    }
    assert!(
        levels.windows(2).all(|w| w[1] >= w[0]),
        "the pool shrank between key blocks: {levels:?}"
    );
    assert!(*levels.last().unwrap() as u64 >= qkd_host::budget::DEFAULT_RESERVE_PADS);

    // A pool below one block's need: both ends pause, nothing is sent.
    let psk_short = random_psk(1, 16 + 32 * (MAX_PADS_PER_BLOCK as usize - 1));
    let pools = (
        KeyPool::bootstrap(&psk_short, Role::Initiator).unwrap(),
        KeyPool::bootstrap(&psk_short, Role::Responder).unwrap(),
    );
    let (ma, mb, la, lb) = plain();
    let ((oa, _, _), (ob, _, _)) = one_block(name, pools, (ma, mb), &data(&mut rng, start));
    for o in [&oa, &ob] {
        assert!(
            matches!(o, BlockOutcome::Paused { needed, .. } if *needed == MAX_PADS_PER_BLOCK),
            "{o:?}"
        );
    }
    assert!(la.lock().unwrap().is_empty() && lb.lock().unwrap().is_empty());
}

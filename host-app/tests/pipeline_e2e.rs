// SPDX-License-Identifier: MIT OR Apache-2.0
//! End-to-end tests of the block pipeline (issue 6) on synthetic record streams.
//!
//! ```text
//!  synthetic source ──ALICE_SYMBOLS──▶ AlicePipeline ◀─┐ AuthChannel (Wegman-Carter)
//!        │ (intensity, basis, bit      (thread A)       │   over InProcChannel
//!        │  per slot, Lim's p_k)                        │   [optional Tamper in between]
//!        └──DETECTION (D_k, QBER)───▶ BobPipeline ◀────┘
//!                                     (thread B)
//! ```
//! Checks: identical keys at both ends; 10 % bit flips abort; tampered
//! traffic aborts; blocks below the needed size report NotEnoughData.

use qkd_abi::records::{AliceSymbols, Detection, Record, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::{Basis, Intensity, Symbol};
use qkd_host::config::LinkConfig;
use qkd_host::pipeline::{
    random_psk, AbortReason, AlicePipeline, BlockOutcome, BobPipeline, PipelineConfig,
};
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, InProcChannel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::time::Duration;

/// Synthetic link: Alice's choices with the configured probabilities; Bob
/// detects with D_k = 1 - (1 - 2 p_dc) e^(-eta mu_k), picks his basis with
/// q_Z, and sees Alice's bit flipped with probability `qber` when the bases
/// match (a random bit otherwise).
struct Synthetic {
    eta: f64,
    p_dc: f64,
    qber: f64,
    intensities: [f64; 3],
    probabilities: [f64; 3],
    q_z: f64,
}

fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Synthetic {
    /// Records for `slots` slots starting at absolute slot `start`.
    fn generate(
        &self,
        rng: &mut ChaCha20Rng,
        start: u64,
        slots: u64,
    ) -> (Vec<Record>, Vec<Record>) {
        let d: Vec<f64> = self
            .intensities
            .iter()
            .map(|mu| 1.0 - (1.0 - 2.0 * self.p_dc) * (-self.eta * mu).exp())
            .collect();
        let mut alice = vec![Record::Epoch((start >> SLOT_BITS) as u32)];
        let mut bob = vec![Record::Epoch((start >> SLOT_BITS) as u32)];
        let mut syms = Vec::with_capacity(1023);
        let mut rec_start = start;
        for s in start..start + slots {
            if s != start && s & SLOT_MASK == 0 {
                // The low 40 bits wrap: close the record, announce the epoch.
                if !syms.is_empty() {
                    alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                        rec_start & SLOT_MASK,
                        &syms,
                    )));
                    syms.clear();
                }
                rec_start = s;
                alice.push(Record::Epoch((s >> SLOT_BITS) as u32));
                bob.push(Record::Epoch((s >> SLOT_BITS) as u32));
            }
            let u: f64 = rng.random();
            let k = if u < self.probabilities[0] {
                0
            } else if u < self.probabilities[0] + self.probabilities[1] {
                1
            } else {
                2
            };
            let basis = Basis::from_bit(!rng.random_bool(self.q_z));
            let bit: bool = rng.random();
            let intensity = [Intensity::Signal, Intensity::Decoy, Intensity::Vacuum][k];
            syms.push(Symbol::new(intensity, basis, bit));
            if rng.random_bool(d[k]) {
                let bob_basis = Basis::from_bit(!rng.random_bool(self.q_z));
                let bob_bit = if bob_basis == basis {
                    bit ^ rng.random_bool(self.qber)
                } else {
                    rng.random()
                };
                bob.push(Record::Detection(Detection {
                    slot: s & SLOT_MASK,
                    detector: u8::from(bob_bit),
                    fine_bin: 3,
                    basis: bob_basis,
                    invalid: false,
                }));
            }
            if syms.len() == 1023 {
                alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                    rec_start & SLOT_MASK,
                    &syms,
                )));
                syms.clear();
                rec_start = s + 1;
            }
        }
        if !syms.is_empty() {
            alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                rec_start & SLOT_MASK,
                &syms,
            )));
        }
        (alice, bob)
    }
}

fn link(qber: f64) -> Synthetic {
    Synthetic {
        eta: 0.5,
        p_dc: 1e-6,
        qber,
        intensities: [0.42, 0.23, 0.0002],
        probabilities: [0.31, 0.51, 0.18],
        q_z: 0.5,
    }
}

fn config(block_bits: u64, seed: u64) -> PipelineConfig {
    let mut link = LinkConfig::default();
    link.source.basis_z_probability = 0.5;
    link.postprocessing.block_bits = block_bits as f64;
    let mut c = PipelineConfig::from_link(&link);
    c.recv_timeout = Duration::from_secs(20);
    c.rng_seed = Some(seed);
    c
}

/// Flips one payload byte of the `target`-th frame sent through it.
struct Tamper<C> {
    inner: C,
    sent: usize,
    target: usize,
}

impl<C: ClassicalChannel> ClassicalChannel for Tamper<C> {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let mut f = frame.clone();
        if self.sent == self.target && !f.payload.is_empty() {
            let i = f.payload.len() / 2;
            f.payload[i] ^= 0x01;
        }
        self.sent += 1;
        self.inner.send(&f)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        self.inner.recv(timeout)
    }
}

/// Run `blocks` rounds on both ends in two threads; returns each side's
/// outcomes and keys (as bytes).
#[allow(clippy::type_complexity)]
fn run<CA, CB>(
    mut alice: AlicePipeline<CA>,
    mut bob: BobPipeline<CB>,
    blocks: usize,
) -> (
    (Vec<BlockOutcome>, Vec<Vec<u8>>),
    (Vec<BlockOutcome>, Vec<Vec<u8>>),
)
where
    CA: ClassicalChannel + Send + 'static,
    CB: ClassicalChannel + Send + 'static,
{
    let ta = std::thread::spawn(move || {
        let out: Vec<BlockOutcome> = (0..blocks).map(|_| alice.run_block()).collect();
        let mut keys = vec![];
        while let Some((_, k)) = alice.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (out, keys)
    });
    let tb = std::thread::spawn(move || {
        let out: Vec<BlockOutcome> = (0..blocks).map(|_| bob.run_block()).collect();
        let mut keys = vec![];
        while let Some((_, k)) = bob.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (out, keys)
    });
    (
        ta.join().expect("alice thread"),
        tb.join().expect("bob thread"),
    )
}

fn pipelines<CA: ClassicalChannel, CB: ClassicalChannel>(
    name: &str,
    block_bits: u64,
    ca: CA,
    cb: CB,
) -> (AlicePipeline<CA>, BobPipeline<CB>) {
    let psk = random_psk(seed_of(name), 1 << 16);
    let pa = KeyPool::bootstrap(&psk, Role::Initiator).unwrap();
    let pb = KeyPool::bootstrap(&psk, Role::Responder).unwrap();
    let cfg = config(block_bits, seed_of(name));
    (
        AlicePipeline::new(cfg.clone(), AuthChannel::new(ca, pa)),
        BobPipeline::new(cfg, AuthChannel::new(cb, pb)),
    )
}

#[test]
fn two_blocks_give_identical_keys() {
    let name = "two_blocks_give_identical_keys";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 200_000, ca, cb);
    // Start near an epoch boundary so that slot reconstruction is exercised.
    let start = (3u64 << SLOT_BITS) - 1_000_000;
    let (ar, br) = link(0.02).generate(&mut rng, start, 15_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 3);
    for (a, b) in ao.iter().zip(&bo) {
        let (BlockOutcome::Key(sa), BlockOutcome::Key(sb)) = (a, b) else {
            if matches!(a, BlockOutcome::NotEnoughData { .. })
                && matches!(b, BlockOutcome::NotEnoughData { .. })
            {
                continue;
            }
            panic!("alice {a:?}\nbob {b:?}");
        };
        println!("block summary (Alice): {sa:?}");
        assert_eq!(sa.secret_bits, sb.secret_bits);
        assert_eq!(sa.leak_ec_bits, sb.leak_ec_bits);
        assert_eq!(
            (sa.n_z, sa.n_x, sa.m_x, sa.m_z),
            (sb.n_z, sb.n_x, sb.m_x, sb.m_z)
        );
        assert_eq!(sa.n_z.iter().sum::<u64>(), 200_000);
        let qz = sa.m_z.unwrap().iter().sum::<u64>() as f64 / 200_000.0;
        assert!((0.015..0.025).contains(&qz), "QBER_Z {qz}");
        assert!(sa.secret_bits > 10_000, "{sa:?}");
        assert_eq!(sa.delivered_bits + sa.auth_replenished_bits, sa.secret_bits);
        let f = sa.leak_ec_bits as f64 / (200_000.0 * h(qz));
        assert!(f < 1.5, "EC efficiency {f}");
    }
    assert_eq!(
        ao.iter()
            .filter(|o| matches!(o, BlockOutcome::Key(_)))
            .count(),
        2,
        "{ao:?}"
    );
    assert!(matches!(ao[2], BlockOutcome::NotEnoughData { .. }));
    assert!(!ak.is_empty());
    assert_eq!(ak, bk, "keys differ");
    // Keys of different blocks are not equal (fresh randomness).
    assert_ne!(ak[0], ak[1]);
}

fn h(x: f64) -> f64 {
    -x * x.log2() - (1.0 - x) * (1.0 - x).log2()
}

#[test]
fn ten_percent_bit_flips_abort() {
    let name = "ten_percent_bit_flips_abort";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 200_000, ca, cb);
    let (ar, br) = link(0.10).generate(&mut rng, 0, 8_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 1);
    let (BlockOutcome::Aborted(sa), BlockOutcome::Aborted(sb)) = (&ao[0], &bo[0]) else {
        panic!("expected aborts: {ao:?} {bo:?}");
    };
    assert!(ak.is_empty() && bk.is_empty());
    let qx = sa.m_x.iter().sum::<u64>() as f64 / sa.n_x.iter().sum::<u64>() as f64;
    assert!((0.09..0.11).contains(&qx), "{qx}");
    for s in [sa, sb] {
        assert!(
            matches!(s.abort, Some(AbortReason::Estimation(_))),
            "abort must come from the finite-key bound: {:?}",
            s.abort
        );
    }
}

#[test]
fn tampered_traffic_aborts() {
    let name = "tampered_traffic_aborts";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    // Bob's 3rd frame: announce (0), test bits (1), first Cascade request (2).
    let cb = Tamper {
        inner: cb,
        sent: 0,
        target: 2,
    };
    let (mut alice, mut bob) = pipelines(name, 100_000, ca, cb);
    let (ar, br) = link(0.02).generate(&mut rng, 0, 4_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 1);
    assert!(ak.is_empty() && bk.is_empty());
    let ra = ao[0].abort_reason().cloned();
    let rb = bo[0].abort_reason().cloned();
    assert!(
        matches!(&ra, Some(AbortReason::Channel(m)) if m.contains("MAC mismatch")),
        "alice: {ra:?}"
    );
    assert!(matches!(rb, Some(AbortReason::Channel(_))), "bob: {rb:?}");
}

#[test]
fn too_little_data_is_not_an_abort() {
    let name = "too_little_data_is_not_an_abort";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 100_000, ca, cb);
    let (ar, br) = link(0.02).generate(&mut rng, 0, 200_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, _), (bo, _)) = run(alice, bob, 2);
    for o in ao.iter().chain(&bo) {
        let BlockOutcome::NotEnoughData { z_bits_waiting } = o else {
            panic!("{o:?}")
        };
        assert!(*z_bits_waiting > 1000 && *z_bits_waiting < 100_000);
    }
}

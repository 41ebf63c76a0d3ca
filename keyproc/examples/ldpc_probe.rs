// SPDX-License-Identifier: MIT OR Apache-2.0
//! Quick LDPC probe: family shape, then f / frame errors / round trips /
//! thread-CPU Mbit/s of the blind protocol at a few QBERs.
//! `cargo run -p qkd-keyproc --release --example ldpc_probe -- [n] [blocks]`

use qkd_keyproc::ldpc::{family, Ldpc, LdpcConfig, LdpcResponder};
use qkd_keyproc::reconcile::{binary_entropy, LocalPeer, Reconciler};
use qkd_keyproc::BitVec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let blocks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);
    let t = Instant::now();
    for c in family() {
        println!(
            "code m={} rate={:.3} edges={} pmax={} ({:.2} m)",
            c.m(),
            c.rate(),
            c.edges(),
            c.max_punctured(),
            c.max_punctured() as f64 / c.m() as f64
        );
    }
    println!("family built in {:?}", t.elapsed());
    if let Ok(ci) = std::env::var("RAW") {
        raw(ci.parse().unwrap(), blocks);
        return;
    }
    let mut cfg = LdpcConfig::default();
    if let Ok(v) = std::env::var("F_START") {
        cfg.f_start = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("F_STEP") {
        cfg.f_step = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("PT") {
        cfg.puncture_target = v.parse().unwrap();
    }
    let qs: Vec<f64> = std::env::var("QS")
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or(vec![0.01, 0.02, 0.03, 0.05, 0.08]);
    for q in qs {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut ldpc = Ldpc::new(cfg);
        let (mut fsum, mut fe, mut rts, mut secs) = (0.0, 0, 0u64, 0.0);
        for _ in 0..blocks {
            let alice = BitVec::random(&mut rng, n);
            let mut bob = alice.clone();
            for i in 0..n {
                if (rng.next_u64() as f64) < q * u64::MAX as f64 {
                    bob.flip(i);
                }
            }
            let mut peer = LocalPeer {
                responder: LdpcResponder::with_seed(alice.clone(), [3; 32]),
            };
            let t = cpu_now();
            let r = ldpc.reconcile(&mut bob, q, &mut peer);
            secs += cpu_now() - t;
            match r {
                Ok(r) => {
                    fsum += r.leaked.get() as f64 / (n as f64 * binary_entropy(q));
                    rts += u64::from(r.round_trips);
                    if bob != alice {
                        fe += 1;
                    }
                }
                Err(e) => {
                    println!("  error: {e}");
                    fe += 1;
                }
            }
        }
        println!(
            "q={q}: f={:.4} fe={fe}/{blocks} rt={:.2} {:.1} Mbit/s",
            fsum / (blocks - fe).max(1) as f64,
            rts as f64 / blocks as f64,
            (n * blocks) as f64 / secs / 1e6
        );
    }
}

/// Decode unpunctured frames of code `ci` at QBERs around its threshold.
fn raw(ci: usize, frames: usize) {
    use qkd_keyproc::ldpc::code::{BASE_COLS, LIFT};
    use qkd_keyproc::ldpc::decoder::{channel_llr, Decoder};
    let owned;
    let code = if let Ok(sp) = std::env::var("SPEC") {
        let v: Vec<usize> = sp.split(',').map(|x| x.parse().unwrap()).collect();
        owned = qkd_keyproc::ldpc::QcCode::generate(
            qkd_keyproc::ldpc::code::CodeSpec {
                base_rows: v[0],
                high_degree: v[1],
                high_cols: v[2],
            },
            5,
        )
        .unwrap();
        &owned
    } else {
        &family()[ci]
    };
    let mut dec = Decoder::new();
    if let Ok(v) = std::env::var("SCALE") {
        dec.scale_16 = v.parse().unwrap();
    }
    let iters: u32 = std::env::var("ITERS")
        .map(|v| v.parse().unwrap())
        .unwrap_or(60);
    let r = code.rate();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let fs: Vec<f64> = std::env::var("FS")
        .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
        .unwrap_or(vec![1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.4]);
    for f in fs {
        // find q with h(q) = (1-r)/f
        let target = (1.0 - r) / f;
        let (mut lo, mut hi) = (1e-6, 0.5);
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if binary_entropy(mid) < target {
                lo = mid
            } else {
                hi = mid
            }
        }
        let q = lo;
        let (mut fails, mut its, mut secs) = (0, 0u64, 0.0);
        for _ in 0..frames {
            let x: Vec<u128> = (0..BASE_COLS)
                .map(|_| (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
                .collect();
            let syn = code.syndrome(&x);
            let c = channel_llr(q);
            let llr: Vec<i16> = (0..BASE_COLS * LIFT)
                .map(|v| {
                    let mut b = (x[v / LIFT] >> (v % LIFT)) & 1 == 1;
                    if (rng.next_u64() as f64) < q * u64::MAX as f64 {
                        b = !b;
                    }
                    if b {
                        -c
                    } else {
                        c
                    }
                })
                .collect();
            let t = cpu_now();
            let out = dec.decode(code, &llr, &syn, iters);
            secs += cpu_now() - t;
            its += u64::from(out.iterations);
            let ok = out.converged && dec.hard_words() == &x[..];
            if std::env::var("FLOAT").is_ok() {
                let fl: Vec<f64> = llr.iter().map(|&l| l as f64 / 16.0).collect();
                let r = float_bp(code, &fl, &syn, 60);
                println!("  float bp ok={} minsum ok={ok}", r.is_some());
            }
            if !ok {
                fails += 1;
            }
        }
        println!("code {ci} r={r:.3} f={f} q={q:.4}: FER {fails}/{frames}, mean iters {:.1}, {:.1} Mbit/s (n), {:.2} ns/edge/iter",
            its as f64 / frames as f64, (frames * BASE_COLS * LIFT) as f64 / secs / 1e6,
            secs * 1e9 / (its.max(1) as f64 * code.edges() as f64));
    }
}

/// Reference flooding sum-product (f64, tanh rule) for comparison.
#[allow(dead_code)]
pub fn float_bp(
    code: &qkd_keyproc::ldpc::QcCode,
    llr: &[f64],
    syn: &[u128],
    iters: usize,
) -> Option<Vec<bool>> {
    use qkd_keyproc::ldpc::code::LIFT;
    let m = code.m();
    let mut adj: Vec<Vec<usize>> = Vec::with_capacity(m);
    for ch in 0..m {
        let mut v = Vec::new();
        code.bits_of(ch, &mut v);
        adj.push(v);
    }
    let sbit = |ch: usize| (syn[ch / LIFT] >> (ch % LIFT)) & 1 == 1;
    let n = llr.len();
    let mut c2v: Vec<Vec<f64>> = adj.iter().map(|a| vec![0.0; a.len()]).collect();
    let mut post = llr.to_vec();
    for _ in 0..iters {
        // v2c = post - c2v
        let mut newpost = llr.to_vec();
        for (ch, a) in adj.iter().enumerate() {
            let ins: Vec<f64> = a.iter().zip(&c2v[ch]).map(|(&v, &r)| post[v] - r).collect();
            let th: Vec<f64> = ins.iter().map(|x| (x / 2.0).tanh()).collect();
            #[allow(clippy::needless_range_loop)]
            for j in 0..a.len() {
                let mut p = if sbit(ch) { -1.0 } else { 1.0 };
                for (k, t) in th.iter().enumerate() {
                    if k != j {
                        p *= t;
                    }
                }
                let p = p.clamp(-0.999999, 0.999999);
                c2v[ch][j] = 2.0 * p.atanh();
            }
        }
        for (ch, a) in adj.iter().enumerate() {
            for (j, &v) in a.iter().enumerate() {
                newpost[v] += c2v[ch][j];
            }
        }
        post = newpost;
        let hard: Vec<bool> = post.iter().map(|&x| x < 0.0).collect();
        let ok = (0..m).all(|ch| !adj[ch].iter().fold(sbit(ch), |acc, &v| acc ^ hard[v]));
        if ok {
            return Some(hard);
        }
    }
    let _ = n;
    None
}

/// Thread CPU time in seconds.
fn cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the provided timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

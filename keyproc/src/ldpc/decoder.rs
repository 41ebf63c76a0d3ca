// SPDX-License-Identifier: MIT OR Apache-2.0
//! Layered normalized min-sum decoding of a syndrome (Slepian-Wolf form:
//! check i must have parity s_i) over a [`QcCode`].
//!
//! Follows the layered schedule of Hocevar, IEEE SiPS 2004 ("A reduced
//! complexity decoder architecture via layered decoding of LDPC codes"),
//! with the normalized min-sum check update of Chen and Fossorier, IEEE
//! Trans. Commun. 50 (2002) 406 (alpha = `scale_16` / 16). One layer is one
//! base row: its Z checks are updated together, and every loop runs over a
//! contiguous Z-long i16 array (the rotated slice of a column block), which
//! the compiler vectorises. Messages are i16 with saturating arithmetic,
//! [`LLR_SCALE`] units per nat; all buffers live in the [`Decoder`] and are
//! reused (no allocation per iteration or per frame).

use super::code::{QcCode, BASE_COLS, FRAME_BITS, LIFT};

/// Fixed-point units per nat of log-likelihood ratio.
pub const LLR_SCALE: f64 = 16.0;
/// Magnitude of a known bit (shortened or revealed).
pub const LLR_KNOWN: i16 = 16_000;
/// Largest check-to-variable message magnitude.
const CHECK_MAX: i16 = 2_000;

/// Channel LLR of a key bit at bit-flip probability `qber`, in fixed point
/// (positive = bit 0 more likely).
pub fn channel_llr(qber: f64) -> i16 {
    let q = qber.clamp(1e-4, 0.4999);
    (((1.0 - q) / q).ln() * LLR_SCALE)
        .round()
        .clamp(1.0, 2_000.0) as i16
}

/// First half of a layer update for one base entry: extrinsic inputs
/// q = posterior - old message, running min1 / min2 / argmin / sign
/// product, and the parity of the posteriors' hard decisions.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_pass1(
    w: &mut [i16; LIFT],
    m: &[i16; LIFT],
    e: i16,
    min1: &mut [i16; LIFT],
    min2: &mut [i16; LIFT],
    idx: &mut [i16; LIFT],
    sign: &mut [i16; LIFT],
    parity: &mut [i16; LIFT],
) {
    for t in 0..LIFT {
        let p = w[t];
        parity[t] ^= p >> 15;
        let q = p.saturating_sub(m[t]);
        w[t] = q;
        let a = q.saturating_abs();
        sign[t] ^= q >> 15;
        let lt = a < min1[t];
        min2[t] = min2[t].min(min1[t].max(a));
        idx[t] = if lt { e } else { idx[t] };
        min1[t] = min1[t].min(a);
    }
}

/// Second half: new check-to-variable messages and posteriors.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn layer_pass2(
    w: &mut [i16; LIFT],
    m: &mut [i16; LIFT],
    e: i16,
    min1: &[i16; LIFT],
    min2: &[i16; LIFT],
    idx: &[i16; LIFT],
    sign: &[i16; LIFT],
    scale: i16,
) {
    for t in 0..LIFT {
        let q = w[t];
        let mag = if idx[t] == e { min2[t] } else { min1[t] };
        let mag = (mag.min(CHECK_MAX) * scale) >> 4;
        let neg = sign[t] ^ (q >> 15);
        let r = (mag ^ neg) - neg;
        m[t] = r;
        w[t] = q.saturating_add(r);
    }
}

/// Reusable decoder state.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Posterior LLR per frame bit.
    post: Vec<i16>,
    /// Check-to-variable messages, Z per base entry.
    msg: Vec<i16>,
    /// Per-layer scratch: extrinsic inputs, Z per entry of the layer.
    work: Vec<i16>,
    min1: [i16; LIFT],
    min2: [i16; LIFT],
    idx: [i16; LIFT],
    sign: [i16; LIFT],
    syn_row: [i16; LIFT],
    words: Vec<u128>,
    check: Vec<u128>,
    /// Normalisation alpha in sixteenths.
    pub scale_16: i16,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Result of one decoding attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOutcome {
    /// True when the hard decisions satisfy the syndrome.
    pub converged: bool,
    /// Iterations run.
    pub iterations: u32,
}

impl Decoder {
    /// Empty decoder; buffers grow on first use.
    pub fn new() -> Self {
        Self {
            post: Vec::new(),
            msg: Vec::new(),
            work: Vec::new(),
            min1: [0; LIFT],
            min2: [0; LIFT],
            idx: [0; LIFT],
            sign: [0; LIFT],
            syn_row: [0; LIFT],
            words: vec![0; BASE_COLS],
            check: Vec::new(),
            scale_16: 13,
        }
    }

    /// Posterior LLRs of the last decoding (negative = bit 1).
    pub fn posterior(&self) -> &[i16] {
        &self.post
    }

    /// Hard decision of frame bit `v` after decoding.
    pub fn bit(&self, v: usize) -> bool {
        self.post[v] < 0
    }

    /// Decode: `llr` holds the channel LLR of every frame bit, `syndrome`
    /// one word per base row. Stops when the syndrome is met or after
    /// `max_iterations`.
    pub fn decode(
        &mut self,
        code: &QcCode,
        llr: &[i16],
        syndrome: &[u128],
        max_iterations: u32,
    ) -> DecodeOutcome {
        assert_eq!(llr.len(), FRAME_BITS, "one LLR per frame bit");
        assert_eq!(syndrome.len(), code.rows().len(), "one word per base row");
        self.post.clear();
        self.post.extend_from_slice(llr);
        self.msg.clear();
        self.msg.resize(code.edges(), 0);
        let max_deg = code.rows().iter().map(Vec::len).max().unwrap_or(0);
        if self.work.len() < max_deg * LIFT {
            self.work.resize(max_deg * LIFT, 0);
        }
        if self.check_syndrome(code, syndrome) {
            return DecodeOutcome {
                converged: true,
                iterations: 0,
            };
        }
        let scale = self.scale_16;
        for it in 1..=max_iterations {
            let mut all_ok = true;
            let mut base = 0usize;
            for (i, row) in code.rows().iter().enumerate() {
                let d = row.len();
                let s = syndrome[i];
                for (u, v) in self.syn_row.iter_mut().enumerate() {
                    *v = -(((s >> u) & 1) as i16);
                }
                self.min1.fill(i16::MAX);
                self.min2.fill(i16::MAX);
                self.idx.fill(0);
                self.sign.copy_from_slice(&self.syn_row);
                // Pass 1: gather, subtract old messages, track minima and signs.
                for (e, ent) in row.iter().enumerate() {
                    let col = ent.col as usize * LIFT;
                    let sh = ent.shift as usize;
                    let w: &mut [i16; LIFT] = (&mut self.work[e * LIFT..(e + 1) * LIFT])
                        .try_into()
                        .expect("Z-long");
                    w[..LIFT - sh].copy_from_slice(&self.post[col + sh..col + LIFT]);
                    w[LIFT - sh..].copy_from_slice(&self.post[col..col + sh]);
                    let m: &[i16; LIFT] = (&self.msg[base + e * LIFT..base + (e + 1) * LIFT])
                        .try_into()
                        .expect("Z-long");
                    layer_pass1(
                        w,
                        m,
                        e as i16,
                        &mut self.min1,
                        &mut self.min2,
                        &mut self.idx,
                        &mut self.sign,
                        &mut self.syn_row,
                    );
                }
                all_ok &= self.syn_row.iter().all(|&x| x == 0);
                // Pass 2: new messages, posteriors, scatter back.
                for (e, ent) in row.iter().enumerate() {
                    let col = ent.col as usize * LIFT;
                    let sh = ent.shift as usize;
                    let w: &mut [i16; LIFT] = (&mut self.work[e * LIFT..(e + 1) * LIFT])
                        .try_into()
                        .expect("Z-long");
                    let m: &mut [i16; LIFT] = (&mut self.msg
                        [base + e * LIFT..base + (e + 1) * LIFT])
                        .try_into()
                        .expect("Z-long");
                    layer_pass2(
                        w, m, e as i16, &self.min1, &self.min2, &self.idx, &self.sign, scale,
                    );
                    self.post[col + sh..col + LIFT].copy_from_slice(&w[..LIFT - sh]);
                    self.post[col..col + sh].copy_from_slice(&w[LIFT - sh..]);
                }
                base += d * LIFT;
            }
            if all_ok && self.check_syndrome(code, syndrome) {
                return DecodeOutcome {
                    converged: true,
                    iterations: it,
                };
            }
        }
        let converged = self.check_syndrome(code, syndrome);
        DecodeOutcome {
            converged,
            iterations: max_iterations,
        }
    }

    /// True when the hard decisions of the posteriors meet `syndrome`.
    fn check_syndrome(&mut self, code: &QcCode, syndrome: &[u128]) -> bool {
        for (c, w) in self.words.iter_mut().enumerate() {
            let mut x = 0u128;
            for (t, &p) in self.post[c * LIFT..(c + 1) * LIFT].iter().enumerate() {
                x |= u128::from(p < 0) << t;
            }
            *w = x;
        }
        self.check.resize(syndrome.len(), 0);
        code.syndrome_into(&self.words, &mut self.check);
        self.check == syndrome
    }

    /// Hard decisions packed one `u128` per base column (valid after
    /// [`Self::decode`]).
    pub fn hard_words(&mut self) -> &[u128] {
        for (c, w) in self.words.iter_mut().enumerate() {
            let mut x = 0u128;
            for (t, &p) in self.post[c * LIFT..(c + 1) * LIFT].iter().enumerate() {
                x |= u128::from(p < 0) << t;
            }
            *w = x;
        }
        &self.words
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.post.zeroize();
        self.work.zeroize();
        self.words.zeroize();
    }
}

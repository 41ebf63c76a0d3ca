// SPDX-License-Identifier: MIT OR Apache-2.0
//! Privacy amplification by Toeplitz hashing (universal_2 family of
//! Mansour, Nisan & Tiwari, STOC 1990; Krawczyk, CRYPTO 1994; leftover hash
//! lemma, Impagliazzo, Levin & Luby 1989 / Tomamichel et al. 2011).
//!
//! Convention: seed s has n+m-1 bits, T is m x n with T[i][j] = s[i - j + n - 1],
//! output y = T x (mod 2), i.e. y_i = c_{i+n-1} where c = s * x is the integer
//! linear convolution (Eq. 1 below). c is computed with an f64 real FFT
//! (`realfft`) of a 5-smooth length N >= n + m - 1 (the cyclic convolution
//! equals the linear one on the needed indices n-1..n+m-2, since aliasing
//! needs k + N <= 2n + m - 3). The seed spectrum is precomputed once per
//! (seed, n, m) and reused. Every output value is checked to lie within 0.25
//! of an integer (a-posteriori rounding guard); a-priori, the worst-case FFT
//! error bound of Percival (Math. Comp. 72, 387, 2003; also Brent &
//! Zimmermann, Modern Computer Arithmetic, Sec. 3.3), evaluated with
//! k = ceil(log2 N) levels for our mixed-radix sizes, is checked and the
//! input is split into column chunks (each a smaller Toeplitz product,
//! XORed) if it exceeds 0.25 / 4. [`toeplitz_hash_exact`] is an independent word-parallel
//! reference used by the tests.
//!
//! Eq. 1: y_i = sum_j s_{i-j+n-1} x_j mod 2, 0 <= i < m.

use crate::bits::BitVec;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;
use zeroize::Zeroize;

/// Largest acceptable rounding error of an output value before parity.
pub const ROUNDING_GUARD: f64 = 0.25;

/// Errors of privacy amplification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PaError {
    /// The seed has the wrong length.
    #[error("Toeplitz seed has {got} bits, need n + m - 1 = {want}")]
    SeedLength {
        /// Bits given.
        got: usize,
        /// Bits needed.
        want: usize,
    },
    /// The input has the wrong length.
    #[error("privacy-amplification input has {got} bits, hasher was built for {want}")]
    InputLength {
        /// Bits given.
        got: usize,
        /// Bits expected.
        want: usize,
    },
    /// Output length must be 1..=n.
    #[error("output length m = {m} must be between 1 and the input length n = {n}")]
    OutputLength {
        /// Requested output bits.
        m: usize,
        /// Input bits.
        n: usize,
    },
    /// A prefix longer than the hasher's output was asked for.
    #[error("output prefix of {m} bits asked of a hasher with {max} output bits (need 1..={max})")]
    PrefixLength {
        /// Requested output bits.
        m: usize,
        /// The hasher's output length.
        max: usize,
    },
    /// The FFT result was too far from an integer to trust its parity.
    #[error("FFT rounding error {max_error} exceeds the guard {ROUNDING_GUARD}; result refused")]
    Rounding {
        /// Largest distance to the nearest integer seen.
        max_error: f64,
    },
    /// The FFT library reported an error (buffer sizes).
    #[error("FFT failed: {0}")]
    Fft(String),
}

/// Smallest 5-smooth even number >= `min` (lengths 2^a 3^b 5^c, a >= 1).
pub fn smooth_fft_len(min: usize) -> usize {
    let min = min.max(2);
    let mut best = usize::MAX;
    let mut p5 = 1usize;
    while p5 < best {
        let mut p35 = p5;
        while p35 < best {
            let mut v = p35 * 2;
            while v < min {
                v *= 2;
            }
            best = best.min(v);
            p35 = match p35.checked_mul(3) {
                Some(x) => x,
                None => break,
            };
        }
        p5 = match p5.checked_mul(5) {
            Some(x) => x,
            None => break,
        };
    }
    best
}

/// A-priori worst-case rounding bound for an FFT convolution of length `n_fft`
/// with input Euclidean norms `norm_x`, `norm_s` (Percival 2003:
/// ||x|| ||y|| ((1+e)^{3k} (1+e sqrt5)^{3k+1} (1+b)^{3k} - 1), k = ceil(log2 N),
/// e = 2^-53, twiddle error b taken as e * 4 for mixed-radix factors).
pub fn fft_error_bound(n_fft: usize, norm_x: f64, norm_s: f64) -> f64 {
    let e = f64::EPSILON / 2.0;
    let k = (n_fft as f64).log2().ceil();
    let b = 4.0 * e;
    let f = (3.0 * k) * (1.0 + e).ln()
        + (3.0 * k + 1.0) * (1.0 + e * 5f64.sqrt()).ln()
        + (3.0 * k) * (1.0 + b).ln();
    norm_x * norm_s * f.exp_m1()
}

struct Chunk {
    /// First input column of this chunk.
    col0: usize,
    /// Columns in this chunk.
    cols: usize,
    /// Seed spectrum (scaled by 1/N) of this chunk's Toeplitz seed.
    spectrum: Vec<Complex<f64>>,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
}

/// Toeplitz hasher for a (seed, n, m), with the seed spectrum precomputed.
///
/// A session keeps one hasher and moves it to each block's seed with
/// [`ToeplitzHasher::reseed`]: the FFT plans (one per FFT length, kept by
/// the planner) and every buffer (seed spectra, work arrays) are reused, so
/// a block pays one forward FFT of its seed and no planning or allocation.
/// With one seed for several blocks, [`ToeplitzHasher::hash_prefix`] gives
/// the first `m' <= m` output bits: the Toeplitz matrix of the first `m'`
/// rows, whose seed is the first `n + m' - 1` seed bits (Eq. 1).
pub struct ToeplitzHasher {
    n: usize,
    m: usize,
    chunks: Vec<Chunk>,
    /// Plans by FFT length (the planner keeps every plan it made).
    planner: RealFftPlanner<f64>,
    buf: Vec<f64>,
    spec: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
    /// Largest rounding error seen in the last call.
    last_max_error: f64,
}

impl std::fmt::Debug for ToeplitzHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToeplitzHasher")
            .field("n", &self.n)
            .field("m", &self.m)
            .field("chunks", &self.chunks.len())
            .field(
                "fft_len",
                &self.chunks.first().map(|c| c.r2c.len()).unwrap_or(0),
            )
            .finish()
    }
}

impl Drop for ToeplitzHasher {
    fn drop(&mut self) {
        self.buf.zeroize();
        for c in self.spec.iter_mut().chain(self.scratch.iter_mut()) {
            *c = Complex::new(0.0, 0.0);
        }
    }
}

impl ToeplitzHasher {
    /// Build for input length `n` and output length `m` with a seed of
    /// `n + m - 1` bits.
    pub fn new(seed: &BitVec, n: usize, m: usize) -> Result<Self, PaError> {
        Self::with_min_chunks(seed, n, m, 1)
    }

    /// As [`Self::new`], but split the input columns into at least
    /// `min_chunks` chunks (each a smaller Toeplitz product; results XORed).
    /// `new` uses 1 and splits further only when the a-priori rounding bound
    /// requires it.
    pub fn with_min_chunks(
        seed: &BitVec,
        n: usize,
        m: usize,
        min_chunks: usize,
    ) -> Result<Self, PaError> {
        let mut h = Self {
            n: 0,
            m: 0,
            chunks: Vec::new(),
            planner: RealFftPlanner::new(),
            buf: Vec::new(),
            spec: Vec::new(),
            scratch: Vec::new(),
            last_max_error: 0.0,
        };
        h.reseed_with_min_chunks(seed, n, m, min_chunks)?;
        Ok(h)
    }

    /// Move to a new seed and (n, m), keeping the plans and buffers. On
    /// error the hasher holds no seed (every `hash` fails on the length)
    /// until a successful call.
    pub fn reseed(&mut self, seed: &BitVec, n: usize, m: usize) -> Result<(), PaError> {
        self.reseed_with_min_chunks(seed, n, m, 1)
    }

    /// [`Self::reseed`] with at least `min_chunks` column chunks (as
    /// [`Self::with_min_chunks`]).
    pub fn reseed_with_min_chunks(
        &mut self,
        seed: &BitVec,
        n: usize,
        m: usize,
        min_chunks: usize,
    ) -> Result<(), PaError> {
        self.n = 0;
        self.m = 0;
        if m == 0 || m > n {
            return Err(PaError::OutputLength { m, n });
        }
        let want = n + m - 1;
        if seed.len() != want {
            return Err(PaError::SeedLength {
                got: seed.len(),
                want,
            });
        }
        // Choose the number of column chunks so that the a-priori bound holds.
        let mut n_chunks = min_chunks.clamp(1, n);
        loop {
            let cols = n.div_ceil(n_chunks);
            let nfft = smooth_fft_len(cols + m - 1);
            let bound = fft_error_bound(nfft, (cols as f64).sqrt(), ((cols + m - 1) as f64).sqrt());
            if bound <= ROUNDING_GUARD / 4.0 || cols <= 1 {
                break;
            }
            n_chunks *= 2;
        }
        let cols_per = n.div_ceil(n_chunks);
        let mut old = std::mem::take(&mut self.chunks);
        old.reverse();
        let mut col0 = 0;
        while col0 < n {
            let cols = cols_per.min(n - col0);
            let nfft = smooth_fft_len(cols + m - 1);
            let r2c = self.planner.plan_fft_forward(nfft);
            let c2r = self.planner.plan_fft_inverse(nfft);
            let scratch_len = r2c.get_scratch_len().max(c2r.get_scratch_len());
            if self.buf.len() < nfft {
                self.buf.resize(nfft, 0.0);
            }
            if self.spec.len() < nfft / 2 + 1 {
                self.spec.resize(nfft / 2 + 1, Complex::new(0.0, 0.0));
            }
            if self.scratch.len() < scratch_len {
                self.scratch.resize(scratch_len, Complex::new(0.0, 0.0));
            }
            // Chunk seed: s^c_u = s_{u + n - col0 - cols}, u in 0..cols+m-1.
            let off = n - col0 - cols;
            let tmp = &mut self.buf[..nfft];
            unpack_bits(seed, off, cols + m - 1, tmp);
            let mut spectrum = old.pop().map(|c| c.spectrum).unwrap_or_default();
            spectrum.resize(nfft / 2 + 1, Complex::new(0.0, 0.0));
            r2c.process_with_scratch(tmp, &mut spectrum, &mut self.scratch)
                .map_err(|e| PaError::Fft(e.to_string()))?;
            let scale = 1.0 / nfft as f64;
            for c in spectrum.iter_mut() {
                *c *= scale;
            }
            self.chunks.push(Chunk {
                col0,
                cols,
                spectrum,
                r2c,
                c2r,
            });
            col0 += cols;
        }
        self.n = n;
        self.m = m;
        Ok(())
    }

    /// Input length n.
    pub fn input_len(&self) -> usize {
        self.n
    }
    /// Output length m.
    pub fn output_len(&self) -> usize {
        self.m
    }
    /// FFT length of the (first) chunk.
    pub fn fft_len(&self) -> usize {
        self.chunks.first().map(|c| c.r2c.len()).unwrap_or(0)
    }
    /// Number of column chunks (1 unless the a-priori bound forced a split).
    pub fn chunk_count(&self) -> usize {
        self.chunks.len()
    }
    /// Largest rounding error observed by the last [`Self::hash`] call.
    pub fn last_max_error(&self) -> f64 {
        self.last_max_error
    }

    /// y = T x mod 2 (Eq. 1). Refuses the result if any output value is more
    /// than [`ROUNDING_GUARD`] from an integer.
    pub fn hash(&mut self, input: &BitVec) -> Result<BitVec, PaError> {
        self.hash_prefix(input, self.m)
    }

    /// The first `m` bits of [`Self::hash`] (1 <= `m` <= the hasher's m):
    /// the Toeplitz hash with the first `n + m - 1` seed bits.
    pub fn hash_prefix(&mut self, input: &BitVec, m: usize) -> Result<BitVec, PaError> {
        if input.len() != self.n || self.n == 0 {
            return Err(PaError::InputLength {
                got: input.len(),
                want: self.n,
            });
        }
        if m == 0 || m > self.m {
            return Err(PaError::PrefixLength { m, max: self.m });
        }
        let mut out = BitVec::zeros(m);
        let mut max_err = 0f64;
        for ch in &self.chunks {
            let nfft = ch.r2c.len();
            let buf = &mut self.buf[..nfft];
            let spec = &mut self.spec[..nfft / 2 + 1];
            unpack_bits(input, ch.col0, ch.cols, buf);
            ch.r2c
                .process_with_scratch(buf, spec, &mut self.scratch)
                .map_err(|e| PaError::Fft(e.to_string()))?;
            for (a, b) in spec.iter_mut().zip(&ch.spectrum) {
                *a *= *b;
            }
            ch.c2r
                .process_with_scratch(spec, buf, &mut self.scratch)
                .map_err(|e| PaError::Fft(e.to_string()))?;
            // y_i = c_{i + cols - 1} for this chunk.
            let vals = &buf[ch.cols - 1..ch.cols - 1 + m];
            let words = out.words_mut();
            for (wi, chunk) in vals.chunks(64).enumerate() {
                let mut w = 0u64;
                for (b, &v) in chunk.iter().enumerate() {
                    let r = v.round();
                    let e = (v - r).abs();
                    if e > max_err || e.is_nan() {
                        max_err = e;
                    }
                    w |= ((r as i64 as u64) & 1) << b;
                }
                words[wi] ^= w;
            }
        }
        // The work arrays held the input's bits and their transform.
        self.buf.fill(0.0);
        self.spec.fill(Complex::new(0.0, 0.0));
        self.last_max_error = max_err;
        // NaN-safe: refuse unless the error is known to be within the guard.
        if max_err.is_nan() || max_err > ROUNDING_GUARD {
            return Err(PaError::Rounding { max_error: max_err });
        }
        Ok(out)
    }
}

/// Write bits `[start, start+len)` of `v` as 0.0/1.0 into `out[..len]` and zero
/// the rest of `out`.
fn unpack_bits(v: &BitVec, start: usize, len: usize, out: &mut [f64]) {
    let src = v.slice(start, len).expect("range checked by caller");
    let words = src.words();
    for (wi, o) in out[..len].chunks_mut(64).enumerate() {
        let w = words[wi];
        for (b, x) in o.iter_mut().enumerate() {
            *x = ((w >> b) & 1) as f64;
        }
    }
    out[len..].fill(0.0);
}

/// One-shot FFT Toeplitz hash (builds a [`ToeplitzHasher`]).
pub fn toeplitz_hash(seed: &BitVec, input: &BitVec, m: usize) -> Result<BitVec, PaError> {
    ToeplitzHasher::new(seed, input.len(), m)?.hash(input)
}

/// Independent exact reference: y_i = parity(s[i .. i+n] AND reverse(x)),
/// which is Eq. 1 with u = n - 1 - j. O(n m / 64) word operations.
pub fn toeplitz_hash_exact(seed: &BitVec, input: &BitVec, m: usize) -> Result<BitVec, PaError> {
    let n = input.len();
    if m == 0 || m > n {
        return Err(PaError::OutputLength { m, n });
    }
    if seed.len() != n + m - 1 {
        return Err(PaError::SeedLength {
            got: seed.len(),
            want: n + m - 1,
        });
    }
    let xr = input.reversed();
    let mut out = BitVec::zeros(m);
    for i in 0..m {
        let win = seed.slice(i, n).expect("window inside seed");
        let p = win
            .words()
            .iter()
            .zip(xr.words())
            .fold(0u64, |a, (w, x)| a ^ (w & x))
            .count_ones()
            & 1;
        if p == 1 {
            out.set(i, true);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    /// Textbook definition, bit by bit (third, slowest implementation).
    fn naive(seed: &BitVec, x: &BitVec, m: usize) -> BitVec {
        let n = x.len();
        let mut y = BitVec::zeros(m);
        for i in 0..m {
            let mut p = false;
            for j in 0..n {
                p ^= seed.get(i + n - 1 - j) & x.get(j);
            }
            y.set(i, p);
        }
        y
    }

    #[test]
    fn smooth_lengths() {
        assert_eq!(smooth_fft_len(1), 2);
        assert_eq!(smooth_fft_len(7), 8);
        assert_eq!(smooth_fft_len(11), 12);
        assert_eq!(smooth_fft_len(1_500_000), 1_500_000);
        assert_eq!(smooth_fft_len(1_500_001), 1_518_750);
        for n in [3usize, 17, 1000, 123_457, 9_999_999] {
            let l = smooth_fft_len(n);
            assert!(l >= n && l.is_multiple_of(2));
            let mut r = l;
            for p in [2, 3, 5] {
                while r.is_multiple_of(p) {
                    r /= p;
                }
            }
            assert_eq!(r, 1, "{l} not 5-smooth");
        }
    }

    #[test]
    fn exact_matches_naive_small() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x006e_6169_7665);
        for (n, m) in [(1, 1), (5, 3), (64, 64), (65, 1), (130, 70)] {
            let s = BitVec::random(&mut rng, n + m - 1);
            let x = BitVec::random(&mut rng, n);
            assert_eq!(toeplitz_hash_exact(&s, &x, m).unwrap(), naive(&s, &x, m));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn fft_matches_exact(n in 1usize..3000, frac in 0.01f64..1.0, seed in any::<u64>()) {
            let m = ((n as f64 * frac) as usize).clamp(1, n);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let s = BitVec::random(&mut rng, n + m - 1);
            let x = BitVec::random(&mut rng, n);
            let mut h = ToeplitzHasher::new(&s, n, m).unwrap();
            let y = h.hash(&x).unwrap();
            prop_assert_eq!(&y, &toeplitz_hash_exact(&s, &x, m).unwrap());
            prop_assert!(h.last_max_error() < 1e-6);
            // reuse of the precomputed spectrum on a second input
            let x2 = BitVec::random(&mut rng, n);
            prop_assert_eq!(h.hash(&x2).unwrap(), toeplitz_hash_exact(&s, &x2, m).unwrap());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// One hasher moved through several seeds and sizes answers as a
        /// fresh one (the exact reference) each time.
        #[test]
        fn reseeded_hasher_matches_exact(
            sizes in proptest::collection::vec((1usize..2000, 0.01f64..1.0), 1..4),
            seed in any::<u64>(),
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut h: Option<ToeplitzHasher> = None;
            for (n, frac) in sizes {
                let m = ((n as f64 * frac) as usize).clamp(1, n);
                let s = BitVec::random(&mut rng, n + m - 1);
                let x = BitVec::random(&mut rng, n);
                let h = h.get_or_insert_with(|| ToeplitzHasher::new(&s, n, m).unwrap());
                h.reseed(&s, n, m).unwrap();
                prop_assert_eq!(h.input_len(), n);
                prop_assert_eq!(h.hash(&x).unwrap(), toeplitz_hash_exact(&s, &x, m).unwrap());
            }
        }

        /// The first m' output bits are the hash with the first n + m' - 1
        /// seed bits.
        #[test]
        fn prefix_is_the_hash_of_the_seed_prefix(n in 1usize..2000, a in 0.0f64..1.0, b in 0.0f64..1.0, seed in any::<u64>()) {
            let m = ((n as f64 * a) as usize).clamp(1, n);
            let m2 = ((m as f64 * b) as usize).clamp(1, m);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let s = BitVec::random(&mut rng, n + m - 1);
            let x = BitVec::random(&mut rng, n);
            let mut h = ToeplitzHasher::new(&s, n, m).unwrap();
            let s2 = s.prefix(n + m2 - 1).unwrap();
            prop_assert_eq!(h.hash_prefix(&x, m2).unwrap(), toeplitz_hash_exact(&s2, &x, m2).unwrap());
        }
    }

    #[test]
    fn bad_reseed_leaves_no_usable_seed() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let s = BitVec::random(&mut rng, 10);
        let mut h = ToeplitzHasher::new(&s, 8, 3).unwrap();
        assert_eq!(
            h.reseed(&s, 8, 4).unwrap_err(),
            PaError::SeedLength { got: 10, want: 11 }
        );
        assert!(matches!(
            h.hash(&BitVec::zeros(8)),
            Err(PaError::InputLength { .. })
        ));
        assert!(matches!(
            h.hash_prefix(&BitVec::zeros(8), 4),
            Err(PaError::InputLength { .. })
        ));
        h.reseed(&s, 8, 3).unwrap();
        assert_eq!(
            h.hash_prefix(&BitVec::zeros(8), 4).unwrap_err(),
            PaError::PrefixLength { m: 4, max: 3 }
        );
        assert_eq!(h.hash(&BitVec::zeros(8)).unwrap(), BitVec::zeros(3));
    }

    #[test]
    fn larger_block_matches_exact() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x006c_6172_6765);
        let (n, m) = (200_003, 1_000);
        let s = BitVec::random(&mut rng, n + m - 1);
        let x = BitVec::random(&mut rng, n);
        let y = toeplitz_hash(&s, &x, m).unwrap();
        assert_eq!(y, toeplitz_hash_exact(&s, &x, m).unwrap());
    }

    #[test]
    fn chunked_path_matches_exact() {
        let mut rng = ChaCha8Rng::seed_from_u64(0x0063_6875_6e6b);
        for (n, m, chunks) in [(1000, 300, 3), (4097, 4097, 8), (777, 1, 777)] {
            let s = BitVec::random(&mut rng, n + m - 1);
            let x = BitVec::random(&mut rng, n);
            let mut h = ToeplitzHasher::with_min_chunks(&s, n, m, chunks).unwrap();
            assert!(h.chunk_count() >= chunks.min(n) / 2, "{}", h.chunk_count());
            assert_eq!(h.hash(&x).unwrap(), toeplitz_hash_exact(&s, &x, m).unwrap());
        }
    }

    #[test]
    fn bad_lengths_are_errors() {
        let s = BitVec::zeros(10);
        assert_eq!(
            ToeplitzHasher::new(&s, 8, 4).unwrap_err(),
            PaError::SeedLength { got: 10, want: 11 }
        );
        assert!(matches!(
            ToeplitzHasher::new(&s, 3, 4),
            Err(PaError::OutputLength { .. })
        ));
        let mut h = ToeplitzHasher::new(&s, 7, 4).unwrap();
        assert_eq!(
            h.hash(&BitVec::zeros(6)).unwrap_err(),
            PaError::InputLength { got: 6, want: 7 }
        );
    }

    #[test]
    fn error_bound_is_small_at_1e7_and_grows_with_size() {
        let b7 = fft_error_bound(smooth_fft_len(15_000_000), 1e7f64.sqrt(), 1.5e7f64.sqrt());
        assert!(b7 < 1e-3, "{b7}");
        assert!(fft_error_bound(1 << 10, 10.0, 10.0) < b7);
    }
}

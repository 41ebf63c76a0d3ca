// SPDX-License-Identifier: MIT OR Apache-2.0
//! Quasi-cyclic LDPC code family, generated deterministically from a seed at
//! run time (no matrix files).
//!
//! Every code has frame length n = 256 x 128 = 32,768 = 2^15 bits: a base
//! matrix of 256 columns and `base_rows` rows whose non-zero entries are
//! 128 x 128 circulant permutations (lifting factor Z = 128). Variable
//! (column) t of base column c is connected, through base entry (i, c) with
//! shift s, to check i Z + ((t - s) mod Z); equivalently check i Z + u sees
//! bit c Z + ((u + s) mod Z). With Z = 128 one base column is one `u128` and
//! a syndrome block is an XOR of rotated words.
//!
//! Degree profile (node perspective), after the rate-1/2 irregular ensemble
//! of Richardson, Shokrollahi and Urbanke, IEEE Trans. IT 47 (2001) 619,
//! Table I (maximum variable degree 8: lambda_2 = 0.300, lambda_3 = 0.284,
//! lambda_8 = 0.416, i.e. node fractions 0.51 / 0.32 / 0.18):
//! - `base_rows - 1` degree-2 columns in a staircase (column t on rows t and
//!   t + 1), so degree-2 nodes form no cycle among themselves;
//! - `high_cols` columns of degree `high_degree`;
//! - the rest degree 3.
//!
//! The high-rate members (12-37 base rows) carry more degree-8 columns
//! (50-80 of 256): with the rate-1/2 proportions they needed f > 1.5 to
//! decode at rate 0.94; with 80 they decode at f ~ 1.4 (float BP and
//! min-sum alike, `examples/ldpc_probe.rs`).
//!
//! Rows are filled lowest-weight first, so check degrees differ by at most
//! a few. Shifts are drawn at random, rejecting any that closes a 4-cycle
//! (the QC condition s(i,c) - s(j,c) + s(j,c') - s(i,c') != 0 mod Z, Fossorier,
//! IEEE Trans. IT 50 (2004) 1788, Theorem 2), so the Tanner graph has girth
//! at least 6.
//!
//! Rate adaptation uses untainted puncturing (Elkouss, Martinez-Mateo and
//! Martin, IEEE Wireless Comm. Lett. 1 (2012) 585): punctured nodes are
//! chosen, lowest degree first, so that no check has two punctured
//! neighbours. Their columns then have disjoint supports and are linearly
//! independent, which makes the leak of a frame exactly m - p (+ revealed).
//! Shortened positions follow a seeded order over the other nodes.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Lifting factor Z (circulant size).
pub const LIFT: usize = 128;
/// Base matrix columns.
pub const BASE_COLS: usize = 256;
/// Frame length in bits (n = 2^15).
pub const FRAME_BITS: usize = LIFT * BASE_COLS;

/// Shape of one code of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    /// Base matrix rows (m = base_rows x Z).
    pub base_rows: usize,
    /// Degree of the high-degree columns.
    pub high_degree: usize,
    /// Number of high-degree base columns.
    pub high_cols: usize,
}

/// The standard family: mother rates 0.5 to 0.95 in steps of roughly
/// 25 % in m, so that puncturing up to ~0.4 m of each code (leak m - p)
/// covers every leak between the neighbours' (QBER ~0.3 % to 11 %).
pub const FAMILY: [CodeSpec; 10] = [
    CodeSpec {
        base_rows: 128,
        high_degree: 8,
        high_cols: 45,
    },
    CodeSpec {
        base_rows: 102,
        high_degree: 8,
        high_cols: 40,
    },
    CodeSpec {
        base_rows: 80,
        high_degree: 8,
        high_cols: 36,
    },
    CodeSpec {
        base_rows: 62,
        high_degree: 8,
        high_cols: 32,
    },
    CodeSpec {
        base_rows: 48,
        high_degree: 8,
        high_cols: 28,
    },
    CodeSpec {
        base_rows: 37,
        high_degree: 8,
        high_cols: 50,
    },
    CodeSpec {
        base_rows: 28,
        high_degree: 8,
        high_cols: 60,
    },
    CodeSpec {
        base_rows: 21,
        high_degree: 8,
        high_cols: 70,
    },
    CodeSpec {
        base_rows: 16,
        high_degree: 8,
        high_cols: 80,
    },
    CodeSpec {
        base_rows: 12,
        high_degree: 8,
        high_cols: 80,
    },
];

/// Seed the standard family is generated from.
pub const FAMILY_SEED: u64 = 0x6c64_7063_2d71_6b64; // "ldpc-qkd"

/// One base-matrix non-zero: base column and circulant shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Base column.
    pub col: u16,
    /// Shift s: check u of the row block sees bit (u + s) mod Z of the column block.
    pub shift: u16,
}

/// Errors of code construction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// The spec cannot be realised (degrees larger than the rows, ...).
    #[error("invalid code spec {0:?}: {1}")]
    Spec(CodeSpec, &'static str),
    /// No 4-cycle-free shift was found for an entry.
    #[error("no 4-cycle-free shift for base entry ({row}, {col})")]
    NoShift {
        /// Base row.
        row: usize,
        /// Base column.
        col: usize,
    },
}

/// A quasi-cyclic LDPC code with its puncturing and shortening orders.
#[derive(Debug, Clone)]
pub struct QcCode {
    spec: CodeSpec,
    rows: Vec<Vec<Entry>>,
    col_degree: Vec<u8>,
    puncture_order: Vec<u32>,
    shorten_order: Vec<u32>,
}

impl QcCode {
    /// Build the code of `spec` from `seed`.
    pub fn generate(spec: CodeSpec, seed: u64) -> Result<Self, CodeError> {
        let mb = spec.base_rows;
        if !(3..=BASE_COLS / 2).contains(&mb) {
            return Err(CodeError::Spec(spec, "base rows must be in 3..=128"));
        }
        if spec.high_degree < 3 || spec.high_degree > mb {
            return Err(CodeError::Spec(
                spec,
                "high degree must be in 3..=base rows",
            ));
        }
        if spec.high_cols + mb - 1 > BASE_COLS {
            return Err(CodeError::Spec(spec, "too many columns"));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(seed ^ (mb as u64) << 32);
        let mut degrees = vec![3usize; BASE_COLS];
        for d in degrees.iter_mut().take(mb - 1) {
            *d = 2;
        }
        for d in degrees.iter_mut().skip(mb - 1).take(spec.high_cols) {
            *d = spec.high_degree;
        }

        // Rows of every column.
        let mut row_weight = vec![0usize; mb];
        let mut col_rows: Vec<Vec<usize>> = Vec::with_capacity(BASE_COLS);
        for (c, &d) in degrees.iter().enumerate() {
            let rows = if d == 2 {
                vec![c, c + 1]
            } else {
                // Lowest current weight first, random tie break.
                let mut order: Vec<(usize, u64, usize)> = (0..mb)
                    .map(|r| (row_weight[r], rng.next_u64(), r))
                    .collect();
                order.sort_unstable();
                order[..d].iter().map(|&(_, _, r)| r).collect()
            };
            for &r in &rows {
                row_weight[r] += 1;
            }
            col_rows.push(rows);
        }
        // Shifts, rejecting 4-cycles. `shift[r][c]` = Some(s) when (r, c) is non-zero.
        let mut shift: Vec<Vec<Option<u16>>> = vec![vec![None; BASE_COLS]; mb];
        let mut row_cols: Vec<Vec<usize>> = vec![Vec::new(); mb];
        for c in 0..BASE_COLS {
            let rows = col_rows[c].clone();
            for (a, &r) in rows.iter().enumerate() {
                let mut forbidden = [false; LIFT];
                for &r2 in &rows[..a] {
                    let s_r2c = shift[r2][c].expect("assigned") as usize;
                    for &c2 in &row_cols[r] {
                        if let Some(s_r2c2) = shift[r2][c2] {
                            let s_rc2 = shift[r][c2].expect("in row list") as usize;
                            // s(r,c) = s(r2,c) - s(r2,c2) + s(r,c2) closes a 4-cycle.
                            let bad = (s_r2c + LIFT - s_r2c2 as usize + s_rc2) % LIFT;
                            forbidden[bad] = true;
                        }
                    }
                }
                let free = forbidden.iter().filter(|f| !**f).count();
                if free == 0 {
                    return Err(CodeError::NoShift { row: r, col: c });
                }
                let mut pick = (rng.next_u32() as usize) % free;
                let mut s = 0usize;
                for (i, f) in forbidden.iter().enumerate() {
                    if !*f {
                        if pick == 0 {
                            s = i;
                            break;
                        }
                        pick -= 1;
                    }
                }
                shift[r][c] = Some(s as u16);
                row_cols[r].push(c);
            }
        }
        let rows: Vec<Vec<Entry>> = (0..mb)
            .map(|r| {
                row_cols[r]
                    .iter()
                    .map(|&c| Entry {
                        col: c as u16,
                        shift: shift[r][c].expect("listed") as u16,
                    })
                    .collect()
            })
            .collect();
        let col_degree: Vec<u8> = degrees.iter().map(|&d| d as u8).collect();
        let mut code = Self {
            spec,
            rows,
            col_degree,
            puncture_order: Vec::new(),
            shorten_order: Vec::new(),
        };
        code.puncture_order = code.untainted_puncturing(&mut rng);
        let mut punct = vec![false; FRAME_BITS];
        for &v in &code.puncture_order {
            punct[v as usize] = true;
        }
        let mut rest: Vec<u32> = (0..FRAME_BITS as u32)
            .filter(|&v| !punct[v as usize])
            .collect();
        shuffle(&mut rest, &mut rng);
        code.shorten_order = rest;
        Ok(code)
    }

    /// Greedy untainted puncturing, lowest degree first, seeded order
    /// within a degree.
    fn untainted_puncturing(&self, rng: &mut ChaCha20Rng) -> Vec<u32> {
        let mut tainted = vec![false; self.m()];
        let mut out = Vec::new();
        let mut checks = Vec::with_capacity(16);
        for degree in [2u8, 3] {
            let mut cands: Vec<u32> = (0..FRAME_BITS as u32)
                .filter(|&v| self.col_degree[v as usize / LIFT] == degree)
                .collect();
            shuffle(&mut cands, rng);
            for v in cands {
                checks.clear();
                self.checks_of(v as usize, &mut checks);
                if checks.iter().all(|&ch| !tainted[ch]) {
                    for &ch in &checks {
                        tainted[ch] = true;
                    }
                    out.push(v);
                }
            }
        }
        out
    }

    /// The spec this code was built from.
    pub fn spec(&self) -> CodeSpec {
        self.spec
    }
    /// Frame length n.
    pub fn n(&self) -> usize {
        FRAME_BITS
    }
    /// Number of checks m (syndrome bits).
    pub fn m(&self) -> usize {
        self.spec.base_rows * LIFT
    }
    /// Mother code rate 1 - m/n.
    pub fn rate(&self) -> f64 {
        1.0 - self.m() as f64 / FRAME_BITS as f64
    }
    /// Base rows with their entries.
    pub fn rows(&self) -> &[Vec<Entry>] {
        &self.rows
    }
    /// Degree of base column `c` (every bit of the column block has it).
    pub fn column_degree(&self, c: usize) -> usize {
        self.col_degree[c] as usize
    }
    /// Total number of edges of the Tanner graph.
    pub fn edges(&self) -> usize {
        self.rows.iter().map(Vec::len).sum::<usize>() * LIFT
    }
    /// Untainted puncturing order (frame positions); puncturing `p` bits
    /// uses the first `p`.
    pub fn puncture_order(&self) -> &[u32] {
        &self.puncture_order
    }
    /// Maximum number of punctured bits.
    pub fn max_punctured(&self) -> usize {
        self.puncture_order.len()
    }
    /// Shortening order (disjoint from every punctured position);
    /// shortening `s` bits uses the first `s`.
    pub fn shorten_order(&self) -> &[u32] {
        &self.shorten_order
    }

    /// Checks of bit `v`, appended to `out`.
    pub fn checks_of(&self, v: usize, out: &mut Vec<usize>) {
        let (c, t) = (v / LIFT, v % LIFT);
        for (i, row) in self.rows.iter().enumerate() {
            for e in row {
                if e.col as usize == c {
                    out.push(i * LIFT + (t + LIFT - e.shift as usize) % LIFT);
                }
            }
        }
    }

    /// Bits of check `ch`, appended to `out`.
    pub fn bits_of(&self, ch: usize, out: &mut Vec<usize>) {
        let (i, u) = (ch / LIFT, ch % LIFT);
        for e in &self.rows[i] {
            out.push(e.col as usize * LIFT + (u + e.shift as usize) % LIFT);
        }
    }

    /// Syndrome H x of a frame given as one `u128` per base column (bit t
    /// of word c is frame bit c Z + t); one `u128` per base row.
    pub fn syndrome(&self, frame: &[u128]) -> Vec<u128> {
        let mut out = vec![0u128; self.spec.base_rows];
        self.syndrome_into(frame, &mut out);
        out
    }

    /// [`Self::syndrome`] into a caller buffer of `base_rows` words.
    pub fn syndrome_into(&self, frame: &[u128], out: &mut [u128]) {
        debug_assert_eq!(frame.len(), BASE_COLS);
        for (row, o) in self.rows.iter().zip(out.iter_mut()) {
            let mut acc = 0u128;
            for e in row {
                // Bit u of the result = bit (u + s) mod Z of the column word.
                acc ^= frame[e.col as usize].rotate_right(u32::from(e.shift));
            }
            *o = acc;
        }
    }
}

/// Fisher-Yates shuffle with a seeded generator.
fn shuffle(v: &mut [u32], rng: &mut ChaCha20Rng) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// The standard code family, built once per process on first use.
pub fn family() -> &'static [QcCode] {
    static FAMILY_CODES: std::sync::OnceLock<Vec<QcCode>> = std::sync::OnceLock::new();
    FAMILY_CODES.get_or_init(|| {
        FAMILY
            .iter()
            .map(|&spec| QcCode::generate(spec, FAMILY_SEED).expect("standard family is valid"))
            .collect()
    })
}

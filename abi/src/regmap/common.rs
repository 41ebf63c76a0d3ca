// SPDX-License-Identifier: MIT OR Apache-2.0
//! Blocks shared by both roles at the same indices: RNG (block 1) and
//! STREAM (block 2).
//!
//! The QRNG health tests follow NIST SP 800-90B section 4.4 (repetition
//! count test, 4.4.1; adaptive proportion test, 4.4.2).

use super::{block_id, Access, Field, Register, RegisterBlock};

// ---- RNG block (index 1) ----

/// `RNG_ID`.
pub const RNG_ID: Register = block_id("RNG_ID", 1);
/// `RNG_CTRL`.
pub const RNG_CTRL: Register = Register::new(
    "RNG_CTRL",
    0x104,
    Access::RW,
    0,
    &[Field::new(
        "SOURCE",
        0,
        1,
        "1-bit entropy source: 0 = external QRNG (default, for key), 1 = seeded test PRNG (never for key)",
    )],
    "Random source selection; takes effect at the next START",
);
/// `RNG_SEED_LO`.
pub const RNG_SEED_LO: Register = Register::new(
    "RNG_SEED_LO",
    0x108,
    Access::RW,
    0,
    &[],
    "Low 32 bits of the 64-bit test-PRNG seed, loaded at START",
);
/// `RNG_SEED_HI`.
pub const RNG_SEED_HI: Register = Register::new(
    "RNG_SEED_HI",
    0x10C,
    Access::RW,
    0,
    &[],
    "High 32 bits of the 64-bit test-PRNG seed, loaded at START",
);
/// `RNG_RCT_CUTOFF`.
pub const RNG_RCT_CUTOFF: Register = Register::new(
    "RNG_RCT_CUTOFF",
    0x110,
    Access::RW,
    6,
    &[Field::new(
        "CUTOFF",
        0,
        16,
        "16-bit repetition-count cutoff C (SP 800-90B 4.4.1): C identical consecutive samples raise the alarm",
    )],
    "Repetition count test cutoff, in samples",
);
/// `RNG_APT_WINDOW`.
pub const RNG_APT_WINDOW: Register = Register::new(
    "RNG_APT_WINDOW",
    0x114,
    Access::RW,
    512,
    &[Field::new(
        "WINDOW",
        0,
        16,
        "16-bit adaptive-proportion window W in samples (SP 800-90B 4.4.2: 512 for non-binary)",
    )],
    "Adaptive proportion test window, in samples",
);
/// `RNG_APT_CUTOFF`.
pub const RNG_APT_CUTOFF: Register = Register::new(
    "RNG_APT_CUTOFF",
    0x118,
    Access::RW,
    13,
    &[Field::new(
        "CUTOFF",
        0,
        16,
        "16-bit adaptive-proportion cutoff: this many copies of the window's first sample raise the alarm",
    )],
    "Adaptive proportion test cutoff, in samples",
);
/// `RNG_QRNG_WORDS`.
pub const RNG_QRNG_WORDS: Register = Register::new(
    "RNG_QRNG_WORDS",
    0x11C,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of QRNG words consumed",
);

/// The RNG block.
pub fn rng_block() -> RegisterBlock {
    RegisterBlock {
        name: "rng",
        type_id: 0x0010,
        version: 1,
        index: 1,
        registers: vec![
            RNG_ID,
            RNG_CTRL,
            RNG_SEED_LO,
            RNG_SEED_HI,
            RNG_RCT_CUTOFF,
            RNG_APT_WINDOW,
            RNG_APT_CUTOFF,
            RNG_QRNG_WORDS,
        ],
        doc: "Entropy source selection, test-PRNG seed and QRNG health tests (NIST SP 800-90B 4.4)",
    }
}

// ---- STREAM block (index 2) ----

/// `STREAM_ID`.
pub const STREAM_ID: Register = block_id("STREAM_ID", 2);
/// `STREAM_CTRL`.
pub const STREAM_CTRL: Register = Register::new(
    "STREAM_CTRL",
    0x204,
    Access::RW,
    20,
    &[Field::new(
        "STATUS_INTERVAL_LOG2",
        0,
        6,
        "6-bit k: a STATUS record every 2^k slots (0 = no STATUS records)",
    )],
    "Record stream control",
);
/// `STREAM_RECORDS_LO`.
pub const STREAM_RECORDS_LO: Register = Register::new(
    "STREAM_RECORDS_LO",
    0x208,
    Access::RO,
    0,
    &[],
    "Low 32 bits of the 64-bit count of records emitted (read latches _HI)",
);
/// `STREAM_RECORDS_HI`.
pub const STREAM_RECORDS_HI: Register = Register::new(
    "STREAM_RECORDS_HI",
    0x20C,
    Access::RO,
    0,
    &[],
    "High 32 bits of the 64-bit count of records emitted",
);
/// `STREAM_LOST_SLOTS_LO`.
pub const STREAM_LOST_SLOTS_LO: Register = Register::new(
    "STREAM_LOST_SLOTS_LO",
    0x210,
    Access::RO,
    0,
    &[],
    "Low 32 bits of the 64-bit count of slots whose records were lost to back-pressure (read latches _HI)",
);
/// `STREAM_LOST_SLOTS_HI`.
pub const STREAM_LOST_SLOTS_HI: Register = Register::new(
    "STREAM_LOST_SLOTS_HI",
    0x214,
    Access::RO,
    0,
    &[],
    "High 32 bits of the 64-bit lost-slot count",
);
/// `STREAM_GAPS`.
pub const STREAM_GAPS: Register = Register::new(
    "STREAM_GAPS",
    0x218,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of GAP records emitted",
);
/// `STREAM_FIFO_HIGH_WATER`.
pub const STREAM_FIFO_HIGH_WATER: Register = Register::new(
    "STREAM_FIFO_HIGH_WATER",
    0x21C,
    Access::RO,
    0,
    &[],
    "32-bit highest FIFO fill seen since CLEAR_COUNTERS, in 64-bit words",
);

/// The STREAM block.
pub fn stream_block() -> RegisterBlock {
    RegisterBlock {
        name: "stream",
        type_id: 0x0011,
        version: 1,
        index: 2,
        registers: vec![
            STREAM_ID,
            STREAM_CTRL,
            STREAM_RECORDS_LO,
            STREAM_RECORDS_HI,
            STREAM_LOST_SLOTS_LO,
            STREAM_LOST_SLOTS_HI,
            STREAM_GAPS,
            STREAM_FIFO_HIGH_WATER,
        ],
        doc: "Record stream towards the DMA engine: STATUS interval, record and loss counters",
    }
}

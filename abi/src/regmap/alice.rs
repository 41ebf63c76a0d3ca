// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice's register map: pulse-pattern generator control (block 3) and the
//! decoy/basis selector thresholds (block 4), after the shared RNG and
//! STREAM blocks.

use super::{block_id, Access, Field, Register, RegisterBlock};

pub use super::common::*;

// ---- CONTROL block (index 3) ----

/// `ALICE_CTRL_ID`.
pub const ALICE_CTRL_ID: Register = block_id("ALICE_CTRL_ID", 3);

/// Pattern-generator modes (`ALICE_CTRL.MODE`).
pub mod mode {
    /// No pulses (every lane emits the non-random blank symbol).
    pub const OFF: u32 = 0;
    /// Random BB84 decoy-state symbols.
    pub const RUN: u32 = 1;
    /// Calibration: every slot emits `ALICE_CTRL.FIXED_SYMBOL`.
    pub const FIXED: u32 = 2;
    /// Calibration: PRBS pattern.
    pub const PRBS: u32 = 3;
}

/// `ALICE_CTRL`.
pub const ALICE_CTRL: Register = Register::new(
    "ALICE_CTRL",
    0x304,
    Access::RW,
    0x0000_1001,
    &[
        Field::new(
            "MODE",
            0,
            2,
            "2-bit mode: 0 off, 1 run (random decoy BB84), 2 fixed symbol, 3 PRBS",
        ),
        Field::new(
            "FIXED_SYMBOL",
            4,
            4,
            "4-bit symbol sent in fixed mode: intensity[3:2], basis[1], bit[0]",
        ),
        Field::new(
            "SYNC_LOG2",
            8,
            6,
            "6-bit k: a sync frame starts every 2^k symbols (0 = no sync frames)",
        ),
    ],
    "Pattern generator mode, calibration symbol and sync period",
);

/// `ALICE_CMD`.
pub const ALICE_CMD: Register = Register::new(
    "ALICE_CMD",
    0x308,
    Access::Strobe,
    0,
    &[
        Field::new(
            "START",
            0,
            1,
            "1-bit strobe: load seed, reset symbol index to 0, start emitting",
        ),
        Field::new("STOP", 1, 1, "1-bit strobe: stop emitting (lanes go blank)"),
        Field::new(
            "CLEAR_COUNTERS",
            2,
            1,
            "1-bit strobe: clear the statistics counters",
        ),
    ],
    "Commands",
);

/// `ALICE_STATE`.
pub const ALICE_STATE: Register = Register::new(
    "ALICE_STATE",
    0x30C,
    Access::RO,
    0,
    &[
        Field::new("RUNNING", 0, 1, "1-bit: the generator is emitting"),
        Field::new(
            "ENTROPY_OK",
            1,
            1,
            "1-bit: the selected entropy source passes its health tests",
        ),
    ],
    "Live state",
);

/// `ALICE_ALARMS`.
pub const ALICE_ALARMS: Register = Register::new(
    "ALICE_ALARMS",
    0x310,
    Access::W1C,
    0,
    &[
        Field::new(
            "RNG_RCT",
            0,
            1,
            "1-bit sticky: QRNG repetition-count test failed; emission stopped",
        ),
        Field::new(
            "RNG_APT",
            1,
            1,
            "1-bit sticky: QRNG adaptive-proportion test failed; emission stopped",
        ),
        Field::new(
            "STREAM_OVERFLOW",
            2,
            1,
            "1-bit sticky: symbols were lost to back-pressure (see GAP records)",
        ),
        Field::new(
            "QRNG_UNDERRUN",
            3,
            1,
            "1-bit sticky: the QRNG had no word when one was needed; blank slots were sent",
        ),
    ],
    "Sticky alarms; write 1 to clear",
);

/// `ALICE_SYMBOLS_LO`.
pub const ALICE_SYMBOLS_LO: Register = Register::new(
    "ALICE_SYMBOLS_LO",
    0x314,
    Access::RO,
    0,
    &[],
    "Low 32 bits of the 64-bit symbol index (symbols since START; read latches _HI)",
);

/// `ALICE_SYMBOLS_HI`.
pub const ALICE_SYMBOLS_HI: Register = Register::new(
    "ALICE_SYMBOLS_HI",
    0x318,
    Access::RO,
    0,
    &[],
    "High 32 bits of the 64-bit symbol index",
);

// ---- DECOY block (index 4) ----

/// `DECOY_ID`.
pub const DECOY_ID: Register = block_id("DECOY_ID", 4);

/// Threshold field shared by the selector registers.
const THRESH: &[Field] = &[Field::new(
    "THRESH",
    0,
    16,
    "16-bit threshold in 2^-16 units, compared as random16 < THRESH",
)];

/// `DECOY_THRESH_SIGNAL`: P(mu1) = T/65536.
pub const DECOY_THRESH_SIGNAL: Register = Register::new(
    "DECOY_THRESH_SIGNAL",
    0x404,
    Access::RW,
    20316, // 0.31 * 65536
    THRESH,
    "Cumulative threshold T1: random16 < T1 selects the signal intensity mu1",
);

/// `DECOY_THRESH_DECOY`: P(mu1) + P(mu2) = T/65536.
pub const DECOY_THRESH_DECOY: Register = Register::new(
    "DECOY_THRESH_DECOY",
    0x408,
    Access::RW,
    53740, // (0.31 + 0.51) * 65536
    THRESH,
    "Cumulative threshold T2 >= T1: T1 <= random16 < T2 selects the decoy mu2; the rest selects vacuum mu3",
);

/// `DECOY_THRESH_BASIS_Z`: P(Z) = T/65536.
pub const DECOY_THRESH_BASIS_Z: Register = Register::new(
    "DECOY_THRESH_BASIS_Z",
    0x40C,
    Access::RW,
    56361, // 0.86 * 65536
    THRESH,
    "Basis threshold: an independent random16 < T selects the key basis Z, else X",
);

/// Alice's blocks after the header.
pub fn blocks() -> Vec<RegisterBlock> {
    vec![
        rng_block(),
        stream_block(),
        RegisterBlock {
            name: "alice_control",
            type_id: 0x0101,
            version: 1,
            index: 3,
            registers: vec![
                ALICE_CTRL_ID,
                ALICE_CTRL,
                ALICE_CMD,
                ALICE_STATE,
                ALICE_ALARMS,
                ALICE_SYMBOLS_LO,
                ALICE_SYMBOLS_HI,
            ],
            doc: "Pulse-pattern generator: mode, start/stop, sync frames, alarms, symbol index",
        },
        RegisterBlock {
            name: "decoy",
            type_id: 0x0102,
            version: 1,
            index: 4,
            registers: vec![
                DECOY_ID,
                DECOY_THRESH_SIGNAL,
                DECOY_THRESH_DECOY,
                DECOY_THRESH_BASIS_Z,
            ],
            doc: "Decoy-intensity and basis selector thresholds (16-bit fixed point)",
        },
    ]
}

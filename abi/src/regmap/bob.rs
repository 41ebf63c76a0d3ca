// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's register map: receiver control and slot alignment (block 3), APD
//! gating/TDC/dead time (block 4), attack protections (block 5) and
//! counters (block 6), after the shared RNG and STREAM blocks.
//!
//! The protections answer the attacks found against gated InGaAs APD
//! receivers: after-gate clicks (Wiechers et al., NJP 13, 013043, 2011),
//! CW and pulsed detector blinding (Lydersen et al., Nat. Photon. 4, 686,
//! 2010), and the dead-time attack (Weier et al., NJP 13, 073024, 2011).

use super::{block_id, Access, Field, GenParams, Register, RegisterBlock};

pub use super::common::*;

// ---- CONTROL block (index 3) ----

/// `BOB_CTRL_ID`.
pub const BOB_CTRL_ID: Register = block_id("BOB_CTRL_ID", 3);

/// `BOB_CTRL`.
pub const BOB_CTRL: Register = Register::new(
    "BOB_CTRL",
    0x304,
    Access::RW,
    0x0000_000F,
    &[Field::new(
        "DETECTOR_ENABLE",
        0,
        4,
        "4-bit mask: gate detector d when bit d is set",
    )],
    "Receiver control",
);

/// `BOB_CMD`.
pub const BOB_CMD: Register = Register::new(
    "BOB_CMD",
    0x308,
    Access::Strobe,
    0,
    &[
        Field::new(
            "START",
            0,
            1,
            "1-bit strobe: load seed, wait for sync_in, then gate and time-stamp",
        ),
        Field::new("STOP", 1, 1, "1-bit strobe: stop gating"),
        Field::new(
            "CLEAR_COUNTERS",
            2,
            1,
            "1-bit strobe: clear the counters block",
        ),
    ],
    "Commands",
);

/// Alarm bit positions, shared by `BOB_ALARMS`, `BOB_STATE.ALARM_LIVE` and
/// the STATUS record's alarm counters.
pub mod alarm {
    /// After-gate click burst.
    pub const AFTER_GATE: u32 = 1 << 0;
    /// Photocurrent above threshold (CW or pulsed blinding light).
    pub const PHOTOCURRENT: u32 = 1 << 1;
    /// Click fraction over the last N gates above the limit.
    pub const CLICK_FRACTION: u32 = 1 << 2;
    /// No click (not even a dark count) in M gates.
    pub const NO_DARK: u32 = 1 << 3;
    /// QRNG repetition-count test failure.
    pub const RNG_RCT: u32 = 1 << 4;
    /// QRNG adaptive-proportion test failure.
    pub const RNG_APT: u32 = 1 << 5;
    /// Records lost to back-pressure.
    pub const STREAM_OVERFLOW: u32 = 1 << 6;
}

const ALARM_FIELDS: &[Field] = &[
    Field::new("AFTER_GATE", 0, 1, "1-bit: more than AFTERGATE_LIMIT after-gate clicks within AFTERGATE_WINDOW_SLOTS"),
    Field::new("PHOTOCURRENT", 1, 1, "1-bit: a photocurrent sample above PHOTOCURRENT_THRESHOLD (blinding light)"),
    Field::new("CLICK_FRACTION", 2, 1, "1-bit: more than CLICK_FRACTION_LIMIT clicks in CLICK_FRACTION_WINDOW_GATES gates"),
    Field::new("NO_DARK", 3, 1, "1-bit: no click at all in NO_DARK_GATES gates while gating (blinded detectors do not dark-count)"),
    Field::new("RNG_RCT", 4, 1, "1-bit: QRNG repetition-count test failed"),
    Field::new("RNG_APT", 5, 1, "1-bit: QRNG adaptive-proportion test failed"),
    Field::new("STREAM_OVERFLOW", 6, 1, "1-bit: records lost to back-pressure (see GAP records)"),
];

/// `BOB_STATE`.
pub const BOB_STATE: Register = Register::new(
    "BOB_STATE",
    0x30C,
    Access::RO,
    0,
    &[
        Field::new("RUNNING", 0, 1, "1-bit: gating and time-stamping"),
        Field::new(
            "SYNCED",
            1,
            1,
            "1-bit: sync_in seen since START; slot indices are valid",
        ),
        Field::new(
            "ALARM_LIVE",
            8,
            7,
            "7-bit live alarm conditions, same bit order as BOB_ALARMS",
        ),
    ],
    "Live state",
);

/// `BOB_ALARMS`.
pub const BOB_ALARMS: Register = Register::new(
    "BOB_ALARMS",
    0x310,
    Access::W1C,
    0,
    ALARM_FIELDS,
    "Sticky alarms; write 1 to clear. Detections made while any alarm is live carry the INVALID flag",
);

/// `BOB_FIBER_DELAY_SLOTS`.
pub const BOB_FIBER_DELAY_SLOTS: Register = Register::new(
    "BOB_FIBER_DELAY_SLOTS",
    0x314,
    Access::RW,
    0,
    &[],
    "32-bit delay in slots from sync_in to Alice's slot 0 at Bob's detectors (fiber and cable delay)",
);

// ---- GATE block (index 4) ----

/// `GATE_ID`.
pub const GATE_ID: Register = block_id("GATE_ID", 4);

/// `GATE_WINDOW`.
pub const GATE_WINDOW: Register = Register::new(
    "GATE_WINDOW",
    0x404,
    Access::RW,
    0x0000_0501,
    &[
        Field::new("START_BIN", 0, 8, "8-bit first TDC fine bin inside the gate (bins of 1/OVERSAMPLE slot)"),
        Field::new("END_BIN", 8, 8, "8-bit last TDC fine bin inside the gate (inclusive)"),
    ],
    "Gate window: a click whose first rising edge is outside [START_BIN, END_BIN] is an after-gate click",
);

/// `GATE_DEAD_TIME_SLOTS`.
pub const GATE_DEAD_TIME_SLOTS: Register = Register::new(
    "GATE_DEAD_TIME_SLOTS",
    0x408,
    Access::RW,
    313, // 1 us at 3.2 ns per slot
    &[Field::new(
        "SLOTS",
        0,
        16,
        "16-bit common dead time D in slots: after an accepted click every detector ignores the next D slots",
    )],
    "Common dead time",
);

/// `GATE_BASIS_THRESH_Z`.
pub const GATE_BASIS_THRESH_Z: Register = Register::new(
    "GATE_BASIS_THRESH_Z",
    0x40C,
    Access::RW,
    56361, // 0.86 * 65536
    &[Field::new(
        "THRESH",
        0,
        16,
        "16-bit threshold in 2^-16 units: random16 < THRESH measures in Z, else X",
    )],
    "Bob's basis choice probability",
);

// ---- PROTECT block (index 5) ----

/// `PROTECT_ID`.
pub const PROTECT_ID: Register = block_id("PROTECT_ID", 5);

/// `AFTERGATE_LIMIT`.
pub const AFTERGATE_LIMIT: Register = Register::new(
    "AFTERGATE_LIMIT",
    0x504,
    Access::RW,
    16,
    &[Field::new(
        "COUNT",
        0,
        16,
        "16-bit after-gate clicks tolerated per window",
    )],
    "After-gate alarm: more than COUNT after-gate clicks within AFTERGATE_WINDOW_SLOTS raise it",
);

/// `AFTERGATE_WINDOW_SLOTS`.
pub const AFTERGATE_WINDOW_SLOTS: Register = Register::new(
    "AFTERGATE_WINDOW_SLOTS",
    0x508,
    Access::RW,
    1 << 20,
    &[],
    "32-bit after-gate counting window in slots",
);

/// `PHOTOCURRENT_THRESHOLD`.
pub const PHOTOCURRENT_THRESHOLD: Register = Register::new(
    "PHOTOCURRENT_THRESHOLD",
    0x50C,
    Access::RW,
    0x400,
    &[Field::new("ADC", 0, 12, "12-bit ADC code; a single sample above it raises the alarm")],
    "Photocurrent (blinding) threshold, compared per sample (not averaged: pulsed blinding evades averages)",
);

/// `CLICK_FRACTION_WINDOW_GATES`.
pub const CLICK_FRACTION_WINDOW_GATES: Register = Register::new(
    "CLICK_FRACTION_WINDOW_GATES",
    0x510,
    Access::RW,
    4096,
    &[],
    "32-bit N: gates per click-fraction window",
);

/// `CLICK_FRACTION_LIMIT`.
pub const CLICK_FRACTION_LIMIT: Register = Register::new(
    "CLICK_FRACTION_LIMIT",
    0x514,
    Access::RW,
    512,
    &[],
    "32-bit clicks tolerated per N-gate window (all detectors); more raise CLICK_FRACTION",
);

/// `NO_DARK_GATES`.
pub const NO_DARK_GATES: Register = Register::new(
    "NO_DARK_GATES",
    0x518,
    Access::RW,
    1 << 26,
    &[],
    "32-bit M: gates without any click (not even a dark count) that raise NO_DARK",
);

/// `PHOTOCURRENT_LAST_Dd`: last ADC sample per detector.
pub const PHOTOCURRENT_LAST: [Register; 4] = [
    Register::new(
        "PHOTOCURRENT_LAST_D0",
        0x520,
        Access::RO,
        0,
        &[],
        "12-bit last photocurrent ADC sample, detector 0",
    ),
    Register::new(
        "PHOTOCURRENT_LAST_D1",
        0x524,
        Access::RO,
        0,
        &[],
        "12-bit last photocurrent ADC sample, detector 1",
    ),
    Register::new(
        "PHOTOCURRENT_LAST_D2",
        0x528,
        Access::RO,
        0,
        &[],
        "12-bit last photocurrent ADC sample, detector 2",
    ),
    Register::new(
        "PHOTOCURRENT_LAST_D3",
        0x52C,
        Access::RO,
        0,
        &[],
        "12-bit last photocurrent ADC sample, detector 3",
    ),
];

// ---- COUNTERS block (index 6) ----

/// `COUNTERS_ID`.
pub const COUNTERS_ID: Register = block_id("COUNTERS_ID", 6);

/// `GATES_LO`.
pub const GATES_LO: Register = Register::new(
    "GATES_LO",
    0x604,
    Access::RO,
    0,
    &[],
    "Low 32 bits of the 64-bit gate (slot) count since START; read latches _HI",
);
/// `GATES_HI`.
pub const GATES_HI: Register = Register::new(
    "GATES_HI",
    0x608,
    Access::RO,
    0,
    &[],
    "High 32 bits of the 64-bit gate count",
);
/// `ACCEPTED`.
pub const ACCEPTED: Register = Register::new(
    "ACCEPTED",
    0x60C,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of accepted clicks (DETECTION records)",
);
/// `AFTER_GATE`.
pub const AFTER_GATE: Register = Register::new(
    "AFTER_GATE",
    0x610,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of clicks outside the gate window",
);
/// `DEAD_TIME_SUPPRESSED`.
pub const DEAD_TIME_SUPPRESSED: Register = Register::new(
    "DEAD_TIME_SUPPRESSED",
    0x614,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of clicks discarded in the common dead time",
);
/// `INVALID`.
pub const INVALID: Register = Register::new(
    "INVALID",
    0x618,
    Access::RO,
    0,
    &[],
    "32-bit wrapping count of clicks made while an alarm was live (flagged INVALID)",
);
/// `CLICKS_Dd`: raw clicks per detector.
pub const CLICKS: [Register; 4] = [
    Register::new(
        "CLICKS_D0",
        0x620,
        Access::RO,
        0,
        &[],
        "32-bit wrapping count of raw clicks (first rising edges), detector 0",
    ),
    Register::new(
        "CLICKS_D1",
        0x624,
        Access::RO,
        0,
        &[],
        "32-bit wrapping count of raw clicks, detector 1",
    ),
    Register::new(
        "CLICKS_D2",
        0x628,
        Access::RO,
        0,
        &[],
        "32-bit wrapping count of raw clicks, detector 2",
    ),
    Register::new(
        "CLICKS_D3",
        0x62C,
        Access::RO,
        0,
        &[],
        "32-bit wrapping count of raw clicks, detector 3",
    ),
];

/// Bob's blocks after the header, for `p.detectors` detectors.
pub fn blocks(p: &GenParams) -> Vec<RegisterBlock> {
    let det = usize::from(p.detectors.clamp(1, 4));
    let mut protect = vec![
        PROTECT_ID,
        AFTERGATE_LIMIT,
        AFTERGATE_WINDOW_SLOTS,
        PHOTOCURRENT_THRESHOLD,
        CLICK_FRACTION_WINDOW_GATES,
        CLICK_FRACTION_LIMIT,
        NO_DARK_GATES,
    ];
    protect.extend_from_slice(&PHOTOCURRENT_LAST[..det]);
    let mut counters = vec![
        COUNTERS_ID,
        GATES_LO,
        GATES_HI,
        ACCEPTED,
        AFTER_GATE,
        DEAD_TIME_SUPPRESSED,
        INVALID,
    ];
    counters.extend_from_slice(&CLICKS[..det]);
    vec![
        rng_block(),
        stream_block(),
        RegisterBlock {
            name: "bob_control",
            type_id: 0x0201,
            version: 1,
            index: 3,
            registers: vec![
                BOB_CTRL_ID,
                BOB_CTRL,
                BOB_CMD,
                BOB_STATE,
                BOB_ALARMS,
                BOB_FIBER_DELAY_SLOTS,
            ],
            doc: "Receiver control, alarms and slot alignment",
        },
        RegisterBlock {
            name: "gate",
            type_id: 0x0202,
            version: 1,
            index: 4,
            registers: vec![
                GATE_ID,
                GATE_WINDOW,
                GATE_DEAD_TIME_SLOTS,
                GATE_BASIS_THRESH_Z,
            ],
            doc: "APD gate window, common dead time and basis choice",
        },
        RegisterBlock {
            name: "protect",
            type_id: 0x0203,
            version: 1,
            index: 5,
            registers: protect,
            doc: "After-gate and blinding protections (photocurrent and click statistics)",
        },
        RegisterBlock {
            name: "counters",
            type_id: 0x0204,
            version: 1,
            index: 6,
            registers: counters,
            doc: "Click accounting: raw = accepted + after-gate + dead-time-suppressed + invalid",
        },
    ]
}

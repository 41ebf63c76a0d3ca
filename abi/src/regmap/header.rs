// SPDX-License-Identifier: MIT OR Apache-2.0
//! Block 0, the self-describing header shared by both roles.
//!
//! A driver reads MAGIC, ABI_VERSION and IDENT before anything else and
//! refuses a core whose magic, ABI major or role it does not expect.

use super::{Access, Field, GenParams, Register, RegisterBlock};

/// `MAGIC`: constant [`crate::MAGIC`] ("QKD1").
pub const MAGIC: Register = Register::new(
    "MAGIC",
    0x000,
    Access::RO,
    crate::MAGIC,
    &[],
    "32-bit constant 0x514B4431 (ASCII \"QKD1\")",
);

/// `ABI_VERSION`.
pub const ABI_VERSION: Register = Register::new(
    "ABI_VERSION",
    0x004,
    Access::RO,
    crate::ABI_VERSION,
    &[
        Field::new(
            "MINOR",
            0,
            16,
            "16-bit ABI minor version (compatible additions)",
        ),
        Field::new(
            "MAJOR",
            16,
            16,
            "16-bit ABI major version (incompatible changes)",
        ),
    ],
    "ABI version of the register map and record formats",
);

/// Fields of `IDENT`.
pub const IDENT_FIELDS: &[Field] = &[
    Field::new(
        "ROLE",
        0,
        4,
        "4-bit role: 1 = Alice (transmitter), 2 = Bob (receiver)",
    ),
    Field::new(
        "LANES",
        4,
        4,
        "4-bit LANES: symbols (slots) per fabric clock, 1/2/4/8",
    ),
    Field::new(
        "OVERSAMPLE",
        8,
        5,
        "5-bit TDC samples per slot (Bob), 0 for Alice",
    ),
    Field::new(
        "DETECTORS",
        13,
        3,
        "3-bit detector count (Bob), 0 for Alice",
    ),
    Field::new(
        "FIRST_BLOCK",
        24,
        8,
        "8-bit index of the first register block after the header",
    ),
];

/// `IDENT`: generation parameters (reset value resolved per build).
pub const IDENT: Register = Register::new(
    "IDENT",
    0x008,
    Access::RO,
    0,
    IDENT_FIELDS,
    "Role and generation parameters of this core",
);

/// `BUILD_ID`.
pub const BUILD_ID: Register = Register::new(
    "BUILD_ID",
    0x00C,
    Access::RO,
    0,
    &[],
    "32-bit build identifier: hash of the generation parameters and ABI version",
);

/// `FABRIC_CLOCK_KHZ`.
pub const FABRIC_CLOCK_KHZ: Register = Register::new(
    "FABRIC_CLOCK_KHZ",
    0x010,
    Access::RO,
    0,
    &[],
    "32-bit nominal fabric clock in kHz (symbol rate = LANES x clock)",
);

/// `SCRATCH`.
pub const SCRATCH: Register = Register::new(
    "SCRATCH",
    0x014,
    Access::RW,
    0,
    &[],
    "32-bit scratch register for bus tests; no effect",
);

/// The header block for a set of generation parameters.
pub fn block(p: &GenParams) -> RegisterBlock {
    let ident = IDENT_FIELDS;
    let mut v = 0;
    for (f, x) in ident.iter().zip([
        p.role.code(),
        u32::from(p.lanes),
        u32::from(p.oversample),
        u32::from(p.detectors),
        1,
    ]) {
        v = f.set(v, x).unwrap_or(v);
    }
    RegisterBlock {
        name: "header",
        type_id: 0,
        version: 1,
        index: 0,
        registers: vec![
            MAGIC,
            ABI_VERSION,
            Register { reset: v, ..IDENT },
            Register {
                reset: build_id(p),
                ..BUILD_ID
            },
            Register {
                reset: p.fabric_clock_khz,
                ..FABRIC_CLOCK_KHZ
            },
            SCRATCH,
        ],
        doc: "Self-describing header: magic, ABI version, role, LANES, OVERSAMPLE, build id",
    }
}

/// Build id: the caller's if set, else FNV-1a over the parameters and ABI version.
pub fn build_id(p: &GenParams) -> u32 {
    if p.build_id != 0 {
        return p.build_id;
    }
    let mut h: u32 = 0x811C_9DC5;
    for b in [
        p.role.code() as u8,
        p.lanes,
        p.oversample,
        p.detectors,
        (crate::ABI_VERSION >> 16) as u8,
        crate::ABI_VERSION as u8,
    ]
    .into_iter()
    .chain(p.fabric_clock_khz.to_le_bytes())
    {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Exports of a [`RegisterMap`]: LiteX-compatible `csr.json`, a C header
//! and a Markdown register table. All three are derived from the one map
//! and are byte-for-byte reproducible (committed copies are checked by a
//! test in `abi/tests/exports.rs`).

use crate::regmap::{RegisterMap, Role};
use std::fmt::Write;

/// LiteX-compatible `csr.json`: `csr_bases`, `csr_registers` (addr, size in
/// 32-bit words, type `ro`/`rw`), `constants`, `memories`, plus a
/// `qkd_registers` section with access types, resets and fields (ignored by
/// LiteX tooling).
pub fn csr_json(map: &RegisterMap) -> String {
    use serde_json::{json, Map, Value};
    let mut bases = Map::new();
    let mut regs = Map::new();
    let mut detail = Map::new();
    for b in &map.blocks {
        bases.insert(b.name.into(), json!(b.base()));
        for r in &b.registers {
            let key = r.name.to_ascii_lowercase();
            regs.insert(
                key.clone(),
                json!({"addr": r.offset, "size": 1, "type": r.access.litex_mode()}),
            );
            let fields: Vec<Value> = r
                .fields
                .iter()
                .map(|f| json!({"name": f.name.to_ascii_lowercase(), "offset": f.lsb, "size": f.width, "description": f.doc}))
                .collect();
            detail.insert(
                key,
                json!({"block": b.name, "access": r.access.name(), "reset": r.reset, "description": r.doc, "fields": fields}),
            );
        }
    }
    let p = &map.params;
    let mut constants = Map::new();
    constants.insert("qkd_role".into(), json!(p.role.name()));
    constants.insert("qkd_lanes".into(), json!(p.lanes));
    constants.insert("qkd_oversample".into(), json!(p.oversample));
    constants.insert("qkd_detectors".into(), json!(p.detectors));
    constants.insert("qkd_abi_version".into(), json!(crate::ABI_VERSION));
    constants.insert("qkd_magic".into(), json!(crate::MAGIC));
    constants.insert(
        "config_clock_frequency".into(),
        json!(u64::from(p.fabric_clock_khz) * 1000),
    );
    let doc = json!({
        "csr_bases": bases,
        "csr_registers": regs,
        "constants": constants,
        "memories": {"csr": {"base": 0, "size": map.span_bytes(), "type": "io"}},
        "qkd_registers": detail,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// A C header with `_ADDR`, `_RESET`, and per-field `_SHIFT`/`_WIDTH`/`_MASK` macros.
pub fn c_header(map: &RegisterMap) -> String {
    let p = &map.params;
    let pre = format!("QKD_{}", p.role.name().to_ascii_uppercase());
    let guard = format!("{pre}_REGS_H");
    let mut s = String::new();
    let _ = writeln!(s, "/* SPDX-License-Identifier: MIT OR Apache-2.0 */");
    let _ = writeln!(
        s,
        "/* Generated from qkd-abi; do not edit. Register map of the QKD {} core. */",
        p.role
    );
    let _ = writeln!(s, "#ifndef {guard}\n#define {guard}\n");
    let _ = writeln!(s, "#define QKD_MAGIC 0x{:08X}u", crate::MAGIC);
    let _ = writeln!(s, "#define QKD_ABI_VERSION 0x{:08X}u", crate::ABI_VERSION);
    let _ = writeln!(s, "#define {pre}_LANES {}", p.lanes);
    if p.role == Role::Bob {
        let _ = writeln!(s, "#define {pre}_OVERSAMPLE {}", p.oversample);
        let _ = writeln!(s, "#define {pre}_DETECTORS {}", p.detectors);
    }
    let _ = writeln!(s, "#define {pre}_CSR_SPAN 0x{:X}u", map.span_bytes());
    for b in &map.blocks {
        let _ = writeln!(
            s,
            "\n/* ---- block {} (index {}): {} ---- */",
            b.name, b.index, b.doc
        );
        for r in &b.registers {
            let n = format!("{pre}_{}", r.name);
            let _ = writeln!(s, "/* {} [{}] */", r.doc, r.access.name());
            let _ = writeln!(s, "#define {n}_ADDR 0x{:03X}u", r.offset);
            let _ = writeln!(s, "#define {n}_RESET 0x{:08X}u", r.reset);
            for f in r.fields {
                let fnm = format!("{n}_{}", f.name);
                let _ = writeln!(s, "#define {fnm}_SHIFT {}", f.lsb);
                let _ = writeln!(s, "#define {fnm}_WIDTH {}", f.width);
                let _ = writeln!(s, "#define {fnm}_MASK 0x{:08X}u", f.mask());
            }
        }
    }
    let _ = writeln!(s, "\n#endif /* {guard} */");
    s
}

/// A Markdown register table, one section per block.
pub fn markdown(map: &RegisterMap) -> String {
    let p = &map.params;
    let mut s = String::new();
    let _ = writeln!(s, "<!-- Generated from qkd-abi; do not edit. -->");
    let _ = writeln!(s, "# Register map: {} core\n", p.role);
    let _ = writeln!(
        s,
        "ABI {}.{}, LANES {}, OVERSAMPLE {}, DETECTORS {}, fabric clock {} kHz. All registers are 32 bits.\n",
        crate::ABI_VERSION_MAJOR,
        crate::ABI_VERSION_MINOR,
        p.lanes,
        p.oversample,
        p.detectors,
        p.fabric_clock_khz
    );
    for b in &map.blocks {
        let _ = writeln!(
            s,
            "## Block {} `{}` at 0x{:03X} (type 0x{:04X}, v{})\n\n{}\n",
            b.index,
            b.name,
            b.base(),
            b.type_id,
            b.version,
            b.doc
        );
        let _ = writeln!(s, "| offset | name | access | reset | description |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for r in &b.registers {
            let _ = writeln!(
                s,
                "| 0x{:03X} | `{}` | {} | 0x{:08X} | {} |",
                r.offset,
                r.name,
                r.access.name(),
                r.reset,
                r.doc
            );
            for f in r.fields {
                let bits = if f.width == 1 {
                    format!("[{}]", f.lsb)
                } else {
                    format!("[{}:{}]", f.lsb + f.width - 1, f.lsb)
                };
                let _ = writeln!(s, "| | `.{}` {} | | | {} |", f.name, bits, f.doc);
            }
        }
        s.push('\n');
    }
    s
}

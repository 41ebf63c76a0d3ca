// SPDX-License-Identifier: MIT OR Apache-2.0
//! Exports of a [`RegisterMap`]: LiteX-compatible `csr.json` and `csr.csv`
//! (the schemas of LiteX's `litex/soc/integration/export.py`, as read by
//! `litex_cli` and `RemoteClient`), a C header with inline accessors in the
//! manner of Corundum's register blocks, and a Markdown register table.
//! All are derived from the one map and are byte-for-byte reproducible
//! (committed copies are checked by a test in `abi/tests/exports.rs`).

use crate::regmap::{Access, RegisterMap, Role};
use std::fmt::Write;

/// CSR data width in bits: every register is one 32-bit word.
pub const CSR_DATA_WIDTH: u32 = 32;

/// The LiteX `constants` of a map, sorted by name (as `csr.json` holds
/// them): role, generation parameters, ABI version, magic, the fabric clock
/// (`config_clock_frequency`, Hz) and `config_csr_data_width`, which
/// LiteX's `CSRBuilder` requires to size its register accesses.
pub fn litex_constants(map: &RegisterMap) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let p = &map.params;
    let mut v = vec![
        ("qkd_role", json!(p.role.name())),
        ("qkd_lanes", json!(p.lanes)),
        ("qkd_oversample", json!(p.oversample)),
        ("qkd_detectors", json!(p.detectors)),
        ("qkd_abi_version", json!(crate::ABI_VERSION)),
        ("qkd_magic", json!(crate::MAGIC)),
        (
            "config_clock_frequency",
            json!(u64::from(p.fabric_clock_khz) * 1000),
        ),
        ("config_csr_data_width", json!(CSR_DATA_WIDTH)),
    ];
    v.sort_by_key(|(name, _)| *name);
    v
}

/// LiteX-format `csr.csv`: `#` comment lines, then rows of five fields
/// (`csr_base,<block>,<addr>,,` / `csr_register,<name>,<addr>,<words>,<ro|rw>`
/// / `constant,<name>,<value>,,` / `memory_region,<name>,<base>,<bytes>,<type>`),
/// addresses as `0x%08x`, as `get_csr_csv` writes them. Register names and
/// modes are those of [`csr_json`]; blocks and registers in address order.
pub fn csr_csv(map: &RegisterMap) -> String {
    let mut s = String::new();
    let rule = format!("#{}", "-".repeat(80));
    let _ = writeln!(s, "{rule}");
    let _ = writeln!(
        s,
        "# Generated from qkd-abi for the QKD {} core (ABI {}.{}); do not edit.",
        map.params.role,
        crate::ABI_VERSION_MAJOR,
        crate::ABI_VERSION_MINOR
    );
    let _ = writeln!(s, "{rule}");
    for b in &map.blocks {
        let _ = writeln!(s, "csr_base,{},0x{:08x},,", b.name, b.base());
    }
    for r in map.registers() {
        let _ = writeln!(
            s,
            "csr_register,{},0x{:08x},1,{}",
            r.name.to_ascii_lowercase(),
            r.offset,
            r.access.litex_mode()
        );
    }
    for (name, value) in litex_constants(map) {
        let text = match value {
            serde_json::Value::String(t) => t,
            other => other.to_string(),
        };
        let _ = writeln!(s, "constant,{name},{text},,");
    }
    let _ = writeln!(s, "memory_region,csr,0x{:08x},{},io", 0, map.span_bytes());
    s
}

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
    let mut constants = Map::new();
    for (name, value) in litex_constants(map) {
        constants.insert(name.into(), value);
    }
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

/// A C header (C99, `<stdint.h>` only) in the manner of Corundum's register
/// blocks. Per core: `QKD_MAGIC`, `QKD_ABI_VERSION`, the generation
/// parameters, `<P>_CSR_SPAN`. Per block: `<P>_BLK_<BLOCK>_INDEX`, `_BASE`
/// (byte offset in the CSR window), `_TYPE` and `_VERSION` (the `BLOCK_ID`
/// fields a driver binds by). Per register: `_ADDR` (offset in the CSR
/// window), `_OFFSET` (offset in its block), `_RESET`, per field `_SHIFT`,
/// `_WIDTH`, `_MASK`, and inline accessors: `<p>_read_<reg>(base)` for
/// readable registers, `<p>_write_<reg>(base, value)` for writable ones
/// (RW, W1C, strobes), `<p>_<reg>_get_<field>(reg)` and
/// `<p>_<reg>_set_<field>(reg, value)` (value truncated to the field).
/// `base` is the start of the core's CSR window (e.g. the mapped BAR plus
/// the core's offset); `<P>` is `QKD_ALICE`/`QKD_BOB`, `<p>` its lower case.
pub fn c_header(map: &RegisterMap) -> String {
    let p = &map.params;
    let pre = format!("QKD_{}", p.role.name().to_ascii_uppercase());
    let low = pre.to_ascii_lowercase();
    let guard = format!("{pre}_REGS_H");
    let mut s = String::new();
    let _ = writeln!(s, "/* SPDX-License-Identifier: MIT OR Apache-2.0 */");
    let _ = writeln!(
        s,
        "/* Generated from qkd-abi; do not edit. Register map of the QKD {} core. */",
        p.role
    );
    let _ = writeln!(s, "#ifndef {guard}\n#define {guard}\n");
    let _ = writeln!(s, "#include <stdint.h>\n");
    let _ = writeln!(s, "#define QKD_MAGIC 0x{:08X}u", crate::MAGIC);
    let _ = writeln!(s, "#define QKD_ABI_VERSION 0x{:08X}u", crate::ABI_VERSION);
    let _ = writeln!(s, "#define {pre}_ROLE {}", p.role.code());
    let _ = writeln!(s, "#define {pre}_LANES {}", p.lanes);
    if p.role == Role::Bob {
        let _ = writeln!(s, "#define {pre}_OVERSAMPLE {}", p.oversample);
        let _ = writeln!(s, "#define {pre}_DETECTORS {}", p.detectors);
    }
    let _ = writeln!(s, "#define {pre}_FABRIC_CLOCK_KHZ {}u", p.fabric_clock_khz);
    let _ = writeln!(s, "#define {pre}_CSR_SPAN 0x{:X}u", map.span_bytes());
    let _ = writeln!(
        s,
        "#define {pre}_BLOCK_BYTES 0x{:X}u",
        crate::regmap::BLOCK_BYTES
    );
    let _ = writeln!(s, "#define {pre}_BLOCK_COUNT {}", map.blocks.len());
    let _ = writeln!(
        s,
        "\n/* The 32-bit word at byte offset addr of the CSR window starting at base. */"
    );
    let _ = writeln!(
        s,
        "static inline uint32_t {low}_reg_read(volatile void *base, uint32_t addr)\n{{\n    \
         return *(volatile uint32_t *)((volatile uint8_t *)base + addr);\n}}"
    );
    let _ = writeln!(
        s,
        "static inline void {low}_reg_write(volatile void *base, uint32_t addr, uint32_t value)\n{{\n    \
         *(volatile uint32_t *)((volatile uint8_t *)base + addr) = value;\n}}"
    );
    for b in &map.blocks {
        let blk = format!("{pre}_BLK_{}", b.name.to_ascii_uppercase());
        let _ = writeln!(
            s,
            "\n/* ---- block {} (index {}): {} ---- */",
            b.name, b.index, b.doc
        );
        let _ = writeln!(s, "#define {blk}_INDEX {}", b.index);
        let _ = writeln!(s, "#define {blk}_BASE 0x{:03X}u", b.base());
        let _ = writeln!(s, "#define {blk}_TYPE 0x{:04X}u", b.type_id);
        let _ = writeln!(s, "#define {blk}_VERSION {}", b.version);
        for r in &b.registers {
            let n = format!("{pre}_{}", r.name);
            let f_low = r.name.to_ascii_lowercase();
            let _ = writeln!(s, "/* {} [{}] */", r.doc, r.access.name());
            let _ = writeln!(s, "#define {n}_ADDR 0x{:03X}u", r.offset);
            let _ = writeln!(s, "#define {n}_OFFSET 0x{:02X}u", r.offset - b.base());
            let _ = writeln!(s, "#define {n}_RESET 0x{:08X}u", r.reset);
            for f in r.fields {
                let fnm = format!("{n}_{}", f.name);
                let _ = writeln!(s, "#define {fnm}_SHIFT {}", f.lsb);
                let _ = writeln!(s, "#define {fnm}_WIDTH {}", f.width);
                let _ = writeln!(s, "#define {fnm}_MASK 0x{:08X}u", f.mask());
            }
            if r.access != Access::Strobe {
                let _ = writeln!(
                    s,
                    "static inline uint32_t {low}_read_{f_low}(volatile void *base)\n{{\n    \
                     return {low}_reg_read(base, {n}_ADDR);\n}}"
                );
            }
            if r.access != Access::RO {
                let _ = writeln!(
                    s,
                    "static inline void {low}_write_{f_low}(volatile void *base, uint32_t value)\n{{\n    \
                     {low}_reg_write(base, {n}_ADDR, value);\n}}"
                );
            }
            for f in r.fields {
                let fnm = format!("{n}_{}", f.name);
                let fl = f.name.to_ascii_lowercase();
                let _ = writeln!(
                    s,
                    "static inline uint32_t {low}_{f_low}_get_{fl}(uint32_t reg)\n{{\n    \
                     return (reg & {fnm}_MASK) >> {fnm}_SHIFT;\n}}"
                );
                let _ = writeln!(
                    s,
                    "static inline uint32_t {low}_{f_low}_set_{fl}(uint32_t reg, uint32_t value)\n{{\n    \
                     return (reg & ~{fnm}_MASK) | ((value << {fnm}_SHIFT) & {fnm}_MASK);\n}}"
                );
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

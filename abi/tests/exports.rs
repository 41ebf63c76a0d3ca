//! The committed exports in `abi/exports/` must equal what qkd-abi generates
//! for the default parameters. Regenerate with
//! `QKD_BLESS=1 cargo test -p qkd-abi --test exports`.
//!
//! Beyond the byte comparison: `csr.csv` is read the way LiteX's
//! `CSRBuilder` (`litex/tools/remote/csr_builder.py`) reads it and checked
//! against the map, and the C header is compiled with the system C compiler
//! into a test program that uses its accessors on a fake register array.

use qkd_abi::export::{c_header, csr_csv, csr_json, markdown};
use qkd_abi::{Access, GenParams, RegisterMap, Role};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::Command;

fn check(file: &str, generated: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("exports")
        .join(file);
    if std::env::var_os("QKD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with QKD_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "{} differs from what qkd-abi generates; run `QKD_BLESS=1 cargo test -p qkd-abi --test exports` and commit",
        path.display()
    );
}

#[test]
fn committed_exports_match_the_code() {
    for role in [Role::Alice, Role::Bob] {
        let map = RegisterMap::new(GenParams::default_for(role));
        check(&format!("csr_{role}.json"), csr_json(&map));
        check(&format!("csr_{role}.csv"), csr_csv(&map));
        check(&format!("qkd_{role}_regs.h"), c_header(&map));
        check(&format!("regmap_{role}.md"), markdown(&map));
    }
}

#[test]
fn csr_json_is_litex_shaped() {
    let map = RegisterMap::new(GenParams::default_for(Role::Bob));
    let v: serde_json::Value = serde_json::from_str(&csr_json(&map)).unwrap();
    for key in ["csr_bases", "csr_registers", "constants", "memories"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let magic = &v["csr_registers"]["magic"];
    assert_eq!(magic["addr"], 0);
    assert_eq!(magic["type"], "ro");
    assert_eq!(v["csr_registers"]["gate_window"]["addr"], 0x404);
    assert_eq!(v["constants"]["config_csr_data_width"], 32);
}

/// What LiteX's `CSRBuilder` builds from a `csr.csv`.
#[derive(Default)]
struct LitexCsr {
    bases: BTreeMap<String, u64>,
    /// name -> (addr, size in words, mode)
    registers: BTreeMap<String, (u64, u64, String)>,
    /// name -> value (an integer where `int()` parses it, else the text)
    constants: BTreeMap<String, Result<i64, String>>,
    /// name -> (base, size, type)
    memories: BTreeMap<String, (u64, u64, String)>,
}

/// `int(x.replace("0x", ""), 16)` as CSRBuilder parses addresses.
fn litex_hex(text: &str) -> u64 {
    u64::from_str_radix(&text.replace("0x", ""), 16)
        .unwrap_or_else(|e| panic!("address {text:?} is not hex: {e}"))
}

/// CSRBuilder: drop lines starting with `#`, split the rest with Python's
/// csv reader, unpack every row into exactly five fields and sort the rows
/// by their first field.
fn read_like_litex(text: &str) -> LitexCsr {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = LitexCsr::default();
    for (i, row) in rdr.records().enumerate() {
        let row = row.unwrap_or_else(|e| panic!("row {i}: {e}"));
        assert_eq!(row.len(), 5, "row {i} {row:?}: LiteX unpacks five fields");
        let (group, name, a, b, c) = (&row[0], &row[1], &row[2], &row[3], &row[4]);
        match group {
            "csr_base" => {
                assert!(b.is_empty() && c.is_empty(), "row {i} {row:?}");
                assert!(out.bases.insert(name.into(), litex_hex(a)).is_none());
            }
            "csr_register" => {
                let size: u64 = b.parse().unwrap_or_else(|e| panic!("row {i} size: {e}"));
                assert!(out
                    .registers
                    .insert(name.into(), (litex_hex(a), size, c.into()))
                    .is_none());
            }
            "constant" => {
                assert!(b.is_empty() && c.is_empty(), "row {i} {row:?}");
                let v = a.parse::<i64>().map_err(|_| a.to_string());
                assert!(out.constants.insert(name.into(), v).is_none());
            }
            "memory_region" => {
                let size: u64 = b.parse().unwrap_or_else(|e| panic!("row {i} size: {e}"));
                assert!(out
                    .memories
                    .insert(name.into(), (litex_hex(a), size, c.into()))
                    .is_none());
            }
            other => panic!("row {i}: unknown row type {other:?}"),
        }
    }
    out
}

#[test]
fn csr_csv_reads_as_litex_reads_it_and_matches_the_map() {
    for params in [
        GenParams::alice(1),
        GenParams::alice(8),
        GenParams::bob(4, 8, 2),
        GenParams::bob(8, 16, 4),
    ] {
        let map = RegisterMap::new(params);
        let text = csr_csv(&map);
        assert!(text.starts_with('#'), "banner is a comment");
        let got = read_like_litex(&text);
        // every block base
        let want_bases: BTreeMap<String, u64> = map
            .blocks
            .iter()
            .map(|b| (b.name.to_string(), u64::from(b.base())))
            .collect();
        assert_eq!(got.bases, want_bases);
        // every register, once, with its address, one 32-bit word, its mode
        assert_eq!(got.registers.len(), map.registers().count());
        for r in map.registers() {
            let (addr, size, mode) = got
                .registers
                .get(&r.name.to_ascii_lowercase())
                .unwrap_or_else(|| panic!("{} missing from csr.csv", r.name));
            assert_eq!(*addr, u64::from(r.offset), "{}", r.name);
            assert_eq!(*size, 1, "{}", r.name);
            let want = if r.access == Access::RO { "ro" } else { "rw" };
            assert_eq!(mode, want, "{}", r.name);
        }
        // the constants CSRBuilder needs and the core's identity
        let c = |n: &str| got.constants.get(n).cloned();
        assert_eq!(c("config_csr_data_width"), Some(Ok(32)));
        assert_eq!(
            c("config_clock_frequency"),
            Some(Ok(i64::from(params.fabric_clock_khz) * 1000))
        );
        assert_eq!(c("qkd_magic"), Some(Ok(0x514B_4431)));
        assert_eq!(c("qkd_role"), Some(Err(params.role.name().to_string())));
        assert_eq!(c("qkd_lanes"), Some(Ok(i64::from(params.lanes))));
        assert_eq!(
            got.memories.get("csr"),
            Some(&(0, u64::from(map.span_bytes()), "io".to_string()))
        );
        // the same registers and addresses as csr.json
        let v: serde_json::Value = serde_json::from_str(&csr_json(&map)).unwrap();
        let regs = v["csr_registers"].as_object().unwrap();
        assert_eq!(regs.len(), got.registers.len());
        for (name, (addr, _, mode)) in &got.registers {
            assert_eq!(regs[name]["addr"], *addr, "{name}");
            assert_eq!(regs[name]["type"], mode.as_str(), "{name}");
        }
        assert_eq!(
            v["constants"].as_object().unwrap().len(),
            got.constants.len()
        );
    }
}

#[test]
fn c_header_defines_each_name_once() {
    for role in [Role::Alice, Role::Bob] {
        let h = c_header(&RegisterMap::new(GenParams::default_for(role)));
        let mut seen = std::collections::HashSet::new();
        for line in h.lines() {
            let name = if let Some(rest) = line.strip_prefix("#define ") {
                rest.split_whitespace().next()
            } else if let Some(rest) = line.strip_prefix("static inline ") {
                rest.split('(')
                    .next()
                    .and_then(|x| x.split_whitespace().last())
            } else {
                None
            };
            if let Some(n) = name {
                assert!(seen.insert(n.to_string()), "{role}: {n} defined twice");
            }
        }
    }
}

/// A C program that includes both headers and checks, against numbers taken
/// from the Rust map, every macro and accessor of `map`. It prints
/// `FAIL ...` lines and exits non-zero on a mismatch.
fn c_checks(map: &RegisterMap, out: &mut String) {
    let pre = format!("QKD_{}", map.params.role.name().to_ascii_uppercase());
    let low = pre.to_ascii_lowercase();
    let words = map.span_bytes() / 4;
    let _ = writeln!(out, "static void check_{low}(void)\n{{");
    let _ = writeln!(out, "    static uint32_t regs[{words}];");
    let _ = writeln!(
        out,
        "    CHECK({pre}_CSR_SPAN == {}u);\n    CHECK({pre}_LANES == {});\n    CHECK({pre}_ROLE == {});",
        map.span_bytes(),
        map.params.lanes,
        map.params.role.code()
    );
    for (k, b) in map.blocks.iter().enumerate() {
        let blk = format!("{pre}_BLK_{}", b.name.to_ascii_uppercase());
        let _ = writeln!(
            out,
            "    CHECK({blk}_INDEX == {}); CHECK({blk}_BASE == {}u); CHECK({blk}_TYPE == {}u); CHECK({blk}_VERSION == {});",
            b.index,
            b.base(),
            b.type_id,
            b.version
        );
        for (j, r) in b.registers.iter().enumerate() {
            let n = format!("{pre}_{}", r.name);
            let l = r.name.to_ascii_lowercase();
            let word = r.offset / 4;
            let pattern = 0x9E37_79B9u32.wrapping_mul((k * 64 + j + 1) as u32);
            let _ = writeln!(
                out,
                "    CHECK({n}_ADDR == {}u); CHECK({n}_OFFSET == {}u); CHECK({blk}_BASE + {n}_OFFSET == {n}_ADDR); CHECK({n}_RESET == {}u);",
                r.offset,
                r.offset - b.base(),
                r.reset
            );
            if r.access != Access::Strobe {
                let _ = writeln!(
                    out,
                    "    memset(regs, 0, sizeof regs); regs[{word}] = {pattern}u; CHECK({low}_read_{l}(regs) == {pattern}u);"
                );
            }
            if r.access != Access::RO {
                let _ = writeln!(
                    out,
                    "    memset(regs, 0, sizeof regs); {low}_write_{l}(regs, {pattern}u); CHECK(regs[{word}] == {pattern}u); CHECK(nonzero(regs, {words}) == 1);"
                );
            }
            for f in r.fields {
                let fl = f.name.to_ascii_lowercase();
                let fm = format!("{n}_{}", f.name);
                let _ = writeln!(
                    out,
                    "    CHECK({fm}_SHIFT == {}); CHECK({fm}_WIDTH == {}); CHECK({fm}_MASK == {}u);\n    \
                     CHECK({low}_{l}_get_{fl}(0xFFFFFFFFu) == {}u); CHECK({low}_{l}_get_{fl}({}u) == {}u);\n    \
                     CHECK({low}_{l}_set_{fl}(0u, 0xFFFFFFFFu) == {}u); CHECK({low}_{l}_set_{fl}(0xFFFFFFFFu, 0u) == {}u);",
                    f.lsb,
                    f.width,
                    f.mask(),
                    f.max(),
                    pattern,
                    f.get(pattern),
                    f.mask(),
                    !f.mask()
                );
            }
        }
    }
    // walk the BLOCK_ID chain of a register file holding the reset values
    let _ = writeln!(out, "    memset(regs, 0, sizeof regs);");
    for r in map.registers() {
        let _ = writeln!(
            out,
            "    regs[{pre}_{}_ADDR / 4] = {pre}_{}_RESET;",
            r.name, r.name
        );
    }
    let types: Vec<String> = map.blocks[1..]
        .iter()
        .map(|b| format!("{}u", b.type_id))
        .collect();
    let _ = writeln!(
        out,
        "    {{\n        static const uint32_t want[] = {{{}}};\n        uint32_t n = 0;\n        \
         uint32_t idx = {low}_ident_get_first_block({low}_read_ident(regs));\n        \
         while (idx != 0 && n < {}u) {{\n            uint32_t id = {low}_reg_read(regs, idx * {pre}_BLOCK_BYTES);\n            \
         CHECK((id & 0xFFFFu) == want[n]);\n            n++;\n            idx = id >> 24;\n        }}\n        \
         CHECK(n == {}u);\n        CHECK({low}_read_magic(regs) == QKD_MAGIC);\n    }}",
        types.join(", "),
        types.len() + 1,
        types.len()
    );
    let _ = writeln!(out, "}}");
}

#[test]
fn c_header_accessors_work_on_a_fake_register_file() {
    let maps = [
        RegisterMap::new(GenParams::default_for(Role::Alice)),
        RegisterMap::new(GenParams::default_for(Role::Bob)),
    ];
    let dir = std::env::temp_dir().join(format!("qkd-abi-hdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut prog = String::from(
        "#include <stdio.h>\n#include <string.h>\n#include \"qkd_alice_regs.h\"\n#include \"qkd_bob_regs.h\"\n\
         static int failures;\n\
         #define CHECK(c) do { if (!(c)) { printf(\"FAIL line %d: %s\\n\", __LINE__, #c); failures++; } } while (0)\n\
         static unsigned nonzero(const uint32_t *r, unsigned n) { unsigned k = 0; while (n--) k += r[n] != 0; return k; }\n",
    );
    for map in &maps {
        let role = map.params.role;
        std::fs::write(dir.join(format!("qkd_{role}_regs.h")), c_header(map)).unwrap();
        c_checks(map, &mut prog);
    }
    // A few facts written from the spec rather than from the map.
    prog.push_str(
        "int main(void)\n{\n    check_qkd_alice();\n    check_qkd_bob();\n    \
         CHECK(QKD_MAGIC == 0x514B4431u); CHECK(QKD_BOB_MAGIC_ADDR == 0u);\n    \
         CHECK(QKD_BOB_GATE_WINDOW_ADDR == 0x404u); CHECK(QKD_BOB_GATE_WINDOW_OFFSET == 0x04u);\n    \
         CHECK(QKD_ALICE_DECOY_THRESH_SIGNAL_ADDR == 0x404u);\n    \
         CHECK(qkd_bob_ident_get_role(QKD_BOB_IDENT_RESET) == 2u); CHECK(qkd_alice_ident_get_role(QKD_ALICE_IDENT_RESET) == 1u);\n    \
         CHECK(qkd_bob_abi_version_set_major(0u, 0x1FFFFu) == 0xFFFF0000u);\n    \
         printf(\"%s\\n\", failures ? \"FAILED\" : \"OK\");\n    return failures != 0;\n}\n",
    );
    std::fs::write(dir.join("t.c"), &prog).unwrap();
    let compiled = Command::new("cc")
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-O1",
            "-o",
            "t",
            "t.c",
        ])
        .current_dir(&dir)
        .output();
    let out = match compiled {
        Ok(o) => o,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("SKIP: no C compiler `cc` ({e}); the C header test did not run");
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        Err(e) => panic!("`cc` is required in CI: {e}"),
    };
    assert!(
        out.status.success(),
        "the generated headers do not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(dir.join("t"))
        .output()
        .expect("test program runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success() && stdout.trim_end().ends_with("OK"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

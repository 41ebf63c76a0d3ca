//! The committed exports in `abi/exports/` must equal what qkd-abi generates
//! for the default parameters. Regenerate with
//! `QKD_BLESS=1 cargo test -p qkd-abi --test exports`.

use qkd_abi::export::{c_header, csr_json, markdown};
use qkd_abi::{GenParams, RegisterMap, Role};
use std::path::PathBuf;

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
}

#[test]
fn c_header_compiles_with_a_c_compiler_when_present() {
    let map = RegisterMap::new(GenParams::default_for(Role::Alice));
    let dir = std::env::temp_dir().join(format!("qkd-abi-hdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("qkd_alice_regs.h"), c_header(&map)).unwrap();
    std::fs::write(
        dir.join("t.c"),
        "#include \"qkd_alice_regs.h\"\n_Static_assert(QKD_ALICE_MAGIC_ADDR == 0, \"magic\");\n\
         _Static_assert(QKD_ALICE_DECOY_THRESH_SIGNAL_ADDR == 0x404, \"decoy\");\nint main(void){return 0;}\n",
    )
    .unwrap();
    match std::process::Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-fsyntax-only", "t.c"])
        .current_dir(&dir)
        .status()
    {
        Ok(s) => assert!(s.success(), "generated C header does not compile"),
        Err(e) => eprintln!("no C compiler ({e}); skipped"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

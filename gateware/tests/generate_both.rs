// SPDX-License-Identifier: MIT OR Apache-2.0
//! Both roles generated into one project: the files each FuseSoC core
//! lists exist, module names are `$`-free and unique across the two
//! Verilog files, and Verilator lints the two files together (a duplicate
//! module would be an error there).
//!
//! ```text
//!  generate(alice), generate(bob) ──► qkd_alice.core / qkd_bob.core ──► files exist
//!                                 └─► qkd_alice.v + qkd_bob.v ──► names, verilator --lint-only
//! ```
//! Without Verilator the lint step prints a skip note, unless env `CI` is set.

use qkd_abi::{GenParams, Role};
use qkd_gateware::generate::{core_vlnv, file_names, generate, module_names};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_rust2::{Yaml, YamlLoader};

fn out_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("qkd-gateware-both-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Every file named in the core's filesets, with the targets' toplevel.
fn core_files(core: &Path) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(core).unwrap();
    assert!(text.starts_with("CAPI=2:\n"), "{core:?}: CAPI2 header");
    let doc = &YamlLoader::load_from_str(&text).expect("core parses as YAML")[0];
    let mut files = vec![];
    for (_, set) in doc["filesets"].as_hash().expect("filesets") {
        for f in set["files"].as_vec().expect("files list") {
            match f {
                Yaml::String(name) => files.push(name.clone()),
                Yaml::Hash(h) => {
                    assert_eq!(h.len(), 1, "{f:?}");
                    files.push(h.keys().next().unwrap().as_str().unwrap().to_string());
                }
                other => panic!("unexpected file entry {other:?}"),
            }
        }
    }
    let tops = doc["targets"]
        .as_hash()
        .expect("targets")
        .values()
        .map(|t| t["toplevel"].as_str().expect("toplevel").to_string())
        .collect();
    (files, tops)
}

#[test]
fn both_roles_build_in_one_project() {
    let dir = out_dir();
    let mut verilog = vec![];
    let mut owner: HashMap<String, Role> = HashMap::new();
    for params in [
        GenParams::default_for(Role::Alice),
        GenParams::default_for(Role::Bob),
    ] {
        let role = params.role;
        let rdir = dir.join(role.name());
        let written = generate(&params, &rdir).expect("generation succeeds");
        let names: Vec<String> = written
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, file_names(role));

        // The core lists every generated file but itself, and they exist.
        let core = rdir.join(format!("qkd_{role}.core"));
        let text = std::fs::read_to_string(&core).unwrap();
        assert!(text.contains(&format!("name: {}\n", core_vlnv(role))));
        let (files, tops) = core_files(&core);
        let mut listed = files.clone();
        listed.sort();
        let mut want: Vec<String> = names[..names.len() - 1].to_vec();
        want.sort();
        assert_eq!(listed, want, "{role}: files the core lists");
        for f in &files {
            assert!(rdir.join(f).is_file(), "{role}: {f} listed but missing");
        }
        assert!(tops.iter().all(|t| *t == format!("qkd_{role}")), "{tops:?}");

        // Module names: no `$`, role-prefixed, no name in both files.
        let v_path = rdir.join(format!("qkd_{role}.v"));
        let v = std::fs::read_to_string(&v_path).unwrap();
        let modules = module_names(&v);
        assert!(modules.len() > 100, "{role}: {} modules", modules.len());
        assert!(modules.contains(&format!("qkd_{role}").as_str()));
        for m in modules {
            assert!(!m.contains('$'), "{role}: module {m} has a `$`");
            assert!(
                m.starts_with(&format!("qkd_{role}")),
                "{role}: module {m} lacks the role prefix"
            );
            if let Some(other) = owner.insert(m.to_string(), role) {
                panic!("module {m} declared by {other} and {role}");
            }
        }
        verilog.push(v_path);
    }

    let found = Command::new("verilator")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "verilator is required in CI"
        );
        eprintln!("SKIP: verilator not installed; joint lint not run");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    // Two top modules in one run (MULTITOP waived); the two waivers
    // rust-hdl's output needs (see lint_alice.rs).
    let out = Command::new("verilator")
        .args([
            "--lint-only",
            "-Wno-WIDTH",
            "-Wno-UNOPTFLAT",
            "-Wno-MULTITOP",
        ])
        .args(&verilog)
        .output()
        .expect("verilator runs");
    assert!(
        out.status.success(),
        "verilator --lint-only of both roles together failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! The workspace's declared `rust-version` is true for the committed
//! lockfile: no locked package declares a higher one (`cargo metadata`).

use std::process::Command;

/// `1.89` and `1.89.0` alike, as (major, minor, patch).
fn parse(v: &str) -> [u64; 3] {
    let mut out = [0; 3];
    for (o, p) in out.iter_mut().zip(v.split('.')) {
        *o = p.parse().unwrap_or(0);
    }
    out
}

#[test]
fn no_locked_package_needs_a_newer_rust_than_the_workspace_declares() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "qkd-host")
        .and_then(|p| p["rust_version"].as_str())
        .expect("qkd-host declares a rust-version")
        .to_string();
    let too_new: Vec<String> = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            (parse(v) > parse(&ours)).then(|| format!("{} {} needs {v}", p["name"], p["version"]))
        })
        .collect();
    assert!(too_new.is_empty(), "rust-version = {ours} but: {too_new:?}");
}

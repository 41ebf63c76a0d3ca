// SPDX-License-Identifier: MIT OR Apache-2.0
//! With the `gateware` feature: the Verilog of `qkd_alice` and `qkd_bob`
//! (the default generation, `GenParams::default_for`) generated from this
//! build's rust-hdl source into `OUT_DIR`, where `src/gateware.rs` embeds
//! it. rust-hdl (and the rand 0.8 it brings) runs here, at build time, and
//! is not linked into qkd-host. Cargo reruns this script when qkd-gateware
//! or qkd-abi change, since they are its dependencies.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(feature = "gateware")]
    generate();
}

#[cfg(feature = "gateware")]
fn generate() {
    use qkd_abi::{GenParams, Role};
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    for role in [Role::Alice, Role::Bob] {
        let v = qkd_gateware::generate::verilog(&GenParams::default_for(role))
            .unwrap_or_else(|e| panic!("generating the Verilog of qkd_{}: {e}", role.name()));
        let path = out.join(format!("qkd_{}.v", role.name()));
        std::fs::write(&path, v).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
}

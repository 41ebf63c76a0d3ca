// SPDX-License-Identifier: MIT OR Apache-2.0
//! Verilog and register-map generation for a role: writes
//! `qkd_<role>.v`, `csr.json` and `csr.csv` (LiteX schemas),
//! `qkd_<role>_regs.h`, `regmap_<role>.md` and a FuseSoC core description
//! `qkd_<role>.core` into a directory. The register exports come from
//! `qkd_abi::export`, the Verilog from the role's rust-hdl top with its
//! internal module names made unique per role ([`prefix_module_names`]).

use qkd_abi::{export, GenParams, RegisterMap, Role};
use std::path::{Path, PathBuf};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The parameters are not supported.
    #[error("invalid generation parameters for role {role}")]
    Params {
        /// Role being generated.
        role: Role,
        /// What is wrong.
        #[source]
        source: qkd_abi::regmap::ParamError,
    },
    /// Building or checking the rust-hdl design failed.
    #[error("building the {role} gateware")]
    Design {
        /// Role being generated.
        role: Role,
        /// What failed.
        #[source]
        source: anyhow::Error,
    },
    /// rust-hdl's output did not have the expected `module top(` header.
    #[error("generated Verilog has no 'module top(' to rename to '{0}'")]
    NoTopModule(String),
    /// Two modules would get the same name after `$` is replaced.
    #[error("modules {first} and {second} would both be named {name}")]
    ModuleNameClash {
        /// Name after renaming.
        name: String,
        /// One module's rust-hdl name.
        first: String,
        /// The other's.
        second: String,
    },
    /// Writing an output file failed.
    #[error("writing {path}")]
    Write {
        /// File being written.
        path: PathBuf,
        /// I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Rename rust-hdl's `module top(` to `module <name>(`.
pub fn rename_top(verilog: &str, name: &str) -> anyhow::Result<String> {
    const HEAD: &str = "\nmodule top(";
    if !verilog.contains(HEAD) {
        return Err(GenerateError::NoTopModule(name.into()).into());
    }
    Ok(verilog.replacen(HEAD, &format!("\nmodule {name}("), 1))
}

/// Names of the modules a Verilog text declares, in order.
pub fn module_names(verilog: &str) -> Vec<&str> {
    verilog
        .lines()
        .filter_map(|l| l.strip_prefix("module "))
        .map(|rest| {
            let end = rest
                .find(|c: char| c == '(' || c == ';' || c.is_whitespace())
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// Give rust-hdl's internal modules unique, `$`-free names: `top$a$b`
/// becomes `<prefix>__a__b` (declarations, instantiations and comments).
/// rust-hdl names every submodule after its path under `top`, so the two
/// roles' files declare the same names (`top$axil`, ...) and a tool that
/// reads both in one project sees each twice; the prefix (`qkd_alice`,
/// `qkd_bob`) keeps them apart, and no name keeps a `$`, which some
/// tools escape or refuse. Module names without `$` are kept.
pub fn prefix_module_names(verilog: &str, prefix: &str) -> Result<String, GenerateError> {
    use std::collections::HashMap;
    let mut renames: HashMap<&str, String> = HashMap::new();
    let mut taken: HashMap<String, &str> = HashMap::new();
    for name in module_names(verilog) {
        let new = match name.split_once('$') {
            Some((_, rest)) => format!("{prefix}__{}", rest.replace('$', "__")),
            None => name.to_string(),
        };
        if let Some(first) = taken.insert(new.clone(), name) {
            return Err(GenerateError::ModuleNameClash {
                name: new,
                first: first.to_string(),
                second: name.to_string(),
            });
        }
        if new != name {
            renames.insert(name, new);
        }
    }
    let mut out = String::with_capacity(verilog.len() + verilog.len() / 16);
    let bytes = verilog.as_bytes();
    let ident_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let ident_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // an identifier starts here unless the byte before continues one
        if ident_start(b) && (i == 0 || !ident_char(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && ident_char(bytes[i]) {
                i += 1;
            }
            if let Some(new) = renames.get(&verilog[start..i]) {
                out.push_str(&verilog[copied..start]);
                out.push_str(new);
                copied = i;
            }
        } else {
            i += 1;
        }
    }
    out.push_str(&verilog[copied..]);
    Ok(out)
}

/// The Verilog of a role's top for `params`, with [`prefix_module_names`]
/// applied (prefix `qkd_<role>`).
pub fn verilog(params: &GenParams) -> Result<String, GenerateError> {
    params.validate().map_err(|source| GenerateError::Params {
        role: params.role,
        source,
    })?;
    let design = match params.role {
        Role::Alice => crate::alice::top::verilog(params),
        Role::Bob => crate::bob::top::verilog(params),
    };
    let v = design.map_err(|source| GenerateError::Design {
        role: params.role,
        source,
    })?;
    prefix_module_names(&v, &format!("qkd_{}", params.role.name()))
}

/// Files written by [`generate`], in writing order.
pub fn file_names(role: Role) -> [String; 6] {
    let r = role.name();
    [
        format!("qkd_{r}.v"),
        "csr.json".to_string(),
        "csr.csv".to_string(),
        format!("qkd_{r}_regs.h"),
        format!("regmap_{r}.md"),
        format!("qkd_{r}.core"),
    ]
}

/// FuseSoC VLNV of a role's core: `qkd:gateware:qkd_<role>:<crate version>`.
pub fn core_vlnv(role: Role) -> String {
    format!(
        "qkd:gateware:qkd_{}:{}",
        role.name(),
        env!("CARGO_PKG_VERSION")
    )
}

/// A FuseSoC CAPI2 core description of the generated files of `params`:
/// fileset `rtl` (the Verilog, top `qkd_<role>`), `sw` (the C header, an
/// include file), `regmap` (`csr.json`, `csr.csv`, the Markdown table);
/// targets `default` (synthesis view) and `lint` (Verilator lint-only with
/// the two waivers rust-hdl's output needs, WIDTH and UNOPTFLAT).
pub fn fusesoc_core(params: &GenParams) -> String {
    let r = params.role.name();
    let names = file_names(params.role);
    let shape = match params.role {
        Role::Alice => format!("{} lanes", params.lanes),
        Role::Bob => format!(
            "{} lanes, oversample {}, {} detectors",
            params.lanes, params.oversample, params.detectors
        ),
    };
    let vlnv = core_vlnv(params.role);
    let khz = params.fabric_clock_khz;
    let [v, json, csv, h, md, _] = &names;
    let lines = [
        "CAPI=2:".to_string(),
        "# Generated by qkd-gateware; do not edit.".into(),
        format!("name: {vlnv}"),
        format!("description: \"QKD {r} core ({shape}, {khz} kHz fabric clock): AXI4-Lite CSRs, AXI4-Stream records\""),
        String::new(),
        "filesets:".into(),
        "  rtl:".into(),
        "    files:".into(),
        format!("      - {v}"),
        "    file_type: verilogSource".into(),
        "  sw:".into(),
        "    files:".into(),
        format!("      - {h}: {{is_include_file: true}}"),
        "    file_type: cSource".into(),
        "  regmap:".into(),
        "    files:".into(),
        format!("      - {json}"),
        format!("      - {csv}"),
        format!("      - {md}"),
        "    file_type: user".into(),
        String::new(),
        "targets:".into(),
        "  default:".into(),
        "    filesets: [rtl, sw, regmap]".into(),
        format!("    toplevel: qkd_{r}"),
        "  lint:".into(),
        "    default_tool: verilator".into(),
        "    filesets: [rtl]".into(),
        format!("    toplevel: qkd_{r}"),
        "    tools:".into(),
        "      verilator:".into(),
        "        mode: lint-only".into(),
        "        verilator_options: [-Wno-WIDTH, -Wno-UNOPTFLAT]".into(),
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Generate the Verilog and the register exports of `params.role` into
/// `dir` (created if missing). Returns the paths written.
pub fn generate(params: &GenParams, dir: &Path) -> Result<Vec<PathBuf>, GenerateError> {
    let v = verilog(params)?;
    let map = RegisterMap::new(*params);
    let names = file_names(params.role);
    let contents = [
        v,
        export::csr_json(&map),
        export::csr_csv(&map),
        export::c_header(&map),
        export::markdown(&map),
        fusesoc_core(params),
    ];
    std::fs::create_dir_all(dir).map_err(|source| GenerateError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in names.iter().zip(contents) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| GenerateError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}

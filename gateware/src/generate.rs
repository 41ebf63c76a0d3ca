// SPDX-License-Identifier: MIT OR Apache-2.0
//! Verilog and register-map generation for a role: writes
//! `qkd_<role>.v`, `csr.json` (LiteX schema), `qkd_<role>_regs.h` and
//! `regmap_<role>.md` into a directory. The three register exports come
//! from `qkd_abi::export`, the Verilog from the role's rust-hdl top.

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

/// The Verilog of a role's top for `params`.
pub fn verilog(params: &GenParams) -> Result<String, GenerateError> {
    params.validate().map_err(|source| GenerateError::Params {
        role: params.role,
        source,
    })?;
    let design = match params.role {
        Role::Alice => crate::alice::top::verilog(params),
        Role::Bob => crate::bob::top::verilog(params),
    };
    design.map_err(|source| GenerateError::Design {
        role: params.role,
        source,
    })
}

/// Files written by [`generate`], in writing order.
pub fn file_names(role: Role) -> [String; 4] {
    let r = role.name();
    [
        format!("qkd_{r}.v"),
        "csr.json".to_string(),
        format!("qkd_{r}_regs.h"),
        format!("regmap_{r}.md"),
    ]
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
        export::c_header(&map),
        export::markdown(&map),
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

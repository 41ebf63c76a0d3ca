// SPDX-License-Identifier: MIT OR Apache-2.0
//! Role files (`qkd-host alice|bob --role-config role.toml`): a flat TOML
//! table whose keys are the role's long flags (`recv_timeout` or
//! `recv-timeout` for `--recv-timeout`). The file is turned into flags
//! placed before the command line's own, so that the command line wins
//! and both go through the same parsers and range checks.

use std::path::{Path, PathBuf};

/// Role file errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoleFileError {
    /// The file could not be read.
    #[error("reading role file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("parsing role file {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: toml::de::Error,
    },
    /// A key is not a flag of the role.
    #[error(
        "role file {path}: unknown key '{key}' (keys are the flags of `qkd-host {role}`: {known})"
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
        /// `alice` or `bob`.
        role: String,
        /// The flags the role knows.
        known: String,
    },
    /// A value is a table, an array or a date.
    #[error("role file {path}: key '{key}' must be a string, number or boolean")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// The key.
        key: String,
    },
}

/// Flags of `cmd` (the role's clap command) a role file may not set.
const NOT_IN_FILE: &[&str] = &["role-config", "help"];

/// The flags a role file stands for, in file order: `--key value`, or
/// `--key` alone for a `true` boolean (a `false` one is left out).
pub fn to_flags(path: &Path, cmd: &clap::Command) -> Result<Vec<String>, RoleFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| RoleFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|source| RoleFileError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    let known: Vec<&str> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !NOT_IN_FILE.contains(l))
        .collect();
    let mut out = Vec::new();
    for (key, value) in &table {
        let long = key.replace('_', "-");
        if !known.contains(&long.as_str()) {
            return Err(RoleFileError::UnknownKey {
                path: path.to_path_buf(),
                key: key.clone(),
                role: cmd.get_name().to_string(),
                known: known.join(", "),
            });
        }
        let flag = format!("--{long}");
        match value {
            toml::Value::Boolean(true) => out.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::String(s) => out.extend([flag, s.clone()]),
            toml::Value::Integer(i) => out.extend([flag, i.to_string()]),
            toml::Value::Float(f) => out.extend([flag, format!("{f:?}")]),
            _ => {
                return Err(RoleFileError::BadValue {
                    path: path.to_path_buf(),
                    key: key.clone(),
                })
            }
        }
    }
    Ok(out)
}

/// The command line with the role file's flags inserted right after the
/// role subcommand (`alice`/`bob`), when `--role-config FILE` (or
/// `--role-config=FILE`) is among the role's arguments. `cmd` is the
/// whole `qkd-host` command. Without a role file the line is returned as
/// it is.
pub fn expand(args: Vec<String>, cmd: &clap::Command) -> Result<Vec<String>, RoleFileError> {
    let Some(pos) = (1..args.len())
        .find(|&i| (args[i] == "alice" || args[i] == "bob") && args[i - 1] != "--log-format")
    else {
        return Ok(args);
    };
    let mut file = None;
    let mut i = pos + 1;
    while i < args.len() {
        if let Some(f) = args[i].strip_prefix("--role-config=") {
            file = Some(PathBuf::from(f));
        } else if args[i] == "--role-config" {
            file = args.get(i + 1).map(PathBuf::from);
        }
        i += 1;
    }
    let Some(file) = file else {
        return Ok(args);
    };
    let Some(sub) = cmd.find_subcommand(&args[pos]) else {
        return Ok(args);
    };
    let flags = to_flags(&file, sub)?;
    let mut out = args[..=pos].to_vec();
    out.extend(flags);
    out.extend_from_slice(&args[pos + 1..]);
    Ok(out)
}

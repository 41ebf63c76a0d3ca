// SPDX-License-Identifier: MIT OR Apache-2.0
//! Running the real `qkd-host` binary from the CLI tests (`mod cli_common;`).
#![allow(dead_code)]

use std::process::{Command, Output};

/// `qkd-host ARGS` with `RUST_LOG` unset; its output.
pub fn qkd_host(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("running qkd-host")
}

/// Its stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code is `code` (both streams shown otherwise).
pub fn assert_code(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(o)
    );
}

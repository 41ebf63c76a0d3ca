// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the link TOML (`LinkConfig::from_toml_str`) and the role file
//! (`rolefile::to_flags`): arbitrary strings, and `examples/link.toml`
//! with one key's value replaced by extreme, wrong-typed or malformed
//! values, lines dropped, duplicated or cut, and bytes flipped. Parsing
//! never panics; it gives a validated configuration that survives a
//! round trip through TOML, or a typed error, and when one key's value
//! was replaced the error names that key. Role files are read against the
//! real `qkd-host alice` command (`qkd_host::cli`), and the flags they give
//! are parsed by it.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-host --test fuzz_link_config`

use proptest::prelude::*;
use qkd_host::config::{ConfigError, LinkConfig};
use qkd_host::rolefile::{to_flags, RoleFileError};
use std::io::Write;

const EXAMPLE: &str = include_str!("../../examples/link.toml");

fn values() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "-0.0",
            "1",
            "-1",
            "1e308",
            "-1e308",
            "1e-320",
            "nan",
            "+inf",
            "-inf",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "4294967296",
            "1e7",
            "1e20",
            "0.5",
            "true",
            "\"x\"",
            "\"\"",
            "[]",
            "[1.0]",
            "[0.4, 0.2]",
            "[0.4, 0.2, 0.1, 0.0]",
            "[0.42, 0.23, 0.0002]",
            "[0.3, 0.5, 0.2]",
            "[1, 2, 3]",
            "[\"a\", 1, 2]",
            "{}",
            "{ a = 1 }",
            "1979-05-27",
            "[[1]]",
            "",
            "=",
            "[",
            "\"",
            "0x10",
            "1_000",
            "1e",
            ".5",
        ])
        .prop_map(str::to_string),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<i64>().prop_map(|i| i.to_string()),
        (any::<f64>(), any::<f64>(), any::<f64>())
            .prop_map(|(a, b, c)| format!("[{a:?}, {b:?}, {c:?}]")),
        "[ -~]{0,12}",
    ]
}

/// The `key = value` lines of the example, as (line index, key).
fn key_lines() -> Vec<(usize, String)> {
    EXAMPLE
        .lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let (k, _) = l.split_once(" = ")?;
            (!l.starts_with('#')).then(|| (i, k.trim().to_string()))
        })
        .collect()
}

fn check(text: &str, named: Option<&str>) -> Result<(), TestCaseError> {
    match LinkConfig::from_toml_str(text) {
        Ok(c) => {
            prop_assert!(c.validate().is_ok());
            // Serialise and parse again: the same configuration.
            let again = toml::to_string(&c).unwrap();
            let back = LinkConfig::from_toml_str(&again);
            prop_assert!(back.is_ok(), "re-parse failed: {:?}\n{again}", back.err());
            prop_assert_eq!(back.unwrap(), c);
        }
        Err(e) => {
            let msg = e.to_string();
            match &e {
                ConfigError::Parse(_) => {}
                ConfigError::OutOfRange { key, .. } => prop_assert!(key.contains('.')),
                other => prop_assert!(false, "unexpected error {other}"),
            }
            if let Some(k) = named {
                prop_assert!(msg.contains(k), "error does not name `{k}`: {msg}");
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Edit {
    DropLine(usize),
    DupLine(usize),
    CutLine(usize, usize),
    FlipByte(usize, u8),
    Append(String),
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DropLine),
        any::<usize>().prop_map(Edit::DupLine),
        (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Edit::CutLine(l, c)),
        (any::<usize>(), 0u8..8).prop_map(|(at, b)| Edit::FlipByte(at, b)),
        prop_oneof![
            Just("[sim]\nseed = 3\n".to_string()),
            Just("[attack]\nkind = 1\n".to_string()),
            Just("[source]\n".to_string()),
            Just("unknown = 1\n".to_string()),
            Just("[detector]\nbogus = 2\n".to_string()),
            "[a-z_\\[\\]. =0-9\"]{0,30}\n",
        ]
        .prop_map(Edit::Append),
    ]
}

fn edit(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len();
    match e {
        Edit::DropLine(i) => {
            lines.remove(i % n);
        }
        Edit::DupLine(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
        }
        Edit::CutLine(i, c) => {
            let l = &mut lines[i % n];
            let mut cut = c % (l.len() + 1);
            while !l.is_char_boundary(cut) {
                cut -= 1;
            }
            l.truncate(cut);
        }
        Edit::FlipByte(at, b) => {
            let mut bytes = lines.join("\n").into_bytes();
            let k = at % bytes.len();
            bytes[k] ^= 1 << b;
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        Edit::Append(s) => lines.push(s.clone()),
    }
    lines.join("\n")
}

/// The real `qkd-host alice` command (`qkd_host::cli`).
fn role_cmd() -> clap::Command {
    use clap::CommandFactory;
    qkd_host::cli::Cli::command()
        .find_subcommand("alice")
        .expect("an alice subcommand")
        .clone()
}

/// The long flags a role file may set: every flag of the command but
/// `--role-config` and `--help`.
fn role_longs() -> Vec<String> {
    role_cmd()
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .filter(|l| l != "role-config" && l != "help")
        .collect()
}

fn arb_role_key() -> impl Strategy<Value = String> {
    let mut names = role_longs();
    names.extend(role_longs().iter().map(|l| l.replace('-', "_")));
    names.extend(["role-config", "help", "nope"].map(str::to_string));
    prop_oneof![3 => prop::sample::select(names), 1 => "[a-z_-]{1,12}"]
}

proptest! {
    #[test]
    fn example_with_one_value_replaced_parses_or_names_the_key(
        which in any::<usize>(),
        value in values(),
    ) {
        let keys = key_lines();
        let (line, key) = &keys[which % keys.len()];
        let text: String = EXAMPLE
            .lines()
            .enumerate()
            .map(|(i, l)| if i == *line { format!("{key} = {value}\n") } else { format!("{l}\n") })
            .collect();
        // A value that is well-formed TOML on its own line: any error is
        // about this key and must name it. (A malformed one, such as an
        // unclosed `[`, may be reported where the parser stops.)
        let well_formed = toml::from_str::<toml::Table>(&format!("v = {value}")).is_ok();
        check(&text, well_formed.then_some(key.as_str()))?;
    }

    #[test]
    fn edited_example_parses_or_gives_typed_errors(
        edits in prop::collection::vec(arb_edit(), 1..4),
    ) {
        let mut text = EXAMPLE.to_string();
        for e in &edits {
            text = edit(&text, e);
        }
        check(&text, None)?;
    }

    #[test]
    fn arbitrary_strings_parse_or_give_typed_errors(
        s in prop_oneof![any::<String>(), "(\\[[a-z_.]{0,20}\\]\n)?([a-z_]{1,20} = [-0-9.e\\[\\], a-z\"]{0,20}\n){0,5}"],
    ) {
        check(&s, None)?;
    }

    #[test]
    fn role_files_give_flags_or_errors_naming_the_key(
        key in arb_role_key(),
        value in values(),
        text in prop_oneof![3 => Just(None), 1 => any::<String>().prop_map(Some)],
    ) {
        let generated = text.is_none();
        let body = text.unwrap_or_else(|| format!("{key} = {value}\n"));
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(body.as_bytes()).unwrap();
        let cmd = role_cmd();
        let longs = role_longs();
        match to_flags(f.path(), &cmd) {
            Ok(flags) => {
                // Every flag is a known long option of the real command.
                for fl in flags.iter().filter(|f| f.starts_with("--")) {
                    prop_assert!(longs.contains(&fl[2..].to_string()), "{fl}");
                }
                // The flags go through the command's own parsers and range
                // checks: a value or a clap error, never a panic.
                let mut argv = vec!["alice".to_string()];
                argv.extend(flags);
                argv.extend(
                    ["--listen", "127.0.0.1:0", "--device", "xdma:/dev/null", "--psk", "p", "--state-dir", "s"]
                        .map(str::to_string),
                );
                let _ = role_cmd().try_get_matches_from(argv);
            }
            Err(RoleFileError::UnknownKey { key: k, .. }) => {
                let long = k.replace('_', "-");
                prop_assert!(!longs.contains(&long));
            }
            Err(RoleFileError::BadValue { key: k, .. }) => {
                prop_assert!(!generated || k == key, "{k} vs {key}");
            }
            Err(RoleFileError::Parse { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}

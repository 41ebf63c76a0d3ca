// SPDX-License-Identifier: MIT OR Apache-2.0
//! The per-block history of a link: one JSON object per line in
//! `history.jsonl` of the state directory (time, block, QBER, secret and
//! delivered bits, authentication pad levels), appended by the roles after
//! each block and read by `qkd-host report`, which plots QBER, secret key
//! per block and pad level over time. Holds no key material.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the history inside a state directory.
pub const FILE_NAME: &str = "history.jsonl";

/// One processed block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockRecord {
    /// Wall-clock time the block ended, seconds since the Unix epoch.
    pub unix_time_s: f64,
    /// Block number.
    pub block: u64,
    /// QBER of the Z (key) basis, signal intensity (fraction); `None` when
    /// the block ended before it was estimated.
    pub qber_z: Option<f64>,
    /// QBER of the X basis (fraction).
    #[serde(default)]
    pub qber_x: Option<f64>,
    /// Secret bits after privacy amplification (0 for an aborted block).
    pub secret_bits: u64,
    /// Bits delivered to the key store (secret bits less the pad refill).
    pub delivered_bits: u64,
    /// Authentication pads left for sending after the block.
    pub send_pads: u64,
    /// Authentication pads left for verifying received tags after the block.
    pub recv_pads: u64,
    /// Why the block was aborted; `None` for a block that made key.
    #[serde(default)]
    pub aborted: Option<String>,
}

impl BlockRecord {
    /// The current wall-clock time as [`BlockRecord::unix_time_s`].
    pub fn now_unix_s() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// History file errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// Opening, reading or writing the file failed.
    #[error("{what} {path}")]
    Io {
        /// What was done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a block record.
    #[error("{path} line {line}: not a block record")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line number (1-based).
        line: usize,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Appender of block records to a state directory's history.
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    file: std::fs::File,
}

impl History {
    /// Opens (creating it if needed) `history.jsonl` in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Self, HistoryError> {
        let path = state_dir.join(FILE_NAME);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|source| HistoryError::Io {
                what: "opening",
                path: path.clone(),
                source,
            })?;
        Ok(History { path, file })
    }

    /// Appends one record as one line (a single `write`, so a crash leaves
    /// at most a torn last line, which [`read`] skips). Not fsynced: the
    /// history is a log for operators, not state the link depends on.
    pub fn append(&mut self, r: &BlockRecord) -> Result<(), HistoryError> {
        let mut line = serde_json::to_vec(r).map_err(|source| HistoryError::Parse {
            path: self.path.clone(),
            line: 0,
            source,
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|source| HistoryError::Io {
                what: "appending to",
                path: self.path.clone(),
                source,
            })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads every record of a history file. A last line without its newline
/// (torn by a crash while appending) is skipped; any other bad line is an
/// error naming it.
pub fn read(path: &Path) -> Result<Vec<BlockRecord>, HistoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| HistoryError::Io {
        what: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| HistoryError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// Draws QBER, secret bits per block and pad level against time (seconds
/// since the first record) into an SVG with three stacked panels.
pub fn plot(records: &[BlockRecord], path: &Path) -> Result<(), String> {
    use crate::plot::{Panel, Series, YRange};
    use plotters::style::{RGBColor, BLUE, GREEN, RED};
    let t0 = records.first().map_or(0.0, |r| r.unix_time_s);
    let t = |r: &BlockRecord| r.unix_time_s - t0;
    let t_max = records.iter().map(t).fold(1.0, f64::max);
    type Points = Vec<(f64, f64)>;
    let qber_z: Points = records
        .iter()
        .filter_map(|r| r.qber_z.map(|q| (t(r), q)))
        .collect();
    let qber_x: Points = records
        .iter()
        .filter_map(|r| r.qber_x.map(|q| (t(r), q)))
        .collect();
    let secret: Points = records
        .iter()
        .map(|r| (t(r), r.secret_bits as f64))
        .collect();
    let delivered: Points = records
        .iter()
        .map(|r| (t(r), r.delivered_bits as f64))
        .collect();
    let send: Points = records.iter().map(|r| (t(r), r.send_pads as f64)).collect();
    let recv: Points = records.iter().map(|r| (t(r), r.recv_pads as f64)).collect();
    fn line<'a>(name: &'a str, points: &'a [(f64, f64)], colour: RGBColor) -> Series<'a> {
        Series {
            name,
            points,
            colour,
        }
    }
    let panel = |caption, y_desc, series| Panel {
        caption,
        x_desc: "time (s)",
        y_desc: Some(y_desc),
        y_range: YRange::FromZero,
        series,
    };
    let panels = [
        panel(
            "QBER per block",
            "QBER",
            vec![line("QBER Z", &qber_z, BLUE), line("QBER X", &qber_x, RED)],
        ),
        panel(
            "Secret key per block",
            "bits",
            vec![
                line("secret bits", &secret, BLUE),
                line("delivered bits", &delivered, GREEN),
            ],
        ),
        panel(
            "Authentication pad pool",
            "pads",
            vec![
                line("send pads", &send, BLUE),
                line("receive pads", &recv, RED),
            ],
        ),
    ];
    crate::plot::time_panels(path, (900, 900), t_max, &panels)
        .map_err(|e| format!("plotting to {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(block: u64) -> BlockRecord {
        BlockRecord {
            unix_time_s: 1.7e9 + block as f64,
            block,
            qber_z: Some(0.02),
            qber_x: None,
            secret_bits: 1000 + block,
            delivered_bits: 900,
            send_pads: 100 - block,
            recv_pads: 99,
            aborted: None,
        }
    }

    #[test]
    fn appended_records_read_back_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(dir.path()).unwrap();
        h.append(&rec(0)).unwrap();
        h.append(&rec(1)).unwrap();
        drop(h);
        let mut h = History::open(dir.path()).unwrap();
        h.append(&rec(2)).unwrap();
        let path = h.path().to_path_buf();
        drop(h);
        assert_eq!(read(&path).unwrap(), vec![rec(0), rec(1), rec(2)]);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"unix_time_s\":1.7e9,\"blo").unwrap();
        assert_eq!(read(&path).unwrap().len(), 3);
    }

    #[test]
    fn a_bad_line_in_the_middle_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let good = serde_json::to_string(&rec(0)).unwrap();
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.to_string().ends_with("line 2: not a block record"), "{e}");
    }
}

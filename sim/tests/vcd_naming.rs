// SPDX-License-Identifier: MIT OR Apache-2.0
//! `QKD_VCD` with several Verilated models in one process (the exact link
//! runs `qkd_alice` and `qkd_bob` side by side): every traced instance
//! writes its own file, numbered over the process (`t.vcd`, `t.1.vcd`,
//! ...), not per model. With a per-model count both models' first
//! instances wrote `t.vcd` at once and left an interleaved, unreadable
//! file (seen while tracing `exact_mode`).
//!
//! ```text
//!  QKD_VCD=DIR/t.vcd ──► Model A (tiny_core) instance ──► DIR/t.vcd
//!                        Model B (tiny_core) instance ──► DIR/t.1.vcd
//! ```
//!
//! Alone in its test binary: it sets `QKD_VCD` for the process.

use qkd_sim::verilator::{BuildOptions, Model};

const TINY: &str = include_str!("fixtures/tiny_core.v");

#[test]
fn two_models_trace_to_two_files() {
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("t.vcd");
    std::env::set_var("QKD_VCD", &base);
    std::env::set_var("QKD_VCD_MAX_CYCLES", "20");
    let opts = BuildOptions::new("tiny_core").trace(true);
    // Two loaded models (as the exact link builds one per top).
    let a = Model::build(TINY, &opts).unwrap();
    let b = Model::build(TINY, &opts).unwrap();
    {
        let mut sa = a.instantiate().unwrap();
        let mut sb = b.instantiate().unwrap();
        assert_eq!(sa.vcd_path(), Some(base.as_path()));
        assert_eq!(sb.vcd_path(), Some(out.path().join("t.1.vcd").as_path()));
        for _ in 0..30 {
            sa.tick();
            sb.tick();
        }
    }
    for f in ["t.vcd", "t.1.vcd"] {
        let text = std::fs::read_to_string(out.path().join(f)).unwrap();
        assert_eq!(
            text.matches("$enddefinitions").count(),
            1,
            "{f}: one header"
        );
        assert_eq!(text.matches("$scope module TOP").count(), 1, "{f}");
        assert!(text.contains("\n#40\n") && !text.contains("\n#41\n"), "{f}");
    }
}

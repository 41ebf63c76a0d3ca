// SPDX-License-Identifier: MIT OR Apache-2.0
//! Top-level port list of a Verilated model, read from the class header
//! that Verilator writes (`V<top>.h`, macros `VL_IN8(&name,msb,lsb)` ...
//! `VL_OUTW(&name,msb,lsb,words)`, Verilator 5 `verilated.h`).
//!
//! Reading the header instead of the Verilog means the port names, widths
//! and storage types are exactly the ones the C++ model has, whatever
//! Verilog port style (ANSI or not) the generator used.

use super::Error;

/// Port direction as seen from the design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Driven by the testbench.
    Input,
    /// Driven by the design.
    Output,
    /// Bidirectional (not driven by this harness).
    InOut,
}

/// One top-level port of the Verilated model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Port {
    /// Port name (the C++ member name; rust-hdl top ports are clean identifiers).
    pub name: String,
    /// Direction.
    pub dir: Direction,
    /// Width in bits (msb - lsb + 1).
    pub width_bits: u32,
}

impl Port {
    /// True when the C++ member is a `VlWide<N>` (more than 64 bits).
    pub fn is_wide(&self) -> bool {
        self.width_bits > 64
    }
    /// Number of 32-bit words holding the value.
    pub fn words32(&self) -> usize {
        self.width_bits.div_ceil(32) as usize
    }
}

/// Parse the port macros of a Verilated class header.
///
/// Errors name the offending line. A header without any port is an error
/// (a top with no ports cannot be driven).
pub fn parse_verilated_header(text: &str) -> Result<Vec<Port>, Error> {
    let mut ports = Vec::new();
    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let Some(rest) = line.strip_prefix("VL_") else {
            continue;
        };
        let (dir, rest) = if let Some(r) = rest.strip_prefix("INOUT") {
            (Direction::InOut, r)
        } else if let Some(r) = rest.strip_prefix("IN") {
            (Direction::Input, r)
        } else if let Some(r) = rest.strip_prefix("OUT") {
            (Direction::Output, r)
        } else {
            continue;
        };
        let bad = |why: &str| Error::PortParse {
            line: lineno + 1,
            text: line.to_string(),
            why: why.to_string(),
        };
        // Storage suffix: "", "8", "16", "64", "W".
        let open = rest.find('(').ok_or_else(|| bad("no '('"))?;
        let suffix = &rest[..open];
        if !matches!(suffix, "" | "8" | "16" | "64" | "W") {
            // Some other VL_IN... macro (e.g. VL_INLINE...): not a port.
            continue;
        }
        let close = rest.rfind(')').ok_or_else(|| bad("no ')'"))?;
        if close < open {
            return Err(bad("')' before '('"));
        }
        let args: Vec<&str> = rest[open + 1..close].split(',').map(str::trim).collect();
        let want = if suffix == "W" { 4 } else { 3 };
        if args.len() != want {
            return Err(bad("wrong number of macro arguments"));
        }
        let name = args[0]
            .strip_prefix('&')
            .ok_or_else(|| bad("name without '&'"))?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("port name is not a plain identifier"));
        }
        let msb: u32 = args[1].parse().map_err(|_| bad("msb is not a number"))?;
        let lsb: u32 = args[2].parse().map_err(|_| bad("lsb is not a number"))?;
        if lsb > msb {
            return Err(bad("lsb > msb"));
        }
        let width_bits = msb - lsb + 1;
        let max = match suffix {
            "8" => 8,
            "16" => 16,
            "" => 32,
            "64" => 64,
            _ => u32::MAX,
        };
        if width_bits > max || (suffix == "W" && width_bits <= 64) {
            return Err(bad("width does not match the storage macro"));
        }
        if suffix == "W" {
            let words: u32 = args[3]
                .parse()
                .map_err(|_| bad("word count is not a number"))?;
            if words != width_bits.div_ceil(32) {
                return Err(bad("word count does not match the width"));
            }
        }
        if ports.iter().any(|p: &Port| p.name == name) {
            return Err(bad("duplicate port"));
        }
        ports.push(Port {
            name: name.to_string(),
            dir,
            width_bits,
        });
    }
    if ports.is_empty() {
        return Err(Error::NoPorts);
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_verilator_5006_header_lines() {
        let h = "class Vtiny {\n    VL_IN8(&clock,0,0);\n    VL_IN8(&a,7,0);\n    VL_OUT16(&acc,15,0);\n    VL_INW(&w,99,0,4);\n    VL_OUTW(&wo,99,0,4);\n    VL_OUT64(&q,63,0);\n    VL_IN(&x,31,0);\n};";
        let p = parse_verilated_header(h).unwrap();
        let got: Vec<(&str, Direction, u32)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.dir, p.width_bits))
            .collect();
        assert_eq!(
            got,
            vec![
                ("clock", Direction::Input, 1),
                ("a", Direction::Input, 8),
                ("acc", Direction::Output, 16),
                ("w", Direction::Input, 100),
                ("wo", Direction::Output, 100),
                ("q", Direction::Output, 64),
                ("x", Direction::Input, 32),
            ]
        );
        assert_eq!(p[3].words32(), 4);
        assert!(p[3].is_wide());
    }

    #[test]
    fn rejects_inconsistent_macros() {
        for bad in [
            "VL_IN8(&a,8,0);",
            "VL_INW(&w,99,0,3);",
            "VL_INW(&w,63,0,2);",
            "VL_IN8(a,0,0);",
            "VL_IN8(&a,0);",
            "VL_IN8(&a$b,0,0);",
            "VL_IN8(&a,0,1);",
            "VL_IN8(&a,0,0);\nVL_OUT8(&a,0,0);",
        ] {
            assert!(parse_verilated_header(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_verilated_header("int x;"),
            Err(Error::NoPorts)
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_verilated_header(&s);
        }

        #[test]
        fn round_trips_generated_ports(widths in proptest::collection::vec((1u32..300, any::<bool>()), 1..20)) {
            let mut h = String::new();
            for (i, (w, out)) in widths.iter().enumerate() {
                let d = if *out { "OUT" } else { "IN" };
                let (suffix, extra) = match *w {
                    1..=8 => ("8", String::new()),
                    9..=16 => ("16", String::new()),
                    17..=32 => ("", String::new()),
                    33..=64 => ("64", String::new()),
                    _ => ("W", format!(",{}", w.div_ceil(32))),
                };
                h.push_str(&format!("  VL_{d}{suffix}(&p{i},{},0{extra});\n", w - 1));
            }
            let ports = parse_verilated_header(&h).unwrap();
            prop_assert_eq!(ports.len(), widths.len());
            for (p, (w, out)) in ports.iter().zip(&widths) {
                prop_assert_eq!(p.width_bits, *w);
                prop_assert_eq!(p.dir, if *out { Direction::Output } else { Direction::Input });
            }
        }
    }
}

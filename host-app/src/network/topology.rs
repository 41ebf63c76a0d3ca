// SPDX-License-Identifier: MIT OR Apache-2.0
//! The topology file of a trusted-node network (`network.toml`): the nodes
//! (each a trusted relay with its KME and the SAEs attached to it), the
//! links between adjacent nodes (each a full QKD link, configured like
//! `qkd-host run --config`), and the key demand of the applications.
//!
//! ```toml
//! [defaults]                 # a link TOML applied to every link (optional)
//! postprocessing.block_bits = 1e6
//!
//! [[node]]
//! name = "A"
//! saes = ["SAE_A"]
//!
//! [[link]]
//! between = ["A", "B"]
//! length_km = 60.0           # shorthand for channel.length_km
//! # config = "link.toml"     # a link TOML (relative to this file)
//! # [link.overrides]         # link TOML keys for this link only
//! # attack = "cw-blinding"   # simulated attack on this link, from
//! # attack_from_s = 2.0      # this many seconds into the run
//!
//! [[demand]]
//! from = "SAE_A"             # master SAE (enc_keys)
//! to = "SAE_Z"               # slave SAE (dec_keys)
//! keys_per_second = 20.0
//! ```
//!
//! Every error names the node, link or demand it is about.

use crate::config::LinkConfig;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Errors of a topology file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopologyError {
    /// The file could not be read.
    #[error("reading network topology {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Not TOML of the topology's shape.
    #[error("network topology: {0}")]
    Parse(#[from] toml::de::Error),
    /// A node, link or demand is wrong; the message names it.
    #[error("network topology: {0}")]
    Invalid(String),
    /// A link's configuration is wrong.
    #[error("network topology: link {link}")]
    LinkConfig {
        /// The link.
        link: String,
        /// Cause.
        #[source]
        source: crate::config::ConfigError,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Option<toml::Table>,
    #[serde(default)]
    node: Vec<NodeSpec>,
    #[serde(default)]
    link: Vec<LinkSpec>,
    #[serde(default)]
    demand: Vec<DemandSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    name: String,
    #[serde(default)]
    saes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkSpec {
    between: [String; 2],
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    length_km: Option<f64>,
    #[serde(default)]
    config: Option<PathBuf>,
    #[serde(default)]
    overrides: Option<toml::Table>,
    #[serde(default)]
    attack: Option<String>,
    #[serde(default)]
    attack_from_s: Option<f64>,
    #[serde(default)]
    seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemandSpec {
    from: String,
    to: String,
    keys_per_second: f64,
    #[serde(default = "default_key_bits")]
    key_bits: u32,
}

fn default_key_bits() -> u32 {
    256
}

/// A trusted node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name.
    pub name: String,
    /// SAEs attached to it.
    pub saes: Vec<String>,
}

/// A link between two adjacent nodes.
#[derive(Debug, Clone)]
pub struct Link {
    /// Name (`A-B` unless given).
    pub name: String,
    /// Index of the node at Alice's end.
    pub alice: usize,
    /// Index of the node at Bob's end.
    pub bob: usize,
    /// The link's configuration.
    pub config: LinkConfig,
    /// Simulated attack on it.
    pub attack: Option<qkd_sim::physics::AttackKind>,
    /// When the attack starts, seconds into the run.
    pub attack_from_s: f64,
    /// Physics seed (default: from the link name).
    pub seed: u64,
}

/// Keys an application pair asks for.
#[derive(Debug, Clone)]
pub struct Demand {
    /// Master SAE (calls enc_keys at its node's KME).
    pub from_sae: String,
    /// Slave SAE (calls dec_keys at its node's KME).
    pub to_sae: String,
    /// Node of the master SAE.
    pub from: usize,
    /// Node of the slave SAE.
    pub to: usize,
    /// Requests per second (one key each).
    pub keys_per_second: f64,
    /// Bits of each key (a multiple of 8).
    pub key_bits: u32,
}

/// A validated network.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Links.
    pub links: Vec<Link>,
    /// Key demand.
    pub demands: Vec<Demand>,
}

/// Deep merge of TOML tables: `over` wins key by key.
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

impl Topology {
    /// Read and validate a topology file (link `config` paths are relative
    /// to it).
    pub fn load(path: &Path) -> Result<Topology, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Topology::from_toml_str(&text, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parse and validate; `dir` resolves relative link `config` paths.
    pub fn from_toml_str(text: &str, dir: &Path) -> Result<Topology, TopologyError> {
        let f: File = toml::from_str(text)?;
        let bad = |m: String| TopologyError::Invalid(m);
        if f.node.len() < 2 {
            return Err(bad(format!(
                "a network needs at least two [[node]] tables, found {}",
                f.node.len()
            )));
        }
        let mut index = BTreeMap::new();
        let mut sae_node = BTreeMap::new();
        for (i, n) in f.node.iter().enumerate() {
            if n.name.is_empty() || n.name.len() > 64 {
                return Err(bad(format!("node {}: a name of 1 to 64 bytes", i + 1)));
            }
            if index.insert(n.name.clone(), i).is_some() {
                return Err(bad(format!("node '{}' is defined twice", n.name)));
            }
            for s in &n.saes {
                if let Some(other) = sae_node.insert(s.clone(), i) {
                    return Err(bad(format!(
                        "SAE '{s}' is attached to node '{}' and to node '{}'",
                        f.node[other].name, n.name
                    )));
                }
            }
        }
        let mut pairs = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut links = Vec::new();
        for (i, l) in f.link.iter().enumerate() {
            let [a, b] = &l.between;
            let name = l.name.clone().unwrap_or_else(|| format!("{a}-{b}"));
            let node = |n: &String| {
                index.get(n).copied().ok_or_else(|| {
                    bad(format!(
                        "link {name} (link {}): unknown node '{n}' (nodes: {})",
                        i + 1,
                        f.node
                            .iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            };
            let (ia, ib) = (node(a)?, node(b)?);
            if ia == ib {
                return Err(bad(format!("link {name}: both ends are node '{a}'")));
            }
            if !pairs.insert((ia.min(ib), ia.max(ib))) {
                return Err(bad(format!(
                    "link {name}: nodes '{a}' and '{b}' are already linked"
                )));
            }
            if !names.insert(name.clone()) {
                return Err(bad(format!("link name '{name}' is used twice")));
            }
            let mut table = match &l.config {
                Some(p) => {
                    let p = dir.join(p);
                    let text = std::fs::read_to_string(&p).map_err(|source| TopologyError::Io {
                        path: p.clone(),
                        source,
                    })?;
                    text.parse::<toml::Table>()
                        .map_err(|e| bad(format!("link {name}: config {}: {e}", p.display())))?
                }
                None => toml::Table::new(),
            };
            if let Some(d) = &f.defaults {
                let mut base = d.clone();
                merge(&mut base, &table);
                table = base;
            }
            if let Some(o) = &l.overrides {
                merge(&mut table, o);
            }
            if let Some(km) = l.length_km {
                let mut ch = toml::Table::new();
                ch.insert("length_km".into(), toml::Value::Float(km));
                let mut o = toml::Table::new();
                o.insert("channel".into(), toml::Value::Table(ch));
                merge(&mut table, &o);
            }
            let config = LinkConfig::from_toml_str(&table.to_string()).map_err(|source| {
                TopologyError::LinkConfig {
                    link: name.clone(),
                    source,
                }
            })?;
            let attack = match &l.attack {
                Some(a) => Some(
                    a.parse::<qkd_sim::physics::AttackKind>()
                        .map_err(|e| bad(format!("link {name}: attack '{a}': {e}")))?,
                ),
                None => None,
            };
            let attack_from_s = l.attack_from_s.unwrap_or(0.0);
            if !(attack_from_s.is_finite() && attack_from_s >= 0.0) {
                return Err(bad(format!(
                    "link {name}: attack_from_s {attack_from_s} must be a time >= 0 s"
                )));
            }
            links.push(Link {
                seed: l
                    .seed
                    .unwrap_or_else(|| qkd_model::clicks::seed_from_name(&name)),
                name,
                alice: ia,
                bob: ib,
                config,
                attack,
                attack_from_s,
            });
        }
        let mut demands = Vec::new();
        for d in &f.demand {
            let what = format!("demand {} -> {}", d.from, d.to);
            let node = |s: &String| {
                sae_node
                    .get(s)
                    .copied()
                    .ok_or_else(|| bad(format!("{what}: SAE '{s}' is attached to no node")))
            };
            let (from, to) = (node(&d.from)?, node(&d.to)?);
            if from == to {
                return Err(bad(format!(
                    "{what}: both SAEs are at node '{}' (no relay needed)",
                    f.node[from].name
                )));
            }
            if !(d.keys_per_second.is_finite()
                && d.keys_per_second > 0.0
                && d.keys_per_second <= 1e6)
            {
                return Err(bad(format!(
                    "{what}: keys_per_second {} must be in (0, 1e6]",
                    d.keys_per_second
                )));
            }
            if d.key_bits == 0 || !d.key_bits.is_multiple_of(8) || d.key_bits > 65_536 {
                return Err(bad(format!(
                    "{what}: key_bits {} must be a multiple of 8 in [8, 65536]",
                    d.key_bits
                )));
            }
            demands.push(Demand {
                from_sae: d.from.clone(),
                to_sae: d.to.clone(),
                from,
                to,
                keys_per_second: d.keys_per_second,
                key_bits: d.key_bits,
            });
        }
        Ok(Topology {
            nodes: f
                .node
                .into_iter()
                .map(|n| Node {
                    name: n.name,
                    saes: n.saes,
                })
                .collect(),
            links,
            demands,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: &str = r#"
[defaults]
postprocessing.block_bits = 2e5
[[node]]
name = "A"
saes = ["SAE_A"]
[[node]]
name = "B"
[[node]]
name = "C"
saes = ["SAE_C"]
[[link]]
between = ["A", "B"]
length_km = 12.0
[[link]]
between = ["B", "C"]
[link.overrides]
channel.length_km = 30.0
[[demand]]
from = "SAE_A"
to = "SAE_C"
keys_per_second = 5.0
"#;

    #[test]
    fn a_chain_parses_with_defaults_and_overrides() {
        let t = Topology::from_toml_str(CHAIN, Path::new(".")).unwrap();
        assert_eq!(t.nodes.len(), 3);
        assert_eq!(t.links[0].name, "A-B");
        assert_eq!(t.links[0].config.channel.length_km, 12.0);
        assert_eq!(t.links[1].config.channel.length_km, 30.0);
        assert_eq!(t.links[1].config.postprocessing.block_bits, 2e5);
        assert_ne!(t.links[0].seed, t.links[1].seed);
        assert_eq!((t.demands[0].from, t.demands[0].to), (0, 2));
        assert_eq!(t.demands[0].key_bits, 256);
    }

    #[test]
    fn errors_name_the_node_link_or_demand() {
        let cases = [
            (
                CHAIN.replace("between = [\"A\", \"B\"]", "between = [\"A\", \"Q\"]"),
                "unknown node 'Q'",
            ),
            (
                CHAIN.replace("between = [\"B\", \"C\"]", "between = [\"B\", \"B\"]"),
                "both ends are node 'B'",
            ),
            (
                CHAIN.replace("between = [\"B\", \"C\"]", "between = [\"B\", \"A\"]"),
                "already linked",
            ),
            (
                CHAIN.replace("name = \"C\"", "name = \"A\""),
                "node 'A' is defined twice",
            ),
            (
                CHAIN.replace("to = \"SAE_C\"", "to = \"SAE_X\""),
                "SAE 'SAE_X' is attached to no node",
            ),
            (
                CHAIN.replace("keys_per_second = 5.0", "keys_per_second = -1.0"),
                "keys_per_second -1",
            ),
            (
                CHAIN.replace("length_km = 12.0", "length_km = -3.0"),
                "link A-B",
            ),
            (
                CHAIN.replace("channel.length_km = 30.0", "channel.lenght_km = 30.0"),
                "link B-C",
            ),
            (CHAIN.replace("[[demand]]", "[[demnd]]"), "unknown field"),
        ];
        for (text, want) in cases {
            let e = Topology::from_toml_str(&text, Path::new(".")).unwrap_err();
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg += &format!(": {s}");
                src = s.source();
            }
            assert!(msg.contains(want), "want '{want}' in: {msg}");
        }
    }
}

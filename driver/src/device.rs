// SPDX-License-Identifier: MIT OR Apache-2.0
//! Opening a device by URI and binding it.
//!
//! | URI                            | backend                                   |
//! |--------------------------------|-------------------------------------------|
//! | `xdma:/dev/xdma0[?c2h=K&bar_bytes=N]` | Xilinx XDMA character devices ([`crate::xdma`]) |
//! | `vfio:0000:03:00.0[?descriptors=N&buffer_bytes=B]` | VFIO, pure userspace, XDMA C2H driven by the driver ([`crate::vfio`]) |
//! | `sim:...`, `sim+verilator:...` | supplied by the caller's [`BackendProvider`] (qkd-sim) |
//!
//! There is no global registry (STYLE.md anti-pattern A7): [`open`] knows
//! the built-in schemes, [`open_with`] additionally asks a provider.

use crate::error::{Error, Result};
use crate::header::{bind, DeviceHeader, FoundBlock};
use crate::transport::{EventSource, RegIo};
use qkd_abi::{RegisterMap, Role};

/// Schemes built into the driver.
pub const BUILTIN_SCHEMES: &[&str] = &["xdma", "vfio"];

/// A parsed device URI: `scheme:target[?key=value&...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUri {
    /// The whole URI as given.
    pub uri: String,
    /// Scheme (`xdma`, `vfio`, `sim`, `sim+verilator`, ...).
    pub scheme: String,
    /// Everything between the first ':' and '?'.
    pub target: String,
    /// `key=value` options after '?', in order.
    pub options: Vec<(String, String)>,
}

impl DeviceUri {
    /// Parse `scheme:target[?k=v&k=v]`.
    pub fn parse(uri: &str) -> Result<DeviceUri> {
        let bad = |reason: &str| Error::BadUri {
            uri: uri.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = uri
            .split_once(':')
            .ok_or_else(|| bad("expected 'scheme:target', e.g. 'xdma:/dev/xdma0'"))?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '_')
        {
            return Err(bad(
                "the scheme must be non-empty and made of letters, digits, '+', '-' or '_'",
            ));
        }
        let (target, query) = match rest.split_once('?') {
            Some((t, q)) => (t, Some(q)),
            None => (rest, None),
        };
        let mut options = Vec::new();
        for kv in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|s| !s.is_empty())
        {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| bad("options must be key=value"))?;
            options.push((k.to_string(), v.to_string()));
        }
        Ok(DeviceUri {
            uri: uri.to_string(),
            scheme: scheme.to_string(),
            target: target.to_string(),
            options,
        })
    }

    /// Value of option `key`.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Numeric option `key` (decimal or 0x-hex), or `default`.
    pub fn option_u64(&self, key: &str, default: u64) -> Result<u64> {
        match self.option(key) {
            None => Ok(default),
            Some(v) => {
                let parsed = match v.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16),
                    None => v.parse(),
                };
                parsed.map_err(|_| Error::BadUri {
                    uri: self.uri.clone(),
                    reason: format!("option {key}={v} is not a number"),
                })
            }
        }
    }

    /// Refuse options other than `allowed`.
    pub fn only_options(&self, allowed: &[&str]) -> Result<()> {
        match self
            .options
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()))
        {
            Some((k, _)) => Err(Error::BadUri {
                uri: self.uri.clone(),
                reason: format!(
                    "unknown option '{k}' for scheme {} (known: {})",
                    self.scheme,
                    allowed.join(", ")
                ),
            }),
            None => Ok(()),
        }
    }
}

/// A backend's two halves, before binding.
pub struct Backend {
    /// Register access.
    pub regs: Box<dyn RegIo>,
    /// Record stream, if the backend has one.
    pub events: Option<Box<dyn EventSource>>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("window_bytes", &self.regs.window_bytes())
            .field("events", &self.events.is_some())
            .finish()
    }
}

/// The hook through which other crates (qkd-sim) supply devices for their
/// own schemes, behind the same [`RegIo`] + [`EventSource`] traits.
pub trait BackendProvider {
    /// The schemes this provider opens (e.g. `["sim", "sim+verilator"]`).
    fn schemes(&self) -> Vec<String>;
    /// Open `uri`, whose scheme is one of [`BackendProvider::schemes`].
    fn open_backend(&self, uri: &DeviceUri) -> Result<Backend>;
}

/// A provider that supplies nothing: [`open`] uses it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProvider;

impl BackendProvider for NoProvider {
    fn schemes(&self) -> Vec<String> {
        Vec::new()
    }
    fn open_backend(&self, uri: &DeviceUri) -> Result<Backend> {
        Err(Error::UnknownScheme {
            uri: uri.uri.clone(),
            scheme: uri.scheme.clone(),
            supported: BUILTIN_SCHEMES.join(", "),
        })
    }
}

/// Open the backend named by `uri` without binding (no header check).
pub fn open_backend(uri: &str, provider: &dyn BackendProvider) -> Result<Backend> {
    let u = DeviceUri::parse(uri)?;
    match u.scheme.as_str() {
        "xdma" => crate::xdma::open(&u),
        "vfio" => crate::vfio::open(&u),
        s if provider.schemes().iter().any(|p| p == s) => provider.open_backend(&u),
        _ => {
            let mut all: Vec<String> = BUILTIN_SCHEMES.iter().map(|s| s.to_string()).collect();
            all.extend(provider.schemes());
            Err(Error::UnknownScheme {
                uri: u.uri.clone(),
                scheme: u.scheme.clone(),
                supported: all.join(", "),
            })
        }
    }
}

/// A bound device: header checked, register map built, blocks found.
pub struct Device {
    /// The URI it was opened with.
    pub uri: String,
    /// The header read at open.
    pub header: DeviceHeader,
    /// The register map the header describes.
    pub map: RegisterMap,
    /// The blocks found on the BLOCK_ID chain.
    pub blocks: Vec<FoundBlock>,
    regs: Box<dyn RegIo>,
    events: Option<Box<dyn EventSource>>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("uri", &self.uri)
            .field("header", &self.header)
            .finish()
    }
}

impl Device {
    /// Bind a backend: check the header (and role, if given) and the chain.
    pub fn bind(uri: &str, mut backend: Backend, expected_role: Option<Role>) -> Result<Device> {
        let (header, map, blocks) = bind(backend.regs.as_mut(), expected_role)?;
        Ok(Device {
            uri: uri.to_string(),
            header,
            map,
            blocks,
            regs: backend.regs,
            events: backend.events,
        })
    }
    /// Register access.
    pub fn regs(&mut self) -> &mut dyn RegIo {
        self.regs.as_mut()
    }
    /// The card-side DMA engine the event stream drives, if any (and if the
    /// stream has not been taken).
    pub fn dma_engine(&self) -> Option<crate::vfio::engine::DmaEngineInfo> {
        self.events.as_ref().and_then(|e| e.dma_engine())
    }
    /// Take the event stream out (e.g. to read it in another thread).
    pub fn take_events(&mut self) -> Result<Box<dyn EventSource>> {
        self.events.take().ok_or_else(|| Error::NoEventStream {
            uri: self.uri.clone(),
        })
    }
    /// Read MAGIC again: [`Error::DeviceGone`] if it reads all ones (the card
    /// left the bus), [`Error::BadMagic`] if it changed otherwise.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.regs.read32(0)? {
            qkd_abi::MAGIC => Ok(()),
            u32::MAX => Err(Error::DeviceGone { offset: 0 }),
            found => Err(Error::BadMagic {
                found,
                expected: qkd_abi::MAGIC,
            }),
        }
    }
}

/// Open and bind a device with a built-in scheme (`xdma:`, `vfio:`).
pub fn open(uri: &str) -> Result<Device> {
    open_with(uri, &NoProvider, None)
}

/// Open and bind a device, asking `provider` for schemes the driver does
/// not know (qkd-sim's `sim:` and `sim+verilator:`). `expected_role`
/// `Some(r)` refuses a core of the other role.
pub fn open_with(
    uri: &str,
    provider: &dyn BackendProvider,
    expected_role: Option<Role>,
) -> Result<Device> {
    let backend = open_backend(uri, provider)?;
    Device::bind(uri, backend, expected_role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::MemRegs;

    #[test]
    fn uri_parsing() {
        let u = DeviceUri::parse("vfio:0000:03:00.0?ring_bytes=0x10000").unwrap();
        assert_eq!(u.scheme, "vfio");
        assert_eq!(u.target, "0000:03:00.0");
        assert_eq!(u.option_u64("ring_bytes", 0).unwrap(), 0x10000);
        assert!(u.only_options(&["c2h"]).is_err());
        let u = DeviceUri::parse("sim+verilator:bob?seed=3").unwrap();
        assert_eq!(u.scheme, "sim+verilator");
        assert!(DeviceUri::parse("/dev/xdma0").is_err());
        assert!(DeviceUri::parse("xdma:/dev/xdma0?c2h").is_err());
    }

    #[test]
    fn unknown_scheme_lists_supported() {
        let e = open("sim:alice").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("'sim'") && msg.contains("xdma, vfio"), "{msg}");
    }

    struct Sim;
    impl BackendProvider for Sim {
        fn schemes(&self) -> Vec<String> {
            vec!["sim".into()]
        }
        fn open_backend(&self, uri: &DeviceUri) -> Result<Backend> {
            let role: Role = uri.target.parse().map_err(|e: String| Error::BadUri {
                uri: uri.uri.clone(),
                reason: e,
            })?;
            let map = RegisterMap::new(qkd_abi::GenParams::default_for(role));
            Ok(Backend {
                regs: Box::new(MemRegs::from_map(&map)),
                events: None,
            })
        }
    }

    #[test]
    fn provider_hook_opens_its_schemes() {
        let mut d = open_with("sim:bob", &Sim, Some(Role::Bob)).unwrap();
        assert_eq!(d.header.role, Role::Bob);
        assert!(d.take_events().is_err());
        d.check_alive().unwrap();
        let e = open_with("sim:alice", &Sim, Some(Role::Bob)).unwrap_err();
        assert_eq!(e.to_string(), "wrong role: found alice, expected bob");
        let e = open_with("nope:x", &Sim, None).unwrap_err();
        assert!(e.to_string().contains("xdma, vfio, sim"), "{e}");
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Hop-by-hop key relay over trusted nodes, as in the trusted-node
//! networks (the Beijing-Shanghai backbone, SECOQC, Tokyo QKD network;
//! ETSI GS QKD 014 key delivery at the two ends).
//!
//! The node of the master SAE draws the end-to-end key K. For each hop
//! u -> v of the route, u sends `c = K XOR p` with `p` fresh key of link
//! (u, v) (a one-time pad), authenticated by the Wegman-Carter tag
//! `POLYVAL_h(c) XOR t` (Wegman & Carter, JCSS 22, 265, 1981), `h` the
//! link's hash key and `t` 16 more fresh bytes of its key; v checks the
//! tag with its own copy of the link key, recovers K, forgets `p`, and
//! sends K on. Every link key byte is used once, at both of its ends in
//! the same order, and deleted as it is used.
//!
//! Trusted-node model: every node on the route holds K in the clear while
//! it relays it. The end-to-end key is as secret as the least secure node
//! on its route; a user who cannot trust the relays needs another route
//! (or a quantum repeater). Authentication makes a tampered hop fail, it
//! does not hide K from the relays.

use qkd_keyproc::auth::wc_tag;
use std::collections::VecDeque;
use zeroize::{Zeroize, Zeroizing};

/// Message type authenticated in a relay hop's tag.
const MSG_RELAY: u16 = 0x0901;
/// Bytes of a hop's tag pad (and of a link's hash key).
pub const TAG_BYTES: usize = 16;

/// Why a relay failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RelayError {
    /// No route of links that are up and hold enough key.
    #[error("no route from node {from} to node {to} with {bytes} bytes of key per link")]
    NoRoute {
        /// Source node.
        from: usize,
        /// Destination node.
        to: usize,
        /// Key bytes each hop needs.
        bytes: usize,
    },
    /// A hop's tag did not verify (the two ends' link keys differ).
    #[error("relay hop over link {link}: tag mismatch")]
    Authentication {
        /// Link index.
        link: usize,
    },
}

/// One end's copy of a link's key: appended as blocks commit, used front
/// to back, each byte once, zeroized as it is used.
#[derive(Default)]
pub struct KeyBuffer {
    bytes: Zeroizing<Vec<u8>>,
    pos: usize,
    made: u64,
    used: u64,
}

impl KeyBuffer {
    /// Append key bytes.
    pub fn push(&mut self, key: &[u8]) {
        if self.pos > self.bytes.len() / 2 {
            self.bytes.drain(..self.pos);
            self.pos = 0;
        }
        self.bytes.extend_from_slice(key);
        self.made += key.len() as u64;
    }

    /// Bytes not used yet.
    pub fn available(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Take the next `n` bytes (`None`: not enough).
    pub fn take(&mut self, n: usize) -> Option<Zeroizing<Vec<u8>>> {
        if self.available() < n {
            return None;
        }
        let s = &mut self.bytes[self.pos..self.pos + n];
        let out = Zeroizing::new(s.to_vec());
        s.zeroize();
        self.pos += n;
        self.used += n as u64;
        Some(out)
    }

    /// Bytes made and used so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.made, self.used)
    }
}

/// A link as the relay sees it.
pub struct RelayLink {
    /// Node at Alice's end.
    pub alice: usize,
    /// Node at Bob's end.
    pub bob: usize,
    /// Key at Alice's end and at Bob's end.
    pub ends: [KeyBuffer; 2],
    hash_keys: [Option<Zeroizing<[u8; TAG_BYTES]>>; 2],
    /// An alarm took the link out of routing.
    pub down: bool,
    seq: u64,
}

/// A route: `(link, direction)` per hop, direction 0 from Alice's end to
/// Bob's.
pub type Route = Vec<(usize, usize)>;

/// The relay over a network's links.
pub struct Relay {
    nodes: usize,
    /// The links.
    pub links: Vec<RelayLink>,
}

fn hash_key(b: &[u8]) -> Zeroizing<[u8; TAG_BYTES]> {
    let mut h = Zeroizing::new([0u8; TAG_BYTES]);
    h.copy_from_slice(b);
    h
}

impl Relay {
    /// A relay over `nodes` nodes and links `(alice node, bob node)`.
    pub fn new(nodes: usize, links: &[(usize, usize)]) -> Relay {
        Relay {
            nodes,
            links: links
                .iter()
                .map(|&(alice, bob)| RelayLink {
                    alice,
                    bob,
                    ends: Default::default(),
                    hash_keys: [None, None],
                    down: false,
                    seq: 0,
                })
                .collect(),
        }
    }

    /// New key of `link` at its two ends (equal when the link works). The
    /// first 16 bytes of each end become its hash key.
    pub fn add_key(&mut self, link: usize, alice: &[u8], bob: &[u8]) {
        let l = &mut self.links[link];
        for (e, k) in [alice, bob].into_iter().enumerate() {
            l.ends[e].push(k);
            if l.hash_keys[e].is_none() {
                if let Some(h) = l.ends[e].take(TAG_BYTES) {
                    l.hash_keys[e] = Some(hash_key(&h));
                }
            }
        }
    }

    /// Take `link` out of routing (an alarm).
    pub fn set_down(&mut self, link: usize) {
        self.links[link].down = true;
    }

    fn usable(&self, link: usize, bytes: usize) -> bool {
        let l = &self.links[link];
        !l.down
            && l.hash_keys.iter().all(Option::is_some)
            && l.ends.iter().all(|e| e.available() >= bytes)
    }

    /// The route with the fewest hops from `from` to `to` over links that
    /// are up and hold `bytes` per end: `(link, direction)` per hop,
    /// direction 0 from Alice's end to Bob's.
    pub fn route(&self, from: usize, to: usize, bytes: usize) -> Option<Route> {
        let mut prev: Vec<Option<(usize, usize, usize)>> = vec![None; self.nodes];
        let mut seen = vec![false; self.nodes];
        let mut q = VecDeque::from([from]);
        seen[from] = true;
        while let Some(u) = q.pop_front() {
            if u == to {
                break;
            }
            for (i, l) in self.links.iter().enumerate() {
                let (v, dir) = if l.alice == u {
                    (l.bob, 0)
                } else if l.bob == u {
                    (l.alice, 1)
                } else {
                    continue;
                };
                if !seen[v] && self.usable(i, bytes) {
                    seen[v] = true;
                    prev[v] = Some((u, i, dir));
                    q.push_back(v);
                }
            }
        }
        if !seen[to] {
            return None;
        }
        let mut hops = Vec::new();
        let mut v = to;
        while v != from {
            let (u, link, dir) = prev[v]?;
            hops.push((link, dir));
            v = u;
        }
        hops.reverse();
        Some(hops)
    }

    /// Relay `key` from node `from` to node `to`; returns the key as the
    /// destination node recovered it and the route taken.
    pub fn relay(
        &mut self,
        from: usize,
        to: usize,
        key: &[u8],
    ) -> Result<(Zeroizing<Vec<u8>>, Route), RelayError> {
        let bytes = key.len() + TAG_BYTES;
        let hops = self
            .route(from, to, bytes)
            .ok_or(RelayError::NoRoute { from, to, bytes })?;
        let mut k = Zeroizing::new(key.to_vec());
        for &(link, dir) in &hops {
            let l = &mut self.links[link];
            let (tx, rx) = (dir, 1 - dir);
            l.seq += 1;
            // Sender: one-time pad and tag with its end's key.
            let Some(pad) = l.ends[tx].take(key.len()) else {
                unreachable!("route checked the key")
            };
            let Some(tpad) = l.ends[tx].take(TAG_BYTES) else {
                unreachable!("route checked the key")
            };
            let c: Vec<u8> = k.iter().zip(pad.iter()).map(|(a, b)| a ^ b).collect();
            let tag = match &l.hash_keys[tx] {
                Some(h) => wc_tag(h, &pad16(&tpad), MSG_RELAY, l.seq, &c),
                None => unreachable!("route checked the hash keys"),
            };
            k.zeroize();
            // Receiver: the same bytes of its own copy of the link key.
            let (Some(pad), Some(tpad)) = (l.ends[rx].take(key.len()), l.ends[rx].take(TAG_BYTES))
            else {
                unreachable!("route checked the key")
            };
            let ok = match &l.hash_keys[rx] {
                Some(h) => wc_tag(h, &pad16(&tpad), MSG_RELAY, l.seq, &c) == tag,
                None => false,
            };
            if !ok {
                return Err(RelayError::Authentication { link });
            }
            k = Zeroizing::new(c.iter().zip(pad.iter()).map(|(a, b)| a ^ b).collect());
        }
        Ok((k, hops))
    }
}

fn pad16(b: &[u8]) -> [u8; TAG_BYTES] {
    let mut p = [0u8; TAG_BYTES];
    p.copy_from_slice(b);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize, bytes: usize) -> Relay {
        let links: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let mut r = Relay::new(n, &links);
        for i in 0..n - 1 {
            let k: Vec<u8> = (0..bytes).map(|j| (i * 31 + j * 7) as u8).collect();
            r.add_key(i, &k, &k);
        }
        r
    }

    #[test]
    fn a_key_crosses_a_chain_using_each_link_key_once() {
        let mut r = chain(5, 16 + 3 * 48);
        for round in 0..3u8 {
            let key = [round; 32];
            let (got, hops) = r.relay(0, 4, &key).unwrap();
            assert_eq!(&got[..], &key[..]);
            assert_eq!(hops.len(), 4);
        }
        for l in &r.links {
            assert_eq!(l.ends[0].counts(), l.ends[1].counts());
            assert_eq!(l.ends[0].counts(), (16 + 144, 16 + 144));
        }
        assert!(matches!(
            r.relay(0, 4, &[0; 32]),
            Err(RelayError::NoRoute {
                from: 0,
                to: 4,
                bytes: 48
            })
        ));
    }

    #[test]
    fn routes_avoid_links_that_are_down_or_dry_and_go_both_ways() {
        // A square 0-1-2 and 0-3-2.
        let mut r = Relay::new(4, &[(0, 1), (1, 2), (0, 3), (3, 2)]);
        for l in 0..4 {
            r.add_key(l, &[l as u8; 200], &[l as u8; 200]);
        }
        assert_eq!(r.route(0, 2, 48).unwrap(), vec![(0, 0), (1, 0)]);
        r.set_down(1);
        assert_eq!(r.route(0, 2, 48).unwrap(), vec![(2, 0), (3, 0)]);
        assert_eq!(r.route(2, 0, 48).unwrap(), vec![(3, 1), (2, 1)]);
        let (k, _) = r.relay(2, 0, &[9; 32]).unwrap();
        assert_eq!(&k[..], &[9; 32]);
        assert!(r.route(0, 2, 1000).is_none());
    }

    /// A hop whose tag bytes differ between the ends (a tampered hop
    /// looks the same to the receiver) fails; the ends' link keys are
    /// otherwise equal by the link's own verification (eps_cor).
    #[test]
    fn a_hop_whose_tag_does_not_verify_fails() {
        let mut r = Relay::new(2, &[(0, 1)]);
        let mut b = vec![5u8; 100];
        r.add_key(0, &b, &b);
        // Stream byte 150: the tag pad of the third relay (bytes 144..160).
        b[50] ^= 1;
        r.add_key(0, &[5u8; 100], &b);
        assert!(r.relay(0, 1, &[1; 32]).is_ok());
        let mut got = None;
        for _ in 0..3 {
            if let Err(e) = r.relay(0, 1, &[1; 32]) {
                got = Some(e);
                break;
            }
        }
        assert_eq!(got, Some(RelayError::Authentication { link: 0 }));
    }
}

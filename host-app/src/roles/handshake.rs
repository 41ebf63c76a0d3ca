// SPDX-License-Identifier: MIT OR Apache-2.0
//! The session opening of a link: one authenticated HELLO each way, so that
//! no message from an unauthenticated sender moves a pad position, reserves
//! a pad or changes any state.
//!
//! Each HELLO names the absolute position `p` of the sender's send pad that
//! tags it (Wegman-Carter, JCSS 22, 265, 1981: tag = POLYVAL_K(HELLO) XOR
//! pad_p). The receiver checks the tag with its receive pad at `p` without
//! taking it, and only if the tag verifies does it move its receive
//! position past `p` (the pads in between were spent by the sender on
//! messages lost with an earlier connection). A forged, flipped or replayed
//! HELLO fails the tag or names a position already passed, and ends that
//! connection attempt with nothing changed.
//!
//! ```text
//!  Bob (connects)                         Alice (accepts)
//!  HELLO(p, fed) ───────────────────────▶ verify with pad p, remember p
//!                ◀─────────────────────── HELLO(q, fed, epoch, answering p)
//!  verify with pad q, answering == p
//! ```
//!
//! Alice's HELLO carries the link epoch (`linkstate::LinkEpoch`) that key
//! IDs derive from; Bob adopts it from the first one that verifies and
//! refuses any other afterwards.
//!
//! Cost: one pad per direction per opening, and only once authenticated.
//! A HELLO that got no authenticated answer stays outstanding (durably, in
//! `linkstate::Progress`) and is sent again byte for byte on the next
//! connection: re-sending the same message with the same pad reveals
//! nothing new, so an attacker who cuts connections cannot make either end
//! spend pads. Alice answers only a verified HELLO, and takes a new pad
//! only for a Bob HELLO she has not answered before; Bob takes a new pad
//! only after Alice's answer to his previous one verified. Alice's answer
//! names Bob's position, so a replayed old answer is refused.
//!
//! Before a HELLO leaves, its pad position is durably reserved
//! (`persist`), so a crash never lets a pad tag two different messages.

use crate::linkstate::{OwnHello, Progress};
use qkd_keyproc::auth::{AuthError, KeyPool};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame};
use std::time::Duration;

/// Message type of the HELLO (host range 0x08xx).
pub const MSG_HELLO: u16 = 0x0801;
const HELLO_MAGIC: &[u8; 4] = b"QKDH";
const HELLO_VERSION: u8 = 3;
const NONE: u64 = u64::MAX;
/// Bytes of a HELLO on the wire.
pub const HELLO_LEN: usize = 78;
/// The most a peer may send before its HELLO has verified.
pub const MAX_UNAUTHENTICATED_BYTES: usize = 64 << 10;

/// A session-opening message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// Sent by Alice.
    pub alice: bool,
    /// Link UUID.
    pub link: [u8; 16],
    /// Alice: the link epoch; Bob: zero.
    pub epoch: [u8; 16],
    /// Absolute position of the sender's send pad that tags this HELLO.
    pub pad_pos: u64,
    /// Windows the sender may have fed.
    pub fed_windows: u64,
    /// Alice: the pad position of the Bob HELLO this answers.
    pub answering: Option<u64>,
}

impl Hello {
    /// The authenticated part: `QKDH | version | role (0 Alice, 1 Bob) |
    /// link | epoch | pad_pos | fed_windows | answering (u64::MAX: none)`,
    /// integers little-endian, 62 bytes.
    fn body(&self) -> Vec<u8> {
        let mut m = HELLO_MAGIC.to_vec();
        m.push(HELLO_VERSION);
        m.push(u8::from(!self.alice));
        m.extend_from_slice(&self.link);
        m.extend_from_slice(&self.epoch);
        for x in [
            self.pad_pos,
            self.fed_windows,
            self.answering.unwrap_or(NONE),
        ] {
            m.extend_from_slice(&x.to_le_bytes());
        }
        m
    }

    /// Wire form: body then the 16-byte tag.
    pub fn encode(&self, tag: &[u8; 16]) -> Vec<u8> {
        let mut m = self.body();
        m.extend_from_slice(tag);
        m
    }

    /// Parse the wire form into the HELLO and its tag.
    pub fn decode(b: &[u8]) -> Result<(Hello, [u8; 16]), HelloError> {
        if b.len() != HELLO_LEN {
            return Err(HelloError::Malformed("length"));
        }
        if &b[..4] != HELLO_MAGIC {
            return Err(HelloError::Malformed("magic"));
        }
        if b[4] != HELLO_VERSION {
            return Err(HelloError::Malformed("version"));
        }
        if b[5] > 1 {
            return Err(HelloError::Malformed("role byte"));
        }
        let u = |at: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[at..at + 8]);
            u64::from_le_bytes(a)
        };
        let mut link = [0u8; 16];
        link.copy_from_slice(&b[6..22]);
        let mut epoch = [0u8; 16];
        epoch.copy_from_slice(&b[22..38]);
        if b[5] == 1 && epoch != [0; 16] {
            return Err(HelloError::Malformed("epoch in Bob's HELLO"));
        }
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&b[62..78]);
        let answering = u(54);
        Ok((
            Hello {
                alice: b[5] == 0,
                link,
                epoch,
                pad_pos: u(38),
                fed_windows: u(46),
                answering: (answering != NONE).then_some(answering),
            },
            tag,
        ))
    }
}

/// Why an opening failed. Every variant but [`HelloError::State`] and
/// [`HelloError::PoolExhausted`] ends only this connection attempt, with
/// no state changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HelloError {
    /// The HELLO is not in the wire form.
    #[error("malformed HELLO: {0}")]
    Malformed(&'static str),
    /// The HELLO claims the wrong role or link (unauthenticated: a
    /// misconfigured peer or a forgery).
    #[error("HELLO from the wrong peer: {0}")]
    WrongPeer(&'static str),
    /// The tag did not verify, or it names a pad position already passed
    /// (a forged, flipped or replayed HELLO).
    #[error("HELLO refused: {0}")]
    Refused(#[source] AuthError),
    /// Alice's HELLO answers another Bob HELLO (a replayed answer).
    #[error("HELLO answers pad {got:?}, expected {expected}")]
    NotAnswer {
        /// Position answered.
        got: Option<u64>,
        /// Bob's HELLO position.
        expected: u64,
    },
    /// The peer's HELLO did not arrive or the connection failed.
    #[error("classical channel")]
    Channel(#[source] ChannelError),
    /// No pad left to tag or check a HELLO: the pool is used up.
    #[error("authentication pool exhausted at the session opening")]
    PoolExhausted(#[source] AuthError),
    /// The opening state could not be made durable.
    #[error("saving the session-opening state: {0}")]
    State(String),
}

impl HelloError {
    /// True if only this connection attempt is lost (no state changed).
    pub fn is_transient(&self) -> bool {
        !matches!(self, HelloError::State(_) | HelloError::PoolExhausted(_))
    }
}

/// What an opening agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The peer's announced fed windows (authenticated).
    pub peer_fed_windows: u64,
    /// The peer's epoch field (authenticated): Alice's link epoch for Bob.
    pub peer_epoch: [u8; 16],
    /// Pads of each direction this opening took (0 for a re-sent HELLO).
    pub new_pads: (u64, u64),
}

/// One end's view for an opening.
pub struct Opening<'a> {
    /// Alice (accepts, answers) or Bob (connects, speaks first).
    pub alice: bool,
    /// Link UUID bytes.
    pub link: [u8; 16],
    /// Alice: the link epoch her HELLO carries (Bob's HELLO carries zero).
    pub epoch: [u8; 16],
    /// The session's pool; on success both positions are past the HELLOs.
    pub pool: &'a mut KeyPool,
    /// Durable opening state; `persist` is called with it before any HELLO
    /// leaves and after a peer HELLO is accepted.
    pub progress: &'a mut Progress,
    /// Receive timeout for the peer's HELLO.
    pub timeout: Duration,
}

impl Opening<'_> {
    /// Open the session: Bob sends first, Alice answers a verified HELLO.
    pub fn run<C: ClassicalChannel>(
        &mut self,
        chan: &mut C,
        persist: &mut dyn FnMut(&Progress) -> Result<(), String>,
    ) -> Result<Opened, HelloError> {
        if self.alice {
            self.run_alice(chan, persist)
        } else {
            self.run_bob(chan, persist)
        }
    }

    fn recv_hello<C: ClassicalChannel>(
        &self,
        chan: &mut C,
    ) -> Result<(Hello, [u8; 16]), HelloError> {
        let f = chan.recv(self.timeout).map_err(HelloError::Channel)?;
        if f.msg_type != MSG_HELLO {
            return Err(HelloError::Malformed("message type"));
        }
        let (h, tag) = Hello::decode(&f.payload)?;
        if h.alice == self.alice {
            return Err(HelloError::WrongPeer(
                "the peer runs the same role (alice must meet bob)",
            ));
        }
        if h.link != self.link {
            return Err(HelloError::WrongPeer(
                "the peer serves another link (--link-name differs)",
            ));
        }
        Ok((h, tag))
    }

    /// Check the peer's HELLO with the receive pad it names; it must be
    /// newer than the last one accepted, or (`resend_ok`) that same one.
    fn verify_peer(&self, h: &Hello, tag: &[u8; 16], resend_ok: bool) -> Result<(), HelloError> {
        match self.progress.peer_hello {
            Some(last) if h.pad_pos < last || (h.pad_pos == last && !resend_ok) => {
                return Err(HelloError::Refused(AuthError::PadPassed {
                    pos: h.pad_pos,
                    next: last + 1,
                }))
            }
            _ => {}
        }
        let body = h.body();
        // Any failure here is the peer's (a position beyond this end's pool
        // cannot be checked): refuse the HELLO, never treat it as exhaustion.
        self.pool
            .verify_at(h.pad_pos, MSG_HELLO, &body, tag)
            .map_err(HelloError::Refused)
    }

    fn send_own<C: ClassicalChannel>(&self, chan: &mut C, own: OwnHello) -> Result<(), HelloError> {
        let h = Hello {
            alice: self.alice,
            link: self.link,
            epoch: if self.alice { self.epoch } else { [0; 16] },
            pad_pos: own.pad_pos,
            fed_windows: own.fed_windows,
            answering: own.answering,
        };
        let tag = self
            .pool
            .tag_at(own.pad_pos, MSG_HELLO, &h.body())
            .map_err(HelloError::PoolExhausted)?;
        chan.send(&Frame::new(MSG_HELLO, h.encode(&tag)))
            .map_err(HelloError::Channel)
    }

    /// A new HELLO at the first send pad this end has surely not used.
    fn new_own(&self, answering: Option<u64>) -> Result<OwnHello, HelloError> {
        let pad_pos = self.pool.taken().0.max(self.progress.send_reserved);
        // Fail before reserving if the pool cannot tag it.
        self.pool
            .tag_at(pad_pos, MSG_HELLO, &[])
            .map_err(HelloError::PoolExhausted)?;
        Ok(OwnHello {
            pad_pos,
            fed_windows: self.progress.fed_windows,
            answering,
        })
    }

    fn run_bob<C: ClassicalChannel>(
        &mut self,
        chan: &mut C,
        persist: &mut dyn FnMut(&Progress) -> Result<(), String>,
    ) -> Result<Opened, HelloError> {
        // Re-send the outstanding HELLO if its pad is still at hand.
        let resend = self
            .progress
            .hello
            .filter(|h| self.pool.tag_at(h.pad_pos, MSG_HELLO, &[]).is_ok());
        let own = match resend {
            Some(h) => h,
            None => {
                let h = self.new_own(None)?;
                self.progress.hello = Some(h);
                self.progress.send_reserved = self.progress.send_reserved.max(h.pad_pos + 1);
                persist(self.progress).map_err(HelloError::State)?;
                h
            }
        };
        self.send_own(chan, own)?;
        let (h, tag) = self.recv_hello(chan)?;
        if h.answering != Some(own.pad_pos) {
            return Err(HelloError::NotAnswer {
                got: h.answering,
                expected: own.pad_pos,
            });
        }
        self.verify_peer(&h, &tag, false)?;
        self.pool
            .advance_to(own.pad_pos + 1, h.pad_pos + 1)
            .map_err(HelloError::PoolExhausted)?;
        self.progress.hello = None;
        self.progress.peer_hello = Some(h.pad_pos);
        persist(self.progress).map_err(HelloError::State)?;
        Ok(Opened {
            peer_fed_windows: h.fed_windows,
            peer_epoch: h.epoch,
            new_pads: (u64::from(resend.is_none()), 1),
        })
    }

    fn run_alice<C: ClassicalChannel>(
        &mut self,
        chan: &mut C,
        persist: &mut dyn FnMut(&Progress) -> Result<(), String>,
    ) -> Result<Opened, HelloError> {
        let (h, tag) = self.recv_hello(chan)?;
        // Bob re-sent the HELLO Alice already answered: answer it again,
        // unchanged (his copy of the answer was lost).
        let answered = self
            .progress
            .hello
            .filter(|own| own.answering == Some(h.pad_pos))
            .filter(|_| self.progress.peer_hello == Some(h.pad_pos));
        self.verify_peer(&h, &tag, answered.is_some())?;
        let own = match answered {
            Some(own) if self.pool.tag_at(own.pad_pos, MSG_HELLO, &[]).is_ok() => own,
            _ => {
                let own = self.new_own(Some(h.pad_pos))?;
                self.progress.hello = Some(own);
                self.progress.peer_hello = Some(h.pad_pos);
                self.progress.send_reserved = self.progress.send_reserved.max(own.pad_pos + 1);
                persist(self.progress).map_err(HelloError::State)?;
                own
            }
        };
        let fresh = Some(own) != answered;
        self.send_own(chan, own)?;
        self.pool
            .advance_to(own.pad_pos + 1, h.pad_pos + 1)
            .map_err(HelloError::PoolExhausted)?;
        Ok(Opened {
            peer_fed_windows: h.fed_windows,
            peer_epoch: h.epoch,
            new_pads: (u64::from(fresh), u64::from(fresh)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_keyproc::auth::Role;
    use qkd_keyproc::channel::InProcChannel;
    use qkd_keyproc::SecretKey;

    const T: Duration = Duration::from_secs(5);
    const LINK: [u8; 16] = [3; 16];
    const EPOCH: [u8; 16] = [0x5e; 16];

    fn pools() -> (KeyPool, KeyPool) {
        let b: Vec<u8> = (0..16 + 32 * 40).map(|i| (i * 37 + 11) as u8).collect();
        let k = SecretKey::from_bytes(&b);
        (
            KeyPool::bootstrap(&k, Role::Initiator).unwrap(),
            KeyPool::bootstrap(&k, Role::Responder).unwrap(),
        )
    }

    /// Run both ends of an opening on two threads; `mitm` may rewrite
    /// Bob's HELLO (the raw frame) on its way to Alice.
    fn open(
        a: &mut (KeyPool, Progress),
        b: &mut (KeyPool, Progress),
        mitm: impl FnOnce(Vec<u8>) -> Vec<u8>,
    ) -> (Result<Opened, HelloError>, Result<Opened, HelloError>) {
        let (mut bob_end, mut alice_end) = InProcChannel::pair();
        std::thread::scope(|s| {
            let hb = s.spawn(|| {
                let mut o = Opening {
                    alice: false,
                    link: LINK,
                    epoch: [0; 16],
                    pool: &mut b.0,
                    progress: &mut b.1,
                    timeout: Duration::from_millis(500),
                };
                o.run(&mut bob_end, &mut |_| Ok(()))
            });
            let raw = alice_end.recv_raw(T).unwrap();
            alice_end.inject_incoming(mitm(raw));
            let mut o = Opening {
                alice: true,
                link: LINK,
                epoch: EPOCH,
                pool: &mut a.0,
                progress: &mut a.1,
                timeout: T,
            };
            let ra = o.run(&mut alice_end, &mut |_| Ok(()));
            drop(alice_end);
            (ra, hb.join().unwrap())
        })
    }

    /// The pool as a role holds it: re-read from the state directory at
    /// every connection.
    fn reimport(p: &KeyPool) -> KeyPool {
        KeyPool::import(&p.export()).unwrap()
    }

    #[test]
    fn honest_opening_costs_one_pad_each_way() {
        let (pa, pb) = pools();
        let mut a = (pa, Progress::default());
        let mut b = (pb, Progress::default());
        let (ra, rb) = open(&mut a, &mut b, |m| m);
        assert_eq!(ra.unwrap().new_pads, (1, 1));
        let rb = rb.unwrap();
        assert_eq!(rb.new_pads, (1, 1));
        assert_eq!(rb.peer_epoch, EPOCH, "Bob learns Alice's epoch");
        assert_eq!(a.0.taken(), (1, 1));
        assert_eq!(b.0.taken(), (1, 1));
        assert_eq!(a.1.send_reserved, 1);
        assert_eq!(b.1.hello, None);
        // A second opening moves one more pad each way.
        let (ra, rb) = open(&mut a, &mut b, |m| m);
        ra.unwrap();
        rb.unwrap();
        assert_eq!(a.0.taken(), (2, 2));
        assert_eq!(b.0.taken(), (2, 2));
    }

    #[test]
    fn flipped_hello_changes_nothing_and_the_resend_opens() {
        for byte in [5usize, 9, 25, 30, 41, 49, 56, 66, 77] {
            let (pa, pb) = pools();
            let mut a = (pa, Progress::default());
            let mut b = (pb, Progress::default());
            let (ra, rb) = open(&mut a, &mut b, |mut m| {
                m[7 + byte] ^= 0x10;
                m
            });
            assert!(ra.is_err(), "byte {byte}: Alice accepted a flipped HELLO");
            assert!(rb.is_err());
            assert_eq!(a.0.taken(), (0, 0), "byte {byte}: Alice moved");
            assert_eq!(a.1, Progress::default(), "byte {byte}: Alice saved state");
            // Bob's HELLO stays outstanding and is sent again unchanged.
            let out = b.1.hello.expect("outstanding");
            let (ra, rb) = open(&mut a, &mut b, |m| m);
            ra.unwrap();
            assert_eq!(rb.unwrap().new_pads, (0, 1), "byte {byte}");
            assert_eq!(a.1.peer_hello, Some(out.pad_pos));
        }
    }

    #[test]
    fn replayed_and_forged_hellos_are_refused() {
        let (pa, pb) = pools();
        let mut a = (pa, Progress::default());
        let mut b = (pb, Progress::default());
        let captured = std::sync::Mutex::new(Vec::new());
        let (ra, rb) = open(&mut a, &mut b, |m| {
            *captured.lock().unwrap() = m.clone();
            m
        });
        ra.unwrap();
        rb.unwrap();
        let old = captured.into_inner().unwrap();
        let before = (a.0.taken(), a.1);
        // Replay Bob's old HELLO in place of his next one.
        let (ra, _) = open(&mut a, &mut b, |_| old.clone());
        assert!(matches!(ra, Err(HelloError::Refused(_))), "{ra:?}");
        assert_eq!((a.0.taken(), a.1), before);
        // A forged HELLO at a far position with a made-up tag.
        let forged = Hello {
            alice: false,
            link: LINK,
            epoch: [0; 16],
            pad_pos: 30,
            fed_windows: 1 << 40,
            answering: None,
        }
        .encode(&[0xAB; 16]);
        let (ra, _) = open(&mut a, &mut b, move |_| {
            Frame::new(MSG_HELLO, forged.clone()).encode().unwrap()
        });
        assert!(matches!(ra, Err(HelloError::Refused(_))), "{ra:?}");
        assert_eq!((a.0.taken(), a.1), before);
        // The honest ends still open (Bob re-sends his outstanding HELLO).
        let (ra, rb) = open(&mut a, &mut b, |m| m);
        ra.unwrap();
        rb.unwrap();
    }

    #[test]
    fn lost_answer_is_answered_again_with_the_same_pad() {
        let (pa, pb) = pools();
        let mut a = (pa, Progress::default());
        let mut b = (pb, Progress::default());
        let a_saved = reimport(&a.0);
        let b_saved = reimport(&b.0);
        let (ra, rb) = open(&mut a, &mut b, |m| m);
        ra.unwrap();
        rb.unwrap();
        // Bob never saw the answer: his state is as before the opening
        // but for the outstanding HELLO; both re-read their pools.
        let bob_hello = Progress {
            peer_hello: None,
            hello: Some(OwnHello {
                pad_pos: 0,
                fed_windows: 0,
                answering: None,
            }),
            send_reserved: 1,
            ..Progress::default()
        };
        let mut b = (reimport(&b_saved), bob_hello);
        a.0 = reimport(&a_saved);
        let (ra, rb) = open(&mut a, &mut b, |m| m);
        assert_eq!(ra.unwrap().new_pads, (0, 0), "Alice re-sends her answer");
        assert_eq!(rb.unwrap().new_pads, (0, 1));
        assert_eq!(a.0.taken(), (1, 1));
        assert_eq!(b.0.taken(), (1, 1));
    }

    #[test]
    fn a_hello_far_beyond_the_pool_is_refused_not_fatal() {
        let (pa, pb) = pools();
        let mut a = (pa, Progress::default());
        let mut b = (pb, Progress::default());
        let forged = Hello {
            alice: false,
            link: LINK,
            epoch: [0; 16],
            pad_pos: u64::MAX - 1,
            fed_windows: 0,
            answering: None,
        }
        .encode(&[0; 16]);
        let (ra, _) = open(&mut a, &mut b, move |_| {
            Frame::new(MSG_HELLO, forged).encode().unwrap()
        });
        let e = ra.unwrap_err();
        assert!(e.is_transient(), "{e:?}");
        assert_eq!(a.1, Progress::default());
    }

    #[test]
    fn hello_decoder_never_panics_and_round_trips() {
        let h = Hello {
            alice: true,
            link: [9; 16],
            epoch: [4; 16],
            pad_pos: 5,
            fed_windows: 6,
            answering: Some(7),
        };
        assert_eq!(Hello::decode(&h.encode(&[1; 16])).unwrap(), (h, [1; 16]));
        let bob = Hello { alice: false, ..h };
        assert!(matches!(
            Hello::decode(&bob.encode(&[1; 16])),
            Err(HelloError::Malformed("epoch in Bob's HELLO"))
        ));
        let bob = Hello {
            epoch: [0; 16],
            ..bob
        };
        assert_eq!(
            Hello::decode(&bob.encode(&[1; 16])).unwrap(),
            (bob, [1; 16])
        );
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80),
                |b| {
                    let _ = Hello::decode(&b);
                    Ok(())
                },
            )
            .unwrap();
    }
}

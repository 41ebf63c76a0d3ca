// SPDX-License-Identifier: MIT OR Apache-2.0
//! Classical channel between the two hosts: a [`ClassicalChannel`] trait for
//! framed messages with a receive timeout, an in-process implementation
//! (std mpsc pair carrying encoded frames) and a TCP one (std::net).
//!
//! Frame layout (all integers little-endian):
//! `version: u8 | msg_type: u16 | length: u32 | payload: [u8; length]`.
//! Authentication is layered on top by [`crate::auth::AuthChannel`].

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Frame format version carried in every header.
pub const FRAME_VERSION: u8 = 1;
/// Header bytes: version (1), type (2), length (4).
pub const HEADER_LEN: usize = 7;
/// Largest accepted payload.
pub const MAX_PAYLOAD: usize = 256 << 20;

/// One framed message.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// Application message type.
    pub msg_type: u16,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Payloads may carry key-dependent data (parities, tags): print length only.
        write!(
            f,
            "Frame {{ msg_type: {:#06x}, payload: {} bytes }}",
            self.msg_type,
            self.payload.len()
        )
    }
}

/// Frame decoding errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer bytes than the header or the announced payload.
    #[error("frame truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// Unknown frame version.
    #[error("frame version {got} not supported (expected {FRAME_VERSION})")]
    Version {
        /// Version found.
        got: u8,
    },
    /// Announced payload longer than [`MAX_PAYLOAD`].
    #[error("frame payload length {len} exceeds the limit {MAX_PAYLOAD}")]
    TooLong {
        /// Announced length.
        len: usize,
    },
    /// Announced payload longer than the receiver's current limit
    /// ([`TcpChannel::set_max_payload`]).
    #[error("frame payload length {len} exceeds this channel's limit {limit}")]
    OverLimit {
        /// Announced length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Bytes left over after a complete frame where none were expected.
    #[error("{extra} trailing bytes after frame")]
    Trailing {
        /// Extra bytes.
        extra: usize,
    },
}

/// Channel errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// No message within the timeout.
    #[error("no message within {0:?}")]
    Timeout(Duration),
    /// The peer closed the channel.
    #[error("channel closed by peer")]
    Disconnected,
    /// Socket I/O failed.
    #[error("channel I/O")]
    Io(#[source] std::io::Error),
    /// A received frame was malformed.
    #[error("malformed frame")]
    Frame(#[source] FrameError),
    /// A received message failed authentication (see [`crate::auth`]).
    #[error("message authentication")]
    Auth(#[source] crate::auth::AuthError),
    /// A message of an unexpected type arrived.
    #[error("unexpected message type {got:#06x}, expected {expected:#06x}")]
    UnexpectedType {
        /// Type received.
        got: u16,
        /// Type expected.
        expected: u16,
    },
}

impl Frame {
    /// New frame.
    pub fn new(msg_type: u16, payload: Vec<u8>) -> Self {
        Self { msg_type, payload }
    }

    /// Encode header and payload.
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        if self.payload.len() > MAX_PAYLOAD {
            return Err(FrameError::TooLong {
                len: self.payload.len(),
            });
        }
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.push(FRAME_VERSION);
        out.extend_from_slice(&self.msg_type.to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.payload);
        Ok(out)
    }

    /// Decode one frame from the start of `bytes`; returns it and the bytes used.
    pub fn decode_prefix(bytes: &[u8]) -> Result<(Frame, usize), FrameError> {
        if bytes.len() < HEADER_LEN {
            return Err(FrameError::Truncated {
                need: HEADER_LEN,
                have: bytes.len(),
            });
        }
        if bytes[0] != FRAME_VERSION {
            return Err(FrameError::Version { got: bytes[0] });
        }
        let msg_type = u16::from_le_bytes([bytes[1], bytes[2]]);
        let len = u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong { len });
        }
        let need = HEADER_LEN + len;
        if bytes.len() < need {
            return Err(FrameError::Truncated {
                need,
                have: bytes.len(),
            });
        }
        Ok((
            Frame {
                msg_type,
                payload: bytes[HEADER_LEN..need].to_vec(),
            },
            need,
        ))
    }

    /// Decode exactly one frame (no trailing bytes).
    pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
        let (f, used) = Self::decode_prefix(bytes)?;
        if used != bytes.len() {
            return Err(FrameError::Trailing {
                extra: bytes.len() - used,
            });
        }
        Ok(f)
    }
}

/// A bidirectional message channel to the peer host.
pub trait ClassicalChannel {
    /// Send one message.
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError>;
    /// Receive the next message, waiting at most `timeout`.
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError>;

    /// Receive and require a message type.
    fn recv_type(&mut self, expected: u16, timeout: Duration) -> Result<Vec<u8>, ChannelError> {
        let f = self.recv(timeout)?;
        if f.msg_type != expected {
            return Err(ChannelError::UnexpectedType {
                got: f.msg_type,
                expected,
            });
        }
        Ok(f.payload)
    }
}

impl<C: ClassicalChannel + ?Sized> ClassicalChannel for &mut C {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        (**self).send(frame)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        (**self).recv(timeout)
    }
}

impl<C: ClassicalChannel + ?Sized> ClassicalChannel for Box<C> {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        (**self).send(frame)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        (**self).recv(timeout)
    }
}

// ---- In-process channel ----

/// One end of an in-process channel; frames travel encoded, so the decoder
/// is exercised exactly as over TCP.
#[derive(Debug)]
pub struct InProcChannel {
    tx: mpsc::Sender<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    injected: std::collections::VecDeque<Vec<u8>>,
}

impl InProcChannel {
    /// A connected pair of ends.
    pub fn pair() -> (InProcChannel, InProcChannel) {
        let (ta, rb) = mpsc::channel();
        let (tb, ra) = mpsc::channel();
        (
            InProcChannel {
                tx: ta,
                rx: ra,
                injected: Default::default(),
            },
            InProcChannel {
                tx: tb,
                rx: rb,
                injected: Default::default(),
            },
        )
    }

    /// Send already-encoded bytes (tests: inject malformed or replayed frames).
    pub fn send_raw(&mut self, bytes: Vec<u8>) -> Result<(), ChannelError> {
        self.tx.send(bytes).map_err(|_| ChannelError::Disconnected)
    }

    /// Queue raw bytes to be received by this end before anything from the
    /// peer (tests: play a man in the middle that re-injects traffic).
    pub fn inject_incoming(&mut self, bytes: Vec<u8>) {
        self.injected.push_back(bytes);
    }

    /// Receive raw encoded bytes (tests: observe or tamper traffic).
    pub fn recv_raw(&mut self, timeout: Duration) -> Result<Vec<u8>, ChannelError> {
        if let Some(b) = self.injected.pop_front() {
            return Ok(b);
        }
        match self.rx.recv_timeout(timeout) {
            Ok(b) => Ok(b),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ChannelError::Timeout(timeout)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ChannelError::Disconnected),
        }
    }
}

impl ClassicalChannel for InProcChannel {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let bytes = frame.encode().map_err(ChannelError::Frame)?;
        self.send_raw(bytes)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        let bytes = self.recv_raw(timeout)?;
        Frame::decode(&bytes).map_err(ChannelError::Frame)
    }
}

// ---- TCP channel ----

/// Framed messages over a TCP stream.
#[derive(Debug)]
pub struct TcpChannel {
    stream: TcpStream,
    rx_buf: Vec<u8>,
    max_payload: usize,
}

impl TcpChannel {
    /// Wrap a connected stream (sets TCP_NODELAY).
    pub fn new(stream: TcpStream) -> Result<Self, ChannelError> {
        stream.set_nodelay(true).map_err(ChannelError::Io)?;
        Ok(Self {
            stream,
            rx_buf: Vec::new(),
            max_payload: MAX_PAYLOAD,
        })
    }

    /// Refuse frames announcing more than `limit` payload bytes (at most
    /// [`MAX_PAYLOAD`]) before buffering them: a peer that has not yet
    /// authenticated itself gets only a small buffer.
    pub fn set_max_payload(&mut self, limit: usize) {
        self.max_payload = limit.min(MAX_PAYLOAD);
    }

    /// Connect to `addr` with a connection timeout.
    pub fn connect<A: ToSocketAddrs>(addr: A, timeout: Duration) -> Result<Self, ChannelError> {
        let mut last = None;
        for a in addr.to_socket_addrs().map_err(ChannelError::Io)? {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => return Self::new(s),
                Err(e) => last = Some(e),
            }
        }
        Err(ChannelError::Io(last.unwrap_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no address to connect to")
        })))
    }
}

impl ClassicalChannel for TcpChannel {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let bytes = frame.encode().map_err(ChannelError::Frame)?;
        self.stream.write_all(&bytes).map_err(ChannelError::Io)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        let deadline = Instant::now() + timeout;
        let mut tmp = [0u8; 64 * 1024];
        loop {
            // The limit applies to the announced length, whether or not the
            // whole payload has already arrived (a frame that came in one
            // read is refused like one that is still arriving).
            if self.rx_buf.len() >= HEADER_LEN && self.rx_buf[0] == FRAME_VERSION {
                let mut l = [0u8; 4];
                l.copy_from_slice(&self.rx_buf[3..7]);
                let len = u32::from_le_bytes(l) as usize;
                if len <= MAX_PAYLOAD && len > self.max_payload {
                    return Err(ChannelError::Frame(FrameError::OverLimit {
                        len,
                        limit: self.max_payload,
                    }));
                }
            }
            match Frame::decode_prefix(&self.rx_buf) {
                Ok((f, used)) => {
                    self.rx_buf.drain(..used);
                    return Ok(f);
                }
                Err(FrameError::Truncated { .. }) => {}
                Err(e) => return Err(ChannelError::Frame(e)),
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ChannelError::Timeout(timeout));
            }
            self.stream
                .set_read_timeout(Some(deadline - now))
                .map_err(ChannelError::Io)?;
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(ChannelError::Disconnected),
                Ok(k) => self.rx_buf.extend_from_slice(&tmp[..k]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return Err(ChannelError::Timeout(timeout))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ChannelError::Io(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: Duration = Duration::from_secs(5);

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Frame::decode(&bytes);
            let _ = Frame::decode_prefix(&bytes);
        }

        #[test]
        fn roundtrip(t in any::<u16>(), p in proptest::collection::vec(any::<u8>(), 0..300)) {
            let f = Frame::new(t, p);
            let e = f.encode().unwrap();
            prop_assert_eq!(Frame::decode(&e).unwrap(), f.clone());
            // every strict prefix is Truncated
            for cut in [0, e.len() / 2, e.len() - 1] {
                let is_truncated = matches!(Frame::decode(&e[..cut]), Err(FrameError::Truncated { .. }));
                prop_assert!(is_truncated);
            }
        }
    }

    #[test]
    fn typed_errors() {
        assert_eq!(
            Frame::decode(&[2, 0, 0, 0, 0, 0, 0]),
            Err(FrameError::Version { got: 2 })
        );
        assert_eq!(
            Frame::decode(&[1, 0, 0, 0xff, 0xff, 0xff, 0xff]),
            Err(FrameError::TooLong {
                len: u32::MAX as usize
            })
        );
        assert_eq!(
            Frame::decode(&[1, 0, 0, 0, 0, 0, 0, 9]),
            Err(FrameError::Trailing { extra: 1 })
        );
    }

    #[test]
    fn inproc_roundtrip_and_timeout() {
        let (mut a, mut b) = InProcChannel::pair();
        a.send(&Frame::new(7, vec![1, 2, 3])).unwrap();
        assert_eq!(b.recv(T).unwrap(), Frame::new(7, vec![1, 2, 3]));
        assert!(matches!(
            b.recv(Duration::from_millis(5)),
            Err(ChannelError::Timeout(_))
        ));
        drop(a);
        assert!(matches!(b.recv(T), Err(ChannelError::Disconnected)));
    }

    #[test]
    fn tcp_roundtrip_split_writes() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut c = TcpChannel::new(s).unwrap();
            let f = c.recv(T).unwrap();
            c.send(&Frame::new(f.msg_type + 1, f.payload)).unwrap();
            // a frame written in two pieces
            let bytes = Frame::new(9, vec![5; 100_000]).encode().unwrap();
            c.stream.write_all(&bytes[..10]).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            c.stream.write_all(&bytes[10..]).unwrap();
        });
        let mut c = TcpChannel::connect(addr, T).unwrap();
        c.send(&Frame::new(1, vec![42; 1000])).unwrap();
        assert_eq!(c.recv(T).unwrap(), Frame::new(2, vec![42; 1000]));
        assert_eq!(c.recv(T).unwrap(), Frame::new(9, vec![5; 100_000]));
        h.join().unwrap();
        assert!(matches!(c.recv(T), Err(ChannelError::Disconnected)));
    }

    #[test]
    fn tcp_limit_refuses_an_over_limit_frame_that_arrived_whole() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut c = TcpChannel::new(s).unwrap();
            // Header and payload in one write: one read gets all of it.
            c.send(&Frame::new(9, vec![5; 100])).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        let mut c = TcpChannel::connect(addr, T).unwrap();
        c.set_max_payload(64);
        // Let the whole frame arrive before the first read.
        std::thread::sleep(Duration::from_millis(100));
        assert!(matches!(
            c.recv(T),
            Err(ChannelError::Frame(FrameError::OverLimit {
                len: 100,
                limit: 64
            }))
        ));
        h.join().unwrap();
    }

    #[test]
    fn tcp_limit_refuses_a_large_frame_before_buffering_it() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut c = TcpChannel::new(s).unwrap();
            // Only the header: the limit must act on the announced length.
            let bytes = Frame::new(9, vec![5; 70_000]).encode().unwrap();
            c.stream.write_all(&bytes[..HEADER_LEN]).unwrap();
            std::thread::sleep(Duration::from_millis(200));
        });
        let mut c = TcpChannel::connect(addr, T).unwrap();
        c.set_max_payload(64 << 10);
        assert!(matches!(
            c.recv(T),
            Err(ChannelError::Frame(FrameError::OverLimit {
                len: 70_000,
                limit: 65_536
            }))
        ));
        h.join().unwrap();
    }
}

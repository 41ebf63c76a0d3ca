// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the classical channel's framing (`qkd_keyproc::channel`): the frame
//! decoder over arbitrary bytes and mutated valid encodings, and the TCP
//! frame reader (`TcpChannel::recv`) over a real loopback socket fed
//! arbitrary bytes in arbitrary writes, with and without a payload limit.
//! Whatever the peer sends, the reader returns the frames the bytes hold,
//! then a typed error (a malformed header, a payload over the limit, or
//! the peer's close), never panics, and never returns a frame announcing
//! more than its limit.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-keyproc --test fuzz_channel_frames`

use proptest::prelude::*;
use qkd_keyproc::channel::{
    ChannelError, ClassicalChannel, Frame, FrameError, TcpChannel, FRAME_VERSION, HEADER_LEN,
    MAX_PAYLOAD,
};
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

/// What the reader must do with `bytes` under `limit`: the frames, then
/// the error that ends it (`None`: the peer's close).
fn model(bytes: &[u8], limit: usize) -> (Vec<Frame>, Option<FrameError>) {
    let mut frames = Vec::new();
    let mut at = 0;
    loop {
        let rest = &bytes[at..];
        if rest.len() >= HEADER_LEN {
            let len = u32::from_le_bytes([rest[3], rest[4], rest[5], rest[6]]) as usize;
            if rest[0] != FRAME_VERSION {
                return (frames, Some(FrameError::Version { got: rest[0] }));
            }
            if len > MAX_PAYLOAD {
                return (frames, Some(FrameError::TooLong { len }));
            }
            if len > limit {
                return (frames, Some(FrameError::OverLimit { len, limit }));
            }
        }
        match Frame::decode_prefix(rest) {
            Ok((f, used)) => {
                frames.push(f);
                at += used;
            }
            Err(FrameError::Truncated { .. }) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

/// The reader's outcome is decided by the first `n` bytes (no more input
/// changes it): a complete frame or a header error is in them.
fn decided(bytes: &[u8], limit: usize) -> usize {
    let (frames, err) = model(bytes, limit);
    frames.len() + usize::from(err.is_some())
}

thread_local! {
    static LISTENER: TcpListener = TcpListener::bind("127.0.0.1:0").unwrap();
}

/// Feed `bytes` to a `TcpChannel` in writes at the cut points `cuts`,
/// receiving whenever the bytes written so far decide the next outcome;
/// then close the writing side and receive to the end.
fn run_tcp(bytes: &[u8], cuts: &[usize], limit: Option<usize>) -> (Vec<Frame>, ChannelError) {
    let (mut w, s) = LISTENER.with(|l| {
        let w = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        (w, s)
    });
    let mut ch = TcpChannel::new(s).unwrap();
    let lim = limit.unwrap_or(MAX_PAYLOAD);
    if let Some(l) = limit {
        ch.set_max_payload(l);
    }
    let t = Duration::from_secs(10);
    let mut frames = Vec::new();
    let mut end = None;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    let mut written = 0;
    let mut seen = 0;
    'feed: for c in cuts {
        if c > written {
            w.write_all(&bytes[written..c]).unwrap();
            written = c;
        }
        while seen < decided(&bytes[..written], lim) {
            match ch.recv(t) {
                Ok(f) => frames.push(f),
                Err(e) => {
                    end = Some(e);
                    break 'feed;
                }
            }
            seen += 1;
        }
    }
    w.shutdown(Shutdown::Write).unwrap();
    let end = end.unwrap_or_else(|| loop {
        match ch.recv(t) {
            Ok(f) => frames.push(f),
            Err(e) => break e,
        }
    });
    // Leave unread bytes at the writer so that its close is a reset (no
    // TIME_WAIT: a million cases must not use up the loopback ports).
    let _ = ch.send(&Frame::new(0, Vec::new()));
    drop(w);
    (frames, end)
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    (
        prop_oneof![Just(0u16), Just(0xFFFF), any::<u16>()],
        prop_oneof![
            20 => prop::collection::vec(any::<u8>(), 0..40),
            1 => prop::collection::vec(any::<u8>(), 40..2000),
        ],
    )
        .prop_map(|(t, p)| Frame::new(t, p))
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: usize,
        bit: u8,
    },
    /// Overwrite a length field byte of the frame that starts at a frame
    /// boundary (announce more or less than is there).
    Len {
        frame: usize,
        byte: u8,
        value: u8,
    },
    Cut {
        at: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), 0u8..4, any::<u8>()).prop_map(|(frame, byte, value)| Mutation::Len {
            frame,
            byte,
            value
        }),
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

fn encode_all(frames: &[Frame]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    for f in frames {
        starts.push(out.len());
        out.extend(f.encode().unwrap());
    }
    (out, starts)
}

fn mutate(data: &mut Vec<u8>, starts: &[usize], m: &Mutation) {
    let n = data.len();
    match m {
        Mutation::Flip { at, bit } if n > 0 => data[at % n] ^= 1 << bit,
        Mutation::Len { frame, byte, value } if !starts.is_empty() => {
            let i = starts[frame % starts.len()] + 3 + usize::from(*byte);
            if i < n {
                data[i] = *value;
            }
        }
        Mutation::Cut { at, len } if n > 0 => {
            let at = at % n;
            data.drain(at..(at + len).min(n));
        }
        Mutation::Insert { at, bytes } => {
            let at = at % (n + 1);
            data.splice(at..at, bytes.iter().copied());
        }
        _ => {}
    }
}

fn check_against_model(
    bytes: &[u8],
    cuts: &[usize],
    limit: Option<usize>,
) -> Result<(), TestCaseError> {
    let lim = limit.unwrap_or(MAX_PAYLOAD);
    let (want, want_err) = model(bytes, lim);
    let (got, err) = run_tcp(bytes, cuts, limit);
    prop_assert!(got.iter().all(|f| f.payload.len() <= lim));
    prop_assert_eq!(got, want);
    match (err, want_err) {
        (ChannelError::Disconnected, None) => {}
        (ChannelError::Frame(e), Some(w)) => prop_assert_eq!(e, w),
        (e, w) => prop_assert!(false, "reader ended with {e:?}, model says {w:?}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn decoder_on_mutated_encodings_gives_frames_that_re_encode_or_typed_errors(
        frames in prop::collection::vec(arb_frame(), 0..5),
        muts in prop::collection::vec(arb_mutation(), 0..4),
        raw in prop::collection::vec(any::<u8>(), 0..64),
        use_raw in any::<bool>(),
    ) {
        let (mut bytes, starts) = encode_all(&frames);
        let clean = bytes.clone();
        for m in &muts {
            mutate(&mut bytes, &starts, m);
        }
        if use_raw {
            bytes = raw;
        }
        let mut at = 0;
        let mut back = Vec::new();
        loop {
            match Frame::decode_prefix(&bytes[at..]) {
                Ok((f, used)) => {
                    // Re-encodes to exactly the bytes it was decoded from.
                    prop_assert_eq!(&f.encode().unwrap()[..], &bytes[at..at + used]);
                    prop_assert_eq!(Frame::decode(&bytes[at..at + used]), Ok(f.clone()));
                    back.push(f);
                    at += used;
                }
                Err(FrameError::Truncated { need, have }) => {
                    prop_assert!(have == bytes.len() - at && need > have);
                    break;
                }
                Err(FrameError::Version { got }) => {
                    prop_assert_eq!(got, bytes[at]);
                    break;
                }
                Err(FrameError::TooLong { len }) => {
                    prop_assert!(len > MAX_PAYLOAD);
                    break;
                }
                Err(e) => prop_assert!(false, "decode_prefix gave {e}"),
            }
        }
        if bytes == clean {
            prop_assert_eq!(back, frames);
        }
        // Decoding the whole buffer as one frame agrees with the prefix decoder.
        match (Frame::decode(&bytes), Frame::decode_prefix(&bytes)) {
            (Ok(f), Ok((g, used))) => {
                prop_assert_eq!(f, g);
                prop_assert_eq!(used, bytes.len());
            }
            (Err(FrameError::Trailing { extra }), Ok((_, used))) => {
                prop_assert_eq!(extra, bytes.len() - used);
            }
            (Err(e), Err(g)) => prop_assert_eq!(e, g),
            (a, b) => prop_assert!(false, "decode {a:?} vs decode_prefix {b:?}"),
        }
    }

    #[test]
    fn tcp_reader_on_mutated_streams_follows_the_model(
        frames in prop::collection::vec(arb_frame(), 0..5),
        muts in prop::collection::vec(arb_mutation(), 0..3),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        limit in prop_oneof![2 => Just(None), 1 => (0usize..64).prop_map(Some), 1 => (64usize..4096).prop_map(Some)],
    ) {
        let (mut bytes, starts) = encode_all(&frames);
        for m in &muts {
            mutate(&mut bytes, &starts, m);
        }
        check_against_model(&bytes, &cuts, limit)?;
    }

    #[test]
    fn tcp_reader_on_arbitrary_bytes_follows_the_model(
        // Mostly a right version byte, so lengths and payloads are reached.
        bytes in prop::collection::vec(any::<u8>(), 0..200).prop_map(|mut b| {
            if let Some(first) = b.first_mut() {
                if *first & 3 != 0 {
                    *first = FRAME_VERSION;
                }
            }
            b
        }),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        limit in prop::option::of(0usize..300),
    ) {
        check_against_model(&bytes, &cuts, limit)?;
    }
}

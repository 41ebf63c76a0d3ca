// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz: arbitrary bytes into the LDPC wire decoders and the responder never
//! panic; every request that decodes re-encodes to the same bytes.
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-keyproc --test fuzz_ldpc_wire`

use proptest::prelude::*;
use qkd_keyproc::ldpc::protocol::{LdpcReply, LdpcRequest};
use qkd_keyproc::ldpc::LdpcResponder;
use qkd_keyproc::reconcile::ReconcileResponder;
use qkd_keyproc::BitVec;

proptest! {
    #[test]
    fn request_decoder_total(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(req) = LdpcRequest::decode(&bytes) {
            prop_assert_eq!(req.encode(), bytes.clone());
        }
        let _ = LdpcReply::decode(&bytes);
        let mut r = LdpcResponder::with_seed(BitVec::zeros(3_000), [1; 32]);
        let _ = r.respond(&bytes);
        let _ = r.respond(&bytes);
    }

    #[test]
    fn tagged_requests(tag in 1u8..4, body in proptest::collection::vec(any::<u8>(), 0..48)) {
        let mut bytes = vec![tag];
        if tag == 1 {
            bytes.push(1);
        }
        bytes.extend_from_slice(&body);
        let mut r = LdpcResponder::with_seed(BitVec::zeros(3_000), [1; 32]);
        let _ = r.respond(&bytes);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice model record stream against its own port outputs (gateware spec
//! 4.3, 4.4): for random seeds, lanes, thresholds, sync and STATUS periods.
//!
//! ```text
//!   AliceModel --symbols per cycle--> expected packing
//!        \------records-------------> EPOCH, ALICE_SYMBOLS x64, STATUS ... == expected
//! ```

use proptest::prelude::*;
use qkd_abi::records::{AliceSymbols, CounterId, Record, Status};
use qkd_abi::regmap::alice::mode;
use qkd_abi::symbol::Symbol;
use qkd_abi::Role;
use qkd_model::alice::{symbol_at, AliceInputs, AliceModel, RunConfig, CMD_START, CMD_STOP};
use qkd_model::stream_check::{apply_drops, check_stream};

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        rng_seed: proptest::test_runner::RngSeed::Fixed(qkd_model::clicks::seed_from_name("records_pack_the_port_symbols")),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn records_pack_the_port_symbols(
        seed in any::<u64>(),
        lanes in prop::sample::select(vec![1usize, 2, 4, 8]),
        t1 in any::<u16>(),
        t2 in any::<u16>(),
        tz in any::<u16>(),
        sync_log2 in 0u32..9,
        status_log2 in 0u32..10,
        cycles in 1usize..400,
        stop_at in prop::option::of(0usize..400),
    ) {
        let mut m = AliceModel::new(lanes).unwrap();
        m.regs.rng_ctrl = 1;
        m.regs.rng_seed_lo = seed as u32;
        m.regs.rng_seed_hi = (seed >> 32) as u32;
        m.regs.alice_ctrl = mode::RUN | sync_log2 << 8;
        m.regs.decoy_thresh_signal = u32::from(t1.min(t2));
        m.regs.decoy_thresh_decoy = u32::from(t1.max(t2));
        m.regs.decoy_thresh_basis_z = u32::from(tz);
        m.regs.stream_ctrl = status_log2;
        m.step(&AliceInputs { cmd: CMD_START, ..Default::default() });
        let cfg = RunConfig::from_regs(lanes, &m.regs).unwrap();
        let mut sent: Vec<Symbol> = vec![];
        for k in 0..cycles {
            let cmd = if Some(k) == stop_at { CMD_STOP } else { 0 };
            let o = m.step(&AliceInputs { cmd, ..Default::default() });
            prop_assert_eq!(o.sync_out, o.symbols_valid && sent.is_empty());
            if o.symbols_valid {
                sent.extend_from_slice(&o.symbols[..lanes]);
            } else {
                prop_assert!(o.symbols[..lanes].iter().all(|s| s.code() == 0b1100));
            }
        }
        prop_assert_eq!(m.symbols_sent(), sent.len() as u64);
        if let Some(k) = stop_at.filter(|&k| k < cycles) {
            // Emission ends at the record boundary at or after the STOP
            // cycle's first slot (or when the run ends before it).
            let boundary = ((k * lanes) as u64).div_ceil(64) * 64;
            prop_assert_eq!(sent.len() as u64, boundary.min((cycles * lanes) as u64));
        }
        for i in (0..sent.len()).step_by(37) {
            prop_assert_eq!(sent[i], symbol_at(&cfg, seed, i as u64));
        }
        // Expected stream from the port symbols and the spec's rules.
        let mut want = vec![Record::Epoch(0)];
        let mut sent_in_interval = 0u64;
        let mut interval_slots = 0u64;
        for (n, chunk) in sent.chunks_exact(64).enumerate() {
            let start = 64 * n as u64;
            want.push(Record::AliceSymbols(AliceSymbols::from_symbols(start, chunk)));
            sent_in_interval += chunk.iter().filter(|s| s.code() >> 2 != 3).count() as u64;
            interval_slots += 64;
            let end = start + 64;
            if status_log2 >= 6 && end.is_multiple_of(1 << status_log2) {
                want.push(Record::Status(Status {
                    slot: end,
                    counters: vec![
                        (CounterId::IntervalSlots, interval_slots),
                        (CounterId::SymbolsSent, sent_in_interval),
                        (CounterId::SymbolsLost, 0),
                        (CounterId::AlarmsLive, 0),
                        (CounterId::AlarmsSeen, 0),
                    ],
                }));
                sent_in_interval = 0;
                interval_slots = 0;
            }
        }
        let recs = m.take_records();
        prop_assert_eq!(&recs, &want);
        // The checker accepts the stream with every third record dropped.
        let drop: Vec<bool> = (0..recs.len()).map(|i| i % 3 == 1).collect();
        let e = apply_drops(&recs, &drop, Role::Alice, true);
        prop_assert!(check_stream(&recs, &e, Role::Alice).is_ok());
    }
}

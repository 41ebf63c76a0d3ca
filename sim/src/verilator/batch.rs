// SPDX-License-Identifier: MIT OR Apache-2.0
//! Buffers of a many-cycle run of a Verilated core ([`Sim::run`], the
//! shim's `qkd_run`): the input writes due in each cycle, the outputs
//! sampled every cycle and the AXI4-Stream words captured, so a whole
//! batch of cycles costs one call into the shim.
//!
//! The batch keeps the last value written to each input it drives and
//! writes only changes (sparse inputs such as click pulses cost nothing in
//! the cycles without them). After the caller has set inputs outside the
//! batch, [`Batch::forget`] makes the next value of every input a write.

use super::model::{PortId, Sim};
pub use super::shim::{CapturedWord, InputWrite};

/// The stream ports a batch captures (`tready` is held high by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPorts {
    /// `tvalid`.
    pub tvalid: PortId,
    /// `tdata` (up to 64 bits).
    pub tdata: PortId,
    /// `tlast`.
    pub tlast: PortId,
}

/// Inputs, sampled outputs and captured stream words of one batch.
#[derive(Debug, Clone)]
pub struct Batch {
    pub(super) writes: Vec<InputWrite>,
    /// Last written value of each driven input (32-bit words), or `None`
    /// when unknown.
    shadow: Vec<(PortId, Option<[u32; 4]>)>,
    pub(super) sample: Vec<u32>,
    /// Outputs sampled in each cycle of the last run: cycle `i`'s value of
    /// the `j`-th sampled port is `samples[i * n + j]`, after the cycle's
    /// inputs settled and before its rising edge.
    pub samples: Vec<u64>,
    pub(super) stream: Option<StreamPorts>,
    /// Stream words transferred in the last run (`tvalid` high).
    pub words: Vec<CapturedWord>,
    pub(super) cycles: u32,
}

impl Batch {
    /// A batch that samples the outputs `sample` (up to 64 bits each) every
    /// cycle and captures the words of `stream`.
    pub fn new(sample: &[PortId], stream: Option<StreamPorts>) -> Batch {
        assert!(
            sample.iter().all(|p| !p.is_wide()),
            "sampled outputs are at most 64 bits wide"
        );
        Batch {
            writes: Vec::new(),
            shadow: Vec::new(),
            sample: sample.iter().map(|p| p.index()).collect(),
            samples: Vec::new(),
            stream,
            words: Vec::new(),
            cycles: 0,
        }
    }

    /// Number of sampled outputs per cycle.
    pub fn sampled(&self) -> usize {
        self.sample.len()
    }

    /// Make every driven input's value unknown (the caller set inputs
    /// directly on the [`Sim`]).
    pub fn forget(&mut self) {
        for (_, v) in &mut self.shadow {
            *v = None;
        }
    }

    /// Register input `p` (up to 128 bits) as driven by the batch;
    /// returns its slot for [`Batch::set`].
    pub fn input(&mut self, p: PortId) -> usize {
        assert!(p.width_bits() <= 128, "batch inputs are at most 128 bits");
        match self.shadow.iter().position(|(q, _)| *q == p) {
            Some(i) => i,
            None => {
                self.shadow.push((p, None));
                self.shadow.len() - 1
            }
        }
    }

    /// Set the input of `slot` to `v` (higher bits than the port's masked
    /// off) from batch cycle `cycle` on: a write if it differs from the
    /// last value. Cycles must not decrease between calls.
    #[inline]
    pub fn set(&mut self, cycle: u32, slot: usize, v: u128) {
        debug_assert!(cycle >= self.cycles, "batch writes in cycle order");
        self.cycles = cycle;
        let (p, old) = self.shadow[slot];
        let w = p.width_bits();
        let v = if w >= 128 { v } else { v & ((1u128 << w) - 1) };
        let words = [
            v as u32,
            (v >> 32) as u32,
            (v >> 64) as u32,
            (v >> 96) as u32,
        ];
        if old == Some(words) {
            return;
        }
        if p.is_wide() {
            for (k, x) in words.iter().enumerate().take(w.div_ceil(32) as usize) {
                if old.is_none_or(|o| o[k] != *x) {
                    self.writes.push(InputWrite {
                        cycle,
                        port: p.index(),
                        word: k as u32,
                        pad: 0,
                        value: u64::from(*x),
                    });
                }
            }
        } else {
            self.writes.push(InputWrite {
                cycle,
                port: p.index(),
                word: u32::MAX,
                pad: 0,
                value: v as u64,
            });
        }
        self.shadow[slot].1 = Some(words);
    }
}

impl Sim {
    /// Run `n` cycles in one call into the shim with the writes queued in
    /// `batch` (cleared afterwards); fills `batch.samples` and
    /// `batch.words`. Per cycle: the cycle's writes, falling edge and
    /// `eval`, outputs sampled and the stream word captured, rising edge and
    /// `eval` (the state after each cycle is the one of
    /// `set`/`eval`/`tick`).
    pub fn run(&mut self, n: u32, batch: &mut Batch) {
        debug_assert!(
            batch.writes.last().is_none_or(|w| w.cycle < n),
            "a write beyond the batch"
        );
        let k = batch.sample.len();
        batch.samples.clear();
        batch.samples.resize(n as usize * k, 0);
        batch.words.clear();
        if batch.stream.is_some() {
            batch.words.resize(n as usize, CapturedWord::default());
        }
        let st = batch.stream;
        let (tv, td, tl) = match st {
            Some(s) => (s.tvalid.index(), s.tdata.index(), s.tlast.index()),
            None => (u32::MAX, u32::MAX, u32::MAX),
        };
        let got = self.run_raw(
            u64::from(n),
            &batch.writes,
            &batch.sample,
            &mut batch.samples,
            [tv, td, tl],
            &mut batch.words,
        );
        batch.words.truncate(got);
        let c0 = self.cycle();
        for w in &mut batch.words {
            w.cycle += c0;
        }
        self.add_cycles(u64::from(n));
        batch.writes.clear();
        batch.cycles = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verilator::{BuildOptions, Model};

    const TINY: &str = include_str!("../../tests/fixtures/tiny_core.v");

    #[test]
    fn batch_writes_wide_inputs_on_change_and_samples_every_cycle() {
        let m = Model::build(TINY, &BuildOptions::new("tiny_core")).expect("build tiny_core");
        let mut sim = m.instantiate().unwrap();
        let wi = sim.port("wide_in").unwrap();
        let wo = sim.port("wide_out").unwrap();
        let cycles = sim.port("cycles").unwrap();
        let stream = StreamPorts {
            tvalid: sim.port("m_axis_tvalid").unwrap(),
            tdata: sim.port("m_axis_tdata").unwrap(),
            tlast: sim.port("m_axis_tlast").unwrap(),
        };
        let mut b = Batch::new(&[cycles], Some(stream));
        let slot = b.input(wi);
        let mask100 = (1u128 << 100) - 1;
        let v = 0x0123_4567_89AB_CDEF_0011_2233_4455_6677u128;
        b.set(0, slot, v);
        b.set(1, slot, v); // unchanged: no write
        b.set(5, slot, v ^ (1 << 70)); // one word changes
        assert_eq!(b.writes.len(), 4 + 1, "{:?}", b.writes);
        sim.run(10, &mut b);
        assert_eq!(sim.cycle(), 10);
        assert_eq!(b.samples, (0..10).collect::<Vec<u64>>());
        assert!(b.words.is_empty(), "the stream is disabled");
        assert_eq!(sim.get_u128(wo), !(v ^ (1 << 70)) & mask100);
        // Values beyond the width are masked; after forget() the value is
        // written again.
        b.forget();
        b.set(0, slot, u128::MAX);
        sim.run(1, &mut b);
        assert_eq!(sim.get_u128(wo), 0);
        assert_eq!(b.samples, vec![10]);
    }
}

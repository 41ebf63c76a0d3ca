// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's oversampling TDC, one detector: finds the first rising edge
//! (0 -> 1 transition) of the APD comparator in every lane's slot, giving a
//! raw click and its fine bin (gateware spec section 5.1).
//!
//! Input layout: lane `l`'s `OS` samples sit in `samples[16*l + s]`
//! (sample `s = 0` earliest), bits `OS..16` of each lane are zero (the
//! `qkd_bob` wrapper pads them). The previous sample of lane 0's first
//! sample is the last sample of lane `L-1` in the previous cycle. There is
//! no carry chain across lanes, so the edge finder needs no pipelining
//! beyond its output register (latency: 1 cycle).

use rust_hdl::prelude::*;

/// Largest OVERSAMPLE: samples per lane in the input layout.
pub const MAX_OS: usize = 16;
/// Largest LANES.
pub const MAX_LANES: usize = 8;

/// First-rising-edge finder for one detector.
#[derive(LogicBlock)]
pub struct TdcChannel {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Comparator samples, lane `l` sample `s` at bit `16*l + s`, active high.
    pub samples: Signal<In, Bits<128>>,
    /// Clear the remembered last sample (at START), active high.
    pub clear: Signal<In, Bit>,
    /// Raw click per lane (bit `l`), registered, active high.
    pub click: Signal<Out, Bits<8>>,
    /// `click` of the next cycle (the input of its register), for logic
    /// that registers a function of the clicks a cycle ahead.
    pub click_next: Signal<Out, Bits<8>>,
    /// Fine bin of lane `l` at bits `4*l..4*l+4`, registered (0 without a click).
    pub fine_bins: Signal<Out, Bits<32>>,
    last_mask: Constant<Bits<16>>,
    bin_mask: Vec<Constant<Bits<16>>>,
    lane_x: Vec<Signal<Local, Bits<16>>>,
    lane_last: Vec<Signal<Local, Bit>>,
    lane_prev: Vec<Signal<Local, Bit>>,
    edges: Vec<Signal<Local, Bits<16>>>,
    first: Vec<Signal<Local, Bits<16>>>,
    click_acc: Signal<Local, Bits<8>>,
    bins_acc: Signal<Local, Bits<32>>,
    prev_last: DFF<Bit>,
    click_r: DFF<Bits<8>>,
    bins_r: DFF<Bits<32>>,
}

impl TdcChannel {
    /// A channel for `lanes` lanes (1..=8) of `oversample` samples (1..=16).
    pub fn new(lanes: usize, oversample: usize) -> Self {
        assert!(
            (1..=MAX_LANES).contains(&lanes),
            "TdcChannel: lanes {lanes} out of 1..=8"
        );
        assert!(
            (1..=MAX_OS).contains(&oversample),
            "TdcChannel: oversample {oversample} out of 1..=16"
        );
        let mask_of_bit = |k: usize| -> u64 {
            (0..16u64)
                .filter(|b| (b >> k) & 1 == 1)
                .map(|b| 1 << b)
                .sum()
        };
        Self {
            clock: Default::default(),
            samples: Default::default(),
            clear: Default::default(),
            click: Default::default(),
            click_next: Default::default(),
            fine_bins: Default::default(),
            last_mask: Constant::new((1u64 << (oversample - 1)).into()),
            bin_mask: (0..4)
                .map(|k| Constant::new(mask_of_bit(k).into()))
                .collect(),
            lane_x: (0..lanes).map(|_| Default::default()).collect(),
            lane_last: (0..lanes).map(|_| Default::default()).collect(),
            lane_prev: (0..lanes).map(|_| Default::default()).collect(),
            edges: (0..lanes).map(|_| Default::default()).collect(),
            first: (0..lanes).map(|_| Default::default()).collect(),
            click_acc: Default::default(),
            bins_acc: Default::default(),
            prev_last: Default::default(),
            click_r: Default::default(),
            bins_r: Default::default(),
        }
    }
}

impl Logic for TdcChannel {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, prev_last, click_r, bins_r);
        self.click.next = self.click_r.q.val();
        self.fine_bins.next = self.bins_r.q.val();
        self.click_acc.next = 0.into();
        self.bins_acc.next = 0.into();
        // ---- Lane samples and the sample before each lane ----
        for l in 0..self.lane_x.len() {
            self.lane_x[l].next = self.samples.val().get_bits::<16>(16 * l);
            self.lane_last[l].next = (self.lane_x[l].val() & self.last_mask.val()).any();
        }
        self.lane_prev[0].next = self.prev_last.q.val();
        for l in 1..self.lane_x.len() {
            self.lane_prev[l].next = self.lane_last[l - 1].val();
        }
        for l in 0..self.lane_x.len() {
            self.prev_last.d.next = self.lane_last[l].val();
        }
        if self.clear.val() {
            self.prev_last.d.next = false;
        }
        // ---- First rising edge: isolate the lowest edge, encode its index ----
        for l in 0..self.lane_x.len() {
            if self.lane_prev[l].val() {
                self.edges[l].next = self.lane_x[l].val() & !((self.lane_x[l].val() << 1) | 1);
            } else {
                self.edges[l].next = self.lane_x[l].val() & !(self.lane_x[l].val() << 1);
            }
            self.first[l].next = self.edges[l].val() & ((!self.edges[l].val()) + 1);
            self.click_acc.next = self
                .click_acc
                .val()
                .replace_bit(l, self.edges[l].val().any());
            for k in 0..4 {
                self.bins_acc.next = self.bins_acc.val().replace_bit(
                    4 * l + k,
                    (self.first[l].val() & self.bin_mask[k].val()).any(),
                );
            }
        }
        self.click_r.d.next = self.click_acc.val();
        self.click_next.next = self.click_acc.val();
        self.bins_r.d.next = self.bins_acc.val();
    }
}

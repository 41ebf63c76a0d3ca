// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's common dead time (gateware spec 5.3, 5.4): after any click that is
//! not itself suppressed, every detector ignores the next D slots. A common
//! dead time defeats the dead-time attack (Weier et al., NJP 13, 073024,
//! 2011).
//!
//! State is `r` = `max(0, dead_until - i0)` (slots still dead, counted from
//! this cycle's lane-0 slot `i0`), kept with its lane mask `rmask[l] = r > l`.
//! Lane `l` is dead if `rmask[l]` or an unsuppressed click in an earlier lane
//! `j` of this cycle covers it (`l - j <= D`); the in-cycle chain is one
//! AND-OR per lane, and the next `r` is the OR of the unblocked lanes'
//! values precomputed from the D register (see the next-state comment),
//! so neither an adder nor a priority select sits in the loop. The next
//! mask needs no priority select either: the precomputed masks grow with the lane
//! of the last click, so it is the OR of the unblocked lanes' masks (or the
//! decayed mask when no click found its lane open).
//! The values that depend on D alone (reach per lane, the next `r` after a
//! last click in lane `l` and its mask) are registered: a new D takes
//! effect one cycle after it reaches `dead_slots` (it is configured before
//! START), and no comparator sits between the D register and the state.

use rust_hdl::prelude::*;

/// Common dead-time tracker over the lanes of one cycle.
#[derive(LogicBlock)]
pub struct DeadTime {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Forget the dead time (at START and at sync: `dead_until = 0`), active high.
    pub restart: Signal<In, Bit>,
    /// Dead time D in slots (`GATE_DEAD_TIME_SLOTS`).
    pub dead_slots: Signal<In, Bits<16>>,
    /// Lane `l` of this cycle has a raw click (any enabled detector, processed slot).
    pub any_click: Signal<In, Bits<8>>,
    /// Lane `l`'s clicks are dead-time-suppressed (combinational), active high.
    pub blocked: Signal<Out, Bits<8>>,
    /// Lane `l`'s gates are open: its slot is past `dead_until` as it was at the
    /// start of this cycle (combinational), active high.
    pub open: Signal<Out, Bits<8>>,
    k_lane: Vec<Constant<Bits<17>>>,
    k_lane_plus_l: Vec<Constant<Bits<17>>>,
    k_back: Vec<Constant<Bits<17>>>,
    k_lanes: Constant<Bits<17>>,
    /// `q + L - l` at `[8*l + q]`: `dm[l] > q` <=> `D >= q + L - l`.
    k_mask: Vec<Constant<Bits<17>>>,
    d_wide: Signal<Local, Bits<17>>,
    d_ge: Signal<Local, Bits<8>>,
    d_ge_r: DFF<Bits<8>>,
    reach: Vec<Signal<Local, Bits<16>>>,
    dm: Vec<Signal<Local, Bits<17>>>,
    dm_mask: Vec<Signal<Local, Bits<8>>>,
    dm_r: Vec<DFF<Bits<17>>>,
    dm_mask_r: Vec<DFF<Bits<8>>>,
    decay: Signal<Local, Bits<17>>,
    decay_mask: Signal<Local, Bits<8>>,
    open_click: Signal<Local, Bits<8>>,
    covered: Vec<Signal<Local, Bit>>,
    unblocked: Signal<Local, Bits<8>>,
    hit_mask: Signal<Local, Bits<8>>,
    /// OR of the unblocked lanes' next `r` (see the next-state comment).
    r_hit: Signal<Local, Bits<17>>,
    r: DFF<Bits<17>>,
    rmask: DFF<Bits<8>>,
}

impl DeadTime {
    /// A tracker for `lanes` lanes (1, 2, 4 or 8: the next-state OR below
    /// relies on a power of two).
    pub fn new(lanes: usize) -> Self {
        assert!(
            matches!(lanes, 1 | 2 | 4 | 8),
            "DeadTime: lanes {lanes} not 1, 2, 4 or 8"
        );
        let k = |v: usize| Constant::new((v as u64).into());
        Self {
            clock: Default::default(),
            restart: Default::default(),
            dead_slots: Default::default(),
            any_click: Default::default(),
            blocked: Default::default(),
            open: Default::default(),
            k_lane: (0..8).map(k).collect(),
            k_lane_plus_l: (0..8).map(|l| k(l + lanes)).collect(),
            k_back: (0..lanes).map(|j| k(lanes - 1 - j)).collect(),
            k_lanes: k(lanes),
            k_mask: (0..lanes)
                .flat_map(|l| (0..8).map(move |q| (l, q)))
                .map(|(l, q)| k(q + lanes - l))
                .collect(),
            d_wide: Default::default(),
            d_ge: Default::default(),
            d_ge_r: Default::default(),
            reach: (0..lanes).map(|_| Default::default()).collect(),
            dm: (0..lanes).map(|_| Default::default()).collect(),
            dm_mask: (0..lanes).map(|_| Default::default()).collect(),
            dm_r: (0..lanes).map(|_| Default::default()).collect(),
            dm_mask_r: (0..lanes).map(|_| Default::default()).collect(),
            decay: Default::default(),
            decay_mask: Default::default(),
            open_click: Default::default(),
            covered: (0..lanes).map(|_| Default::default()).collect(),
            unblocked: Default::default(),
            hit_mask: Default::default(),
            r_hit: Default::default(),
            r: Default::default(),
            rmask: Default::default(),
        }
    }
}

impl Logic for DeadTime {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, r, rmask, d_ge_r);
        // ---- Values precomputed from D (static between register writes) ----
        self.d_wide.next = bit_cast::<17, 16>(self.dead_slots.val());
        self.d_ge.next = 0.into();
        for q in 1..8 {
            self.d_ge.next = self
                .d_ge
                .val()
                .replace_bit(q, self.d_wide.val() >= self.k_lane[q].val());
        }
        self.d_ge_r.d.next = self.d_ge.val();
        for l in 0..self.reach.len() {
            self.dm_r[l].clock.next = self.clock.val();
            self.dm_mask_r[l].clock.next = self.clock.val();
            // lanes l+1 .. l+D of this cycle are covered by a click in lane l
            self.reach[l].next = 0.into();
            for q in 1..8 {
                self.reach[l].next = self.reach[l]
                    .val()
                    .replace_bit(l + q, self.d_ge_r.q.val().get_bit(q));
            }
            // r after a last unsuppressed click in lane l: max(0, D + 1 + l - L)
            // (D < 2^16, so bit 16 of the 17-bit difference is its sign)
            self.dm[l].next = self.d_wide.val() - self.k_back[l].val();
            if self.dm[l].val().get_bit(16) {
                self.dm[l].next = 0.into();
            }
            // dm[l] > q <=> D + 1 + l - L > q <=> D >= q + L - l: a compare
            // of D with a constant, not of the difference above
            self.dm_mask[l].next = 0.into();
            for q in 0..8 {
                self.dm_mask[l].next = self.dm_mask[l]
                    .val()
                    .replace_bit(q, self.d_wide.val() >= self.k_mask[8 * l + q].val());
            }
            self.dm_r[l].d.next = self.dm[l].val();
            self.dm_mask_r[l].d.next = self.dm_mask[l].val();
        }
        // r after a cycle without an unsuppressed click: max(0, r - L)
        self.decay.next = 0.into();
        if self.r.q.val() >= self.k_lanes.val() {
            self.decay.next = self.r.q.val() - self.k_lanes.val();
        }
        self.decay_mask.next = 0.into();
        for q in 0..8 {
            self.decay_mask.next = self
                .decay_mask
                .val()
                .replace_bit(q, self.r.q.val() > self.k_lane_plus_l[q].val());
        }
        // ---- In-cycle chain over lanes ----
        // A click in a lane the state leaves open is unblocked unless an
        // unblocked click of an earlier lane j of this cycle covers it
        // (l - j <= D). The first open click is always unblocked.
        self.open_click.next = self.any_click.val() & !self.rmask.q.val();
        self.unblocked.next = 0.into();
        self.blocked.next = 0.into();
        for l in 0..self.covered.len() {
            self.covered[l].next = false;
            // (reach[j] has bit l only for j < l <= j + D)
            for j in 0..self.reach.len() {
                self.covered[l].next = self.covered[l].val()
                    | (self.unblocked.val().get_bit(j) & self.reach[j].val().get_bit(l));
            }
            self.blocked.next = self
                .blocked
                .val()
                .replace_bit(l, self.rmask.q.val().get_bit(l) | self.covered[l].val());
            self.unblocked.next = self
                .unblocked
                .val()
                .replace_bit(l, self.open_click.val().get_bit(l) & !self.covered[l].val());
        }
        self.open.next = !self.rmask.q.val();
        // ---- Next state: the last unblocked click wins ----
        // The mask after a last click in lane l, `dm_mask_r[l]`, grows with l
        // (`dm[l]` does), so the last one's mask is the OR over all
        // unblocked lanes: no priority chain after the lane chain.
        self.hit_mask.next = 0.into();
        for l in 0..self.covered.len() {
            if self.unblocked.val().get_bit(l) {
                self.hit_mask.next = self.hit_mask.val() | self.dm_mask_r[l].q.val();
            }
        }
        // r after the last unblocked click is dm[last]; the bitwise OR of
        // every unblocked lane's dm gives the same next cycles, so no
        // priority chain picks the last one: with one unblocked click the
        // OR is exact, and two unblocked clicks in one cycle need D < L - 1,
        // when every dm[l] <= D < L - 1, so their OR is below L (L is a
        // power of two) and r only feeds the decay, which is 0 for any
        // r <= L (rmask comes from hit_mask above).
        self.r_hit.next = 0.into();
        for l in 0..self.covered.len() {
            if self.unblocked.val().get_bit(l) {
                self.r_hit.next = self.r_hit.val() | self.dm_r[l].q.val();
            }
        }
        self.r.d.next = self.r_hit.val();
        if !self.open_click.val().any() {
            self.r.d.next = self.decay.val();
        }
        self.rmask.d.next = self.decay_mask.val();
        if self.open_click.val().any() {
            self.rmask.d.next = self.hit_mask.val();
        }
        if self.restart.val() {
            self.r.d.next = 0.into();
            self.rmask.d.next = 0.into();
        }
    }
}

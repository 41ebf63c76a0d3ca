// SPDX-License-Identifier: MIT OR Apache-2.0
//! QRNG health tests (gateware spec section 3): the repetition count test and
//! the adaptive proportion test of NIST SP 800-90B (January 2018), sections
//! 4.4.1 and 4.4.2, run per lane on 64-bit samples.

/// Cutoffs and window of the two tests, as programmed in the RNG block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthParams {
    /// `RNG_RCT_CUTOFF`: the RCT fails when `B >= rct_cutoff`.
    pub rct_cutoff: u32,
    /// `RNG_APT_WINDOW`: samples per APT window (0 is treated as 1).
    pub apt_window: u32,
    /// `RNG_APT_CUTOFF`: the APT fails when `B >= apt_cutoff`.
    pub apt_cutoff: u32,
}

/// Outcome of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthResult {
    /// The repetition count test failed on this sample.
    pub rct_fail: bool,
    /// The adaptive proportion test failed on this sample.
    pub apt_fail: bool,
}

/// State of both tests for one lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HealthTests {
    /// RCT: previous sample (`A`), if any.
    rct_last: Option<u64>,
    /// RCT: run length `B` of `rct_last` (saturating).
    rct_count: u32,
    /// APT: reference sample `A` of the current window, if a window is open.
    apt_ref: Option<u64>,
    /// APT: copies `B` of `apt_ref` seen in the window (saturating).
    apt_count: u32,
    /// APT: samples of the current window seen so far.
    apt_seen: u32,
}

impl HealthTests {
    /// Fresh state (at START or after the alarm is cleared).
    pub fn new() -> HealthTests {
        HealthTests::default()
    }

    /// Feed one sample; returns which tests fail on it.
    pub fn sample(&mut self, x: u64, p: &HealthParams) -> HealthResult {
        // ---- 4.4.1 repetition count test ----
        if self.rct_last == Some(x) {
            self.rct_count = self.rct_count.saturating_add(1);
        } else {
            self.rct_last = Some(x);
            self.rct_count = 1;
        }
        let rct_fail = self.rct_count >= p.rct_cutoff;

        // ---- 4.4.2 adaptive proportion test ----
        let window = p.apt_window.max(1);
        match self.apt_ref {
            Some(a) => {
                self.apt_seen += 1;
                if a == x {
                    self.apt_count = self.apt_count.saturating_add(1);
                }
            }
            None => {
                self.apt_ref = Some(x);
                self.apt_count = 1;
                self.apt_seen = 1;
            }
        }
        let apt_fail = self.apt_count >= p.apt_cutoff;
        if self.apt_seen >= window {
            self.apt_ref = None;
        }
        HealthResult { rct_fail, apt_fail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: HealthParams = HealthParams {
        rct_cutoff: 6,
        apt_window: 512,
        apt_cutoff: 13,
    };

    #[test]
    fn rct_fails_on_the_cutoffth_identical_sample() {
        let mut h = HealthTests::new();
        // 4.4.1: B = 1 after a new value, +1 per repeat; fail when B >= C.
        for i in 1..6 {
            assert!(!h.sample(7, &P).rct_fail, "sample {i}");
        }
        assert!(h.sample(7, &P).rct_fail);
        assert!(
            h.sample(7, &P).rct_fail,
            "stays failing while the run goes on"
        );
        assert!(!h.sample(8, &P).rct_fail, "a new value restarts B at 1");
    }

    #[test]
    fn rct_counts_only_consecutive_repeats() {
        let mut h = HealthTests::new();
        for x in [1u64, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1] {
            assert!(!h.sample(x, &P).rct_fail);
        }
        assert!(h.sample(1, &P).rct_fail);
    }

    #[test]
    fn apt_counts_copies_of_the_window_reference() {
        let p = HealthParams {
            rct_cutoff: 1000,
            apt_window: 8,
            apt_cutoff: 3,
        };
        let mut h = HealthTests::new();
        // Window 1: reference 5; 5 appears at positions 0, 3, 6 -> B reaches 3 at position 6.
        let w1 = [5u64, 1, 2, 5, 3, 4, 5, 6];
        let fails: Vec<bool> = w1.iter().map(|&x| h.sample(x, &p).apt_fail).collect();
        assert_eq!(
            fails,
            [false, false, false, false, false, false, true, true]
        );
        // Window 2 starts with a new reference (9); the 5s no longer count.
        let w2 = [9u64, 5, 5, 5, 9, 1, 2, 3];
        let fails: Vec<bool> = w2.iter().map(|&x| h.sample(x, &p).apt_fail).collect();
        assert_eq!(fails, [false; 8]);
        // Window 3: reference 1, two more copies reach the cutoff.
        let w3 = [1u64, 0, 1, 1];
        let fails: Vec<bool> = w3.iter().map(|&x| h.sample(x, &p).apt_fail).collect();
        assert_eq!(fails, [false, false, false, true]);
    }

    #[test]
    fn apt_window_of_one_never_counts_past_one() {
        let p = HealthParams {
            rct_cutoff: 1000,
            apt_window: 1,
            apt_cutoff: 2,
        };
        let mut h = HealthTests::new();
        for _ in 0..10 {
            assert!(!h.sample(3, &p).apt_fail);
        }
    }

    #[test]
    fn cutoff_one_fails_immediately() {
        let p = HealthParams {
            rct_cutoff: 1,
            apt_window: 4,
            apt_cutoff: 1,
        };
        let r = HealthTests::new().sample(0, &p);
        assert!(r.rct_fail && r.apt_fail);
    }
}

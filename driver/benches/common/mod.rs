// SPDX-License-Identifier: MIT OR Apache-2.0
//! A criterion measurement of the calling thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), so that figures "on one core" stay
//! meaningful on a machine shared with other jobs.
#![allow(dead_code)] // each bench uses a different part

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use nix::time::{clock_gettime, ClockId};
use std::time::Duration;

/// Thread CPU time.
pub struct ThreadCpu;

/// Now, in thread CPU time.
pub fn thread_cpu_now() -> Duration {
    let t = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("clock_gettime");
    Duration::new(t.tv_sec() as u64, t.tv_nsec() as u32)
}

static WALL: WallTime = WallTime;

impl Measurement for ThreadCpu {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu_now()
    }
    fn end(&self, i: Duration) -> Duration {
        thread_cpu_now().saturating_sub(i)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

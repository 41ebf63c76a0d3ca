//! Probe: raw stepping speed of the lane PRNG (not a test).
use qkd_sim::physics::prng::LanePrng;
fn main() {
    let n = 100_000_000u64;
    let mut a = LanePrng::new(1, 4);
    let mut b = LanePrng::new(2, 4);
    let t = std::time::Instant::now();
    a.advance(n);
    let d1 = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    a.advance_pair(n, &mut b, n);
    let d2 = t.elapsed().as_secs_f64();
    println!(
        "single {:.2} ns/cycle, pair {:.2} ns/cycle(both) {}",
        d1 / n as f64 * 1e9,
        d2 / n as f64 * 1e9,
        a.word(0) ^ b.word(1)
    );
}

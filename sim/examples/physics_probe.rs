//! Quick probe: run the fast link and print rates (not a test).
use qkd_sim::physics::{run_link, LinkParams};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let km: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(50.0);
    let n: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1 << 28);
    let mut p = LinkParams::default();
    p.channel.length_km = km;
    let t = std::time::Instant::now();
    let (out, stats, tot) = run_link(p, n).unwrap();
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{km} km: {n} slots in {dt:.3}s = {:.1} M slots/s; {:?}; {:?}; alice recs {} bob recs {}",
        n as f64 / dt / 1e6,
        stats,
        tot,
        out.alice.len(),
        out.bob.len()
    );
}

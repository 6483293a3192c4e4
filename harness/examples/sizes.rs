use lifecycle_harness::generate::record::RecordSpec;
use lifecycle_harness::input::Shape;
fn main() {
    let mut seed: u64 = 1;
    let mut sizes = Vec::new();
    for _ in 0..2000 {
        let bytes: Vec<u8> = (0..384)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        let r = RecordSpec::from_bytes(&bytes).build(1_704_067_200_000_000);
        sizes.push(r.encode().len());
    }
    sizes.sort();
    println!(
        "median {} p90 {} p99 {} max {}",
        sizes[1000], sizes[1800], sizes[1980], sizes[1999]
    );
}

#![no_main]
// The body is library code (lifecycle_fuzz::load_bytes) so `cargo test` replays the corpus.
libfuzzer_sys::fuzz_target!(|data: &[u8]| lifecycle_fuzz::load_bytes(data));

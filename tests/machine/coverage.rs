//! How often each transition kind, detail and lifecycle state was reached.
//!
//! Proves nothing by itself: the test crate prints the histogram and fails
//! when a kind or a state was never reached, so a weakened generator cannot
//! pass silently. Counts are per label (one per test run), because the test
//! harness runs the simulated and the real machine in parallel threads.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;

static COUNTS: Mutex<BTreeMap<(&'static str, String), u64>> = Mutex::new(BTreeMap::new());

thread_local! {
    static LABEL: Cell<&'static str> = const { Cell::new("unlabelled") };
}

/// Counts made on this thread from now on go under `label`.
pub fn set_label(label: &'static str) {
    LABEL.with(|l| l.set(label));
}

pub fn hit(key: impl Into<String>) {
    let label = LABEL.with(Cell::get);
    let mut counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    *counts.entry((label, key.into())).or_default() += 1;
}

/// The counts under `label`.
pub fn histogram(label: &str) -> BTreeMap<String, u64> {
    let counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
    counts
        .iter()
        .filter(|((l, _), _)| *l == label)
        .map(|((_, key), n)| (key.clone(), *n))
        .collect()
}

/// The histogram as lines of text, widest key first column.
pub fn render(histogram: &BTreeMap<String, u64>) -> String {
    let width = histogram.keys().map(String::len).max().unwrap_or(0);
    histogram
        .iter()
        .map(|(key, n)| format!("  {key:<width$} {n:>7}\n"))
        .collect()
}

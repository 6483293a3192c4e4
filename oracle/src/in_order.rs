//! Work shared out to runner threads, its outcomes handed on in order.
//!
//! Promises: [`in_order`] gives the items to `runners.len()` threads at
//! once (fewer when there are fewer items), each with its own runner
//! state (a traced replay's CPU, a case's adapter), and hands each
//! outcome to `each` on the calling thread in the order of the items, as
//! soon as it and every one before it are known, so what `each` sees is
//! the same whatever the number of runners. Once `each` says stop, or
//! panics, no item starts; the items already under way end, and `each`
//! gets their outcomes too (a replay under way leaves files to remove).
//!
//! Does not promise: which runner does which item, nor that an item
//! after the one `each` stopped at did not run.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::thread;

/// Runs `work` on each of `items` with one thread per runner state of
/// `runners` (its number, from 0, and its state), and hands each outcome
/// to `each` in the order of `items`.
pub fn in_order<S: Send, T: Send, R: Send>(
    runners: Vec<S>,
    items: Vec<T>,
    work: impl Fn(usize, &mut S, T) -> R + Sync,
    mut each: impl FnMut(R) -> ControlFlow<()>,
) {
    let busy = runners.len().min(items.len());
    let queue = Mutex::new(items.into_iter().enumerate());
    let stop = AtomicBool::new(false);
    let (done, outcomes) = mpsc::channel();
    thread::scope(|scope| {
        for (number, mut state) in runners.into_iter().take(busy).enumerate() {
            let done = done.clone();
            let (queue, stop, work) = (&queue, &stop, &work);
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                // A panic of another runner poisons nothing worth keeping.
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                let Some((index, item)) = next else { return };
                let outcome = work(number, &mut state, item);
                if done.send((index, outcome)).is_err() {
                    return;
                }
            });
        }
        drop(done);
        // However this thread leaves (an `each` that panics included), no
        // item starts after it.
        struct Stop<'s>(&'s AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&stop);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (index, outcome) in outcomes.iter() {
            waiting.insert(index, outcome);
            while let Some(outcome) = waiting.remove(&next) {
                next += 1;
                if each(outcome).is_break() {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn each_runner_works_with_its_own_state_and_the_outcomes_come_in_order() {
        for runners in [1, 2, 3, 8] {
            let items: Vec<u64> = (0..12).collect();
            let mut got = Vec::new();
            // A runner's state: its number and the items it did.
            let states: Vec<(usize, Vec<u64>)> = (0..runners).map(|n| (n, Vec::new())).collect();
            in_order(
                states,
                items,
                |number, state: &mut (usize, Vec<u64>), item| {
                    assert_eq!(number, state.0, "a runner has the state of its number");
                    state.1.push(item);
                    // Later items end sooner, out of order.
                    thread::sleep(Duration::from_millis(12 - item));
                    (item, state.1.len())
                },
                |outcome| {
                    got.push(outcome);
                    ControlFlow::Continue(())
                },
            );
            let order: Vec<u64> = got.iter().map(|(item, _)| *item).collect();
            assert_eq!(order, (0..12).collect::<Vec<_>>(), "{runners} runners");
            if runners == 1 {
                // One runner did them all, one after another.
                let done: Vec<usize> = got.iter().map(|(_, done)| *done).collect();
                assert_eq!(done, (1..=12).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn no_items_hand_on_nothing() {
        let mut called = false;
        in_order(
            vec![(); 4],
            Vec::<u64>::new(),
            |_, (), item| item,
            |_| {
                called = true;
                ControlFlow::Continue(())
            },
        );
        assert!(!called);
    }
}

//! `transitions`: a start and up to 24 transitions, run by the store
//! through its in-process subject on SimFs, judged after every step.
//!
//! The vocabulary and the judge are the machine test's own
//! (`lifecycle_harness::transition`, `lifecycle_harness::driver`): writer
//! operations of every kind (dispatch of any event with any guards and
//! shadow flag, the five sleep-cycle operations, locked saves of valid and
//! invalid records, timestamp respellings), clock moves (also past year
//! 9999 and backwards), outside rewrites and damage of the file, stale temp
//! files, and crashes, injected I/O errors and power loss. Promises to
//! check what the driver checks (see its module doc): after every step the
//! store answers what `lifecycle_model::writer::operate` predicts, the disk
//! keeps the invariants, and load agrees with the model.
//!
//! Does not check: several writers at once.

use lifecycle_harness::input::Shape;
use lifecycle_harness::transition::Script;
use lifecycle_harness::Driver;
use lifecycle_testkit::backend::SimDisk;
use lifecycle_testkit::StoreSubject;

pub fn transitions(data: &[u8]) {
    let script = Script::from_bytes(data);
    let mut driver = Driver::new(StoreSubject::<SimDisk>::default(), &script.start.build());
    let run = driver.after_step().and_then(|()| {
        script
            .transitions
            .iter()
            .try_for_each(|transition| driver.apply(transition).map(drop))
    });
    // libFuzzer sees a finding as a panic.
    if let Err(finding) = run {
        panic!("{finding}");
    }
}

//! Writer operations (the model's `WriterOp`), built from structure.
//!
//! Promises: an [`OpSpec`] names an operation the way a test aims it (the
//! event that moves the lifecycle forward, the step that is due, the stored
//! record respelled) and [`OpSpec::resolve`] turns it into the concrete
//! `WriterOp` against what the record file holds now, so one spec stays
//! meaningful whatever earlier steps did. Every operation of SPEC §4.3 and
//! §5 is reachable with every argument class: any event with any guards
//! and shadow flag, step numbers due, past, far and past 2^53−1, quarantine
//! lengths from 0 s to past year 9999, locked saves of valid records.

use lifecycle_model::machine::{next_state, Event, Guards};
use lifecycle_model::spec::MAX_INTEGER;
use lifecycle_model::writer::WriterOp;
use lifecycle_model::{Record, State};

use crate::generate::record::{timestamp, RecordSpec, Text};
use crate::input::{Reader, Shape, Writer};
use crate::world::World;

/// A step number, mostly relative to the stored progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepNo {
    /// `last_completed_step + 1`: the step that is due.
    Next,
    /// `last_completed_step`.
    Last,
    Small(u8),
    /// 2^53 − 1, 2^53, `u64::MAX`.
    Huge(u8),
}

pub const HUGE: [u64; 3] = [MAX_INTEGER, MAX_INTEGER + 1, u64::MAX];

impl Shape for StepNo {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(8) {
            0..=3 => StepNo::Next,
            4 => StepNo::Last,
            5 | 6 => StepNo::Small(r.below(8) as u8),
            _ => StepNo::Huge(r.below(HUGE.len()) as u8),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            StepNo::Next => w.below(0, 8),
            StepNo::Last => w.below(4, 8),
            StepNo::Small(n) => {
                w.below(5, 8);
                w.below(usize::from(*n), 8);
            }
            StepNo::Huge(i) => {
                w.below(7, 8);
                w.below(usize::from(*i), HUGE.len());
            }
        }
    }
}

impl StepNo {
    pub fn resolve(self, last_completed: u64) -> u64 {
        match self {
            StepNo::Next => last_completed.saturating_add(1),
            StepNo::Last => last_completed,
            StepNo::Small(n) => u64::from(n),
            StepNo::Huge(i) => HUGE[usize::from(i) % HUGE.len()],
        }
    }
}

/// Quarantine lengths, seconds, with weights: none, short, the default
/// (twice as likely), past year 9999.
pub const TTLS: [(u8, u64); 8] = [
    (1, 0),
    (1, 1),
    (1, 59),
    (1, 3_600),
    (2, 86_400),
    (1, 31_536_000),
    (1, 315_360_000_000),
    (1, u64::MAX),
];

/// The event of a dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSpec {
    /// The event that moves the stored state along WAKE → DROWSY → SLEEP →
    /// HIBERNATION → WAKE (with guards that let it), so HIBERNATION is
    /// reached often.
    Forward,
    Is(Event),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpSpec {
    Dispatch {
        event: EventSpec,
        guards: Guards,
        shadow_run: bool,
    },
    Begin(StepNo),
    StepDone(StepNo),
    StepFailed {
        step: StepNo,
        error: Text,
        ttl_secs: u64,
    },
    CycleDone,
    ResetQuarantine,
    /// A locked save of a valid record.
    Save(Box<RecordSpec>),
    /// A locked save of the stored record with one timestamp respelled
    /// (`Z` ⇄ `+00:00`, or one more fraction digit): same instant, new text
    /// (SPEC §4.6). Nothing when the file holds no valid record.
    Respell(u8),
}

/// Dispatch is the common operation; saves of records and respellings are
/// rarer. Weights of the tags, in the order of [`OpSpec`]'s variants.
const OP_TAGS: [(u8, u8); 8] = [
    (9, 0),
    (2, 1),
    (3, 2),
    (3, 3),
    (1, 4),
    (1, 5),
    (2, 6),
    (1, 7),
];

impl Shape for OpSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&OP_TAGS) {
            0 => {
                let forward = r.below(5) < 3;
                let event = if forward {
                    EventSpec::Forward
                } else {
                    EventSpec::Is(r.pick(&Event::ALL))
                };
                let guards = Guards {
                    sleep_eligible: r.flag(),
                    still_idle: r.flag(),
                };
                OpSpec::Dispatch {
                    event,
                    guards,
                    shadow_run: r.below(10) < 3,
                }
            }
            1 => OpSpec::Begin(r.read()),
            2 => OpSpec::StepDone(r.read()),
            3 => OpSpec::StepFailed {
                step: r.read(),
                error: r.read(),
                ttl_secs: r.pick_weighted(&TTLS),
            },
            4 => OpSpec::CycleDone,
            5 => OpSpec::ResetQuarantine,
            6 => OpSpec::Save(r.read()),
            _ => OpSpec::Respell(r.byte()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            OpSpec::Dispatch {
                event,
                guards,
                shadow_run,
            } => {
                w.pick_weighted(&OP_TAGS, &0);
                match event {
                    EventSpec::Forward => w.below(0, 5),
                    EventSpec::Is(e) => {
                        w.below(3, 5);
                        w.pick(&Event::ALL, e);
                    }
                }
                w.flag(guards.sleep_eligible);
                w.flag(guards.still_idle);
                w.below(if *shadow_run { 0 } else { 3 }, 10);
            }
            OpSpec::Begin(n) => {
                w.pick_weighted(&OP_TAGS, &1);
                w.write(n);
            }
            OpSpec::StepDone(n) => {
                w.pick_weighted(&OP_TAGS, &2);
                w.write(n);
            }
            OpSpec::StepFailed {
                step,
                error,
                ttl_secs,
            } => {
                w.pick_weighted(&OP_TAGS, &3);
                w.write(step);
                w.write(error);
                w.pick_weighted(&TTLS, ttl_secs);
            }
            OpSpec::CycleDone => w.pick_weighted(&OP_TAGS, &4),
            OpSpec::ResetQuarantine => w.pick_weighted(&OP_TAGS, &5),
            OpSpec::Save(spec) => {
                w.pick_weighted(&OP_TAGS, &6);
                w.write(spec);
            }
            OpSpec::Respell(i) => {
                w.pick_weighted(&OP_TAGS, &7);
                w.byte(*i);
            }
        }
    }
}

/// The event that moves `state` forward (see [`EventSpec::Forward`]).
fn forward_event(state: State) -> Event {
    match state {
        State::Wake => Event::Idle5Min,
        State::Drowsy => Event::Idle30Min,
        State::Sleep => Event::SleepCycleDone,
        State::Hibernation => Event::WakeSignal,
    }
}

impl OpSpec {
    /// The operation this names, against what `world` holds; `None` for a
    /// respelling when the file holds no valid record.
    pub fn resolve(&self, world: &World) -> Option<WriterOp> {
        let record = world.file.record();
        let last_completed = record
            .and_then(|r| r.sleep_cycle_progress.as_ref())
            .map_or(0, |p| p.last_completed_step.unwrap_or(0));
        Some(match self {
            OpSpec::Dispatch {
                event,
                guards,
                shadow_run,
            } => {
                let state = record.map_or(State::Wake, |r| r.current_state);
                let (event, guards) = match event {
                    EventSpec::Is(e) => (*e, *guards),
                    EventSpec::Forward => {
                        let e = forward_event(state);
                        let both = Guards {
                            sleep_eligible: true,
                            still_idle: true,
                        };
                        debug_assert_ne!(next_state(state, e, both), state);
                        (e, both)
                    }
                };
                WriterOp::Dispatch {
                    event,
                    guards,
                    shadow_run: *shadow_run,
                }
            }
            OpSpec::Begin(n) => WriterOp::Begin(n.resolve(last_completed)),
            OpSpec::StepDone(n) => WriterOp::StepDone(n.resolve(last_completed)),
            OpSpec::StepFailed {
                step,
                error,
                ttl_secs,
            } => WriterOp::StepFailed {
                step: step.resolve(last_completed),
                error: error.build(),
                ttl_secs: *ttl_secs,
            },
            OpSpec::CycleDone => WriterOp::CycleDone,
            OpSpec::ResetQuarantine => WriterOp::ResetQuarantine,
            OpSpec::Save(spec) => WriterOp::Save(spec.build(world.now_micros)),
            OpSpec::Respell(which) => WriterOp::Save(respelled(record?, *which)),
        })
    }
}

/// `record` with one of its timestamps spelled another way.
fn respelled(record: &Record, which: u8) -> Record {
    let mut record = record.clone();
    let mut stamps = vec![&mut record.since_ts, &mut record.last_activity_ts];
    if let Some(p) = record.sleep_cycle_progress.as_mut() {
        stamps.extend(p.started_at.as_mut());
    }
    if let Some(q) = record.quarantine.as_mut() {
        stamps.push(&mut q.until_ts);
        stamps.push(&mut q.since_ts);
    }
    let count = stamps.len();
    let ts = stamps.swap_remove(usize::from(which) % count);
    *ts = timestamp(&respell(ts.as_str(), which >= 128));
    record
}

/// `Z` ⇄ `+00:00`, or one more fraction digit (`.0` when there is none).
fn respell(text: &str, longer_fraction: bool) -> String {
    let (body, offset) = match text.strip_suffix('Z') {
        Some(body) => (body, "Z"),
        None => (text.strip_suffix("+00:00").unwrap_or(text), "+00:00"),
    };
    if longer_fraction {
        let dot = if body.contains('.') { "" } else { "." };
        format!("{body}{dot}0{offset}")
    } else if offset == "Z" {
        format!("{body}+00:00")
    } else {
        format!("{body}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_respelling_picks_each_timestamp_of_the_record_in_turn() {
        let record = Record::default_at(&timestamp("2024-01-01T00:00:00Z"));
        let since = respelled(&record, 2);
        assert_eq!(since.since_ts.as_str(), "2024-01-01T00:00:00+00:00");
        assert_eq!(since.last_activity_ts, record.last_activity_ts);
        let last = respelled(&record, 1);
        assert_eq!(last.since_ts, record.since_ts);
        assert_eq!(last.last_activity_ts.as_str(), "2024-01-01T00:00:00+00:00");
    }

    #[test]
    fn a_respelled_timestamp_is_the_same_instant_in_other_text() {
        for (text, longer) in [
            ("2024-01-01T00:00:00Z", false),
            ("2024-01-01T00:00:00+00:00", false),
            ("2024-01-01T00:00:00Z", true),
            ("2024-01-01T00:00:00.5+00:00", true),
        ] {
            let again = respell(text, longer);
            assert_ne!(again, text);
            assert_eq!(timestamp(&again), timestamp(text), "{again}");
        }
    }

    #[test]
    fn every_op_spec_reads_back_as_written() {
        let specs = [
            OpSpec::Dispatch {
                event: EventSpec::Forward,
                guards: Guards::default(),
                shadow_run: true,
            },
            OpSpec::Dispatch {
                event: EventSpec::Is(Event::Tick),
                guards: Guards {
                    sleep_eligible: true,
                    still_idle: false,
                },
                shadow_run: false,
            },
            OpSpec::StepFailed {
                step: StepNo::Huge(2),
                error: Text::ascii("boom"),
                ttl_secs: u64::MAX,
            },
            OpSpec::Respell(200),
        ];
        for spec in specs {
            assert_eq!(OpSpec::from_bytes(&spec.to_bytes()), spec);
        }
    }
}

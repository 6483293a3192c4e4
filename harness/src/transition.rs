//! One step of a run, and the start of one: the vocabulary the property
//! tests and the fuzz targets share.
//!
//! Promises: every transition is valid in every state (an aimed one, such
//! as "the step that is due", is resolved when it runs), so a sequence
//! shrinks by dropping steps without preconditions; every transition has
//! exactly one [`Kind`] (the match below is exhaustive, so the compiler
//! checks it). Crashes, injected errors and power loss need a simulated
//! disk; a run on a real one skips them.

use lifecycle_model::persistence::Crash;

use crate::coverage::Kind;
use crate::generate::clock::{ClockMove, ClockStart};
use crate::generate::corruption::Corruption;
use crate::generate::file::FileSpec;
use crate::generate::invalid::InvalidSave;
use crate::generate::op::{EventSpec, OpSpec};
use crate::input::{weighted, weighted_index, Reader, Shape, Writer};
use crate::subject::Injected;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// One writer operation, run to completion.
    Write(OpSpec),
    /// A locked save of the record in force, broken one way (SPEC §3.1).
    SaveInvalid(InvalidSave),
    Load,
    Clock(ClockMove),
    /// The record file's bytes damaged from outside.
    Corrupt(Corruption),
    /// The record path rewritten from outside (or removed).
    Replace(FileSpec),
    /// A directory at the record path (SPEC §2.1 `Unreadable`).
    PutDirectory,
    /// A stale `.lifecycle_state.<16 hex>.tmp` file.
    StaleTemp(u64),
    /// The process dies before call `at_call` of `op`, then `crash`
    /// happens and the disk comes back in state `choice` of those the
    /// persistence model allows.
    Crash {
        op: OpSpec,
        at_call: u8,
        crash: Crash,
        choice: u64,
    },
    /// The machine loses power between operations.
    PowerLoss {
        block_size: usize,
        choice: u64,
    },
    /// Call `at_call` of `op` fails once with `fault`.
    Fault {
        op: OpSpec,
        at_call: u8,
        fault: Injected,
    },
}

pub const CRASHES: [Crash; 3] = [
    Crash::Process,
    Crash::PowerLoss { block_size: 512 },
    Crash::PowerLoss { block_size: 4096 },
];

pub const BLOCK_SIZES: [usize; 2] = [512, 4096];

/// Crash and fault points lie within the first calls of an operation.
const CALLS: usize = 20;

/// Weights of the tags, in the order of [`Transition`]'s variants: writer
/// operations dominate a run; the rest are the world around them.
const TAGS: [(u8, u8); 8] = [
    (21, 0),
    (1, 1),
    (1, 2),
    (4, 3),
    (2, 4),
    (1, 5),
    (1, 6),
    (1, 7),
];
/// Bytes from this on choose among [`SIMULATED_TAGS`]: one transition in
/// seven, as many as a crash, a fault or a power loss needs to be met often
/// without starving the rest.
const SIMULATED_FROM: u8 = 220;
/// Crashes, power losses and faults: only on a simulated disk.
const SIMULATED_TAGS: [(u8, u8); 3] = [(4, 8), (2, 9), (4, 10)];

impl Shape for Transition {
    fn read(r: &mut Reader<'_>) -> Self {
        let tag = match r.byte() {
            b if b < SIMULATED_FROM => weighted(&TAGS, usize::from(b)),
            b => weighted(&SIMULATED_TAGS, usize::from(b - SIMULATED_FROM)),
        };
        match tag {
            0 => Transition::Write(r.read()),
            1 => Transition::SaveInvalid(r.read()),
            2 => Transition::Load,
            3 => Transition::Clock(r.read()),
            4 => Transition::Corrupt(r.read()),
            5 => Transition::Replace(r.read()),
            6 => Transition::PutDirectory,
            7 => Transition::StaleTemp(r.u64()),
            8 => Transition::Crash {
                op: r.read(),
                at_call: r.below(CALLS) as u8,
                crash: r.pick(&CRASHES),
                choice: r.u64(),
            },
            9 => Transition::PowerLoss {
                block_size: r.pick(&BLOCK_SIZES),
                choice: r.u64(),
            },
            _ => Transition::Fault {
                op: r.read(),
                at_call: r.below(CALLS) as u8,
                fault: r.pick(&Injected::ALL),
            },
        }
    }
    fn write(&self, w: &mut Writer) {
        let tag = |w: &mut Writer, t: u8| {
            let byte = match weighted_index(&TAGS, &t) {
                Some(i) => i as u8,
                None => {
                    let i = weighted_index(&SIMULATED_TAGS, &t)
                        .unwrap_or_else(|| panic!("transition tag {t} has no byte"));
                    SIMULATED_FROM + i as u8
                }
            };
            w.byte(byte);
        };
        match self {
            Transition::Write(op) => {
                tag(w, 0);
                w.write(op);
            }
            Transition::SaveInvalid(kind) => {
                tag(w, 1);
                w.write(kind);
            }
            Transition::Load => tag(w, 2),
            Transition::Clock(m) => {
                tag(w, 3);
                w.write(m);
            }
            Transition::Corrupt(c) => {
                tag(w, 4);
                w.write(c);
            }
            Transition::Replace(file) => {
                tag(w, 5);
                w.write(file);
            }
            Transition::PutDirectory => tag(w, 6),
            Transition::StaleTemp(n) => {
                tag(w, 7);
                w.u64(*n);
            }
            Transition::Crash {
                op,
                at_call,
                crash,
                choice,
            } => {
                tag(w, 8);
                w.write(op);
                w.below(usize::from(*at_call), CALLS);
                w.pick(&CRASHES, crash);
                w.u64(*choice);
            }
            Transition::PowerLoss { block_size, choice } => {
                tag(w, 9);
                w.pick(&BLOCK_SIZES, block_size);
                w.u64(*choice);
            }
            Transition::Fault { op, at_call, fault } => {
                tag(w, 10);
                w.write(op);
                w.below(usize::from(*at_call), CALLS);
                w.pick(&Injected::ALL, fault);
            }
        }
    }
}

impl Transition {
    pub fn kind(&self) -> Kind {
        match self {
            Transition::Write(op) => op_kind(op),
            Transition::SaveInvalid(_) => Kind::SaveInvalid,
            Transition::Load => Kind::Load,
            Transition::Clock(_) => Kind::AdvanceClock,
            Transition::Corrupt(_) => Kind::Corrupt,
            Transition::Replace(FileSpec::Missing) => Kind::Delete,
            Transition::Replace(_) => Kind::Replace,
            Transition::PutDirectory => Kind::PutDirectory,
            Transition::StaleTemp(_) => Kind::StaleTemp,
            Transition::Crash { .. } => Kind::Crash,
            Transition::PowerLoss { .. } => Kind::PowerLoss,
            Transition::Fault { .. } => Kind::Fault,
        }
    }

    /// Whether it needs a simulated disk.
    pub fn simulated_only(&self) -> bool {
        self.kind().simulated_only()
    }

    /// A finer name for the histogram, where the kind has variants.
    pub fn detail(&self) -> Option<String> {
        match self {
            Transition::Write(OpSpec::Dispatch {
                event: EventSpec::Is(event),
                ..
            }) => Some(format!("event/{}", event.name())),
            Transition::Write(OpSpec::Dispatch {
                event: EventSpec::Forward,
                ..
            }) => Some("event/forward".to_string()),
            Transition::Clock(ClockMove::ToQuarantineEnd(_)) => {
                Some("advance/to_quarantine_end".to_string())
            }
            Transition::Clock(ClockMove::To(_)) => Some("advance/to_an_instant".to_string()),
            Transition::Clock(ClockMove::By(d)) if *d > 86_400_000_000 => {
                Some("advance/more_than_a_day".to_string())
            }
            Transition::Corrupt(c) => Some(format!("corrupt/{}", c.kind())),
            Transition::SaveInvalid(kind) => Some(format!("save_invalid/{}", kind.kind())),
            Transition::Crash { crash, op, .. } => Some(format!(
                "crash/{}/{}",
                match crash {
                    Crash::Process => "process",
                    Crash::PowerLoss { .. } => "power_loss",
                },
                op_kind(op).name()
            )),
            Transition::Fault { fault, op, .. } => {
                Some(format!("fault/{}/{}", fault.name(), op_kind(op).name()))
            }
            _ => None,
        }
    }
}

/// The kind of a writer operation.
pub fn op_kind(op: &OpSpec) -> Kind {
    match op {
        OpSpec::Dispatch { .. } => Kind::Dispatch,
        OpSpec::Begin(_) => Kind::Begin,
        OpSpec::StepDone(_) => Kind::StepDone,
        OpSpec::StepFailed { .. } => Kind::StepFailed,
        OpSpec::CycleDone => Kind::CycleDone,
        OpSpec::ResetQuarantine => Kind::ResetQuarantine,
        OpSpec::Save(_) => Kind::SaveValid,
        OpSpec::Respell(_) => Kind::Respell,
    }
}

/// How a run starts: the clock and what the record path holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Start {
    pub clock: ClockStart,
    pub file: FileSpec,
}

impl Shape for Start {
    fn read(r: &mut Reader<'_>) -> Self {
        Start {
            clock: r.read(),
            file: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.clock);
        w.write(&self.file);
    }
}

/// A start and the transitions after it: one fuzz input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub start: Start,
    pub transitions: Vec<Transition>,
}

/// At most this many transitions per script.
pub const MAX_TRANSITIONS: usize = 24;

impl Shape for Script {
    fn read(r: &mut Reader<'_>) -> Self {
        Script {
            start: r.read(),
            transitions: r.list(MAX_TRANSITIONS),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.start);
        w.list(&self.transitions, MAX_TRANSITIONS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifecycle_model::machine::Guards;

    #[test]
    fn only_crashes_power_loss_and_faults_need_a_simulated_disk() {
        assert!(!Transition::Load.simulated_only());
        assert!(!Transition::PutDirectory.simulated_only());
        let power_loss = Transition::PowerLoss {
            block_size: 512,
            choice: 0,
        };
        assert!(power_loss.simulated_only());
    }

    #[test]
    fn the_histogram_names_the_variants_of_a_kind_of_transition() {
        let forward = Transition::Write(OpSpec::Dispatch {
            event: EventSpec::Forward,
            guards: Guards::default(),
            shadow_run: false,
        });
        assert_eq!(forward.detail().as_deref(), Some("event/forward"));
        assert_eq!(
            Transition::Clock(ClockMove::ToQuarantineEnd(0))
                .detail()
                .as_deref(),
            Some("advance/to_quarantine_end")
        );
        assert_eq!(
            Transition::Corrupt(Corruption::Bom).detail().as_deref(),
            Some("corrupt/bom")
        );
        let crash = |crash| Transition::Crash {
            op: OpSpec::Begin(crate::generate::op::StepNo::Small(1)),
            at_call: 0,
            crash,
            choice: 0,
        };
        assert_eq!(
            crash(Crash::Process).detail().as_deref(),
            Some("crash/process/begin")
        );
        assert_eq!(
            crash(Crash::PowerLoss { block_size: 512 })
                .detail()
                .as_deref(),
            Some("crash/power_loss/begin")
        );
        let fault = Transition::Fault {
            op: OpSpec::Begin(crate::generate::op::StepNo::Small(1)),
            at_call: 0,
            fault: Injected::NoSpace,
        };
        assert_eq!(fault.detail().as_deref(), Some("fault/ENOSPC/begin"));
        let invalid = crate::generate::invalid::InvalidSave::Oversize;
        assert_eq!(
            Transition::SaveInvalid(invalid).detail().as_deref(),
            Some("save_invalid/oversize")
        );
        assert_eq!(
            Transition::Clock(ClockMove::To(crate::generate::record::TsSpec::noon(
                2030, 1, 1
            )))
            .detail()
            .as_deref(),
            Some("advance/to_an_instant")
        );
        let day = 86_400_000_000;
        assert_eq!(Transition::Clock(ClockMove::By(day)).detail(), None);
        assert_eq!(
            Transition::Clock(ClockMove::By(day + 1))
                .detail()
                .as_deref(),
            Some("advance/more_than_a_day")
        );
    }
}

//! Near-valid objects: the record ([`RecordDoc`]), its nested
//! `sleep_cycle_progress` ([`ProgressDoc`]) and `quarantine`
//! ([`QuarantineDoc`]), and the [`Edits`] that break them.
//!
//! Promises: an object is built from its known members in table order,
//! then its unknown members, and then changed by a few [`Edit`]s (usually
//! none): a member removed, duplicated, swapped, given another value,
//! renamed, or its name spelled with an escape. So every object is one or
//! two steps from valid, and missing members, duplicate names (also
//! through escapes) and wrong types are all in reach.
//!
//! Does not promise: that an edit changes anything; it may remove a member
//! an earlier edit duplicated, or swap a member with itself.

use super::containers::render_container;
use super::members::Render;
use super::{BoolVal, IntVal, Punct, RenderedMember, Slot, StateVal, Str, TsVal, Value, Ws};
use crate::input::{Reader, Shape, Writer};

/// One change to an object's member list, applied after it is built.
/// Indexes are taken modulo the number of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Remove(u8),
    Duplicate(u8),
    Swap(u8, u8),
    Replace(u8, Value),
    Rename(u8, Str),
    /// Spells the first character of the name as `\u00XX` (same name).
    EscapeName(u8),
}

impl Shape for Edit {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(6) {
            0 => Edit::Remove(r.byte()),
            1 => Edit::Duplicate(r.byte()),
            2 => Edit::Swap(r.byte(), r.byte()),
            3 => Edit::Replace(r.byte(), r.nested(|r| r.read())),
            4 => Edit::Rename(r.byte(), r.read()),
            _ => Edit::EscapeName(r.byte()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Edit::Remove(i) => {
                w.below(0, 6);
                w.byte(*i);
            }
            Edit::Duplicate(i) => {
                w.below(1, 6);
                w.byte(*i);
            }
            Edit::Swap(i, j) => {
                w.below(2, 6);
                w.byte(*i);
                w.byte(*j);
            }
            Edit::Replace(i, v) => {
                w.below(3, 6);
                w.byte(*i);
                w.write(v);
            }
            Edit::Rename(i, s) => {
                w.below(4, 6);
                w.byte(*i);
                w.write(s);
            }
            Edit::EscapeName(i) => {
                w.below(5, 6);
                w.byte(*i);
            }
        }
    }
}

/// How many edits an object gets, with weights: usually none, so most
/// records stay near-valid.
const EDIT_COUNTS: [(u8, usize); 4] = [(6, 0), (2, 1), (1, 2), (1, 3)];

/// The edits of one object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Edits(pub Vec<Edit>);

impl Shape for Edits {
    fn read(r: &mut Reader<'_>) -> Self {
        let n = r.pick_weighted(&EDIT_COUNTS);
        Edits((0..n).map(|_| r.read()).collect())
    }
    fn write(&self, w: &mut Writer) {
        w.pick_weighted(&EDIT_COUNTS, &self.0.len());
        self.0.iter().for_each(|e| e.write(w));
    }
}

/// Unknown members of one object (0 to 3).
pub type Unknown = Vec<(Str, Value)>;

fn read_unknown(r: &mut Reader<'_>) -> Unknown {
    r.nested(|r| r.list(3))
}

fn name(text: &str) -> Vec<u8> {
    format!("\"{text}\"").into_bytes()
}

/// Applies `edits` to `members`, then renders the object.
fn render_object(out: &mut Vec<u8>, ws: Ws, mut members: Vec<RenderedMember>, edits: &Edits) {
    for edit in &edits.0 {
        if members.is_empty() {
            break;
        }
        let len = members.len();
        let at = |i: &u8| usize::from(*i) % len;
        match edit {
            Edit::Remove(i) => {
                members.remove(at(i));
            }
            Edit::Duplicate(i) => {
                let copy = members[at(i)].clone();
                members.push(copy);
            }
            Edit::Swap(i, j) => {
                let (i, j) = (at(i), at(j));
                members.swap(i, j);
            }
            Edit::Replace(i, v) => {
                let i = at(i);
                members[i].1 = v.to_bytes();
            }
            Edit::Rename(i, s) => {
                let i = at(i);
                members[i].0 = s.to_bytes();
            }
            Edit::EscapeName(i) => {
                let name = &mut members[at(i)].0;
                if let Some(&c) = name.get(1).filter(|c| c.is_ascii_alphanumeric()) {
                    let escaped = format!("\\u{:04x}", c);
                    name.splice(1..2, escaped.bytes());
                }
            }
        }
    }
    render_container(out, true, ws, Punct::Proper, &members);
}

fn push_unknown(members: &mut Vec<RenderedMember>, unknown: &Unknown) {
    for (name, value) in unknown {
        members.push((name.to_bytes(), value.to_bytes()));
    }
}

/// Absent, `null`, or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nullable<T> {
    Absent,
    Null,
    Present(T),
}

/// Weights of absent (0), `null` (1) and an object (2).
const NULLABLE: [(u8, u8); 3] = [(1, 0), (2, 1), (5, 2)];

impl<T: Shape> Shape for Nullable<T> {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.pick_weighted(&NULLABLE) {
            0 => Nullable::Absent,
            1 => Nullable::Null,
            _ => Nullable::Present(r.nested(|r| r.read())),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Nullable::Absent => w.pick_weighted(&NULLABLE, &0),
            Nullable::Null => w.pick_weighted(&NULLABLE, &1),
            Nullable::Present(t) => {
                w.pick_weighted(&NULLABLE, &2);
                w.write(t);
            }
        }
    }
}

/// A nullable known member of the record, pushed unless absent.
fn push_nullable<T: Render>(
    members: &mut Vec<RenderedMember>,
    key: &str,
    slot: &Slot<Nullable<T>>,
) {
    let value = match slot {
        Slot::Wild(v) => v.to_bytes(),
        Slot::Typed(Nullable::Absent) => return,
        Slot::Typed(Nullable::Null) => b"null".to_vec(),
        Slot::Typed(Nullable::Present(t)) => {
            let mut out = Vec::new();
            t.render(&mut out);
            out
        }
    };
    members.push((name(key), value));
}

/// `sleep_cycle_progress`: every member optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressDoc {
    pub last_completed_step: Option<Slot<IntVal>>,
    pub attempt: Option<Slot<IntVal>>,
    pub last_error: Option<Slot<Option<Str>>>,
    pub started_at: Option<Slot<TsVal>>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for ProgressDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        ProgressDoc {
            last_completed_step: r.read(),
            attempt: r.read(),
            last_error: r.read(),
            started_at: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.last_completed_step);
        w.write(&self.attempt);
        w.write(&self.last_error);
        w.write(&self.started_at);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for ProgressDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = Vec::new();
        if let Some(slot) = &self.last_completed_step {
            members.push((name("last_completed_step"), slot.to_bytes()));
        }
        if let Some(slot) = &self.attempt {
            members.push((name("attempt"), slot.to_bytes()));
        }
        if let Some(slot) = &self.last_error {
            members.push((name("last_error"), slot.to_bytes()));
        }
        if let Some(slot) = &self.started_at {
            members.push((name("started_at"), slot.to_bytes()));
        }
        push_unknown(&mut members, &self.unknown);
        render_object(out, Ws::None, members, &self.edits);
    }
}

/// `quarantine`: three required members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineDoc {
    pub until_ts: Slot<TsVal>,
    pub since_ts: Slot<TsVal>,
    pub reason: Slot<Str>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for QuarantineDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        QuarantineDoc {
            until_ts: r.read(),
            since_ts: r.read(),
            reason: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.until_ts);
        w.write(&self.since_ts);
        w.write(&self.reason);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for QuarantineDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = vec![
            (name("until_ts"), self.until_ts.to_bytes()),
            (name("since_ts"), self.since_ts.to_bytes()),
            (name("reason"), self.reason.to_bytes()),
        ];
        push_unknown(&mut members, &self.unknown);
        render_object(out, Ws::None, members, &self.edits);
    }
}

/// A record: the seven known members in table order, unknown members, then
/// the edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordDoc {
    pub ws: Ws,
    pub current_state: Slot<StateVal>,
    pub since_ts: Slot<TsVal>,
    pub last_activity_ts: Slot<TsVal>,
    pub wrapper_event_seq: Slot<IntVal>,
    pub sleep_cycle_progress: Slot<Nullable<ProgressDoc>>,
    pub quarantine: Slot<Nullable<QuarantineDoc>>,
    pub shadow_run: Slot<BoolVal>,
    pub unknown: Unknown,
    pub edits: Edits,
}

impl Shape for RecordDoc {
    fn read(r: &mut Reader<'_>) -> Self {
        RecordDoc {
            ws: r.read(),
            current_state: r.read(),
            since_ts: r.read(),
            last_activity_ts: r.read(),
            wrapper_event_seq: r.read(),
            sleep_cycle_progress: r.read(),
            quarantine: r.read(),
            shadow_run: r.read(),
            unknown: read_unknown(r),
            edits: r.read(),
        }
    }
    fn write(&self, w: &mut Writer) {
        w.write(&self.ws);
        w.write(&self.current_state);
        w.write(&self.since_ts);
        w.write(&self.last_activity_ts);
        w.write(&self.wrapper_event_seq);
        w.write(&self.sleep_cycle_progress);
        w.write(&self.quarantine);
        w.write(&self.shadow_run);
        w.list(&self.unknown, 3);
        w.write(&self.edits);
    }
}

impl Render for RecordDoc {
    fn render(&self, out: &mut Vec<u8>) {
        let mut members = vec![
            (name("current_state"), self.current_state.to_bytes()),
            (name("since_ts"), self.since_ts.to_bytes()),
            (name("last_activity_ts"), self.last_activity_ts.to_bytes()),
            (name("wrapper_event_seq"), self.wrapper_event_seq.to_bytes()),
        ];
        push_nullable(
            &mut members,
            "sleep_cycle_progress",
            &self.sleep_cycle_progress,
        );
        push_nullable(&mut members, "quarantine", &self.quarantine);
        members.push((name("shadow_run"), self.shadow_run.to_bytes()));
        push_unknown(&mut members, &self.unknown);
        render_object(out, self.ws, members, &self.edits);
    }
}

impl RecordDoc {
    /// The valid base record of `tests/vectors`: every member typed and
    /// valid, progress and quarantine `null`.
    pub fn base() -> RecordDoc {
        let ts = |text| Slot::Typed(TsVal::Fixed(text));
        RecordDoc {
            ws: Ws::None,
            current_state: Slot::Typed(StateVal("\"WAKE\"")),
            since_ts: ts("2000-02-29T00:00:00Z"),
            last_activity_ts: ts("2016-12-31T23:59:60Z"),
            wrapper_event_seq: Slot::Typed(IntVal::Edge("1")),
            sleep_cycle_progress: Slot::Typed(Nullable::Null),
            quarantine: Slot::Typed(Nullable::Null),
            shadow_run: Slot::Typed(BoolVal("false")),
            unknown: Vec::new(),
            edits: Edits::default(),
        }
    }
}

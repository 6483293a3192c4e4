//! What the record path holds when it is set from outside: at the start of
//! a run, or rewritten by something other than a writer between steps.

use lifecycle_model::writer::Found;

use crate::generate::json_doc::Doc;
use crate::generate::record::RecordSpec;
use crate::input::{Reader, Shape, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSpec {
    Missing,
    /// A valid record in the serialized form of SPEC §3.2.
    Record(Box<RecordSpec>),
    /// Any bytes, usually a near-valid record (valid or corrupt).
    Bytes(Doc),
}

impl Shape for FileSpec {
    fn read(r: &mut Reader<'_>) -> Self {
        match r.below(3) {
            0 => FileSpec::Missing,
            1 => FileSpec::Record(r.read()),
            _ => FileSpec::Bytes(r.read()),
        }
    }
    fn write(&self, w: &mut Writer) {
        match self {
            FileSpec::Missing => w.below(0, 3),
            FileSpec::Record(spec) => {
                w.below(1, 3);
                w.write(spec);
            }
            FileSpec::Bytes(doc) => {
                w.below(2, 3);
                w.write(doc);
            }
        }
    }
}

impl FileSpec {
    /// What the path holds, as the model reads it, with near timestamps
    /// built against `now_micros`.
    pub fn build(&self, now_micros: i64) -> Found {
        match self {
            FileSpec::Missing => Found::Missing,
            FileSpec::Record(spec) => Found::Valid(spec.build(now_micros)),
            FileSpec::Bytes(doc) => Found::of_bytes(&doc.render()),
        }
    }
}

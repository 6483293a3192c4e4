//! JSON-ish text built from structure: near-valid records and documents.
//!
//! Promises: a [`Doc`] renders to bytes that are usually *almost* a valid
//! record: the generator starts from the seven known members with typed,
//! mostly valid values and then breaks things one at a time, with weights
//! that favour the valid choice. Every corrupt class of SPEC §1.6 is within
//! reach: a size at either side of 1 MiB ([`Tail::Pad`]), invalid UTF-8 and
//! raw control characters ([`Piece::Bad`]), a BOM, stray or non-JSON
//! whitespace ([`Ws`]), non-RFC tokens ([`Lit`], [`NumForm`]), bad escapes
//! and lone surrogates, duplicate names (also through escapes,
//! [`Edit::Duplicate`] + [`Edit::EscapeName`]), non-object top levels,
//! missing members ([`Edit::Remove`]) and known members of the wrong type or
//! value ([`Slot::Wild`], [`IntVal`], [`TsVal`]); deep nesting up to 4,095
//! levels ([`Value::Nest`]), both rare so that runs stay fast.
//!
//! Does not promise: that a rendered text is valid or invalid. The target
//! asks the model which it is; this module only makes the interesting
//! inputs likely.
//!
//! One file per layer, smallest first; each says what it promises:
//! `whitespace` ([`Ws`]), `literals` ([`Lit`]), `numbers` ([`Num`]),
//! `strings` ([`Str`]), `containers` ([`Punct`]), `values` ([`Value`]),
//! `members` (the known members' [`Slot`]s), `objects` ([`RecordDoc`] and
//! its nested objects, [`Edits`]) and `documents` ([`Doc`]). Everything
//! public is re-exported here, so `json_doc::Doc` and the like are the
//! paths to use.

mod containers;
mod documents;
mod literals;
mod members;
mod numbers;
mod objects;
mod strings;
mod values;
mod whitespace;

pub use containers::{Punct, RenderedMember};
pub use documents::{Body, Doc, Tail};
pub use literals::Lit;
pub use members::{
    BoolVal, IntVal, Render, Slot, StateVal, TsParts, TsVal, BOOL_TEXTS, FIXED_TIMESTAMPS,
    INT_EDGES, STATE_TEXTS,
};
pub use numbers::{Digits, Exp, Num, NumForm};
pub use objects::{Edit, Edits, Nullable, ProgressDoc, QuarantineDoc, RecordDoc, Unknown};
pub use strings::{scalar, Piece, Str, BAD_PIECES};
pub use values::{Value, MAX_DEPTH};
pub use whitespace::Ws;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocabulary::WORDS;

    fn text(value: &impl Render) -> String {
        let mut out = Vec::new();
        value.render(&mut out);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn a_word_a_missing_string_and_a_nest_render_as_json() {
        let word = WORDS[0];
        assert_eq!(text(&Str::word(word)), format!("\"{word}\""));
        assert_eq!(text(&Some(Str::word(word))), format!("\"{word}\""));
        assert_eq!(text(&None::<Str>), "null");
        let nest = |object| Value::Nest {
            object,
            depth: 2,
            inner: Box::new(Value::Str(Str::word(word))),
        };
        let bytes = |v: Value| String::from_utf8(v.to_bytes()).expect("ASCII");
        assert_eq!(bytes(nest(false)), format!("[[\"{word}\"]]"));
        assert_eq!(bytes(nest(true)), format!("{{\"a\":{{\"a\":\"{word}\"}}}}"));
        assert_eq!(
            Str::word(word).to_bytes(),
            format!("\"{word}\"").into_bytes()
        );
        assert_eq!(bytes(Value::Num(Num::int("-0042"))), "-0042");
        assert_eq!(text(&Str::ascii("a b~")), "\"a b~\"");
    }

    #[test]
    fn the_selectors_from_fixed_from_on_reach_every_fixed_timestamp() {
        use crate::input::Shape;
        let fixed: std::collections::BTreeSet<&str> = (0..=u8::MAX)
            .filter_map(|selector| match TsVal::from_bytes(&[selector]) {
                TsVal::Fixed(text) => Some(text),
                TsVal::Parts(_) => None,
            })
            .collect();
        assert_eq!(fixed, FIXED_TIMESTAMPS.iter().copied().collect());
    }
}

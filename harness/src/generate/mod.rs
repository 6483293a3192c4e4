//! The generators, once each: one definition per kind of input, read from
//! bytes.
//!
//! Every generator is a [`Shape`]: it reads any byte string as a value and
//! writes a value back as bytes that read as it. The fuzz targets read their
//! input bytes; the property tests read bytes proptest draws at random
//! ([`strategy`]), and proptest shrinks those bytes, which shrinks the value
//! towards each table's first (simplest) choice. So a property test and a
//! fuzz target explore the same space, and a seed is a readable value.
//!
//! - [`record`]: valid records with unknown members, timestamps near the
//!   clock or anywhere;
//! - [`invalid`]: records save must refuse, and the field it must name;
//! - [`json_doc`]: near-valid JSON documents reaching every corrupt class;
//! - [`corruption`]: realistic damage to the bytes of the record file;
//! - [`op`]: writer operations, aimed at what the file holds;
//! - [`clock`]: where the clock starts and how it moves;
//! - [`file`](mod@file): what the record path holds, set from outside.

pub mod clock;
pub mod corruption;
pub mod file;
pub mod invalid;
pub mod json_doc;
pub mod op;
pub mod record;

use proptest::prelude::*;

use crate::input::Shape;

/// Bytes proptest draws for one value: enough for any value the tables
/// describe except large documents and long lists, which shrink away.
const BYTES: usize = 384;

/// Values of `T`, read from random bytes, shrinking with those bytes.
pub fn strategy<T: Shape + std::fmt::Debug + 'static>() -> BoxedStrategy<T> {
    prop::collection::vec(any::<u8>(), 0..BYTES)
        .prop_map(|bytes| T::from_bytes(&bytes))
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::json_doc::Doc;
    use crate::transition::Script;

    /// `T` read from drawn bytes, written back, reads as the same value:
    /// a fuzz seed or a regression written from a value is that value.
    fn writes_back<T>(count: usize)
    where
        T: Shape + std::fmt::Debug + PartialEq + 'static,
    {
        for value in drawn::<T>(count) {
            assert_eq!(
                T::from_bytes(&value.to_bytes()),
                value,
                "{}",
                std::any::type_name::<T>()
            );
        }
    }

    /// `count` values of `T`, read from bytes a seeded runner draws.
    fn drawn<T: Shape + std::fmt::Debug + 'static>(count: usize) -> Vec<T> {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let values = strategy::<T>();
        (0..count)
            .map(|_| values.new_tree(&mut runner).expect("a value").current())
            .collect()
    }

    /// How many of `T`'s variants `count` drawn values hold.
    fn variants_drawn<T: Shape + std::fmt::Debug + 'static>(count: usize) -> usize {
        let kinds: std::collections::HashSet<_> = drawn::<T>(count)
            .iter()
            .map(std::mem::discriminant)
            .collect();
        kinds.len()
    }

    #[test]
    fn every_variant_of_the_generated_kinds_is_drawn() {
        use crate::generate::json_doc::{Edit, Tail};
        assert_eq!(variants_drawn::<corruption::Corruption>(4000), 11);
        assert_eq!(variants_drawn::<invalid::InvalidSave>(4000), 6);
        assert_eq!(variants_drawn::<Tail>(4000), 6);
        assert_eq!(variants_drawn::<Edit>(4000), 6);
        assert_eq!(variants_drawn::<record::TextPiece>(4000), 4);
        assert_eq!(variants_drawn::<op::OpSpec>(4000), 8);
        assert_eq!(variants_drawn::<crate::transition::Transition>(4000), 11);
        assert_eq!(variants_drawn::<clock::ClockMove>(4000), 3);
        assert_eq!(variants_drawn::<json_doc::Nullable<u8>>(4000), 3);
        assert_eq!(
            variants_drawn::<json_doc::Value>(4000),
            6,
            "values, nested too"
        );
        let bools: std::collections::BTreeSet<bool> = drawn::<bool>(64).into_iter().collect();
        assert_eq!(bools.len(), 2, "both booleans");
    }

    #[test]
    fn each_kind_of_corruption_and_invalid_save_is_counted_under_a_name_of_its_own() {
        let names = |kinds: Vec<&'static str>| {
            assert!(kinds.iter().all(|k| !k.is_empty()), "{kinds:?}");
            kinds
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        let corruptions = drawn::<corruption::Corruption>(4000);
        assert_eq!(names(corruptions.iter().map(|c| c.kind()).collect()), 11);
        let invalid = drawn::<invalid::InvalidSave>(4000);
        assert_eq!(names(invalid.iter().map(|i| i.kind()).collect()), 6);
    }

    #[test]
    fn a_sequence_too_large_is_one_past_the_largest_integer_a_little_more_or_the_largest_u64() {
        let base = lifecycle_model::Record::default_at(&crate::world::at_micros(0));
        let seqs: std::collections::BTreeSet<u64> = drawn::<invalid::InvalidSave>(4000)
            .iter()
            .filter(|i| matches!(i, invalid::InvalidSave::SequenceTooLarge(_)))
            .map(|i| i.build(&base).0.wrapper_event_seq)
            .collect();
        let past = lifecycle_model::spec::MAX_INTEGER + 1;
        assert_eq!(seqs, [past, past + 1, past + 999, u64::MAX].into());
    }

    #[test]
    fn every_drawn_invalid_save_is_invalid_to_the_model() {
        let base = lifecycle_model::Record::default_at(&crate::world::at_micros(0));
        for kind in drawn::<invalid::InvalidSave>(1000) {
            let (record, _) = kind.build(&base);
            assert!(!record.is_valid(), "{kind:?}");
        }
    }

    #[test]
    fn an_unknown_member_may_be_named_like_each_known_member_of_its_object() {
        let base = lifecycle_model::Record::default_at(&crate::world::at_micros(0));
        let fields: std::collections::BTreeSet<String> = drawn::<invalid::InvalidSave>(1000)
            .into_iter()
            .filter(|kind| matches!(kind, invalid::InvalidSave::UnknownNamedLikeKnown { .. }))
            .filter_map(|kind| kind.build(&base).1)
            .collect();
        for field in [
            "current_state",
            "shadow_run",
            "sleep_cycle_progress.started_at",
            "quarantine.reason",
        ] {
            assert!(fields.contains(field), "{field}: {fields:?}");
        }
    }

    #[test]
    fn drawn_integers_of_a_document_have_every_bit_length() {
        let lengths: std::collections::BTreeSet<u32> = drawn::<json_doc::IntVal>(4000)
            .iter()
            .filter_map(|n| match n {
                json_doc::IntVal::Value(v) => Some(u64::BITS - v.leading_zeros()),
                json_doc::IntVal::Edge(_) => None,
            })
            .collect();
        assert!(
            (1..=64).all(|n| lengths.contains(&n)),
            "bit lengths drawn: {lengths:?}"
        );
    }

    #[test]
    fn drawn_documents_reach_valid_records_and_every_corrupt_class() {
        let mut reached = std::collections::BTreeSet::new();
        let mut valid = 0;
        for doc in drawn::<Doc>(3000) {
            match lifecycle_model::record::decode(&doc.render()) {
                Ok(_) => valid += 1,
                Err(corrupt) => {
                    reached.insert(corrupt.item());
                }
            }
        }
        let every: std::collections::BTreeSet<u8> = crate::coverage::CORRUPT_CLASSES.collect();
        assert_eq!(reached, every, "the §1.6 items reached");
        assert!(valid > 0, "no valid record among the documents");
    }

    #[test]
    fn a_drawn_progress_object_holds_its_members_and_unknown_members() {
        use json_doc::Render;
        let contains = |text: &[u8], part: &[u8]| text.windows(part.len()).any(|w| w == part);
        let mut with_unknown = 0;
        for progress in drawn::<json_doc::ProgressDoc>(500) {
            if !progress.edits.0.is_empty() {
                continue;
            }
            let mut text = Vec::new();
            progress.render(&mut text);
            if progress.last_completed_step.is_some() {
                assert!(contains(&text, b"\"last_completed_step\":"), "{progress:?}");
            }
            for (name, _) in &progress.unknown {
                with_unknown += 1;
                assert!(contains(&text, &name.to_bytes()), "{progress:?}");
            }
        }
        assert!(with_unknown > 0, "no unknown member drawn");
    }

    #[test]
    fn stamps_near_the_clock_have_no_extra_digits_a_few_or_zeros_then_one() {
        let extras: std::collections::BTreeSet<usize> = drawn::<record::Stamp>(1000)
            .into_iter()
            .filter_map(|s| match s {
                record::Stamp::Near { extra, .. } => Some(extra.len()),
                record::Stamp::At(_) => None,
            })
            .collect();
        assert_eq!(extras, (0..=9).collect(), "lengths of the extra digits");
    }

    #[test]
    fn drawn_integers_have_every_bit_length_up_to_53() {
        let lengths: std::collections::BTreeSet<u32> = drawn::<record::IntSpec>(4000)
            .iter()
            .map(|n| u64::BITS - n.0.leading_zeros())
            .collect();
        assert_eq!(lengths, (0..=53).collect(), "bit lengths drawn");
    }

    #[test]
    fn huge_step_numbers_are_the_largest_integer_one_past_it_and_the_largest_u64() {
        let max = lifecycle_model::spec::MAX_INTEGER;
        let huge: Vec<u64> = (0..3).map(|i| op::StepNo::Huge(i).resolve(7)).collect();
        assert_eq!(huge, [max, max + 1, u64::MAX]);
    }

    #[test]
    fn clock_starts_spread_over_five_years_or_the_last_two_days() {
        use crate::world::MAX_MICROS;
        use clock::{ClockStart, START_MICROS};
        // Stated again, not `clock`'s own constants: a wrong one there
        // would move the bounds it is checked against.
        const DAY: i64 = 86_400_000_000;
        let (ordinary, near): (Vec<ClockStart>, Vec<ClockStart>) = drawn::<ClockStart>(2000)
            .into_iter()
            .partition(|s| matches!(s, ClockStart::Ordinary(_)));
        let spread = |starts: &[ClockStart], from: i64, to: i64| {
            let micros: Vec<i64> = starts.iter().map(|s| s.micros()).collect();
            assert!(micros.iter().all(|m| (from..to).contains(m)), "{micros:?}");
            micros.iter().max().expect("some") - micros.iter().min().expect("some")
        };
        let years = spread(&ordinary, START_MICROS, START_MICROS + 5 * 365 * DAY);
        assert!(
            years > 4 * 365 * DAY,
            "ordinary starts spread over {years} µs"
        );
        let days = spread(&near, MAX_MICROS - 2 * DAY, MAX_MICROS - DAY / 24);
        assert!(days > DAY, "starts near the end spread over {days} µs");
    }

    #[test]
    fn clock_steps_go_from_below_a_millisecond_to_months() {
        const DAY: u64 = 86_400_000_000;
        let steps: Vec<u64> = drawn::<clock::ClockMove>(2000)
            .into_iter()
            .filter_map(|m| match m {
                clock::ClockMove::By(us) => Some(us),
                _ => None,
            })
            .collect();
        assert!(
            steps.iter().all(|us| (1..100 * DAY).contains(us)),
            "{steps:?}"
        );
        assert!(steps.iter().any(|us| *us < 1_000), "{steps:?}");
        assert!(steps.iter().any(|us| *us > 30 * DAY), "{steps:?}");
    }

    #[test]
    fn a_clock_step_moves_the_clock_forward_from_now() {
        use lifecycle_model::writer::Found;
        let world = crate::world::World::new(clock::START_MICROS, Found::Missing);
        assert_eq!(
            clock::ClockMove::By(5).target(&world),
            Some(clock::START_MICROS + 5)
        );
    }

    #[test]
    fn every_generator_writes_back_the_value_it_read() {
        writes_back::<Script>(256);
        writes_back::<Doc>(256);
        writes_back::<record::RecordSpec>(256);
        writes_back::<invalid::InvalidSave>(256);
        writes_back::<corruption::Corruption>(256);
        writes_back::<corruption::Index>(256);
        writes_back::<clock::ClockStart>(256);
        writes_back::<clock::ClockMove>(256);
        writes_back::<file::FileSpec>(256);
        writes_back::<op::OpSpec>(256);
    }
}

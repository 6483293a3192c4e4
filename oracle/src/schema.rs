//! Checks a message against `protocol/schema.json`, and a JSON report of
//! `lifecycle check` against `protocol/report.schema.json`, naming the
//! field that is wrong.
//!
//! Promises: [`Schema::check`] validates a JSON value against one definition
//! of the schema (`#/$defs/<name>`) by JSON Schema 2020-12, every keyword
//! the schema uses included (`pattern` too, and `1.0` counts as an
//! integer), and reports one violation as a JSON pointer and a sentence:
//! `at /error/class: "bogus" is not one of "invalid_record", "io", …`. Of
//! several violations it reports the deepest; when no form of a `oneOf`
//! fits, the deepest violation of the form that came closest. The schema is
//! compiled into the binary, so the check needs no file at run time, and
//! nothing is fetched from the network.
//!
//! Does not promise: every violation (only one), nor `format` assertions
//! (the schema has none). The `jsonschema` crate does the validation; this
//! module compiles one validator per definition, the first time it is
//! asked for, and words the crate's errors.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use serde_json::{json, Value};

/// The schema of PROTOCOL.md, as shipped beside it.
pub const SCHEMA_TEXT: &str = include_str!("../../protocol/schema.json");

/// The schema of the JSON report (`lifecycle check --json`), whose root is
/// `#/$defs/report`.
pub const REPORT_SCHEMA_TEXT: &str = include_str!("../../protocol/report.schema.json");

pub struct Schema {
    root: Value,
    /// One validator per definition, compiled when first asked for: a run
    /// checks a handful of the definitions, not all of them.
    validators: BTreeMap<String, OnceLock<Result<Validator, String>>>,
}

impl Schema {
    /// The protocol's schema, read once.
    pub fn protocol() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::of(SCHEMA_TEXT))
    }

    /// The JSON report's schema, read once: check a report as `report`.
    pub fn report() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| Schema::of(REPORT_SCHEMA_TEXT))
    }

    fn of(text: &str) -> Schema {
        // The schemas are part of this program, checked by its tests: a
        // failure here is a build that cannot have passed them.
        let root: Value = serde_json::from_str(text).expect("a schema of protocol/ is JSON");
        let validators = root
            .get("$defs")
            .and_then(Value::as_object)
            .map(|defs| defs.keys().map(|name| (name.clone(), OnceLock::new())))
            .into_iter()
            .flatten()
            .collect();
        Schema { root, validators }
    }

    /// `Ok` when `value` is a `#/$defs/<definition>`, else where and why not.
    pub fn check(&self, definition: &str, value: &Value) -> Result<(), String> {
        let validator = self.validator(definition)?;
        let errors: Vec<ValidationError<'_>> = validator.iter_errors(value).collect();
        match most_telling(&errors) {
            None => Ok(()),
            Some(error) => Err(self.explain(error, value)),
        }
    }

    fn validator(&self, definition: &str) -> Result<&Validator, String> {
        let compiled = self
            .validators
            .get(definition)
            .ok_or_else(|| format!("the schema has no definition {definition}"))?;
        compiled
            .get_or_init(|| {
                // A document holding the schema's definitions whose root is
                // the one asked for: its `$ref`s resolve as in the schema,
                // and errors' schema paths point into the schema's `$defs`.
                let wrapper = json!({
                    "$schema": self.root.get("$schema"),
                    "$defs": self.root.get("$defs"),
                    "$ref": format!("#/$defs/{definition}"),
                });
                jsonschema::draft202012::options()
                    .offline()
                    .build(&wrapper)
                    .map_err(|e| format!("the schema's {definition} does not compile: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `at <pointer>: <sentence>` for `error`, found checking `value`.
    fn explain(&self, error: &ValidationError<'_>, value: &Value) -> String {
        let at = pointer(error);
        let context = match error.kind() {
            ValidationErrorKind::OneOfNotValid { context }
            | ValidationErrorKind::OneOfMultipleValid { context } => context,
            _ => return format!("at {at}: {}", self.sentence(error, value)),
        };
        let holding = context.iter().filter(|errors| errors.is_empty()).count();
        if let Some(forms) = self.only_required(error.schema_path().as_str()) {
            return format!(
                "at {at}: expected exactly one of the members {}, found {holding}",
                forms.join(", ")
            );
        }
        if holding > 0 {
            return format!("at {at}: the message matches more than one form");
        }
        if let Some(sentence) = no_constant_fits(context) {
            return sentence;
        }
        // The closest form is the one whose constants the message has (its
        // `cmd`, say), then the one it breaks in the fewest places.
        let closest = context.iter().min_by_key(|errors| {
            let constants = errors
                .iter()
                .filter(|e| matches!(e.kind(), ValidationErrorKind::Constant { .. }))
                .count();
            (constants, errors.len())
        });
        match closest.and_then(|errors| most_telling(errors)) {
            Some(error) => self.explain(error, value),
            None => format!("at {at}: matches no form"),
        }
    }

    /// The sentence for one error other than a `oneOf`'s.
    fn sentence(&self, error: &ValidationError<'_>, value: &Value) -> String {
        let found = error.instance();
        match error.kind() {
            ValidationErrorKind::Type { kind } => {
                let expected: Vec<String> = match kind {
                    TypeKind::Single(t) => vec![t.to_string()],
                    TypeKind::Multiple(ts) => ts.iter().map(|t| t.to_string()).collect(),
                };
                format!(
                    "expected {}, found {}",
                    expected.join(" or "),
                    describe(found)
                )
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!("expected {expected_value}, found {found}")
            }
            ValidationErrorKind::Enum { options } => {
                let names: Vec<String> = match options.as_ref() {
                    Value::Array(options) => options.iter().map(Value::to_string).collect(),
                    other => vec![other.to_string()],
                };
                format!("{found} is not one of {}", names.join(", "))
            }
            ValidationErrorKind::Minimum { limit } => format!("{found} is below {limit}"),
            ValidationErrorKind::Pattern { pattern } => {
                format!("{found} does not match the pattern {pattern}")
            }
            ValidationErrorKind::Required { property } => {
                format!("the member {property} is missing")
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                self.unexpected(unexpected, error.schema_path().as_str())
            }
            // `additionalProperties: false` beside no `properties` reports
            // the first extra member's value, not its name: name them from
            // the object itself.
            ValidationErrorKind::FalseSchema
                if error
                    .schema_path()
                    .as_str()
                    .ends_with("/additionalProperties") =>
            {
                let schema_path = error.schema_path().as_str();
                let allowed = self.allowed(schema_path);
                let unexpected: Vec<String> = value
                    .pointer(error.instance_path().as_str())
                    .and_then(Value::as_object)
                    .map(|members| {
                        members
                            .keys()
                            .filter(|name| !allowed.contains(name))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                self.unexpected(&unexpected, schema_path)
            }
            _ => error.to_string(),
        }
    }

    fn unexpected(&self, names: &[String], schema_path: &str) -> String {
        let quoted: Vec<String> = names
            .iter()
            .map(|n| lifecycle_harness::report::excerpt_within(n.as_bytes(), usize::MAX))
            .collect();
        let allowed = self.allowed(schema_path);
        format!(
            "unexpected member{} {} (allowed: {})",
            if names.len() == 1 { "" } else { "s" },
            quoted.join(", "),
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        )
    }

    /// The members the object schema holding `additional_properties` (the
    /// path of its `additionalProperties`) names.
    fn allowed(&self, additional_properties: &str) -> Vec<String> {
        additional_properties
            .strip_suffix("/additionalProperties")
            .and_then(|object| self.root.pointer(&format!("{object}/properties")))
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// For a `oneOf` whose forms only require members, each form's members
    /// (`result`, `error`, …).
    fn only_required(&self, one_of: &str) -> Option<Vec<String>> {
        self.root
            .pointer(one_of)?
            .as_array()?
            .iter()
            .map(|form| {
                let form = form.as_object()?;
                let required = form.get("required")?.as_array()?;
                (form.len() == 1).then(|| {
                    required
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
            })
            .collect()
    }
}

/// The error that got deepest into the message (the first of those), as it
/// names the field most precisely.
fn most_telling<'e, 'i>(errors: &'e [ValidationError<'i>]) -> Option<&'e ValidationError<'i>> {
    errors
        .iter()
        .min_by_key(|e| Reverse(e.instance_path().as_str().matches('/').count()))
}

/// When every form of a `oneOf` wants another constant at one place (a
/// request's `cmd`), that place and every constant: naming one form's would
/// point at a form the message may not mean.
fn no_constant_fits(forms: &[Vec<ValidationError<'static>>]) -> Option<String> {
    let mut place: Option<(&str, &Value)> = None;
    let mut constants: Vec<String> = Vec::new();
    for form in forms {
        let (error, expected_value) = form.iter().find_map(|e| match e.kind() {
            ValidationErrorKind::Constant { expected_value } => Some((e, expected_value)),
            _ => None,
        })?;
        let here = (error.instance_path().as_str(), error.instance().as_ref());
        if *place.get_or_insert(here) != here {
            return None;
        }
        let constant = expected_value.to_string();
        if !constants.contains(&constant) {
            constants.push(constant);
        }
    }
    let (path, found) = place?;
    let at = if path.is_empty() { "/" } else { path };
    Some(format!(
        "at {at}: {found} is not one of {}",
        constants.join(", ")
    ))
}

/// The error's JSON pointer into the message, `/` for the message itself.
fn pointer(error: &ValidationError<'_>) -> String {
    match error.instance_path().as_str() {
        "" => "/".to_string(),
        path => path.to_string(),
    }
}

fn describe(value: &Value) -> String {
    let text = value.to_string();
    let kind = match value {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Number(_) => "a number",
    };
    if text.len() > 60 {
        kind.to_string()
    } else {
        format!("{kind} ({text})")
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(definition: &str, value: Value) -> Result<(), String> {
        Schema::protocol().check(definition, &value)
    }

    #[test]
    fn a_good_handshake_passes() {
        let reply = json!({"cmd": "start", "version": 1,
            "implementation": {"name": "x", "language": "rust"},
            "capabilities": ["store", "clock"], "sidecars": [".lifecycle.lock"]});
        assert_eq!(check("start_reply", reply), Ok(()));
    }

    #[test]
    fn a_bad_capability_is_named() {
        let reply = json!({"cmd": "start", "version": 1,
            "implementation": {"name": "x", "language": "rust"},
            "capabilities": ["store", "time travel"]});
        let error = check("start_reply", reply).expect_err("a bad capability");
        assert!(error.contains("/capabilities/1"), "{error}");
    }

    #[test]
    fn a_reply_needs_exactly_one_kind() {
        let both = json!({"seq": 1, "result": {}, "skipped": {"message": "no"}});
        let error = check("reply", both).expect_err("two kinds");
        assert!(error.contains("exactly one of"), "{error}");
        let none = json!({"seq": 1});
        assert!(check("reply", none).is_err());
        assert_eq!(check("reply", json!({"seq": 1, "result": {}})), Ok(()));
    }

    #[test]
    fn an_error_class_outside_the_list_is_named_with_its_path() {
        let reply = json!({"seq": 3, "error": {"class": "bogus"}});
        let error = check("reply", reply).expect_err("a bad class");
        assert!(error.starts_with("at /error/class:"), "{error}");
        assert!(error.contains("\"bogus\" is not one of"), "{error}");
    }

    #[test]
    fn results_are_checked_per_command() {
        let load = json!({"record": {}, "outcome": "sort of"});
        let error = check("result_load", load).expect_err("a bad outcome");
        assert!(error.contains("/outcome"), "{error}");
        assert!(check("result_begin", json!({"record": {}, "wrote": true})).is_ok());
        let error = check("result_save", json!({"extra": 1})).expect_err("an extra member");
        assert!(error.contains("unexpected member \"extra\""), "{error}");
    }

    #[test]
    fn a_timestamp_that_breaks_its_pattern_is_rejected_naming_its_path() {
        let request = json!({"cmd": "load", "seq": 2, "path": "/x", "now": "yesterday"});
        let error = check("request", request).expect_err("a bad timestamp");
        assert!(error.starts_with("at /now:"), "{error}");
        assert!(error.contains("does not match the pattern"), "{error}");
        assert!(check("timestamp", json!("2024-01-01 00:00:00Z")).is_err());
        assert_eq!(
            check("timestamp", json!("2024-01-01T00:00:00.5+00:00")),
            Ok(())
        );
    }

    #[test]
    fn a_number_with_no_fraction_is_an_integer_however_it_is_written() {
        assert_eq!(check("reply", json!({"seq": 1.0, "result": {}})), Ok(()));
        let error = check("reply", json!({"seq": 1.5, "result": {}})).expect_err("a fraction");
        assert!(error.starts_with("at /seq: expected integer"), "{error}");
    }

    #[test]
    fn a_request_is_judged_by_the_form_its_cmd_names() {
        let error = check("request", json!({"cmd": "load", "seq": 2})).expect_err("no path");
        assert_eq!(error, "at /: the member \"path\" is missing");
    }

    #[test]
    fn a_cmd_no_form_has_is_named_with_every_cmd_there_is() {
        let error = check("request", json!({"cmd": "teleport", "seq": 1})).expect_err("no form");
        assert!(
            error.starts_with("at /cmd: \"teleport\" is not one of \"start\", \"stop\""),
            "{error}"
        );
        assert!(error.ends_with("\"reset_quarantine\""), "{error}");
    }

    #[test]
    fn an_unexpected_member_is_named_beside_the_members_allowed() {
        let load = json!({"record": {}, "mood": "fine"});
        let error = check("result_load", load).expect_err("an extra member");
        assert_eq!(
            error,
            "at /: unexpected member \"mood\" (allowed: outcome, reason, record)"
        );
        let error = check("result_save", json!({"extra": 1})).expect_err("an extra member");
        assert_eq!(error, "at /: unexpected member \"extra\" (allowed: none)");
    }

    #[test]
    fn a_definition_the_schema_lacks_is_an_error_not_a_pass() {
        let error = check("result_teleport", json!({})).expect_err("no such definition");
        assert!(error.contains("no definition result_teleport"), "{error}");
    }

    #[test]
    fn every_request_the_oracle_sends_is_in_the_schema() {
        for request in [
            json!({"cmd": "start", "version": 1}),
            json!({"cmd": "stop"}),
            json!({"cmd": "default", "seq": 1, "now": "2024-01-01T00:00:00Z"}),
            json!({"cmd": "load", "seq": 2, "path": "/x"}),
            json!({"cmd": "save", "seq": 3, "path": "/x", "record": {}}),
            json!({"cmd": "dispatch", "seq": 4, "path": "/x", "event": "tick",
                   "guards": {"sleep_eligible": false, "still_idle": true}, "shadow_run": false}),
            json!({"cmd": "step_failed", "seq": 5, "path": "/x", "step": 1, "error": "e", "ttl_secs": 0}),
        ] {
            assert_eq!(check("request", request.clone()), Ok(()), "{request}");
        }
    }
}

//! Checks a message against `protocol/schema.json`, naming the field that
//! is wrong.
//!
//! Promises: [`Schema::check`] validates a JSON value against one definition
//! of the schema (`#/$defs/<name>`) with the subset of JSON Schema 2020-12
//! the schema uses (`type`, `const`, `enum`, `required`, `properties`,
//! `additionalProperties`, `items`, `minimum`, `$ref`, `oneOf`), and reports
//! the first violation as a JSON pointer and a sentence: `at /error/class:
//! "bogus" is not one of "invalid_record", "io", …`. The schema is compiled
//! into the binary, so the check needs no file at run time.
//!
//! Does not promise: the rest of JSON Schema. `pattern` is not checked (only
//! the oracle's own requests carry one), nor formats.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The schema of PROTOCOL.md, as shipped beside it.
pub const SCHEMA_TEXT: &str = include_str!("../../protocol/schema.json");

pub struct Schema {
    root: Value,
}

impl Schema {
    /// The protocol's schema, read once.
    pub fn protocol() -> &'static Schema {
        static SCHEMA: OnceLock<Schema> = OnceLock::new();
        SCHEMA.get_or_init(|| {
            // The schema is part of this program, checked by its tests: a
            // failure here is a build that cannot have passed them.
            let root = serde_json::from_str(SCHEMA_TEXT).expect("protocol/schema.json is JSON");
            Schema { root }
        })
    }

    /// `Ok` when `value` is a `#/$defs/<definition>`, else where and why not.
    pub fn check(&self, definition: &str, value: &Value) -> Result<(), String> {
        let schema = self
            .definition(definition)
            .ok_or_else(|| format!("the schema has no definition {definition}"))?;
        self.validate(schema, value, "")
    }

    fn definition(&self, name: &str) -> Option<&Value> {
        self.root.get("$defs")?.get(name)
    }

    fn resolve(&self, reference: &str) -> Result<&Value, String> {
        reference
            .strip_prefix("#/$defs/")
            .and_then(|name| self.definition(name))
            .ok_or_else(|| format!("the schema's reference {reference} leads nowhere"))
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
        let Some(schema) = schema.as_object() else {
            return Ok(());
        };
        let here = || {
            if at.is_empty() {
                "/".to_string()
            } else {
                at.to_string()
            }
        };
        if let Some(Value::String(reference)) = schema.get("$ref") {
            self.validate(self.resolve(reference)?, value, at)?;
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !allowed.iter().any(|t| is_type(value, t)) {
                return Err(format!(
                    "at {}: expected {}, found {}",
                    here(),
                    allowed.join(" or "),
                    describe(value)
                ));
            }
        }
        if let Some(expected) = schema.get("const") {
            if value != expected {
                return Err(format!("at {}: expected {expected}, found {value}", here()));
            }
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            if !options.contains(value) {
                let names: Vec<String> = options.iter().map(Value::to_string).collect();
                return Err(format!(
                    "at {}: {value} is not one of {}",
                    here(),
                    names.join(", ")
                ));
            }
        }
        if let (Some(minimum), Some(n)) = (
            schema.get("minimum").and_then(Value::as_f64),
            value.as_f64(),
        ) {
            if n < minimum {
                return Err(format!("at {}: {value} is below {minimum}", here()));
            }
        }
        if let Value::Object(members) = value {
            self.validate_object(schema, members, at)?;
        }
        if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
            for (i, item) in values.iter().enumerate() {
                self.validate(items, item, &format!("{at}/{i}"))?;
            }
        }
        if let Some(Value::Array(branches)) = schema.get("oneOf") {
            self.one_of(branches, value, at)?;
        }
        Ok(())
    }

    fn validate_object(
        &self,
        schema: &Map<String, Value>,
        members: &Map<String, Value>,
        at: &str,
    ) -> Result<(), String> {
        let here = || {
            if at.is_empty() {
                "/".to_string()
            } else {
                at.to_string()
            }
        };
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !members.contains_key(name) {
                    return Err(format!("at {}: the member {name:?} is missing", here()));
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, member) in members {
            let path = format!("{at}/{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => self.validate(property, member, &path)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        let known: Vec<&String> =
                            properties.map(|p| p.keys().collect()).unwrap_or_default();
                        return Err(format!(
                            "at {}: unexpected member {name:?} (allowed: {})",
                            here(),
                            known
                                .iter()
                                .map(|k| k.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    Some(extra @ Value::Object(_)) => self.validate(extra, member, &path)?,
                    _ => {}
                },
            }
        }
        Ok(())
    }

    /// Exactly one branch holds. When every branch only requires members,
    /// say which members; otherwise say why the closest branch failed.
    fn one_of(&self, branches: &[Value], value: &Value, at: &str) -> Result<(), String> {
        let results: Vec<Result<(), String>> = branches
            .iter()
            .map(|b| self.validate(b, value, at))
            .collect();
        let holding = results.iter().filter(|r| r.is_ok()).count();
        if holding == 1 {
            return Ok(());
        }
        let here = if at.is_empty() { "/" } else { at };
        let only_required: Option<Vec<String>> = branches
            .iter()
            .map(|b| {
                let object = b.as_object()?;
                let required = object.get("required")?.as_array()?;
                (object.len() == 1).then(|| {
                    required
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
            })
            .collect();
        if let Some(names) = only_required {
            return Err(format!(
                "at {here}: expected exactly one of the members {}, found {holding}",
                names.join(", ")
            ));
        }
        if holding > 1 {
            return Err(format!("at {here}: the message matches more than one form"));
        }
        // The error that got deepest is the most telling.
        let deepest = results
            .into_iter()
            .filter_map(Result::err)
            .max_by_key(|e| e.split(':').next().map_or(0, |p| p.matches('/').count()));
        Err(deepest.unwrap_or_else(|| format!("at {here}: matches no form")))
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        _ => false,
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

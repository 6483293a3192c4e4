#!/usr/bin/env python3
"""Generate the conformance vectors for `lifecycle_state.json` decoding.

One file = one case. `valid_<what>.json` must decode to a record,
`corrupt_<what>.json` must be rejected as corrupt. Every corrupt case is the
valid base record with exactly one rule broken; the name says which one.

Rules come from ../../../shared/requirements.md section 1 and the binding
edge-case decisions (notes/decisions.md, "Record (§1)").

Usage (from anywhere):
    python3 tests/vectors/generate.py          # (re)write every vector
    python3 tests/vectors/generate.py --check  # verify the files on disk, write nothing

The output is deterministic: running the script twice produces identical
bytes. Stale `*.json` files in this directory that the script no longer
produces are removed (or reported by --check).

Before writing anything the script runs every case through an independent,
deliberately simple oracle (`oracle_verdict`, built on Python's strict json
module plus explicit checks) and refuses to write if any verdict disagrees
with the name. The oracle is a cross-check of the vectors, not a reference
implementation.
"""

import json
import os
import re
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_FILE = 64 * 1024  # every vector stays below 64 KiB
NAME_RE = re.compile(r"\A(valid|corrupt)_[a-z0-9_]+\.json\Z")

# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------

DROP = object()  # marker: leave this member out

BASE = [
    ("current_state", '"WAKE"'),
    ("since_ts", '"2026-11-26T07:41:10.123456Z"'),
    ("last_activity_ts", '"2026-11-26T07:41:10Z"'),
    ("wrapper_event_seq", "42"),
    ("sleep_cycle_progress", "null"),
    ("quarantine", "null"),
    ("shadow_run", "false"),
]

PROGRESS = [
    ("last_completed_step", "2"),
    ("attempt", "1"),
    ("last_error", "null"),
    ("started_at", '"2026-11-26T07:00:00Z"'),
]

QUARANTINE = [
    ("until_ts", '"2026-11-27T07:00:00Z"'),
    ("since_ts", '"2026-11-26T07:00:00Z"'),
    ("reason", '"sleep step 3 failed 3x: disk full"'),
]


def obj(members, changes=None, extra=()):
    """Compact JSON object text.

    members: list of (name, raw value text); changes: {name: raw | DROP}
    replaces values in place; extra: list of (raw name text without the
    quotes, raw value text) appended at the end (escapes allowed in names).
    """
    changes = dict(changes or {})
    parts = []
    for name, raw in members:
        if name in changes:
            raw = changes.pop(name)
            if raw is DROP:
                continue
        parts.append('"%s":%s' % (name, raw))
    for name, raw in changes.items():  # names not in `members`: append
        if raw is not DROP:
            parts.append('"%s":%s' % (name, raw))
    for name, raw in extra:
        parts.append('"%s":%s' % (name, raw))
    return "{" + ",".join(parts) + "}"


def rec(changes=None, extra=()):
    """The base record (text) with some members changed/dropped/added."""
    return obj(BASE, changes, extra)


def prog(changes=None, extra=()):
    return obj(PROGRESS, changes, extra)


def quar(changes=None, extra=()):
    return obj(QUARANTINE, changes, extra)


def s(text):
    """A JSON string literal from raw JSON string *content* (no escaping)."""
    return '"' + text + '"'


def unknown(raw):
    """Base record plus one unknown top-level member `x` with value `raw`."""
    return rec(extra=[("x", raw)])


def splice(text, marker, raw_bytes):
    """UTF-8 encode `text` and replace the single ASCII `marker` by raw bytes."""
    data = text.encode("utf-8")
    assert data.count(marker.encode()) == 1, (text, marker)
    return data.replace(marker.encode(), raw_bytes)


def ts(value):
    """Base record with since_ts set to the given JSON string content."""
    return rec({"since_ts": s(value)})


CASES = {}


def case(name, content):
    fname = name + ".json"
    assert NAME_RE.match(fname), fname
    assert fname not in CASES, "duplicate case name " + fname
    if isinstance(content, str):
        content = content.encode("utf-8")
    assert isinstance(content, bytes)
    assert len(content) < MAX_FILE, (fname, len(content))
    CASES[fname] = content


MAX = "9007199254740991"  # 2^53 - 1
OVER = "9007199254740992"  # 2^53

# ---------------------------------------------------------------------------
# Valid: the record itself
# ---------------------------------------------------------------------------

case("valid_base_record", rec())
case("valid_all_members_populated",
     rec({"sleep_cycle_progress": prog(), "quarantine": quar()}))
case("valid_missing_nullable_quarantine", rec({"quarantine": DROP}))
case("valid_missing_nullable_sleep_cycle_progress",
     rec({"sleep_cycle_progress": DROP}))
case("valid_missing_both_nullables",
     rec({"sleep_cycle_progress": DROP, "quarantine": DROP}))
case("valid_members_in_reverse_order",
     "{" + ",".join('"%s":%s' % kv for kv in reversed(BASE)) + "}")
case("valid_current_state_wake", rec({"current_state": s("WAKE")}))
case("valid_current_state_drowsy", rec({"current_state": s("DROWSY")}))
case("valid_current_state_sleep", rec({"current_state": s("SLEEP")}))
case("valid_current_state_hibernation",
     rec({"current_state": s("HIBERNATION")}))
case("valid_current_state_spelled_with_u_escape",
     rec({"current_state": s("\\u0057AKE")}))
case("valid_known_member_name_spelled_with_u_escape",
     rec({"current_state": DROP}, extra=[("current\\u005fstate", s("WAKE"))]))
case("valid_shadow_run_true", rec({"shadow_run": "true"}))
case("valid_shadow_run_false", rec({"shadow_run": "false"}))

# wrapper_event_seq
case("valid_seq_zero", rec({"wrapper_event_seq": "0"}))
case("valid_seq_negative_zero", rec({"wrapper_event_seq": "-0"}))
case("valid_seq_max_2_pow_53_minus_1", rec({"wrapper_event_seq": MAX}))
case("valid_seq_one", rec({"wrapper_event_seq": "1"}))

# ---------------------------------------------------------------------------
# Valid: timestamps (since_ts unless the name says otherwise)
# ---------------------------------------------------------------------------

case("valid_since_ts_zulu", ts("2026-11-26T07:41:10Z"))
case("valid_since_ts_plus_00_00", ts("2026-11-26T07:41:10+00:00"))
case("valid_since_ts_fraction_plus_00_00",
     ts("2026-11-26T07:41:10.123456+00:00"))
case("valid_since_ts_fraction_1_digit", ts("2026-11-26T07:41:10.1Z"))
case("valid_since_ts_fraction_9_digits", ts("2026-11-26T07:41:10.123456789Z"))
case("valid_since_ts_fraction_30_digits",
     ts("2026-11-26T07:41:10.123456789012345678901234567890Z"))
case("valid_since_ts_fraction_1000_digits",
     ts("2026-11-26T07:41:10." + "1234567890" * 100 + "Z"))
case("valid_since_ts_fraction_all_zeros", ts("2026-11-26T07:41:10.000Z"))
case("valid_since_ts_midnight", ts("2026-11-26T00:00:00Z"))
case("valid_since_ts_23_59_59", ts("2026-11-26T23:59:59Z"))
case("valid_since_ts_jan_31", ts("2026-01-31T12:00:00Z"))
case("valid_since_ts_apr_30", ts("2026-04-30T12:00:00Z"))
case("valid_since_ts_dec_31", ts("2026-12-31T12:00:00Z"))
case("valid_since_ts_feb_28_non_leap_year", ts("2026-02-28T12:00:00Z"))
case("valid_leap_day_leap_year", ts("2024-02-29T12:00:00Z"))
case("valid_leap_day_year_2000_divisible_by_400", ts("2000-02-29T12:00:00Z"))
case("valid_leap_day_year_0000_divisible_by_400", ts("0000-02-29T12:00:00Z"))
case("valid_since_ts_year_0000", ts("0000-01-01T00:00:00Z"))
case("valid_since_ts_year_9999", ts("9999-12-31T23:59:59.999999999Z"))
case("valid_leap_second", ts("2016-12-31T23:59:60Z"))
case("valid_leap_second_with_fraction", ts("2016-12-31T23:59:60.5Z"))
case("valid_leap_second_plus_00_00", ts("2016-12-31T23:59:60+00:00"))
case("valid_leap_second_on_any_date", ts("2026-11-26T23:59:60Z"))
case("valid_since_ts_z_spelled_as_u005a_escape",
     ts("2026-11-26T07:41:10\\u005a"))
case("valid_last_activity_ts_plus_00_00",
     rec({"last_activity_ts": s("2026-11-26T07:41:10+00:00")}))
case("valid_last_activity_ts_fraction",
     rec({"last_activity_ts": s("2026-11-26T07:41:10.5Z")}))
case("valid_last_activity_ts_leap_second",
     rec({"last_activity_ts": s("2016-12-31T23:59:60Z")}))
case("valid_last_activity_ts_before_since_ts",
     rec({"last_activity_ts": s("2000-01-01T00:00:00Z")}))

# ---------------------------------------------------------------------------
# Valid: sleep_cycle_progress
# ---------------------------------------------------------------------------

case("valid_progress_full", rec({"sleep_cycle_progress": prog()}))
case("valid_progress_empty_object", rec({"sleep_cycle_progress": "{}"}))
case("valid_progress_only_last_completed_step",
     rec({"sleep_cycle_progress": '{"last_completed_step":3}'}))
case("valid_progress_only_attempt",
     rec({"sleep_cycle_progress": '{"attempt":2}'}))
case("valid_progress_only_last_error_string",
     rec({"sleep_cycle_progress": '{"last_error":"boom"}'}))
case("valid_progress_only_started_at",
     rec({"sleep_cycle_progress": '{"started_at":"2026-11-26T07:00:00Z"}'}))
case("valid_progress_last_error_string",
     rec({"sleep_cycle_progress": prog({"last_error": s("disk full")})}))
case("valid_progress_last_error_empty_string",
     rec({"sleep_cycle_progress": prog({"last_error": s("")})}))
case("valid_progress_last_completed_step_zero",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "0"})}))
case("valid_progress_attempt_zero",
     rec({"sleep_cycle_progress": prog({"attempt": "0"})}))
case("valid_progress_last_completed_step_negative_zero",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "-0"})}))
case("valid_progress_attempt_negative_zero",
     rec({"sleep_cycle_progress": prog({"attempt": "-0"})}))
case("valid_progress_last_completed_step_max_2_pow_53_minus_1",
     rec({"sleep_cycle_progress": prog({"last_completed_step": MAX})}))
case("valid_progress_attempt_max_2_pow_53_minus_1",
     rec({"sleep_cycle_progress": prog({"attempt": MAX})}))
case("valid_progress_started_at_plus_00_00",
     rec({"sleep_cycle_progress":
          prog({"started_at": s("2026-11-26T07:00:00+00:00")})}))
case("valid_progress_started_at_leap_second",
     rec({"sleep_cycle_progress":
          prog({"started_at": s("2016-12-31T23:59:60Z")})}))
case("valid_progress_unknown_member",
     rec({"sleep_cycle_progress": prog(extra=[("future", '{"a":[1,2]}')])}))
case("valid_progress_unknown_member_named_wrapper_event_seq_with_fraction",
     rec({"sleep_cycle_progress":
          prog(extra=[("wrapper_event_seq", "1.5")])}))

# ---------------------------------------------------------------------------
# Valid: quarantine
# ---------------------------------------------------------------------------

case("valid_quarantine_full", rec({"quarantine": quar()}))
case("valid_quarantine_reason_empty_string",
     rec({"quarantine": quar({"reason": s("")})}))
case("valid_quarantine_until_ts_before_since_ts",
     rec({"quarantine": quar({"until_ts": s("2026-11-25T07:00:00Z")})}))
case("valid_quarantine_until_ts_equals_since_ts",
     rec({"quarantine": quar({"until_ts": s("2026-11-26T07:00:00Z")})}))
case("valid_quarantine_timestamps_plus_00_00",
     rec({"quarantine": quar({"until_ts": s("2026-11-27T07:00:00+00:00"),
                              "since_ts": s("2026-11-26T07:00:00+00:00")})}))
case("valid_quarantine_members_reordered",
     rec({"quarantine": '{"reason":"r","since_ts":"2026-11-26T07:00:00Z",'
                        '"until_ts":"2026-11-27T07:00:00Z"}'}))
case("valid_quarantine_unknown_member",
     rec({"quarantine": quar(extra=[("by", s("operator"))])}))
case("valid_quarantine_unknown_member_named_current_state_with_bad_value",
     rec({"quarantine": quar(extra=[("current_state", s("bogus"))])}))
case("valid_quarantine_reason_unicode",
     rec({"quarantine": quar({"reason": s("Schritt fehlgeschlagen \u2013 "
                                          "\u65e5\u672c \U0001F600")})}))

# ---------------------------------------------------------------------------
# Valid: unknown members (tolerated anywhere, any RFC 8259 value)
# ---------------------------------------------------------------------------

case("valid_unknown_members_everywhere",
     rec({"sleep_cycle_progress": prog(extra=[("p_new", '[1,{"k":null}]')]),
          "quarantine": quar(extra=[("q_new", '{"nested":{"deep":true}}')])},
         extra=[("top_new", s("newer writer")), ("top_num", "1e400")]))
case("valid_unknown_member_before_known_members",
     '{"first":1,' + rec()[1:])
case("valid_unknown_members_interleaved_with_known_members",
     '{"a":1,"current_state":"WAKE","b":[],"since_ts":"2026-11-26T07:41:10Z",'
     '"c":{},"last_activity_ts":"2026-11-26T07:41:10Z","d":"",'
     '"wrapper_event_seq":42,"e":null,"shadow_run":false,"f":true}')
case("valid_unknown_members_of_every_json_type",
     rec(extra=[("str", s("x")), ("num", "-3"), ("arr", "[1,\"a\",null]"),
                ("obj", '{"k":"v"}'), ("nul", "null"), ("t", "true"),
                ("f", "false"), ("empty_arr", "[]"), ("empty_obj", "{}")]))
case("valid_unknown_member_with_empty_name", rec(extra=[("", "1")]))
case("valid_unknown_member_name_with_u0000_escape",
     rec(extra=[("a\\u0000b", "1")]))
case("valid_unknown_member_name_with_escapes",
     rec(extra=[("x\\u0041\\n\\t\\\"\\\\", "1")]))
case("valid_top_level_unknown_member_named_until_ts_with_bad_value",
     rec(extra=[("until_ts", s("not a timestamp"))]))
case("valid_top_level_unknown_member_named_like_known_with_different_case",
     rec(extra=[("Current_State", s("nonsense"))]))
case("valid_same_key_in_sibling_objects",
     unknown('{"p":{"a":1},"q":{"a":2},"r":[{"a":3},{"a":4}]}'))
case("valid_same_key_at_different_depths",
     unknown('{"a":{"a":{"a":1}}}'))
case("valid_keys_differing_only_in_case", unknown('{"a":1,"A":2}'))
case("valid_keys_differing_by_u0000", unknown('{"a":1,"a\\u0000":2}'))
case("valid_unknown_member_name_same_as_known_in_nested_unknown_object",
     unknown('{"current_state":1,"shadow_run":"x"}'))
case("valid_unknown_member_string_with_escaped_quote_and_braces",
     unknown(s('a\\"},{\\"]b')))
case("valid_unknown_member_string_ending_with_escaped_backslash",
     unknown(s("a\\\\")))
case("valid_unknown_member_value_with_inner_whitespace",
     rec()[:-1] + ',"x" : [ 1 , { "k" : "v" } ]\n}')
case("valid_keys_differing_only_in_unicode_normalization",
     unknown('{"\u00e9":1,"e\u0301":2}'))
case("valid_quarantine_member_name_spelled_with_u_escape",
     rec({"quarantine": '{"until\\u005fts":"2026-11-27T07:00:00Z",'
                        '"since_ts":"2026-11-26T07:00:00Z","reason":""}'}))

# numbers in unknown members
case("valid_huge_number_in_unknown_member",
     unknown("123456789012345678901234567890"))
case("valid_number_1e400_in_unknown_member", unknown("1e400"))
case("valid_number_negative_1e400_in_unknown_member", unknown("-1e400"))
case("valid_number_1e_minus_400_in_unknown_member", unknown("1e-400"))
case("valid_number_1000_digit_integer_in_unknown_member",
     unknown("9" * 1000))
case("valid_number_fraction_in_unknown_member", unknown("1.5"))
case("valid_number_negative_in_unknown_member", unknown("-3"))
case("valid_number_negative_zero_fraction_in_unknown_member", unknown("-0.0"))
case("valid_number_exponent_forms_in_unknown_member",
     unknown("[1e5,1E5,1e+5,1e-5,1.5e-5,-1.5E+05,0e0,0.0,-0]"))
case("valid_number_2_pow_53_in_unknown_member", unknown(OVER))
# More than 4,300 digits (requirements §7), kept a fraction so that a JSON
# reader with an integer-digit limit (Python's) can still read a request
# that carries it.
case("valid_number_4301_digits_in_unknown_member",
     unknown("1." + "0" * 4299 + "1"))

# strings
case("valid_escape_u0000_in_string", unknown(s("a\\u0000b")))
case("valid_all_simple_escapes_in_string",
     unknown(s('\\"\\\\\\/\\b\\f\\n\\r\\t')))
case("valid_escaped_control_chars_u0001_to_u001f",
     unknown(s("".join("\\u%04x" % c for c in range(1, 0x20)))))
case("valid_u_escape_uppercase_hex", unknown(s("\\u00E9\\u00FF")))
case("valid_u_escape_lowercase_hex", unknown(s("\\u00e9\\u00ff")))
case("valid_paired_surrogate_escape", unknown(s("\\ud83d\\ude00")))
case("valid_paired_surrogate_escape_uppercase_hex",
     unknown(s("\\uD83D\\uDE00")))
case("valid_surrogate_pair_escape_lowest_u10000", unknown(s("\\ud800\\udc00")))
case("valid_surrogate_pair_escape_highest_u10ffff",
     unknown(s("\\udbff\\udfff")))
case("valid_paired_surrogate_escape_in_member_name",
     rec(extra=[("\\ud83d\\ude00", "1")]))
case("valid_escape_uffff_noncharacter", unknown(s("\\uffff")))
case("valid_escaped_bom_u_feff_in_string", unknown(s("\\ufeff")))
case("valid_raw_bom_character_inside_string",
     splice(unknown(s("a@b")), "@", b"\xef\xbb\xbf"))
case("valid_raw_utf8_2_3_4_byte_sequences_in_string",
     unknown(s("\u00e9 \u20ac \U0001F600")))
case("valid_raw_u10ffff_in_string",
     splice(unknown(s("@")), "@", b"\xf4\x8f\xbf\xbf"))
case("valid_raw_u0080_in_string", splice(unknown(s("@")), "@", b"\xc2\x80"))
case("valid_raw_del_0x7f_in_string", unknown(s("a\x7fb")))
case("valid_raw_u2028_u2029_in_string", unknown(s("a\u2028b\u2029c")))
case("valid_long_string_in_unknown_member", unknown(s("x" * 60000)))

# whitespace
case("valid_trailing_whitespace", rec() + " \t\r\n")
case("valid_trailing_newline", rec() + "\n")
case("valid_leading_whitespace_space_tab_cr_lf", " \t\r\n" + rec())
case("valid_whitespace_between_all_tokens",
     " \t\n\r".join(["{", '"current_state"', ":", '"WAKE"', ",",
                     '"since_ts"', ":", '"2026-11-26T07:41:10Z"', ",",
                     '"last_activity_ts"', ":", '"2026-11-26T07:41:10Z"', ",",
                     '"wrapper_event_seq"', ":", "42", ",",
                     '"sleep_cycle_progress"', ":", "{", "}", ",",
                     '"quarantine"', ":", "null", ",",
                     '"shadow_run"', ":", "true", ",",
                     '"x"', ":", "[", "1", ",", "2", "]", "}"]))
case("valid_pretty_printed_indent_2",
     json.dumps({"current_state": "SLEEP",
                 "since_ts": "2026-11-26T07:41:10.123456Z",
                 "last_activity_ts": "2026-11-26T07:41:10Z",
                 "wrapper_event_seq": 7,
                 "sleep_cycle_progress": {"last_completed_step": 1,
                                          "attempt": 2,
                                          "last_error": "x",
                                          "started_at": "2026-11-26T07:00:00Z"},
                 "quarantine": None,
                 "shadow_run": True}, indent=2) + "\n")
case("valid_crlf_line_endings",
     rec().replace(",", ",\r\n").replace("{", "{\r\n") + "\r\n")

# deep nesting (never recursed on)
case("valid_deep_nesting_10000_in_unknown_member",
     unknown("[" * 10000 + "]" * 10000))
case("valid_deep_nesting_10000_objects_in_unknown_member",
     unknown('{"a":' * 10000 + "1" + "}" * 10000))
case("valid_deep_nesting_mixed_5000_in_unknown_member",
     unknown('[{"a":' * 5000 + "null" + "}]" * 5000))
case("valid_deep_nesting_10000_in_progress_unknown_member",
     rec({"sleep_cycle_progress":
          prog(extra=[("deep", "[" * 10000 + "]" * 10000)])}))
case("valid_deep_nesting_10000_in_quarantine_unknown_member",
     rec({"quarantine": quar(extra=[("deep", "[" * 10000 + "]" * 10000)])}))
# Past the 64 levels of requirements §7 and the 128 of common JSON readers,
# shallow enough for a save request to carry it.
case("valid_deep_nesting_200_in_unknown_member",
     unknown("[" * 200 + "]" * 200))
case("valid_deep_nesting_65_objects_in_quarantine_unknown_member",
     rec({"quarantine": quar(extra=[("deep", '{"a":' * 65 + "1" + "}" * 65)])}))

# ---------------------------------------------------------------------------
# Corrupt: encoding (not UTF-8, BOM)
# ---------------------------------------------------------------------------

case("corrupt_bom", b"\xef\xbb\xbf" + rec().encode())
case("corrupt_bom_only", b"\xef\xbb\xbf")
case("corrupt_bom_after_leading_space", b" \xef\xbb\xbf" + rec().encode())
case("corrupt_bom_between_tokens",
     splice(rec().replace('"WAKE",', '"WAKE",@'), "@", b"\xef\xbb\xbf"))
case("corrupt_utf16le_bom", b"\xff\xfe" + rec().encode())
case("corrupt_invalid_utf8_continuation",
     splice(unknown(s("a@b")), "@", b"\x80"))
case("corrupt_invalid_utf8_lone_continuation_bf",
     splice(unknown(s("a@b")), "@", b"\xbf"))
case("corrupt_invalid_utf8_truncated_2_byte_sequence",
     splice(unknown(s("a@b")), "@", b"\xc3"))
case("corrupt_invalid_utf8_truncated_3_byte_sequence",
     splice(unknown(s("a@b")), "@", b"\xe2\x82"))
case("corrupt_invalid_utf8_truncated_4_byte_sequence",
     splice(unknown(s("a@b")), "@", b"\xf0\x9f\x98"))
case("corrupt_invalid_utf8_byte_fe", splice(unknown(s("a@b")), "@", b"\xfe"))
case("corrupt_invalid_utf8_byte_ff", splice(unknown(s("a@b")), "@", b"\xff"))
case("corrupt_invalid_utf8_5_byte_sequence",
     splice(unknown(s("a@b")), "@", b"\xf8\x88\x80\x80\x80"))
case("corrupt_invalid_utf8_code_point_above_u10ffff",
     splice(unknown(s("a@b")), "@", b"\xf4\x90\x80\x80"))
case("corrupt_overlong_2_byte_solidus_c0_af",
     splice(unknown(s("a@b")), "@", b"\xc0\xaf"))
case("corrupt_overlong_2_byte_nul_c0_80",
     splice(unknown(s("a@b")), "@", b"\xc0\x80"))
case("corrupt_overlong_2_byte_c1_bf",
     splice(unknown(s("a@b")), "@", b"\xc1\xbf"))
case("corrupt_overlong_3_byte_e0_80_af",
     splice(unknown(s("a@b")), "@", b"\xe0\x80\xaf"))
case("corrupt_overlong_4_byte_f0_80_80_af",
     splice(unknown(s("a@b")), "@", b"\xf0\x80\x80\xaf"))
case("corrupt_utf8_encoded_high_surrogate_ed_a0_80",
     splice(unknown(s("a@b")), "@", b"\xed\xa0\x80"))
case("corrupt_utf8_encoded_low_surrogate_ed_b0_80",
     splice(unknown(s("a@b")), "@", b"\xed\xb0\x80"))
case("corrupt_utf8_encoded_surrogate_pair_cesu8",
     splice(unknown(s("a@b")), "@", b"\xed\xa0\xbd\xed\xb8\x80"))
case("corrupt_invalid_utf8_in_member_name",
     splice(rec(extra=[("a@b", "1")]), "@", b"\x80"))
case("corrupt_invalid_utf8_in_quarantine_reason",
     splice(rec({"quarantine": quar({"reason": s("a@b")})}), "@", b"\xff"))
case("corrupt_invalid_utf8_in_progress_last_error",
     splice(rec({"sleep_cycle_progress": prog({"last_error": s("a@b")})}),
            "@", b"\xc3\x28"))

# ---------------------------------------------------------------------------
# Corrupt: not exactly one JSON value / not an object
# ---------------------------------------------------------------------------

case("corrupt_empty_file", b"")
case("corrupt_whitespace_only", " \t\r\n")
case("corrupt_top_level_array", "[" + rec() + "]")
case("corrupt_top_level_string", s("WAKE"))
case("corrupt_top_level_number", "42")
case("corrupt_top_level_null", "null")
case("corrupt_top_level_true", "true")
case("corrupt_top_level_empty_object", "{}")
case("corrupt_trailing_garbage", rec() + "x")
case("corrupt_trailing_second_object", rec() + rec())
case("corrupt_trailing_second_object_after_newline", rec() + "\n" + rec())
case("corrupt_trailing_comma_after_object", rec() + ",")
case("corrupt_trailing_extra_closing_brace", rec() + "}")
case("corrupt_trailing_nul_byte", rec().encode() + b"\x00")
case("corrupt_trailing_form_feed", rec() + "\f")
case("corrupt_trailing_vertical_tab", rec() + "\v")
case("corrupt_trailing_nbsp_u00a0", rec() + "\u00a0")
case("corrupt_truncated_before_closing_brace", rec()[:-1])
case("corrupt_truncated_mid_string", rec()[:20])
case("corrupt_truncated_after_colon", rec()[:rec().index(":") + 1])

# whitespace that RFC 8259 does not allow
case("corrupt_form_feed_between_tokens", rec().replace('"WAKE",', '"WAKE",\f'))
case("corrupt_vertical_tab_between_tokens",
     rec().replace('"WAKE",', '"WAKE",\v'))
case("corrupt_nbsp_u00a0_between_tokens",
     rec().replace('"WAKE",', '"WAKE",\u00a0'))
case("corrupt_u2028_line_separator_between_tokens",
     rec().replace('"WAKE",', '"WAKE",\u2028'))
case("corrupt_nul_byte_between_tokens",
     rec().replace('"WAKE",', '"WAKE",\x00'))

# object / array syntax
case("corrupt_trailing_comma_in_object", rec()[:-1] + ",}")
case("corrupt_leading_comma_in_object", "{," + rec()[1:])
case("corrupt_double_comma_in_object", rec().replace('"WAKE",', '"WAKE",,'))
case("corrupt_missing_comma_between_members",
     rec().replace('"WAKE",', '"WAKE" '))
case("corrupt_missing_colon", rec().replace('"current_state":', '"current_state" '))
case("corrupt_equals_instead_of_colon",
     rec().replace('"current_state":', '"current_state"='))
case("corrupt_unquoted_member_name", rec()[:-1] + ",x:1}")
case("corrupt_single_quoted_member_name", rec()[:-1] + ",'x':1}")
case("corrupt_numeric_member_name", rec()[:-1] + ",1:1}")
case("corrupt_single_quoted_string_in_unknown_member", unknown("'x'"))
case("corrupt_unterminated_string_in_unknown_member", rec()[:-1] + ',"x":"abc}')
case("corrupt_trailing_comma_in_unknown_array", unknown("[1,2,]"))
case("corrupt_leading_comma_in_unknown_array", unknown("[,1]"))
case("corrupt_double_comma_in_unknown_array", unknown("[1,,2]"))
case("corrupt_missing_comma_in_unknown_array", unknown("[1 2]"))
case("corrupt_unclosed_unknown_array", rec()[:-1] + ',"x":[1,2}')
case("corrupt_mismatched_brackets_in_unknown_member", unknown("[1,2}"))
case("corrupt_line_comment", rec().replace('"WAKE",', '"WAKE",// c\n'))
case("corrupt_block_comment", rec().replace('"WAKE",', '"WAKE",/* c */'))
case("corrupt_deep_nesting_unclosed", rec()[:-1] + ',"x":' + "[" * 10000 + "}")
case("corrupt_deep_nesting_one_extra_close",
     unknown("[" * 10000 + "]" * 10001))
case("corrupt_deep_nesting_mismatched_closers",
     unknown("[" * 5000 + "}" * 5000))
case("corrupt_deep_nesting_10000_as_quarantine",
     rec({"quarantine": "[" * 10000 + "]" * 10000}))
case("corrupt_deep_nesting_10000_objects_as_progress_last_error",
     rec({"sleep_cycle_progress":
          prog({"last_error": '{"a":' * 10000 + "1" + "}" * 10000})}))
case("corrupt_deep_nesting_10000_as_seq",
     rec({"wrapper_event_seq": "[" * 10000 + "1" + "]" * 10000}))

# ---------------------------------------------------------------------------
# Corrupt: non-JSON tokens and number grammar (in an unknown member, so the
# token is the only problem)
# ---------------------------------------------------------------------------

case("corrupt_nan_in_unknown_member", unknown("NaN"))
case("corrupt_infinity_in_unknown_member", unknown("Infinity"))
case("corrupt_negative_infinity_in_unknown_member", unknown("-Infinity"))
case("corrupt_nan_deeply_nested_in_unknown_member",
     unknown("[" * 1000 + "NaN" + "]" * 1000))
case("corrupt_nan_as_seq", rec({"wrapper_event_seq": "NaN"}))
case("corrupt_capitalized_true_in_unknown_member", unknown("True"))
case("corrupt_python_none_in_unknown_member", unknown("None"))
case("corrupt_undefined_in_unknown_member", unknown("undefined"))
case("corrupt_truncated_literal_tru_in_unknown_member", unknown("tru"))
case("corrupt_number_leading_plus_in_unknown_member", unknown("+1"))
case("corrupt_number_leading_zero_in_unknown_member", unknown("01"))
case("corrupt_number_negative_leading_zero_in_unknown_member", unknown("-01"))
case("corrupt_number_trailing_dot_in_unknown_member", unknown("1."))
case("corrupt_number_leading_dot_in_unknown_member", unknown(".5"))
case("corrupt_number_dot_before_exponent_in_unknown_member", unknown("1.e5"))
case("corrupt_number_exponent_without_digits_in_unknown_member",
     unknown("1e"))
case("corrupt_number_exponent_sign_without_digits_in_unknown_member",
     unknown("1e+"))
case("corrupt_number_lone_minus_in_unknown_member", unknown("-"))
case("corrupt_number_hex_in_unknown_member", unknown("0x10"))
case("corrupt_number_inf_lowercase_in_unknown_member", unknown("inf"))

# ---------------------------------------------------------------------------
# Corrupt: strings
# ---------------------------------------------------------------------------

case("corrupt_raw_control_char_in_string", unknown(s("a\x01b")))
case("corrupt_raw_tab_in_string", unknown(s("a\tb")))
case("corrupt_raw_newline_in_string", unknown(s("a\nb")))
case("corrupt_raw_carriage_return_in_string", unknown(s("a\rb")))
case("corrupt_raw_nul_in_string", unknown(s("a\x00b")))
case("corrupt_raw_0x1f_in_string", unknown(s("a\x1fb")))
case("corrupt_raw_control_char_in_member_name", rec(extra=[("a\x01b", "1")]))
case("corrupt_raw_control_char_in_quarantine_reason",
     rec({"quarantine": quar({"reason": s("a\x07b")})}))
case("corrupt_invalid_escape_x41", unknown(s("\\x41")))
case("corrupt_invalid_escape_single_quote", unknown(s("\\'")))
case("corrupt_invalid_escape_a", unknown(s("\\a")))
case("corrupt_invalid_escape_zero", unknown(s("\\0")))
case("corrupt_invalid_escape_uppercase_u", unknown(s("\\U0041")))
case("corrupt_u_escape_3_hex_digits", unknown(s("\\u041")))
case("corrupt_u_escape_non_hex_digit", unknown(s("\\u00G1")))
case("corrupt_backslash_before_raw_newline", unknown(s("a\\\nb")))
case("corrupt_backslash_at_end_of_string", rec()[:-1] + ',"x":"a\\"}')

# surrogates
case("corrupt_unpaired_high_surrogate", unknown(s("\\ud800")))
case("corrupt_unpaired_high_surrogate_followed_by_text",
     unknown(s("\\ud83dx")))
case("corrupt_high_surrogate_followed_by_high_surrogate",
     unknown(s("\\ud800\\ud800")))
case("corrupt_high_surrogate_followed_by_non_surrogate_escape",
     unknown(s("\\ud800\\u0041")))
case("corrupt_high_surrogate_followed_by_simple_escape",
     unknown(s("\\ud800\\n")))
case("corrupt_lone_low_surrogate", unknown(s("\\udc00")))
case("corrupt_lone_low_surrogate_udfff", unknown(s("\\udfff")))
case("corrupt_reversed_surrogate_pair", unknown(s("\\ude00\\ud83d")))
case("corrupt_unpaired_high_surrogate_in_member_name",
     rec(extra=[("a\\ud800", "1")]))
case("corrupt_lone_low_surrogate_in_quarantine_reason",
     rec({"quarantine": quar({"reason": s("\\udc00")})}))
case("corrupt_unpaired_high_surrogate_ud800_in_quarantine_reason",
     rec({"quarantine": quar({"reason": s("\\ud800")})}))
case("corrupt_unpaired_high_surrogate_in_progress_last_error",
     rec({"sleep_cycle_progress": prog({"last_error": s("\\udbff")})}))

# ---------------------------------------------------------------------------
# Corrupt: duplicate member names (at any depth, compared after unescaping)
# ---------------------------------------------------------------------------

case("corrupt_duplicate_key_top_level",
     rec()[:-1] + ',"shadow_run":false}')
case("corrupt_duplicate_key_top_level_different_values",
     rec()[:-1] + ',"current_state":"SLEEP"}')
case("corrupt_duplicate_unknown_key_top_level",
     rec(extra=[("x", "1"), ("x", "1")]))
case("corrupt_duplicate_key_in_progress",
     rec({"sleep_cycle_progress": prog(extra=[("attempt", "1")])}))
case("corrupt_duplicate_key_in_quarantine",
     rec({"quarantine": quar(extra=[("reason", s("again"))])}))
case("corrupt_duplicate_unknown_key_in_progress",
     rec({"sleep_cycle_progress": prog(extra=[("n", "1"), ("n", "2")])}))
case("corrupt_duplicate_unknown_key_in_quarantine",
     rec({"quarantine": quar(extra=[("n", "1"), ("n", "2")])}))
case("corrupt_duplicate_key_in_unknown_nested_object",
     unknown('{"a":1,"a":2}'))
case("corrupt_duplicate_key_in_unknown_nested_array_object",
     unknown('[1,{"b":[{"a":1,"a":1}]}]'))
case("corrupt_duplicate_key_deeply_nested_1000",
     unknown('{"n":' * 1000 + '{"a":1,"a":2}' + "}" * 1000))
case("corrupt_duplicate_key_via_escape",
     rec()[:-1] + ',"\\u0063urrent_state":"WAKE"}')
case("corrupt_duplicate_key_via_escape_in_unknown_member",
     unknown('{"a":1,"\\u0061":2}'))
case("corrupt_duplicate_key_via_escaped_solidus",
     unknown('{"a/b":1,"a\\/b":2}'))
case("corrupt_duplicate_key_via_surrogate_pair_escape",
     unknown('{"\U0001F600":1,"\\ud83d\\ude00":2}'))
case("corrupt_duplicate_key_via_uppercase_and_lowercase_hex_escape",
     unknown('{"\\u00e9":1,"\\u00E9":2}'))
case("corrupt_duplicate_empty_key", unknown('{"":1,"":2}'))
case("corrupt_duplicate_key_raw_utf8_vs_u_escape",
     unknown('{"\u00e9":1,"\\u00e9":2}'))
case("corrupt_duplicate_key_in_progress_via_escape",
     rec({"sleep_cycle_progress":
          prog(extra=[("\\u0061ttempt", "1")])}))
case("corrupt_duplicate_key_not_adjacent",
     unknown('{"a":1,"b":2,"c":3,"a":4}'))

# ---------------------------------------------------------------------------
# Corrupt: current_state
# ---------------------------------------------------------------------------

case("corrupt_current_state_missing", rec({"current_state": DROP}))
case("corrupt_current_state_null", rec({"current_state": "null"}))
case("corrupt_current_state_lowercase", rec({"current_state": s("wake")}))
case("corrupt_current_state_mixed_case", rec({"current_state": s("Wake")}))
case("corrupt_current_state_unknown_value", rec({"current_state": s("AWAKE")}))
case("corrupt_current_state_empty_string", rec({"current_state": s("")}))
case("corrupt_current_state_trailing_space", rec({"current_state": s("WAKE ")}))
case("corrupt_current_state_leading_space", rec({"current_state": s(" WAKE")}))
case("corrupt_current_state_trailing_u0000",
     rec({"current_state": s("WAKE\\u0000")}))
case("corrupt_current_state_number", rec({"current_state": "0"}))
case("corrupt_current_state_array", rec({"current_state": '["WAKE"]'}))
case("corrupt_current_state_object", rec({"current_state": '{"WAKE":true}'}))
case("corrupt_current_state_lowercase_hibernation",
     rec({"current_state": s("hibernation")}))

# ---------------------------------------------------------------------------
# Corrupt: timestamps (since_ts unless the name says otherwise)
# ---------------------------------------------------------------------------

case("corrupt_since_ts_missing", rec({"since_ts": DROP}))
case("corrupt_since_ts_null", rec({"since_ts": "null"}))
case("corrupt_since_ts_number_epoch", rec({"since_ts": "1795678870"}))
case("corrupt_since_ts_empty_string", ts(""))
case("corrupt_since_ts_offset_plus_01_00", ts("2026-11-26T07:41:10+01:00"))
case("corrupt_since_ts_offset_minus_00_00", ts("2026-11-26T07:41:10-00:00"))
case("corrupt_since_ts_offset_minus_05_00", ts("2026-11-26T07:41:10-05:00"))
case("corrupt_since_ts_offset_plus_00_30", ts("2026-11-26T07:41:10+00:30"))
case("corrupt_since_ts_offset_without_colon_plus_0000",
     ts("2026-11-26T07:41:10+0000"))
case("corrupt_since_ts_offset_hours_only_plus_00", ts("2026-11-26T07:41:10+00"))
case("corrupt_since_ts_offset_with_seconds_plus_00_00_00",
     ts("2026-11-26T07:41:10+00:00:00"))
case("corrupt_since_ts_zulu_and_numeric_offset",
     ts("2026-11-26T07:41:10Z+00:00"))
case("corrupt_since_ts_missing_offset", ts("2026-11-26T07:41:10"))
case("corrupt_since_ts_missing_offset_with_fraction",
     ts("2026-11-26T07:41:10.123456"))
case("corrupt_since_ts_lowercase_z", ts("2026-11-26T07:41:10z"))
case("corrupt_since_ts_lowercase_t", ts("2026-11-26t07:41:10Z"))
case("corrupt_since_ts_space_separator", ts("2026-11-26 07:41:10Z"))
case("corrupt_since_ts_underscore_separator", ts("2026-11-26_07:41:10Z"))
case("corrupt_since_ts_missing_seconds", ts("2026-11-26T07:41Z"))
case("corrupt_since_ts_date_only", ts("2026-11-26"))
case("corrupt_since_ts_date_only_with_zulu", ts("2026-11-26Z"))
case("corrupt_since_ts_time_only", ts("07:41:10Z"))
case("corrupt_since_ts_basic_format_without_separators",
     ts("20261126T074110Z"))
case("corrupt_since_ts_slash_date", ts("2026/11/26T07:41:10Z"))
case("corrupt_since_ts_empty_fraction", ts("2026-11-26T07:41:10.Z"))
case("corrupt_since_ts_comma_fraction", ts("2026-11-26T07:41:10,123Z"))
case("corrupt_since_ts_non_digit_fraction", ts("2026-11-26T07:41:10.12a4Z"))
case("corrupt_since_ts_single_digit_month", ts("2026-1-26T07:41:10Z"))
case("corrupt_since_ts_single_digit_day", ts("2026-11-6T07:41:10Z"))
case("corrupt_since_ts_single_digit_hour", ts("2026-11-26T7:41:10Z"))
case("corrupt_since_ts_year_3_digits", ts("999-11-26T07:41:10Z"))
case("corrupt_since_ts_year_5_digits", ts("10000-01-01T00:00:00Z"))
case("corrupt_since_ts_negative_year", ts("-0001-01-01T00:00:00Z"))
case("corrupt_since_ts_leading_space", ts(" 2026-11-26T07:41:10Z"))
case("corrupt_since_ts_trailing_space", ts("2026-11-26T07:41:10Z "))
case("corrupt_since_ts_trailing_newline_escape", ts("2026-11-26T07:41:10Z\\n"))
case("corrupt_since_ts_fullwidth_digit", ts("202\uff16-11-26T07:41:10Z"))
case("corrupt_since_ts_arabic_indic_digit", ts("202\u0666-11-26T07:41:10Z"))
case("corrupt_since_ts_month_00", ts("2026-00-26T07:41:10Z"))
case("corrupt_since_ts_month_13", ts("2026-13-26T07:41:10Z"))
case("corrupt_since_ts_day_00", ts("2026-11-00T07:41:10Z"))
case("corrupt_since_ts_day_32", ts("2026-01-32T07:41:10Z"))
case("corrupt_since_ts_apr_31", ts("2026-04-31T12:00:00Z"))
case("corrupt_since_ts_nov_31", ts("2026-11-31T12:00:00Z"))
case("corrupt_leap_day_non_leap_year", ts("2026-02-29T12:00:00Z"))
case("corrupt_leap_day_year_1900_divisible_by_100", ts("1900-02-29T12:00:00Z"))
case("corrupt_feb_30_leap_year", ts("2024-02-30T12:00:00Z"))
case("corrupt_since_ts_hour_24", ts("2026-11-26T24:00:00Z"))
case("corrupt_since_ts_minute_60", ts("2026-11-26T07:60:10Z"))
case("corrupt_second_60_not_at_end_of_day", ts("2026-11-26T12:30:60Z"))
case("corrupt_second_60_at_23_58", ts("2016-12-31T23:58:60Z"))
case("corrupt_second_60_at_22_59", ts("2016-12-31T22:59:60Z"))
case("corrupt_second_61", ts("2016-12-31T23:59:61Z"))
case("corrupt_second_99", ts("2026-11-26T07:41:99Z"))

case("corrupt_last_activity_ts_missing", rec({"last_activity_ts": DROP}))
case("corrupt_last_activity_ts_null", rec({"last_activity_ts": "null"}))
case("corrupt_last_activity_ts_offset_plus_01_00",
     rec({"last_activity_ts": s("2026-11-26T07:41:10+01:00")}))
case("corrupt_last_activity_ts_lowercase_z",
     rec({"last_activity_ts": s("2026-11-26T07:41:10z")}))
case("corrupt_last_activity_ts_feb_30",
     rec({"last_activity_ts": s("2026-02-30T07:41:10Z")}))
case("corrupt_last_activity_ts_missing_offset",
     rec({"last_activity_ts": s("2026-11-26T07:41:10")}))

# ---------------------------------------------------------------------------
# Corrupt: wrapper_event_seq
# ---------------------------------------------------------------------------

case("corrupt_seq_missing", rec({"wrapper_event_seq": DROP}))
case("corrupt_seq_null", rec({"wrapper_event_seq": "null"}))
case("corrupt_seq_2_pow_53", rec({"wrapper_event_seq": OVER}))
case("corrupt_seq_2_pow_64", rec({"wrapper_event_seq": "18446744073709551616"}))
case("corrupt_seq_30_digits",
     rec({"wrapper_event_seq": "123456789012345678901234567890"}))
case("corrupt_seq_negative", rec({"wrapper_event_seq": "-1"}))
case("corrupt_seq_negative_2_pow_53_minus_1",
     rec({"wrapper_event_seq": "-" + MAX}))
case("corrupt_seq_fraction", rec({"wrapper_event_seq": "1.5"}))
case("corrupt_seq_fraction_zero", rec({"wrapper_event_seq": "1.0"}))
case("corrupt_seq_negative_zero_fraction", rec({"wrapper_event_seq": "-0.0"}))
case("corrupt_seq_exponent", rec({"wrapper_event_seq": "1e0"}))
case("corrupt_seq_exponent_uppercase", rec({"wrapper_event_seq": "1E2"}))
case("corrupt_seq_exponent_positive_sign", rec({"wrapper_event_seq": "4e+1"}))
case("corrupt_seq_exponent_negative", rec({"wrapper_event_seq": "420e-1"}))
case("corrupt_seq_zero_exponent", rec({"wrapper_event_seq": "0e0"}))
case("corrupt_seq_true", rec({"wrapper_event_seq": "true"}))
case("corrupt_seq_false", rec({"wrapper_event_seq": "false"}))
case("corrupt_seq_string", rec({"wrapper_event_seq": s("42")}))
case("corrupt_seq_array", rec({"wrapper_event_seq": "[42]"}))
case("corrupt_seq_object", rec({"wrapper_event_seq": '{"n":42}'}))
case("corrupt_seq_leading_zero", rec({"wrapper_event_seq": "042"}))
case("corrupt_seq_leading_plus", rec({"wrapper_event_seq": "+42"}))

# ---------------------------------------------------------------------------
# Corrupt: shadow_run
# ---------------------------------------------------------------------------

case("corrupt_shadow_run_missing", rec({"shadow_run": DROP}))
case("corrupt_shadow_run_null", rec({"shadow_run": "null"}))
case("corrupt_shadow_run_zero", rec({"shadow_run": "0"}))
case("corrupt_shadow_run_one", rec({"shadow_run": "1"}))
case("corrupt_shadow_run_string_true", rec({"shadow_run": s("true")}))
case("corrupt_shadow_run_string_false", rec({"shadow_run": s("false")}))
case("corrupt_shadow_run_empty_object", rec({"shadow_run": "{}"}))

# ---------------------------------------------------------------------------
# Corrupt: sleep_cycle_progress
# ---------------------------------------------------------------------------

case("corrupt_progress_array", rec({"sleep_cycle_progress": "[]"}))
case("corrupt_progress_string", rec({"sleep_cycle_progress": s("{}")}))
case("corrupt_progress_number", rec({"sleep_cycle_progress": "0"}))
case("corrupt_progress_false", rec({"sleep_cycle_progress": "false"}))
case("corrupt_progress_last_completed_step_null",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "null"})}))
case("corrupt_progress_last_completed_step_negative",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "-1"})}))
case("corrupt_progress_last_completed_step_2_pow_53",
     rec({"sleep_cycle_progress": prog({"last_completed_step": OVER})}))
case("corrupt_progress_last_completed_step_fraction",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "2.0"})}))
case("corrupt_progress_last_completed_step_exponent",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "2e0"})}))
case("corrupt_progress_last_completed_step_string",
     rec({"sleep_cycle_progress": prog({"last_completed_step": s("2")})}))
case("corrupt_progress_last_completed_step_true",
     rec({"sleep_cycle_progress": prog({"last_completed_step": "true"})}))
case("corrupt_progress_attempt_null",
     rec({"sleep_cycle_progress": prog({"attempt": "null"})}))
case("corrupt_progress_attempt_negative",
     rec({"sleep_cycle_progress": prog({"attempt": "-1"})}))
case("corrupt_progress_attempt_2_pow_53",
     rec({"sleep_cycle_progress": prog({"attempt": OVER})}))
case("corrupt_progress_attempt_fraction",
     rec({"sleep_cycle_progress": prog({"attempt": "1.5"})}))
case("corrupt_progress_attempt_exponent",
     rec({"sleep_cycle_progress": prog({"attempt": "1E0"})}))
case("corrupt_progress_attempt_false",
     rec({"sleep_cycle_progress": prog({"attempt": "false"})}))
case("corrupt_progress_attempt_string",
     rec({"sleep_cycle_progress": prog({"attempt": s("1")})}))
case("corrupt_progress_last_error_number",
     rec({"sleep_cycle_progress": prog({"last_error": "1"})}))
case("corrupt_progress_last_error_false",
     rec({"sleep_cycle_progress": prog({"last_error": "false"})}))
case("corrupt_progress_last_error_object",
     rec({"sleep_cycle_progress": prog({"last_error": '{"msg":"x"}'})}))
case("corrupt_progress_last_error_array",
     rec({"sleep_cycle_progress": prog({"last_error": '["x"]'})}))
case("corrupt_progress_started_at_null",
     rec({"sleep_cycle_progress": prog({"started_at": "null"})}))
case("corrupt_progress_started_at_number",
     rec({"sleep_cycle_progress": prog({"started_at": "1795678870"})}))
case("corrupt_progress_started_at_offset_plus_01_00",
     rec({"sleep_cycle_progress":
          prog({"started_at": s("2026-11-26T07:00:00+01:00")})}))
case("corrupt_progress_started_at_missing_offset",
     rec({"sleep_cycle_progress":
          prog({"started_at": s("2026-11-26T07:00:00")})}))
case("corrupt_progress_started_at_leap_day_non_leap_year",
     rec({"sleep_cycle_progress":
          prog({"started_at": s("2026-02-29T07:00:00Z")})}))

# ---------------------------------------------------------------------------
# Corrupt: quarantine
# ---------------------------------------------------------------------------

case("corrupt_quarantine_empty_object", rec({"quarantine": "{}"}))
case("corrupt_quarantine_array", rec({"quarantine": "[]"}))
case("corrupt_quarantine_string", rec({"quarantine": s("quarantined")}))
case("corrupt_quarantine_false", rec({"quarantine": "false"}))
case("corrupt_quarantine_number", rec({"quarantine": "0"}))
case("corrupt_quarantine_until_ts_missing",
     rec({"quarantine": quar({"until_ts": DROP})}))
case("corrupt_quarantine_since_ts_missing",
     rec({"quarantine": quar({"since_ts": DROP})}))
case("corrupt_quarantine_reason_missing",
     rec({"quarantine": quar({"reason": DROP})}))
case("corrupt_quarantine_until_ts_null",
     rec({"quarantine": quar({"until_ts": "null"})}))
case("corrupt_quarantine_since_ts_null",
     rec({"quarantine": quar({"since_ts": "null"})}))
case("corrupt_quarantine_reason_null",
     rec({"quarantine": quar({"reason": "null"})}))
case("corrupt_quarantine_reason_number",
     rec({"quarantine": quar({"reason": "3"})}))
case("corrupt_quarantine_reason_array",
     rec({"quarantine": quar({"reason": '["x"]'})}))
case("corrupt_quarantine_until_ts_number",
     rec({"quarantine": quar({"until_ts": "1795765270"})}))
case("corrupt_quarantine_until_ts_offset_plus_01_00",
     rec({"quarantine": quar({"until_ts": s("2026-11-27T07:00:00+01:00")})}))
case("corrupt_quarantine_since_ts_offset_plus_01_00",
     rec({"quarantine": quar({"since_ts": s("2026-11-26T07:00:00+01:00")})}))
case("corrupt_quarantine_until_ts_lowercase_t",
     rec({"quarantine": quar({"until_ts": s("2026-11-27t07:00:00Z")})}))
case("corrupt_quarantine_since_ts_month_13",
     rec({"quarantine": quar({"since_ts": s("2026-13-26T07:00:00Z")})}))
case("corrupt_quarantine_until_ts_hour_24",
     rec({"quarantine": quar({"until_ts": s("2026-11-27T24:00:00Z")})}))


# ---------------------------------------------------------------------------
# Oracle: an independent, simple checker used only to cross-check the names
# ---------------------------------------------------------------------------

class IntLit(str):
    """Raw text of a JSON integer literal (no fraction, no exponent)."""


class FloatLit(str):
    """Raw text of a JSON number literal with a fraction or an exponent."""


class Bad(Exception):
    pass


def _no_constants(name):
    raise Bad("non-JSON token " + name)


def _pairs(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise Bad("duplicate member " + repr(k))
        seen.add(k)
    return dict(pairs)


TS_RE = re.compile(
    r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.[0-9]+)?(?:Z|\+00:00)\Z")
STATES = {"WAKE", "DROWSY", "SLEEP", "HIBERNATION"}


def _is_str(v):
    """A JSON string (IntLit/FloatLit are str subclasses but numbers)."""
    return type(v) is str


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _check_ts(v, what):
    m = TS_RE.match(v) if _is_str(v) else None
    if not m:
        raise Bad(what + ": not a zero-offset RFC 3339 timestamp")
    y, mo, d, h, mi, se = (int(g) for g in m.groups())
    dim = [31, 29 if _leap(y) else 28, 31, 30, 31, 30,
           31, 31, 30, 31, 30, 31]
    if not 1 <= mo <= 12 or not 1 <= d <= dim[mo - 1]:
        raise Bad(what + ": no such date")
    if h > 23 or mi > 59 or se > 60 or (se == 60 and (h, mi) != (23, 59)):
        raise Bad(what + ": no such time")


def _check_int(v, what):
    if not isinstance(v, IntLit) or len(v) > 20 or not (
            0 <= int(v) <= 2 ** 53 - 1):
        raise Bad(what + ": not an integer in 0..=2^53-1")


def _check_strings(value):
    """Iteratively reject unpaired surrogates anywhere (keys and values)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            v.encode("utf-8")  # raises on a lone surrogate
        elif isinstance(v, dict):
            for k, x in v.items():
                k.encode("utf-8")
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)


def _check_record(top):
    if not isinstance(top, dict):
        raise Bad("top level is not an object")
    for key in ("current_state", "since_ts", "last_activity_ts",
                "wrapper_event_seq", "shadow_run"):
        if key not in top:
            raise Bad("missing " + key)
    if not _is_str(top["current_state"]) or \
            top["current_state"] not in STATES:
        raise Bad("current_state")
    _check_ts(top["since_ts"], "since_ts")
    _check_ts(top["last_activity_ts"], "last_activity_ts")
    _check_int(top["wrapper_event_seq"], "wrapper_event_seq")
    if top["shadow_run"] is not True and top["shadow_run"] is not False:
        raise Bad("shadow_run")
    p = top.get("sleep_cycle_progress")
    if p is not None:
        if not isinstance(p, dict):
            raise Bad("sleep_cycle_progress")
        for k in ("last_completed_step", "attempt"):
            if k in p:
                _check_int(p[k], "sleep_cycle_progress." + k)
        if "last_error" in p and p["last_error"] is not None and \
                not _is_str(p["last_error"]):
            raise Bad("sleep_cycle_progress.last_error")
        if "started_at" in p:
            _check_ts(p["started_at"], "sleep_cycle_progress.started_at")
    q = top.get("quarantine")
    if q is not None:
        if not isinstance(q, dict):
            raise Bad("quarantine")
        for k in ("until_ts", "since_ts"):
            if k not in q:
                raise Bad("quarantine." + k + " missing")
            _check_ts(q[k], "quarantine." + k)
        if not _is_str(q.get("reason")):
            raise Bad("quarantine.reason")


def oracle_verdict(data):
    """Return None when `data` is a valid record, else the reason (str)."""
    if len(data) > 1024 * 1024:
        return "larger than 1 MiB"
    if data.startswith(b"\xef\xbb\xbf"):
        return "BOM"
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        return "not UTF-8: %s" % e
    try:
        # json.loads is strict about whitespace, number grammar, escapes and
        # raw control characters; the hooks add the remaining rules.
        top = json.loads(text, parse_int=IntLit, parse_float=FloatLit,
                         parse_constant=_no_constants,
                         object_pairs_hook=_pairs)
        _check_strings(top)
        _check_record(top)
    except (Bad, ValueError, UnicodeEncodeError) as e:
        return "%s: %s" % (type(e).__name__, e)
    return None


def _run_oracle(results):
    for fname, data in sorted(CASES.items()):
        results[fname] = oracle_verdict(data)


def cross_check():
    # The json C scanner recurses per nesting level: give it room.
    sys.setrecursionlimit(200000)
    threading.stack_size(512 * 1024 * 1024)
    results = {}
    t = threading.Thread(target=_run_oracle, args=(results,))
    t.start()
    t.join()
    bad = []
    for fname, verdict in sorted(results.items()):
        want_valid = fname.startswith("valid_")
        if want_valid != (verdict is None):
            bad.append("%s: oracle says %s" % (fname, verdict or "valid"))
    if bad:
        sys.exit("oracle disagrees with the names:\n  " + "\n  ".join(bad))


# ---------------------------------------------------------------------------
# Write / check
# ---------------------------------------------------------------------------

def main(argv):
    check_only = "--check" in argv[1:]
    cross_check()
    on_disk = {f for f in os.listdir(HERE) if f.endswith(".json")}
    problems = []
    for fname in sorted(on_disk - set(CASES)):
        if check_only:
            problems.append("stale file not produced by generate.py: " + fname)
        else:
            os.remove(os.path.join(HERE, fname))
            print("removed stale", fname)
    for fname, data in sorted(CASES.items()):
        path = os.path.join(HERE, fname)
        current = None
        if os.path.exists(path):
            with open(path, "rb") as f:
                current = f.read()
        if current == data:
            continue
        if check_only:
            problems.append(("missing: " if current is None else "differs: ")
                            + fname)
        else:
            with open(path, "wb") as f:
                f.write(data)
    if problems:
        sys.exit("vectors out of date (run tests/vectors/generate.py):\n  "
                 + "\n  ".join(problems))
    n_valid = sum(f.startswith("valid_") for f in CASES)
    print("%d vectors: %d valid, %d corrupt%s"
          % (len(CASES), n_valid, len(CASES) - n_valid,
             " (up to date)" if check_only else ""))


if __name__ == "__main__":
    main(sys.argv)

// Package store is a lifecycle_state.json store (requirements.md §1-§3) on
// github.com/google/renameio/v2, written the way that package's users write
// it: validate, json.Marshal, os.MkdirAll(dir, 0o700), then
// renameio.WriteFile(path, data, 0o600).
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

const (
	maxBytes = 1 << 20
	maxCount = 1<<53 - 1
)

var states = []string{"WAKE", "DROWSY", "SLEEP", "HIBERNATION"}

// Record is the JSON object as read, member by member, so that unknown
// members survive a load → save round trip.
type Record map[string]json.RawMessage

// InvalidRecord is a record that breaks requirements.md §1.
type InvalidRecord struct {
	Field   string
	Message string
}

func (e *InvalidRecord) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func invalid(field, message string) error { return &InvalidRecord{Field: field, Message: message} }

func isTimestamp(raw json.RawMessage) bool {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return false
	}
	_, offset := t.Zone()
	return offset == 0 && !strings.HasSuffix(s, "-00:00")
}

func isCount(raw json.RawMessage) bool {
	var n uint64
	return json.Unmarshal(raw, &n) == nil && n <= maxCount
}

func isNull(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }

func object(raw json.RawMessage) (Record, bool) {
	var obj Record
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// Validate checks a record against requirements.md §1.
func Validate(r Record) error {
	if r == nil {
		return invalid("", "the record must be an object")
	}
	var state string
	if json.Unmarshal(r["current_state"], &state) != nil || !contains(states, state) {
		return invalid("current_state", "must be one of "+strings.Join(states, ", "))
	}
	for _, key := range []string{"since_ts", "last_activity_ts"} {
		if !isTimestamp(r[key]) {
			return invalid(key, "must be an RFC 3339 UTC timestamp")
		}
	}
	if !isCount(r["wrapper_event_seq"]) {
		return invalid("wrapper_event_seq", "must be an integer in 0..2^53-1")
	}
	var shadow bool
	if json.Unmarshal(r["shadow_run"], &shadow) != nil {
		return invalid("shadow_run", "must be a boolean")
	}
	if raw := r["sleep_cycle_progress"]; !isNull(raw) {
		progress, ok := object(raw)
		if !ok {
			return invalid("sleep_cycle_progress", "must be an object or null")
		}
		for _, key := range []string{"last_completed_step", "attempt"} {
			if v, ok := progress[key]; ok && !isCount(v) {
				return invalid("sleep_cycle_progress."+key, "must be an integer in 0..2^53-1")
			}
		}
		if v, ok := progress["last_error"]; ok && !isNull(v) {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return invalid("sleep_cycle_progress.last_error", "must be a string or null")
			}
		}
		if v, ok := progress["started_at"]; ok && !isTimestamp(v) {
			return invalid("sleep_cycle_progress.started_at", "must be an RFC 3339 UTC timestamp")
		}
	}
	if raw := r["quarantine"]; !isNull(raw) {
		quarantine, ok := object(raw)
		if !ok {
			return invalid("quarantine", "must be an object or null")
		}
		for _, key := range []string{"until_ts", "since_ts"} {
			if !isTimestamp(quarantine[key]) {
				return invalid("quarantine."+key, "must be an RFC 3339 UTC timestamp")
			}
		}
		var reason string
		if json.Unmarshal(quarantine["reason"], &reason) != nil {
			return invalid("quarantine.reason", "must be a string")
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Default is the default record of requirements.md §1.
func Default() Record {
	now, _ := json.Marshal(time.Now().UTC().Format(time.RFC3339Nano))
	return Record{
		"current_state":        json.RawMessage(`"WAKE"`),
		"since_ts":             now,
		"last_activity_ts":     now,
		"wrapper_event_seq":    json.RawMessage(`0`),
		"sleep_cycle_progress": json.RawMessage(`null`),
		"quarantine":           json.RawMessage(`null`),
		"shadow_run":           json.RawMessage(`false`),
	}
}

// Outcome says what a load found.
type Outcome string

const (
	Valid      Outcome = "valid"
	Missing    Outcome = "missing"
	Corrupt    Outcome = "corrupt"
	Unreadable Outcome = "unreadable"
)

// Load never fails: the stored record when it is valid, else the default.
func Load(path string) (Record, Outcome, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Default(), Missing, err
	}
	if err != nil {
		return Default(), Unreadable, err
	}
	if len(data) > maxBytes {
		return Default(), Corrupt, errors.New("larger than 1 MiB")
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Default(), Corrupt, err
	}
	if err := Validate(r); err != nil {
		return Default(), Corrupt, err
	}
	for _, key := range []string{"sleep_cycle_progress", "quarantine"} {
		if _, ok := r[key]; !ok {
			r[key] = json.RawMessage(`null`)
		}
	}
	return r, Valid, nil
}

// Save validates r and writes it atomically.
func Save(path string, r Record) error {
	if err := Validate(r); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the record: %w", err)
	}
	if len(data) > maxBytes {
		return invalid("", "the record is larger than 1 MiB")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return renameio.WriteFile(path, append(data, '\n'), 0o600)
}

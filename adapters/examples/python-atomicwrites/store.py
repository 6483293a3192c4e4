"""A lifecycle_state.json store (requirements.md §1-§3) on `atomicwrites`,
written the way that package's users write it: validate, json.dumps,
os.makedirs(mode=0o700), then ``with atomic_write(path, overwrite=True)``.
"""

import json
import os
from datetime import datetime, timedelta, timezone

from atomicwrites import atomic_write

STATES = ("WAKE", "DROWSY", "SLEEP", "HIBERNATION")
MAX_BYTES = 1024 * 1024
MAX_COUNT = 2**53 - 1


class InvalidRecord(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


def is_timestamp(value):
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.utcoffset() == timedelta(0)


def is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def validate(record):
    if not isinstance(record, dict):
        raise InvalidRecord(None, "the record must be an object")
    if record.get("current_state") not in STATES:
        raise InvalidRecord("current_state", f"must be one of {', '.join(STATES)}")
    for key in ("since_ts", "last_activity_ts"):
        if not is_timestamp(record.get(key)):
            raise InvalidRecord(key, "must be an RFC 3339 UTC timestamp")
    if not is_count(record.get("wrapper_event_seq")):
        raise InvalidRecord("wrapper_event_seq", "must be an integer in 0..2^53-1")
    if not isinstance(record.get("shadow_run"), bool):
        raise InvalidRecord("shadow_run", "must be a boolean")

    progress = record.get("sleep_cycle_progress")
    if progress is not None:
        if not isinstance(progress, dict):
            raise InvalidRecord("sleep_cycle_progress", "must be an object or null")
        for key in ("last_completed_step", "attempt"):
            if key in progress and not is_count(progress[key]):
                raise InvalidRecord(f"sleep_cycle_progress.{key}", "must be an integer in 0..2^53-1")
        if progress.get("last_error") is not None and not isinstance(progress["last_error"], str):
            raise InvalidRecord("sleep_cycle_progress.last_error", "must be a string or null")
        if "started_at" in progress and not is_timestamp(progress["started_at"]):
            raise InvalidRecord("sleep_cycle_progress.started_at", "must be an RFC 3339 UTC timestamp")

    quarantine = record.get("quarantine")
    if quarantine is not None:
        if not isinstance(quarantine, dict):
            raise InvalidRecord("quarantine", "must be an object or null")
        for key in ("until_ts", "since_ts"):
            if not is_timestamp(quarantine.get(key)):
                raise InvalidRecord(f"quarantine.{key}", "must be an RFC 3339 UTC timestamp")
        if not isinstance(quarantine.get("reason"), str):
            raise InvalidRecord("quarantine.reason", "must be a string")


def default_record():
    now = datetime.now(timezone.utc).isoformat()
    return {
        "current_state": "WAKE",
        "since_ts": now,
        "last_activity_ts": now,
        "wrapper_event_seq": 0,
        "sleep_cycle_progress": None,
        "quarantine": None,
        "shadow_run": False,
    }


def load(path):
    """Never raises: (record, outcome, reason), outcome one of valid,
    missing, corrupt, unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError as exc:
        return default_record(), "missing", str(exc)
    except UnicodeDecodeError as exc:
        return default_record(), "corrupt", str(exc)
    except OSError as exc:
        return default_record(), "unreadable", str(exc)
    try:
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise ValueError("larger than 1 MiB")
        record = json.loads(text)
        validate(record)
    except (ValueError, RecursionError) as exc:
        return default_record(), "corrupt", str(exc)
    record.setdefault("sleep_cycle_progress", None)
    record.setdefault("quarantine", None)
    return record, "valid", ""


def save(path, record):
    validate(record)
    data = json.dumps(record)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise InvalidRecord(None, "the record is larger than 1 MiB")
    os.makedirs(os.path.dirname(os.path.abspath(path)), mode=0o700, exist_ok=True)
    with atomic_write(path, overwrite=True, encoding="utf-8") as f:
        f.write(data)

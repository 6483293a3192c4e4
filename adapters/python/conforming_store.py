"""A strict Python store for `lifecycle_state.json`, written from SPEC.md.

The example a Python maintainer can copy: the API of the original
`lifecycle_state.py` (`default_state`, `load_state`, `save_state`), held to the
contract. Check it with

    lifecycle check --adapter 'python3 adapters/python/lifecycle_adapter.py --module adapters/python/conforming_store.py'

What it does, by SPEC section:

- §1: a record is decoded strictly: UTF-8 without a BOM, exactly one JSON
  value, no NaN or Infinity, no duplicate member names at any depth (after
  unescaping), no unpaired surrogate escapes, at most 1 MiB; known members by
  their rules (integers as integer literals in 0..2^53-1, `true`/`false` are
  not integers; timestamps of §1.4 checked against the calendar).
- §2: `load_state` never raises, never blocks on a FIFO, reads at most
  1 MiB + 1 byte, and returns the default for anything that is not a valid
  record; `load_state_outcome` also says which case it was.
- §3: `save_state` refuses an invalid record naming the field, before it
  touches anything; then temp file in the same directory (O_EXCL, O_NOFOLLOW,
  mode 0600), write, fsync, close, rename over the target, fsync of the
  directory; missing directories are made 0700 and their parent fsynced; on
  a failure the temp file is removed and the old record stays.

Where requirements §7 leaves the choice open, it picks: a number in an
unknown member that overflows binary64 (`1e400`) or has more than 4,300
digits makes the file corrupt; nesting deeper than Python's recursion limit
makes it corrupt; lowercase `t`/`z` are corrupt; a leap second `23:59:60` and
year `0000` are valid. Unknown members are kept as JSON values (so `1.50` is
written back as `1.5`, which §7 allows).
"""

import json
import math
import os
import re
import stat
import secrets
from datetime import datetime, timezone

NAME = "conforming_store"
VERSION = "1"
HOMEPAGE = ""
TAKES_NOW = True
SIDECARS = []

MAX_BYTES = 1_048_576
MAX_INTEGER = 2**53 - 1
STATES = ("WAKE", "DROWSY", "SLEEP", "HIBERNATION")
TOP = ("current_state", "since_ts", "last_activity_ts", "wrapper_event_seq",
       "sleep_cycle_progress", "quarantine", "shadow_run")
PROGRESS = ("last_completed_step", "attempt", "last_error", "started_at")
QUARANTINE = ("until_ts", "since_ts", "reason")
TIMESTAMP = re.compile(
    r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|\+00:00)\Z"
)


class Invalid(ValueError):
    """A record that breaks SPEC §1; `field` is its dotted path."""

    def __init__(self, field, why):
        super().__init__(f"{field}: {why}")
        self.field = field


# ----------------------------------------------------------------- timestamps

def now_text():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_timestamp(value):
    if not isinstance(value, str):
        return False
    m = TIMESTAMP.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    if not 1 <= day <= days or hour > 23 or minute > 59:
        return False
    return second <= 59 or (second == 60 and hour == 23 and minute == 59)


# -------------------------------------------------------------------- records

def is_integer(value):
    return type(value) is int and 0 <= value <= MAX_INTEGER


def check_unknown_value(value, path):
    """No unpaired surrogate in any string, no non-finite number, at any depth."""
    pending = [value]
    while pending:
        v = pending.pop()
        if isinstance(v, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
                raise Invalid(path, "an unpaired surrogate")
        elif isinstance(v, float) and not math.isfinite(v):
            raise Invalid(path, "a number that is not finite")
        elif isinstance(v, dict):
            for k, item in v.items():
                pending.append(k)
                pending.append(item)
        elif isinstance(v, list):
            pending.extend(v)


def check_object(obj, known, prefix, required):
    for name in required:
        if name not in obj:
            raise Invalid(prefix + name, "missing")
    for name, value in obj.items():
        if name not in known:
            check_unknown_value(name, prefix + name)
            check_unknown_value(value, prefix + name)


def validate(record):
    """SPEC §1.2-§1.4 on a record as Python values; raises Invalid."""
    if not isinstance(record, dict):
        raise Invalid("(record)", "not an object")
    check_object(record, TOP, "", ("current_state", "since_ts", "last_activity_ts",
                                   "wrapper_event_seq", "shadow_run"))
    if record["current_state"] not in STATES or not isinstance(record["current_state"], str):
        raise Invalid("current_state", "not one of WAKE, DROWSY, SLEEP, HIBERNATION")
    for name in ("since_ts", "last_activity_ts"):
        if not is_timestamp(record[name]):
            raise Invalid(name, "not a timestamp of SPEC §1.4")
    if not is_integer(record["wrapper_event_seq"]):
        raise Invalid("wrapper_event_seq", "not an integer in 0..2^53-1")
    if type(record["shadow_run"]) is not bool:
        raise Invalid("shadow_run", "not true or false")
    progress = record.get("sleep_cycle_progress")
    if progress is not None:
        if not isinstance(progress, dict):
            raise Invalid("sleep_cycle_progress", "not an object or null")
        check_object(progress, PROGRESS, "sleep_cycle_progress.", ())
        for name in ("last_completed_step", "attempt"):
            if name in progress and not is_integer(progress[name]):
                raise Invalid("sleep_cycle_progress." + name, "not an integer in 0..2^53-1")
        if "last_error" in progress and not (progress["last_error"] is None or isinstance(progress["last_error"], str)):
            raise Invalid("sleep_cycle_progress.last_error", "not a string or null")
        if "last_error" in progress and isinstance(progress["last_error"], str):
            check_unknown_value(progress["last_error"], "sleep_cycle_progress.last_error")
        if "started_at" in progress and not is_timestamp(progress["started_at"]):
            raise Invalid("sleep_cycle_progress.started_at", "not a timestamp of SPEC §1.4")
    quarantine = record.get("quarantine")
    if quarantine is not None:
        if not isinstance(quarantine, dict):
            raise Invalid("quarantine", "not an object or null")
        check_object(quarantine, QUARANTINE, "quarantine.", QUARANTINE)
        for name in ("until_ts", "since_ts"):
            if not is_timestamp(quarantine[name]):
                raise Invalid("quarantine." + name, "not a timestamp of SPEC §1.4")
        if not isinstance(quarantine["reason"], str):
            raise Invalid("quarantine.reason", "not a string")
        check_unknown_value(quarantine["reason"], "quarantine.reason")


def ordered(obj, known):
    """Known members in SPEC §3.2 order, then the unknown ones as they came."""
    out = {name: obj[name] for name in known if name in obj}
    out.update((k, v) for k, v in obj.items() if k not in known)
    return out


def serialize(record):
    """SPEC §3.2: compact JSON, the seven known members first, one newline."""
    top = {name: record.get(name) for name in TOP}
    top.update((k, v) for k, v in record.items() if k not in TOP)
    if isinstance(top["sleep_cycle_progress"], dict):
        top["sleep_cycle_progress"] = ordered(top["sleep_cycle_progress"], PROGRESS)
    if isinstance(top["quarantine"], dict):
        top["quarantine"] = ordered(top["quarantine"], QUARANTINE)
    text = json.dumps(top, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text + "\n").encode("utf-8")


# ------------------------------------------------------------------- decoding

class Corrupt(Exception):
    pass


def no_duplicates(pairs):
    obj = {}
    for name, value in pairs:
        if name in obj:
            raise Corrupt(f"duplicate member name {name!r}")
        obj[name] = value
    return obj


def reject_constant(name):
    raise Corrupt(f"{name} is not JSON")


def finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise Corrupt(f"{text} overflows a binary64 number")
    return value


def decode(data):
    """SPEC §1.6: the record `data` holds, with absent nullable members as
    None; raises Corrupt."""
    if len(data) > MAX_BYTES:
        raise Corrupt("larger than 1 MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Corrupt(f"not UTF-8: {exc}")
    if text.startswith("\ufeff"):
        raise Corrupt("a byte order mark")
    try:
        record = json.loads(
            text,
            object_pairs_hook=no_duplicates,
            parse_constant=reject_constant,
            parse_float=finite_float,
        )
    except (ValueError, RecursionError) as exc:
        raise Corrupt(str(exc)[:200])
    try:
        validate(record)
    except Invalid as exc:
        raise Corrupt(str(exc))
    record.setdefault("sleep_cycle_progress", None)
    record.setdefault("quarantine", None)
    return ordered(record, TOP)


# ----------------------------------------------------------------- load, save

def default_state(now=None):
    now = now or now_text()
    return {
        "current_state": "WAKE",
        "since_ts": now,
        "last_activity_ts": now,
        "wrapper_event_seq": 0,
        "sleep_cycle_progress": None,
        "quarantine": None,
        "shadow_run": False,
    }


def read_bounded(path):
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(22, "not a regular file", str(path))
        chunks, left = [], MAX_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_state_outcome(path, now=None):
    """SPEC §2: (record, outcome), never raising."""
    try:
        data = read_bounded(path)
    except FileNotFoundError:
        return default_state(now), "missing"
    except OSError:
        return default_state(now), "unreadable"
    try:
        return decode(data), "valid"
    except Corrupt:
        return default_state(now), "corrupt"


def load_state(path, now=None):
    return load_state_outcome(path, now)[0]


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path):
    """Makes `path` and its missing ancestors 0700, each new one's entry
    made durable by an fsync of its parent (removed again when that fails)."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path) or "."
    ensure_dir(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    os.chmod(path, 0o700)  # what the umask took away
    try:
        fsync_dir(parent)
    except OSError:
        os.rmdir(path)
        raise


def save_state(record, path):
    """SPEC §3: validate, then write atomically and durably."""
    validate(record)
    data = serialize(record)
    if len(data) > MAX_BYTES:
        raise Invalid("(record)", "its serialized form is larger than 1 MiB")
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    ensure_dir(directory)
    temp = os.path.join(directory, ".lifecycle_state.%s.tmp" % secrets.token_hex(8))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # what the umask took away
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_dir(directory)

#!/usr/bin/env python3
"""Adapter of the lifecycle oracle (PROTOCOL.md, version 1) for any Python
module with the API of the original `lifecycle_state.py`:

    default_state() -> dict
    load_state(path: pathlib.Path) -> dict
    save_state(record: dict, path: pathlib.Path) -> None

and, when the module has them, the lifecycle machine and the sleep-cycle
bookkeeping (capabilities `machine` and `sleep`):

    dispatch(path, event, sleep_eligible, still_idle, shadow_run, now=None) -> dict
    begin(path, steps, now=None) -> dict
    step_done(path, step, now=None) -> dict
    step_failed(path, step, error, ttl_secs, now=None) -> dict
    cycle_done(path, now=None) -> dict
    reset_quarantine(path, now=None) -> dict

A module that reports what its load found has `load_state_outcome(path) ->
(record, outcome)`; one whose functions take `now` (a timestamp string) sets
`TAKES_NOW = True` (capability `clock`); `SIDECARS` lists the files it keeps
beside the record.

Usage: lifecycle_adapter.py --module PATH

Standard library only, Python 3.9 or later. An exception raised by the module
is always a reply, never the end of the adapter: ValueError and TypeError are
`invalid_record` (naming the field when the message does), OSError is `io`
with its errno's name, anything else is `errored` with its traceback.
"""

import errno as errno_names
import importlib.util
import json
import pathlib
import re
import sys

VERSION = 1

# A field path in an error message: `lifecycle_state.quarantine.until_ts`,
# `sleep_cycle_progress.attempt`, `wrapper_event_seq`.
KNOWN_FIELDS = (
    "current_state", "since_ts", "last_activity_ts", "wrapper_event_seq",
    "sleep_cycle_progress", "quarantine", "shadow_run",
)
FIELD = re.compile(
    r"(?:lifecycle_state\.)?((?:%s)(?:\.[a-z_]+)?)" % "|".join(KNOWN_FIELDS)
)

MACHINE = ("dispatch",)
SLEEP = ("begin", "step_done", "step_failed", "cycle_done", "reset_quarantine")


def load_module(path):
    spec = importlib.util.spec_from_file_location("adapted_store", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"lifecycle_adapter: cannot load a module from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def capabilities(module):
    caps = ["store"]
    if all(hasattr(module, f) for f in MACHINE):
        caps.append("machine")
    if all(hasattr(module, f) for f in SLEEP):
        caps.append("sleep")
    if getattr(module, "TAKES_NOW", False):
        caps.append("clock")
    return caps


def send(message):
    # No NaN or Infinity: they are not JSON, and the oracle reads JSON.
    sys.stdout.write(json.dumps(message, allow_nan=False) + "\n")
    sys.stdout.flush()


def error_reply(exc):
    """The protocol's reply for an exception the module raised."""
    if isinstance(exc, OSError):
        name = errno_names.errorcode.get(exc.errno or 0, "EIO" if exc.errno is None else str(exc.errno))
        return {"error": {"class": "io", "errno": name, "message": str(exc)}}
    if isinstance(exc, (ValueError, TypeError)):
        match = FIELD.search(str(exc))
        field = match.group(1) if match else None
        return {"error": {"class": "invalid_record", "field": field, "message": str(exc)}}
    # Imported here, not at the top: it is a sixth of the adapter's start,
    # which every kill and faults replay pays, and only a store that raises
    # needs it.
    import traceback

    # A RecursionError's traceback is thousands of frames: keep the end.
    lines = traceback.format_exc().splitlines()
    if len(lines) > 40:
        lines = lines[:10] + [f"... {len(lines) - 40} lines ..."] + lines[-30:]
    return {
        "errored": {
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "traceback": "\n".join(lines),
        }
    }


def handle(module, request):
    cmd = request.get("cmd")
    path = pathlib.Path(request["path"]) if "path" in request else None
    takes_now = getattr(module, "TAKES_NOW", False)
    now = {"now": request["now"]} if takes_now and "now" in request else {}
    if cmd == "default":
        return {"result": {"record": module.default_state(**now)}}
    if cmd == "load":
        if hasattr(module, "load_state_outcome"):
            record, outcome = module.load_state_outcome(path, **now)
            return {"result": {"record": record, "outcome": outcome}}
        return {"result": {"record": module.load_state(path, **now)}}
    if cmd == "save":
        module.save_state(request["record"], path)
        return {"result": {}}
    if cmd in MACHINE + SLEEP and not hasattr(module, cmd):
        return {"skipped": {"message": f"the module has no {cmd}()"}}
    if cmd == "dispatch":
        guards = request.get("guards", {})
        result = module.dispatch(
            path,
            request["event"],
            guards.get("sleep_eligible", False),
            guards.get("still_idle", False),
            request.get("shadow_run", False),
            **now,
        )
        return {"result": result}
    if cmd == "begin":
        return {"result": module.begin(path, request["steps"], **now)}
    if cmd == "step_done":
        return {"result": module.step_done(path, request["step"], **now)}
    if cmd == "step_failed":
        return {
            "result": module.step_failed(
                path, request["step"], request["error"], request["ttl_secs"], **now
            )
        }
    if cmd == "cycle_done":
        return {"result": module.cycle_done(path, **now)}
    if cmd == "reset_quarantine":
        return {"result": module.reset_quarantine(path, **now)}
    return {"skipped": {"message": f"unknown command {cmd!r}"}}


USAGE = "usage: lifecycle_adapter.py --module PATH"


def module_path(argv):
    """The path `--module PATH` (or `--module=PATH`) names. Read by hand:
    argparse alone takes a quarter of the adapter's start, which the
    traced suites pay at every replay."""
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        raise SystemExit(0)
    if len(argv) == 1 and argv[0].startswith("--module="):
        path = argv[0][len("--module="):]
    elif len(argv) == 2 and argv[0] == "--module":
        path = argv[1]
    else:
        path = ""
    if not path:
        print(f"{USAGE}\nlifecycle_adapter.py: error: give the module to check, and only that: --module PATH", file=sys.stderr)
        raise SystemExit(2)
    return path


def main():
    path = module_path(sys.argv[1:])
    module = load_module(path)
    implementation = {
        "name": getattr(module, "NAME", pathlib.Path(path).stem),
        "language": "python",
        "version": getattr(module, "VERSION", ""),
        "homepage": getattr(module, "HOMEPAGE", ""),
    }
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as exc:
            # Still one reply per request, or the oracle waits for it.
            seq = re.search(r'"seq":\s*([0-9]+)', line)
            send({
                "seq": int(seq.group(1)) if seq else 0,
                "errored": {"type": type(exc).__name__, "message": f"the adapter could not read the request: {exc}", "traceback": ""},
            })
            continue
        cmd = request.get("cmd")
        if cmd == "start":
            if request.get("version") != VERSION:
                send({"cmd": "start", "error": f"this adapter speaks protocol version {VERSION} only"})
                return 1
            send({
                "cmd": "start",
                "version": VERSION,
                "implementation": implementation,
                "capabilities": capabilities(module),
                "sidecars": list(getattr(module, "SIDECARS", [])),
            })
            continue
        if cmd == "stop":
            return 0
        try:
            reply = handle(module, request)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # an exception of the module is a reply
            reply = error_reply(exc)
        reply["seq"] = request.get("seq")
        try:
            send(reply)
        except (TypeError, ValueError) as exc:
            # The module returned something JSON cannot hold (NaN, a set).
            send({
                "seq": request.get("seq"),
                "errored": {
                    "type": "NotJSON",
                    "message": f"the implementation returned what JSON cannot carry ({exc}): {reply.get('result')!r:.500}",
                    "traceback": "",
                },
            })
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""lifecycle check adapter (PROTOCOL.md v1) for store.py: one JSON request
per line on stdin, one reply per line on stdout."""

import errno
import json
import os
import re
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import atomicwrites  # noqa: E402
import store  # noqa: E402


def send(message):
    # allow_nan=False: NaN and Infinity are not JSON, and the oracle reads JSON.
    sys.stdout.write(json.dumps(message, allow_nan=False) + "\n")
    sys.stdout.flush()


def handle(request):
    cmd = request["cmd"]
    if cmd == "default":
        return {"result": {"record": store.default_record()}}
    if cmd == "load":
        record, outcome, reason = store.load(request["path"])
        return {"result": {"record": record, "outcome": outcome, "reason": reason}}
    if cmd == "save":
        store.save(request["path"], request["record"])
        return {"result": {}}
    return {"skipped": {"message": f"{cmd} is not supported: store capability only"}}


def error_reply(exc):
    if isinstance(exc, store.InvalidRecord):
        return {"error": {"class": "invalid_record", "field": exc.field, "message": str(exc)}}
    if isinstance(exc, OSError) and exc.errno in errno.errorcode:
        return {"error": {"class": "io", "errno": errno.errorcode[exc.errno], "message": str(exc)}}
    return {"errored": {"type": type(exc).__name__, "message": str(exc),
                        "traceback": traceback.format_exc()[-4000:]}}


def main():
    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as exc:
            seq = int(m.group(1)) if (m := re.search(r'"seq":\s*(\d+)', line)) else 0
            if '"cmd":"save"' in line:
                # PROTOCOL.md: a record json cannot read (a number of more
                # than 4,300 digits) is one the store would refuse.
                send({"seq": seq, "error": {"class": "invalid_record", "field": None,
                                            "message": f"json cannot read the record: {exc}"}})
            else:
                send({"seq": seq, "errored": {"type": type(exc).__name__,
                                              "message": f"unreadable request: {exc}", "traceback": ""}})
            continue
        if request.get("cmd") == "start":
            if request.get("version") != 1:
                send({"cmd": "start", "error": "this adapter speaks protocol version 1 only"})
                return 1
            send({"cmd": "start", "version": 1,
                  "implementation": {"name": "atomicwrites-store", "language": "python",
                                     "version": atomicwrites.__version__,
                                     "homepage": "https://github.com/untitaker/python-atomicwrites"},
                  "capabilities": ["store"], "sidecars": []})
            continue
        if request.get("cmd") == "stop":
            return 0
        try:
            reply = handle(request)
        except Exception as exc:  # an exception is a reply, never the end
            reply = error_reply(exc)
        reply["seq"] = request.get("seq")
        try:
            send(reply)
        except ValueError as exc:  # the store returned what JSON cannot carry
            send({"seq": request.get("seq"),
                  "errored": {"type": "NotJSON", "message": f"{exc}: {reply.get('result')!r:.500}",
                              "traceback": ""}})
    return 0


if __name__ == "__main__":
    sys.exit(main())

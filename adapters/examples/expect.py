#!/usr/bin/env python3
"""Compares what `lifecycle check` found in an example store with what is
expected of it, committed as data in `expected/NAME.json`.

    expect.py REPORT.json EXPECTED.json           compare; exit 1 on any difference
    expect.py --bless REPORT.json EXPECTED.json   rewrite EXPECTED from REPORT

An expected file lists every finding (violation or divergence) of the
example: its case id, verdict, SPEC section, and one line saying why (a real
defect of the library or of its natural use, or a choice requirements §7
leaves open); and the groups the report made of them, one line each
(verdict, section, rule and how it broke, number of cases), as a person
reads them in the terminal or the Markdown report. The comparison fails
when a finding appears, disappears or changes its verdict or section; when
the groups differ; when a crash-suite case (kill, faults, power,
permissions) was skipped, a blind spot of the oracle; when the run did not
reach its end; or when an entry has no reason written. `--bless` keeps the
reasons of the entries that stay and marks new ones "TODO: say why", which
the comparison refuses until a person writes it.
"""

import json
import sys

CRASH_SUITES = ("kill", "faults", "power", "permissions")
TODO = "TODO: say why"


def findings(report):
    return {
        r["case"]: (r["verdict"], r["spec"])
        for r in report.get("results", [])
        if r.get("verdict") in ("violation", "divergence")
    }


def groups(report):
    return [
        "%s %s (%d cases): %s%s"
        % (
            g["verdict"],
            g["spec"],
            g["count"],
            g["rule"],
            ": " + g["how"] if g["how"] else "",
        )
        for g in report.get("groups", [])
    ]


def blind_spots(report):
    return [
        "%s: %s" % (r["case"], r["message"])
        for r in report.get("results", [])
        if r.get("suite") in CRASH_SUITES and r.get("verdict") == "skipped"
    ]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def compare(report, expected):
    problems = []
    if report.get("harness_broken"):
        problems.append("the run did not reach its end: %s" % report["harness_broken"])
    if report.get("adapter_broken"):
        problems.append("the adapter is broken: %s" % report["adapter_broken"])
    for spot in blind_spots(report):
        problems.append("a crash case was not judged (a blind spot): %s" % spot)
    now, then = groups(report), expected.get("groups", [])
    for line in now:
        if line not in then:
            problems.append("new group: %s" % line)
    for line in then:
        if line not in now:
            problems.append("no longer a group: %s" % line)
    found = findings(report)
    wanted = {e["case"]: e for e in expected.get("findings", [])}
    for case in sorted(set(found) | set(wanted)):
        if case not in wanted:
            verdict, spec = found[case]
            problems.append("new finding: %s (%s %s)" % (case, verdict, spec))
        elif case not in found:
            problems.append("no longer found: %s (%s)" % (case, wanted[case]["why"]))
        elif found[case] != (wanted[case]["verdict"], wanted[case]["spec"]):
            problems.append(
                "changed: %s is %s %s, expected %s %s"
                % (case, *found[case], wanted[case]["verdict"], wanted[case]["spec"])
            )
        elif not wanted[case].get("why") or wanted[case]["why"] == TODO:
            problems.append("no reason written for %s" % case)
    return problems


def bless(report, expected):
    reasons = {e["case"]: e.get("why", TODO) for e in expected.get("findings", [])}
    entries = [
        {"case": case, "verdict": verdict, "spec": spec, "why": reasons.get(case, TODO)}
        for case, (verdict, spec) in sorted(findings(report).items())
    ]
    return {"groups": groups(report), "findings": entries}


def main(argv):
    blessing = argv[:1] == ["--bless"]
    args = argv[1:] if blessing else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    report = load(args[0])
    try:
        expected = load(args[1])
    except FileNotFoundError:
        expected = {"findings": []}
    if blessing:
        with open(args[1], "w", encoding="utf-8") as f:
            json.dump(bless(report, expected), f, indent=1, ensure_ascii=False)
            f.write("\n")
        return 0
    problems = compare(report, expected)
    for problem in problems:
        print("expect: %s" % problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

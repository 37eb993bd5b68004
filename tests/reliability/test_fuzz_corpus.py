"""The seeded fuzz corpus (tests/reliability/fuzz.py): every mutant of the real samples ends as expected.

One child process builds the corpus and decodes every case in-process, writing one JSON line
per case as soon as it is decided: a process death (an abort in a C library) shows as a
missing line, named by the case after the last one written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

from tests.reliability.launcher import ROOT


def test_every_fuzzed_input_is_refused_with_its_reason_or_accepted_unchanged(tmp_path, figures):
    out = tmp_path / "outcomes.jsonl"
    proc = subprocess.run([sys.executable, "-m", "tests.reliability.fuzz", str(tmp_path / "corpus"), str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else [{}]
    total, rows = lines[0].get("cases", 0), lines[1:]
    assert proc.returncode == 0 and len(rows) == total, \
        f"the corpus process died (exit {proc.returncode}) after {len(rows)} of {total} cases: {proc.stderr[-1500:]}"
    assert total >= 200
    wrong = [f"{r['path']}: expected {r['expected']}, got {r['outcome']}: {r['message']}" for r in rows if not r["ok"]]
    assert not wrong, "\n".join(wrong)
    by = Counter((r["source"], r["outcome"]) for r in rows)
    assert all(by[(s, "refused")] >= 10 and by[(s, "accepted")] >= 2 for s in ("gfs", "goes", "ibtracs", "isgi", "omni")), by
    figures["fuzz_corpus"] = {"cases": total, **{f"{s}_{o}": n for (s, o), n in sorted(by.items())}}

"""`manage.py bench_sets` in its own process, as a person runs it: a small run whose
assertions are on correctness (every quantity right, calls, no 429), never on time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_push_with_and_without_sets_sends_the_same_right_quantities():
    env = {**os.environ, "DJANGO_DEBUG": "0"}  # the test run's own keys (test_settings)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench_sets",
            "--skus",
            "900",
            "--sets",
            "100",
            "--rounds",
            "1",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    rounds = re.findall(
        r"(with|without) sets: wall .*, (\d+) calls, (\d+) answered 429, (\d+) wrong", out
    )
    assert sorted(r[0] for r in rounds) == ["with", "without"]
    # ceil(900 / 400) = 3 calls each, nothing refused, every quantity as the sets allow.
    assert all(r[1:] == ("3", "0", "0") for r in rounds), out
    assert "with / without sets, per round: min/median/max" in out


def test_impossible_shapes_are_refused():
    env = {**os.environ, "DJANGO_DEBUG": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "bench_sets", "--skus", "100", "--sets", "50"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "enough plain SKUs" in result.stderr

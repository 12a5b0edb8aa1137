"""One JSON shape for every benchmark: {name, params, metrics, baseline, ratio, git, date}.

The machine is shared and noisy, so every benchmark measures a baseline in the same run and reports the
ratio; an absolute time alone means little.
"""

from __future__ import annotations

import json
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORT_DIR = Path(__file__).resolve().parent.parent / "reports" / "bench"


def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_report(name: str, params: dict[str, Any], metrics: dict[str, Any], baseline: dict[str, Any],
                 ratio: float | dict[str, float] | None) -> Path:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    report = {
        "name": name,
        "params": params,
        "metrics": metrics,
        "baseline": baseline,
        "ratio": ratio,
        "git": git_revision(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = REPORT_DIR / f"{name}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


@contextmanager
def peak_memory_mb():
    """Peak Python-heap allocation inside the block, in MB (numpy buffers included)."""
    box = {"mb": 0.0}
    tracemalloc.start()
    try:
        yield box
    finally:
        box["mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()

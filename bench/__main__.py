"""`make bench`: run every benchmark, print figures, write bench/results/latest.json.

Each benchmark module exposes `run(results)` and appends `{"name", "value", "unit", "baseline"}`
rows; `baseline` is the naive figure measured in the same run (None where there is none).

`python -m bench NAME...` runs only the modules whose name contains one of NAME and replaces only
their rows in latest.json: a partial run never drops the other modules' figures.
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

MODULES = (
    "bench.bench_config",
    "bench.bench_pipeline",
    "bench.bench_poll",
    "bench.bench_classify",
    "bench.bench_delivery",
    "bench.bench_stories",
    "bench.bench_corpus",
    "bench.bench_pollloop",
    "bench.bench_ingest",
)
RESULTS = Path(__file__).parent / "results" / "latest.json"


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    results: list[dict[str, object]] = []
    started = time.perf_counter()
    previous = _previous() if argv else []  # a full run replaces every row
    for name in wanted:
        print(f"\n== {name} ==", flush=True)
        rows: list[dict[str, object]] = []
        importlib.import_module(name).run(rows)
        results.extend({**row, "module": name} for row in rows)
        _write(previous, wanted, results)  # after each module: a later crash keeps these
    print(
        f"\n{len(results)} figures in {time.perf_counter() - started:.0f}s on "
        f"{platform.python_implementation()} {platform.python_version()}; written to {RESULTS}"
    )
    print(f"{'name':<58} {'value':>12} {'baseline':>12} {'ratio':>7}")
    for row in results:
        value, base = row["value"], row["baseline"]
        shown_base = base if isinstance(base, (int, float)) else float("nan")
        ratio = (
            f"{value / base:.1f}x"
            if isinstance(value, (int, float)) and isinstance(base, (int, float)) and base
            else ""
        )
        print(f"{row['name']:<58} {value:>12,.1f} {shown_base:>12,.1f} {ratio:>7}  {row['unit']}")
    return 0


def _write(
    previous: list[dict[str, object]], wanted: list[str], results: list[dict[str, object]]
) -> None:
    """latest.json: these results, and the previous rows of modules not run this time."""
    names = {row["name"] for row in results}
    kept = [r for r in previous if r.get("module") not in wanted and r.get("name") not in names]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(kept + results, indent=2, ensure_ascii=False) + "\n")


def _previous() -> list[dict[str, object]]:
    """The rows of the last run, for a partial run to keep (none when absent or unreadable)."""
    try:
        rows = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return []
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

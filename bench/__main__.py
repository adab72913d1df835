"""`make bench`: run every benchmark, print figures, write bench/results/latest.json.

Each benchmark module exposes `run(results)` and appends `{"name", "value", "unit", "baseline"}`
rows; `baseline` is the naive figure measured in the same run (None where there is none).
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

MODULES = (
    "bench.bench_pipeline",
    "bench.bench_poll",
    "bench.bench_classify",
    "bench.bench_delivery",
    "bench.bench_stories",
    "bench.bench_corpus",
)
RESULTS = Path(__file__).parent / "results" / "latest.json"


def main(argv: list[str]) -> int:
    wanted = [m for m in MODULES if not argv or any(a in m for a in argv)]
    results: list[dict[str, object]] = []
    started = time.perf_counter()
    for name in wanted:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(name).run(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Config loading at scale: `postwatch check` on 1,000 / 10,000 / 100,000 sources and 2,000 topics.

Synthetic, seeded configs written to a temp dir: rss sources with distinct local feed URLs
(http://127.0.0.1:PORT/feed/N, as bench.feedfarm serves them), each with its own `every` and
some with `max_age`, `name` or `enabled: false`; 2,000 topics from templates that use the query
language, a tenth with `source:` filters (exact ids and id prefixes) that the loader checks
against the configured sources; and channels choosing topics by id. The private-address guard
is off (network.allow_private_addresses: true), as it must be for a local farm; one extra row
times the guard-on case, where `check` warns once per loopback source.

`check` runs from outside, as a subprocess (.venv/bin/postwatch), so the figure includes start-up
and importing. Its "linear" baseline is the 10,000-source time ×10: a loader whose cost grows
linearly shows a ratio near 1 (a bit below, as start-up is paid once). Memory per source is
measured in-process: tracemalloc's peak while bot.config.load.load_config reads the 100,000-source
file, and the size of what the loaded Config keeps (retained after the document is freed),
each divided by the source count.

Run: python -m bench.bench_config   (or python bench/bench_config.py)
"""

from __future__ import annotations

import gc
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

SEED = 20250412
SIZES = (1_000, 10_000, 100_000)
TOPICS = 2_000
CHANNELS = 20
PORT = 8765
POSTWATCH = Path(sys.executable).with_name("postwatch")
_WORDS = (
    "ceasefire truce talks ukraine kyiv russia energy grid drone strike sanctions summit "
    "minister parliament election storm market peace missile front crimea donbas gaza "
    "перемирие україна енергетика переговори удари"
).split()


def write_config(path: Path, sources: int, topics: int = TOPICS, *, guard: bool = False) -> None:
    """A valid config of `sources` rss sources and `topics` topics at `path`."""
    rng = random.Random(SEED + sources)
    lines = [
        "database_url: sqlite:///data/postwatch.db",
        "network:",
        f"  allow_private_addresses: {'false' if guard else 'true'}",
        "defaults:",
        "  every: 5m",
        "sources:",
    ]
    for n in range(sources):
        lines += [
            f"  - id: feed-{n}",
            "    kind: rss",
            f"    url: http://127.0.0.1:{PORT}/feed/{n}",
            f"    every: {rng.choice(('30s', '1m', '2m', '5m', '10m', '1h', '90s', '1h30m'))}",
        ]
        if n % 7 == 0:
            lines.append("    max_age: 12h")
        if n % 11 == 0:
            lines.append(f"    name: Feed number {n}")
        if n % 13 == 0:
            lines.append("    enabled: false")
    lines.append("topics:")
    for t in range(topics):
        lines += [
            f"  - id: topic-{t}",
            f"    name: Topic {t}",
            f"    query: '{_query(rng, t, sources)}'",
        ]
    lines.append("channels:")
    per_channel = max(1, topics // CHANNELS)
    for c in range(CHANNELS):
        chosen = ", ".join(f"topic-{t}" for t in range(c * per_channel, (c + 1) * per_channel))
        lines += [
            f"  - id: channel-{c}",
            f'    chat_id: "-100{1000000000 + c}"',
            f"    topics: [{chosen}]",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _query(rng: random.Random, t: int, sources: int) -> str:
    def w() -> str:
        return rng.choice(_WORDS) + (str(rng.randrange(100)) if rng.random() < 0.5 else "")

    if t % 20 == 0:
        return f"{w()} source:feed-{rng.randrange(sources)}"
    if t % 20 == 10:
        return f"({w()} OR {w()}) source:feed-{rng.randrange(1, 10)}*"
    templates = (
        lambda: f"{w()} OR {w()} OR {w()}",
        lambda: f'({w()} OR "{w()} {w()}" OR {w()[:4]}*) AND ({w()} OR {w()})',
        lambda: f"{w()} -{w()} kind:rss",
        lambda: f'"{w()} {w()}"~3 OR {w()} NEAR/5 {w()}',
        lambda: f"({w()} OR {w()}) lang:uk",
    )
    return rng.choice(templates)()


def time_check(path: Path) -> tuple[float, float, str]:
    """Seconds `postwatch check --config path` takes as a subprocess (wall clock, and CPU time
    of the child, steadier on a busy machine), and its last stdout line."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [str(POSTWATCH), "check", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "POSTWATCH_CONFIG": ""},
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"check failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed, _children_cpu() - cpu_before, (done.stdout.strip().splitlines() or [""])[-1]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def memory_per_source(path: Path, sources: int) -> tuple[float, float]:
    """(peak bytes while loading, bytes the Config retains), each per source, via tracemalloc."""
    from bot.config.load import load_config

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        config = load_config(path, {})
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(config.sources) == sources
    return (peak - before) / sources, (retained - before) / sources


def run(results: list[dict[str, object]]) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-config-") as tmp:
        directory = Path(tmp)
        seconds: dict[int, float] = {}
        print(
            f"{'sources':>8} {'topics':>6} {'file':>8} {'check':>8} {'cpu':>8} {'sources/s':>10}"
            "  output"
        )
        for size in SIZES:
            path = directory / f"sources-{size}.yaml"
            write_config(path, size)
            seconds[size], cpu, said = time_check(path)
            megabytes = path.stat().st_size / 1e6
            print(
                f"{size:>8,} {TOPICS:>6,} {megabytes:>6.1f}MB {seconds[size]:>7.2f}s {cpu:>7.2f}s "
                f"{size / seconds[size]:>10,.0f}  {said}"
            )
            results.append(
                {
                    "name": f"config check @ {size:,} sources, {TOPICS:,} topics",
                    "value": round(size / seconds[size]),
                    "unit": "sources/s",
                    "baseline": None,
                }
            )
        largest, tenth = SIZES[-1], SIZES[-2]
        linear = seconds[tenth] * largest / tenth
        print(f"{largest:,} sources: {seconds[largest]:.2f}s; linear from {tenth:,}: {linear:.2f}s")
        results.append(
            {
                "name": f"config check @ {largest:,} sources vs {tenth:,} x{largest // tenth}",
                "value": round(seconds[largest], 2),
                "unit": "s",
                "baseline": round(linear, 2),
            }
        )

        guarded = directory / "guarded.yaml"
        write_config(guarded, largest, guard=True)
        started = time.perf_counter()
        done = subprocess.run(
            [str(POSTWATCH), "check", "--config", str(guarded)], capture_output=True, check=False
        )
        guard_s = time.perf_counter() - started
        warnings = done.stderr.count(b"warning:")
        print(f"{largest:,} sources, guard on: {guard_s:.2f}s, {warnings:,} warnings")
        results.append(
            {
                "name": f"config check @ {largest:,} sources, guard on (warnings)",
                "value": round(guard_s, 2),
                "unit": "s",
                "baseline": None,
            }
        )

        peak, retained = memory_per_source(directory / f"sources-{largest}.yaml", largest)
        print(
            f"memory per source ({largest:,} loaded in-process, tracemalloc): "
            f"{peak:,.0f} B peak while loading, {retained:,.0f} B kept by the Config"
        )
        results.append(
            {
                "name": f"config load @ {largest:,} sources: memory kept per source",
                "value": round(retained),
                "unit": "bytes",
                "baseline": None,
            }
        )
        results.append(
            {
                "name": f"config load @ {largest:,} sources: peak memory per source",
                "value": round(peak),
                "unit": "bytes",
                "baseline": None,
            }
        )


if __name__ == "__main__":
    run([])

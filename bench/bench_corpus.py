"""Black box: feedparser's own test collection served as `rss` sources, one run, one export.

The collection (about 2,200 real-world and deliberately odd feeds) ships in feedparser's sdist
on PyPI; it is downloaded into bench/.cache/ and never copied into the repository or tests/.
Every file is served over local HTTP with the headers its leading comment names (as
feedparser's runtests.py does), one config lists one `rss` source per file, and the real
`postwatch run --once` and `postwatch export --format jsonl` run as subprocesses.

Figure: the share of "expected entry texts" stored. Each `Expect:` line asserting that an
entry's title / summary / description / content equals a non-empty string gives one expected
text, reduced to text here independently of bot/: read as HTML (comments and tags stripped,
entities decoded) and read as plain text (the value as it stands: a text/plain field may hold
"<"), whitespace ignored in both. It is found when either reading appears in a stored title or
text of that source. Baseline, same run: feedparser itself (defaults, sanitising on) over the
same bytes, its entries' titles, summaries and contents read the same way.
"""

from __future__ import annotations

import ast
import html
import json
import multiprocessing
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import feedparser

VERSION = "6.0.11"
CACHE = Path(__file__).parent / ".cache"
TESTS = CACHE / f"feedparser-{VERSION}" / "tests"
TARGET = 0.95
_HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
_EXPECT = re.compile(rb"Description:\s*.*?\s*Expect:\s*(.*?)\s*-->", re.DOTALL)
_TEXT_KEYS = frozenset({"title", "summary", "description"})
_DETAIL_KEYS = frozenset({"title_detail", "summary_detail"})
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_WHITESPACE = re.compile(r"\s+")
_FAILED = re.compile(r"source (c\d+) failed \(\d+ in a row\): (.*)")
_RUNTESTS_ORIGIN = re.compile(r"http://(?:localhost|127\.0\.0\.1):8097")


@dataclass(frozen=True, slots=True)
class Case:
    source_id: str
    path: str  # relative to the collection's tests/ directory
    headers: dict[str, str]
    expected: tuple[tuple[str, ...], ...]  # per expected entry text, its readings


def collection() -> Path:
    """feedparser's tests/ directory, downloaded from PyPI once into bench/.cache/."""
    if TESTS.is_dir():
        return TESTS
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")  # nothing downloaded here goes into git
    sdist = CACHE / f"feedparser-{VERSION}.tar.gz"
    if not sdist.exists():
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        subprocess.run([*pip, f"feedparser=={VERSION}", "-d", str(CACHE)], check=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(CACHE, filter="data")
    return TESTS


def as_html_text(value: str) -> str:
    """The text of a value read as HTML, whitespace removed."""
    text = html.unescape(_TAG.sub("", _COMMENT.sub("", value)))
    return _WHITESPACE.sub("", text)


def readings(value: str) -> tuple[str, ...]:
    """An expected value read as HTML and as plain text; empty when neither has text."""
    found = (as_html_text(value), _WHITESPACE.sub("", value))
    return tuple(dict.fromkeys(r for r in found if r))


_BOMS = (  # XML 1.0 Appendix F, for the few files not in an ASCII-compatible encoding
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)


def headers_and_text(data: bytes) -> tuple[dict[str, str], bytes]:
    """A file's `Header:` lines and its text as UTF-8, for reading its leading comment."""
    codec = next((codec for bom, codec in _BOMS if data.startswith(bom)), "utf-8")
    text = data.decode(codec, "replace").encode("utf-8", "replace")
    return {k.decode().strip(): v.decode().strip() for k, v in _HEADER.findall(text)}, text


def _string(node: ast.expr) -> str | None:
    """A string literal, or a `+` of them, as the Expect lines write long values."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left), _string(node.right)
        return None if left is None or right is None else left + right
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _path_of(node: ast.expr) -> list[object] | None:
    """`entries[0]['content'][0]['value']` as ['entries', 0, 'content', 0, 'value']."""
    keys: list[object] = []
    while isinstance(node, ast.Subscript):
        try:
            keys.append(ast.literal_eval(node.slice))
        except ValueError:
            return None
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(keys)]


def _is_entry_text(path: list[object]) -> bool:
    """entries[i] then title / summary / description, *_detail.value or content[j].value."""
    if len(path) < 3 or path[0] != "entries":
        return False
    rest = path[2:]
    return (
        (len(rest) == 1 and rest[0] in _TEXT_KEYS)
        or (len(rest) == 2 and rest[0] in _DETAIL_KEYS and rest[1] == "value")
        or (len(rest) == 3 and rest[0] == "content" and rest[2] == "value")
    )


def expected_texts(expect: str) -> list[tuple[str, ...]]:
    try:
        tree = ast.parse(expect, mode="eval")
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Compare) and [type(op) for op in node.ops] == [ast.Eq]):
            continue
        path, value = _path_of(node.left), _string(node.comparators[0])
        if path and value and _is_entry_text(path) and as_html_text(value):
            found.append(readings(value))
    return found


def load_cases(tests: Path) -> list[Case]:
    cases = []
    for n, file in enumerate(sorted(tests.rglob("*.xml"))):
        headers, text = headers_and_text(file.read_bytes())
        expect = _EXPECT.search(text)
        expects = expected_texts(expect[1].decode("utf-8", "replace")) if expect else []
        rel = file.relative_to(tests).as_posix()
        cases.append(Case(f"c{n:04d}", rel, headers, tuple(expects)))
    return cases


def _serve(pipe: multiprocessing.connection.Connection, tests: str) -> None:
    import asyncio

    from aiohttp import web

    root = Path(tests)
    origin: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        file = root / request.match_info["path"]
        if not file.is_file() or root not in file.resolve().parents:
            return web.Response(status=404)
        body = file.read_bytes()
        headers = headers_and_text(body)[0]
        status = int(headers.pop("Status", "200"))
        if "Location" in headers:  # runtests.py's fixed port is ours here
            headers["Location"] = _RUNTESTS_ORIGIN.sub(origin[0], headers["Location"])
        headers.setdefault("Content-type", "application/xml")
        if request.headers.get("If-None-Match", "-") == headers.get("ETag"):
            return web.Response(status=304)
        return web.Response(status=status, body=body, headers=headers)

    async def not_modified(request: web.Request) -> web.Response:
        return web.Response(status=304)  # runtests.py's fixed answer to this path

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/-/return-304.xml", not_modified)
        app.router.add_get("/tests/{path:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, backlog=1024).start()
        origin.append(f"http://127.0.0.1:{sock.getsockname()[1]}")
        pipe.send(origin[0] + "/tests")
        await asyncio.Event().wait()

    asyncio.run(main())


def _config(cases: list[Case], base: str, database: Path) -> str:
    head = f"database_url: sqlite:///{database}\nnetwork:\n  allow_private_addresses: true\n"
    head += "  concurrency: 50\n  timeout: 30s\nsources:\n"
    return head + "".join(
        f"  - id: {case.source_id}\n    kind: rss\n    url: {base}/{case.path}\n" for case in cases
    )


def _postwatch(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot.cli", "--config", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)


def _stored_texts(export: str) -> dict[str, str]:
    texts: dict[str, list[str]] = defaultdict(list)
    for line in export.splitlines():
        row = json.loads(line)
        texts[row["source"]].append(f"{row['title'] or ''}\n{row['text']}")
    return {source: _WHITESPACE.sub("", "\n".join(t)) for source, t in texts.items()}


def _feedparser_texts(tests: Path, cases: list[Case]) -> dict[str, str]:
    texts = {}
    for case in cases:
        if not case.expected:
            continue
        parsed = feedparser.parse(
            (tests / case.path).read_bytes(),
            response_headers={k.lower(): v for k, v in case.headers.items()},
        )
        joined = "\n".join(
            f"{e.get('title', '')}\n{e.get('summary', '')}\n"
            + "\n".join(c.get("value", "") for c in e.get("content", []))
            for e in parsed.entries
        )
        texts[case.source_id] = f"{as_html_text(joined)}\n{_WHITESPACE.sub('', joined)}"
    return texts


def _share(cases: list[Case], texts: dict[str, str]) -> tuple[int, int, list[tuple[Case, str]]]:
    expected = [(case, readings) for case in cases for readings in case.expected]
    misses = [
        (case, readings[0])
        for case, readings in expected
        if not any(reading in texts.get(case.source_id, "") for reading in readings)
    ]
    return len(expected) - len(misses), len(expected), misses


def _failures(log: str, cases: list[Case]) -> dict[str, list[str]]:
    """The failed sources' files, by kind of error."""
    paths = {c.source_id: c.path for c in cases}
    why: dict[str, list[str]] = defaultdict(list)
    for source_id, error in _FAILED.findall(log):
        # Group by the error's wording without the file's own URL or numbers.
        path = paths.get(source_id, "?")
        why[re.sub(r"\d+", "N", error.replace(path, "<file>"))[:110]].append(path)
    return why


@dataclass(frozen=True, slots=True)
class Measured:
    files: int
    exit_code: int
    export_exit_code: int
    seconds: float
    found: int
    total: int
    baseline_found: int  # feedparser itself on the same files
    failures: dict[str, list[str]]  # the failed sources' files, by kind of error
    misses: list[tuple[Case, str]]
    stderr_tail: str  # the end of run --once's log when it did not exit 0


def measure(cases: list[Case] | None = None) -> Measured:
    tests = collection()
    cases = load_cases(tests) if cases is None else cases
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(child, str(tests)), daemon=True)
    server.start()
    try:
        base = parent.recv()
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "corpus.yaml"
            config.write_text(_config(cases, base, Path(tmp) / "corpus.db"))
            started = time.perf_counter()
            run_once = _postwatch(config, "run", "--once")
            seconds = time.perf_counter() - started
            export = _postwatch(config, "export", "--format", "jsonl")
    finally:
        server.terminate()
        server.join()
    found, total, misses = _share(cases, _stored_texts(export.stdout))
    baseline_found, _, _ = _share(cases, _feedparser_texts(tests, cases))
    failures = _failures(run_once.stderr, cases)
    tail = run_once.stderr[-3000:] if run_once.returncode else ""
    return Measured(
        len(cases), run_once.returncode, export.returncode, seconds, found, total,
        baseline_found, failures, misses, tail,
    )  # fmt: skip


def report(result: Measured) -> None:
    share, base = result.found / result.total, result.baseline_found / result.total
    print(f"corpus: {result.files} files, run --once exit {result.exit_code} in", end=" ")
    print(f"{result.seconds:.0f}s, export exit {result.export_exit_code}")
    print(f"expected entry texts stored: {result.found}/{result.total} = {share:.1%}")
    print(f"  target {TARGET:.0%}: {'met' if share >= TARGET else 'NOT MET'}")
    print(f"feedparser itself, same files: {result.baseline_found}/{result.total} = {base:.1%}")
    print(f"sources failed: {sum(map(len, result.failures.values()))}")
    for why, paths in sorted(result.failures.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(paths):5d}  {why}  ({', '.join(paths[:3])}{' ...' * (len(paths) > 3)})")
    by_dir: dict[str, list[str]] = defaultdict(list)
    for case, expected in result.misses:
        directory, name = case.path.rsplit("/", 1)
        by_dir[directory].append(f"    {name}: {expected[:90]!r}")
    for directory, lines in sorted(by_dir.items(), key=lambda kv: -len(kv[1])):
        print(f"misses in {directory}: {len(lines)}", *lines, sep="\n")
    if result.stderr_tail:
        print("run --once stderr (tail):\n" + result.stderr_tail)


def run(results: list[dict[str, object]]) -> None:
    result = measure()
    report(result)
    stored = round(100 * result.found / result.total, 1)
    baseline = round(100 * result.baseline_found / result.total, 1)
    failed = sum(map(len, result.failures.values()))
    results += [
        {"name": "corpus: feedparser's collection, expected entry texts stored",
         "value": stored, "unit": "% (baseline: feedparser itself)", "baseline": baseline},
        {"name": f"corpus: run --once exit code ({failed} sources failed)",
         "value": result.exit_code, "unit": "exit code", "baseline": None},
    ]  # fmt: skip


if __name__ == "__main__":
    rows: list[dict[str, object]] = []
    run(rows)

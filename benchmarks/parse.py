"""Parse speed and accuracy over the fixture corpus (tests/fixtures/pages, the HTML pages).

Speed: every engine parses every page once per round, rounds interleaved so the shared,
noisy machine slows all engines alike; the table gives the median round, per page, and the
ratio to lxml.html.fromstring alone (the floor of any DOM parser) measured in the same run.
Accuracy: against expectations written by hand (tests/fixtures/truth.py), never against the
parser's own snapshots: each field a reader can check and the phrases a body must and must
not contain; trafilatura on the fields it has, against the same.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

from crawler.parsers import parse_article

PAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"
ROUNDS = 9
TARGET_RATIO = 2.0  # issue 8: parse within 2x lxml alone on the same page


def corpus() -> list[tuple[str, bytes, str, dict]]:
    """(name, bytes, url, snapshot) of every HTML fixture without a fetch time, for timing."""
    pages = []
    for folder in sorted(PAGES.iterdir()):
        source = folder / "input.html"
        if (
            source.exists()
            and (folder / "expected.json").exists()
            and not (folder / "fetched_at.txt").exists()
        ):
            expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
            pages.append(
                (
                    folder.name,
                    source.read_bytes(),
                    (folder / "url.txt").read_text().strip(),
                    expected,
                )
            )
    return pages


def engines() -> dict[str, Callable[[bytes, str], object]]:
    found: dict[str, Callable[[bytes, str], object]] = {
        "lxml.html.fromstring alone": lambda body, url: (
            lxml.html.fromstring(body) if body else None
        ),
        "ciudadano parse_article": parse_article,
    }
    try:
        import trafilatura

        found["trafilatura.extract (with metadata)"] = lambda body, url: trafilatura.extract(
            body, url=url, with_metadata=True, output_format="json"
        )
    except ImportError:
        pass
    try:
        from bs4 import BeautifulSoup

        found["BeautifulSoup(lxml) whole page"] = lambda body, url: BeautifulSoup(body, "lxml")
    except ImportError:
        pass
    return found


def time_engines(pages, rounds: int = ROUNDS) -> dict[str, list[float]]:
    """For each engine, the median seconds of each page over the rounds."""
    runs = engines()
    samples = {name: [[] for _ in pages] for name in runs}
    for run in runs.values():  # warm caches and lazy imports outside the measurement
        for _, body, url, _ in pages:
            run(body, url)
    for _ in range(rounds):
        for name, run in runs.items():
            for index, (_, body, url, _) in enumerate(pages):
                started = time.perf_counter()
                run(body, url)
                samples[name][index].append(time.perf_counter() - started)
    return {
        name: [statistics.median(page) for page in per_page] for name, per_page in samples.items()
    }


def truth_pages() -> list[tuple[str, bytes, str, object, dict]]:
    """(name, bytes, url, fetched_at, truth) of every HTML page the truth was written for."""
    from tests.fixtures.truth import TRUTH
    from tests.test_parser_fixtures import load

    pages = []
    for name, truth in sorted(TRUTH.items()):
        if "#" not in name:  # feed items and REST posts: not pages trafilatura could read
            body, url, fetched_at, _ = load(name)
            pages.append((name, body, url, fetched_at, truth))
    return pages


def accuracy(extract, fields: tuple[str, ...] | None = None) -> tuple[int, int, list[str]]:
    """(checks right, checks, what was wrong) of extract(body, url, fetched_at) -> article
    against the hand-written truth (tests/fixtures/truth.py), on every field it holds or
    only on fields."""
    from tests.fixtures.truth import checks, misses

    right = total = 0
    wrong: list[str] = []
    for name, body, url, fetched_at, truth in truth_pages():
        article = extract(body, url, fetched_at)
        for field, want in truth.items():
            if fields is None or field in fields:
                missed = misses(article, field, want, loose=True)
                total += checks(field, want)
                right += checks(field, want) - len(missed)
                wrong += [f"{name}: {m}" for m in missed]
    return right, total, wrong


TRAFILATURA_FIELDS = (
    "title",
    "published_date",
    "authors",
    "section",
    "body_first",
    "body_last",
    "body_has",
    "body_lacks",
)


def trafilatura_article(body: bytes, url: str, fetched_at=None) -> dict:
    """trafilatura's reading of a page, in the fields of ours it has."""
    import trafilatura

    raw = trafilatura.extract(body, url=url, with_metadata=True, output_format="json")
    got = json.loads(raw) if raw else {}
    categories = [c.strip() for c in (got.get("categories") or "").split(";") if c.strip()]
    return {
        "title": got.get("title"),
        "published_date": got.get("date"),
        "authors": [a.strip() for a in (got.get("author") or "").split(";") if a.strip()],
        "section": (categories[:1] or [None])[0],
        "body": got.get("text"),
    }


def run() -> str:
    pages = [p for p in corpus() if p[1]]  # an empty input times nothing
    timings = time_engines(pages)
    floor = timings["lxml.html.fromstring alone"]
    size = statistics.mean(len(body) for _, body, _, _ in pages) / 1024
    lines = [
        f"## Parse: {len(pages)} HTML fixture pages (mean {size:.0f} KB), median of {ROUNDS} "
        "interleaved rounds per page",
        "",
        "| engine | mean ms / page | pages / s | × lxml alone (corpus) | × lxml alone (median page) | × lxml alone (worst page) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, per_page in timings.items():
        mean = statistics.mean(per_page)
        ratios = [t / f for t, f in zip(per_page, floor, strict=False)]
        lines.append(
            f"| {name} | {mean * 1000:.2f} | {1 / mean:,.0f} | "
            f"{mean / statistics.mean(floor):.2f} | {statistics.median(ratios):.2f} | "
            f"{max(ratios):.2f} |"
        )
    ours = [t / f for t, f in zip(timings["ciudadano parse_article"], floor, strict=False)]
    median = statistics.median(ours)
    within = sum(r <= TARGET_RATIO for r in ours)
    worst = max(zip(ours, (p[0] for p in pages), strict=False))
    verdict = "meets" if median <= TARGET_RATIO else "MISSES"
    lines += [
        "",
        f"parse_article on the median page is {median:.2f}× lxml alone on the same "
        f"page: {verdict} the target of ≤ {TARGET_RATIO}× "
        f"({within} of {len(pages)} pages within it; slowest: {worst[1]}, "
        f"{worst[0]:.1f}×).",
    ]
    right, total, wrong = accuracy(parse_article)
    count = len(truth_pages())
    lines += [
        "",
        f"Accuracy against expectations written by hand (tests/fixtures/truth.py): "
        f"{count} HTML pages, each field a reader can check and phrases the body must "
        f"and must not contain; text compared with whitespace collapsed.",
        "",
        "| accuracy | checks | right |",
        "| --- | ---: | ---: |",
        f"| ciudadano parse_article, every field of the truth | {total} | {right / total:.1%} |",
    ]
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        pass
    else:
        mine = accuracy(parse_article, TRAFILATURA_FIELDS)
        theirs = accuracy(trafilatura_article, TRAFILATURA_FIELDS)
        lines += [
            f"| ciudadano parse_article, the fields trafilatura has | {mine[1]} | "
            f"{mine[0] / mine[1]:.1%} |",
            f"| trafilatura, the same (title, date, authors, section, body phrases) | "
            f"{theirs[1]} | {theirs[0] / theirs[1]:.1%} |",
        ]
    if wrong:
        lines += ["", "What parse_article got wrong: " + "; ".join(wrong)]
    return "\n".join(lines)

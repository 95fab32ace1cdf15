"""Parse speed and accuracy over the fixture corpus (tests/fixtures/pages, the HTML pages).

Speed: every engine parses every page once per round, rounds interleaved so the shared,
noisy machine slows all engines alike; the table gives the median round, per page, and the
ratio to lxml.html.fromstring alone (the floor of any DOM parser) measured in the same run.
Accuracy: each field of parse_article against the expected JSON; trafilatura's title, date,
author and section against the same; body F1 (bag of words) for both.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.html

from archive.model import FIELD_NAMES
from crawler.parsers import parse_article

PAGES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pages"
ROUNDS = 9
TARGET_RATIO = 2.5


def corpus() -> list[tuple[str, bytes, str, dict]]:
    """(name, bytes, url, expected) of every HTML fixture; expected is the parser's contract."""
    pages = []
    for folder in sorted(PAGES.iterdir()):
        source = folder / "input.html"
        if source.exists() and (folder / "expected.json").exists() and \
                not (folder / "fetched_at.txt").exists():
            expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
            pages.append((folder.name, source.read_bytes(), (folder / "url.txt").read_text().strip(),
                          expected))
    return pages


def engines() -> dict[str, Callable[[bytes, str], object]]:
    found: dict[str, Callable[[bytes, str], object]] = {
        "lxml.html.fromstring alone": lambda body, url: lxml.html.fromstring(body) if body else None,
        "ciudadano parse_article": parse_article,
    }
    try:
        import trafilatura

        found["trafilatura.extract (with metadata)"] = lambda body, url: trafilatura.extract(
            body, url=url, with_metadata=True, output_format="json")
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
    return {name: [statistics.median(page) for page in per_page]
            for name, per_page in samples.items()}


def bag_f1(found: str | None, expected: str | None) -> float:
    got, want = Counter((found or "").lower().split()), Counter((expected or "").lower().split())
    if not got and not want:
        return 1.0
    overlap = sum((got & want).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(got.values()), overlap / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def our_accuracy(pages) -> tuple[float, float, list[str]]:
    """(share of fields right, mean body F1 on articles, fields that were wrong)."""
    right = total = 0
    f1s, wrong = [], []
    for name, body, url, expected in pages:
        article = parse_article(body, url)
        for field in FIELD_NAMES:
            total += 1
            if article[field] == expected[field]:
                right += 1
            else:
                wrong.append(f"{name}.{field}")
        if expected["is_article"]:
            f1s.append(bag_f1(article["body"], expected["body"]))
    return right / total, statistics.mean(f1s), wrong


def trafilatura_accuracy(pages) -> tuple[float, float] | None:
    """trafilatura on the fields it has: title, date, author, section; and body F1."""
    try:
        import trafilatura
    except ImportError:
        return None
    right = total = 0
    f1s = []
    for _, body, url, expected in pages:
        if not expected["is_article"]:
            continue
        raw = trafilatura.extract(body, url=url, with_metadata=True, output_format="json")
        got = json.loads(raw) if raw else {}
        authors = [a.strip() for a in (got.get("author") or "").split(";") if a.strip()]
        categories = [c.strip() for c in (got.get("categories") or "").split(";") if c.strip()]
        checks = [
            got.get("title") == expected["title"],
            got.get("date") == expected["published_date"],
            authors == expected["authors"],
            (categories[:1] or [None])[0] == expected["section"],
        ]
        right += sum(checks)
        total += len(checks)
        f1s.append(bag_f1(got.get("text"), expected["body"]))
    return right / total, statistics.mean(f1s)


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
        ratios = [t / f for t, f in zip(per_page, floor)]
        lines.append(f"| {name} | {mean * 1000:.2f} | {1 / mean:,.0f} | "
                     f"{mean / statistics.mean(floor):.2f} | {statistics.median(ratios):.2f} | "
                     f"{max(ratios):.2f} |")
    ours = [t / f for t, f in zip(timings["ciudadano parse_article"], floor)]
    median = statistics.median(ours)
    within = sum(r <= TARGET_RATIO for r in ours)
    worst = max(zip(ours, (p[0] for p in pages)))
    verdict = "meets" if median <= TARGET_RATIO else "MISSES"
    lines += ["", f"parse_article on the median page is {median:.2f}× lxml alone on the same "
                  f"page: {verdict} the target of ≤ {TARGET_RATIO}× "
                  f"({within} of {len(pages)} pages within it; slowest: {worst[1]}, "
                  f"{worst[0]:.1f}×)."]
    fields, f1, wrong = our_accuracy(pages)
    lines += ["", "| accuracy | fields right | body F1 |", "| --- | ---: | ---: |",
              f"| ciudadano parse_article (all {len(FIELD_NAMES)} fields) | {fields:.1%} | {f1:.3f} |"]
    theirs = trafilatura_accuracy(pages)
    if theirs:
        lines.append(f"| trafilatura (title, date, author, section) | {theirs[0]:.1%} | {theirs[1]:.3f} |")
    if wrong:
        lines += ["", "Fields parse_article got wrong: " + ", ".join(wrong)]
    return "\n".join(lines)

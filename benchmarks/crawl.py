"""Crawl speed and request economy on a loopback stand-in of 20,000 articles (issue 6).

One run prints, all measured against the same local site with politeness off, the medians of
BENCH_CRAWL_ROUNDS (5) interleaved rounds of the floors and ours:
- two floors: a bare Scrapy spider that only downloads the same article pages (pages/s), with
  Scrapy's defaults and with the engine settings ours tunes (FLOORS below);
- ours end to end (REST discovery, fetch, parse, merge, store into a new archive, each page
  kept): articles/s, the ratio to each floor, and peak RSS of the crawl process;
- the CPU each page costs the floors, ours and the stand-in serving them (the machine's cores
  are what bounds them all);
- the requests of the next incremental run after 40 posts were added and 5 edited;
- the requests of that first (full, REST-driven) run: HTML pages per article, REST pages per
  100 posts.
Targets (issue 6): >= 200 articles/s and >= 0.4x the floor (its "bare Scrapy spider": Scrapy's
defaults; the tuned floor is a reference without a target), < 500 MB, an incremental run of
at most 45 article requests plus 5 others, a full run of at most 1.02 HTML requests per
article plus one REST request per 100 posts.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = int(os.environ.get("BENCH_CRAWL_ARTICLES", "20000"))
ROUNDS = int(os.environ.get("BENCH_CRAWL_ROUNDS", "5"))
CONCURRENCY = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "ROBOTSTXT_OBEY=False",
    *CONCURRENCY,
]

BARE_SPIDER = """
import scrapy

class Bare(scrapy.Spider):
    name = "bare"
    custom_settings = {"LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": False,
                       "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
                       "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
                       "TELNETCONSOLE_ENABLED": False}

    async def start(self):
        for url in open(self.urls_file).read().split():
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        pass
"""


# Two floors, both run outside the project (none of our settings, pipelines or middlewares):
# the spider as written (Scrapy's defaults), issue 6's "bare Scrapy spider", which its target
# of 0.4x is set against; and, for reference, the same with the two engine settings our crawl
# tunes (crawler/settings.py): no cookies, and CONCURRENT_ITEMS=4 (Scrapy's 100 starts 100
# asyncio tasks for each callback's output, which costs a bare spider about 0.4 ms a page).
# The second is Scrapy's best on this machine: what fetching alone costs.
FLOORS = {"defaults": [], "tuned": ["-s", "COOKIES_ENABLED=False", "-s", "CONCURRENT_ITEMS=4"]}
FLOOR_LABELS = {
    "defaults": "Scrapy's defaults",
    "tuned": "no cookies and CONCURRENT_ITEMS=4, as ours",
}
FLOOR_TARGETS = {"defaults": ">= 0.40x", "tuned": "(reference)"}


def _articles(count: int) -> list[dict]:
    from standin.articles import new_article

    start = datetime(2004, 1, 1, 9, 0, tzinfo=ZoneInfo("America/Santiago"))
    step = (datetime(2026, 11, 1, tzinfo=start.tzinfo) - start) / count
    return [
        new_article(n, (start + step * n).replace(microsecond=0).isoformat()) for n in range(count)
    ]


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (the crawl and its parser), MB."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parents[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            continue
    return total / 1024


class Timed(NamedTuple):
    seconds: float
    status: int
    rss_mb: int  # peak RSS of the process tree, sampled every 0.2 s
    cpu: float  # CPU seconds of the process and its children (user + system)
    site_cpu: float  # CPU seconds of this process meanwhile: the stand-in serving it


def _timed(command: list[str], cwd: Path = ROOT) -> Timed:
    import threading

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = time.process_time()
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], _tree_rss_mb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    child.wait()
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return Timed(seconds, child.returncode, round(peak[0]), cpu, time.process_time() - ours)


def _ciudadano() -> list[str]:
    script = Path(sys.executable).parent / "ciudadano"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ciudadano.cli"]


def run() -> str:
    from standin.articles import edited, new_article
    from standin.server import StandInSite

    articles = _articles(ARTICLES)
    paths = {a["path"] for a in articles}
    with (
        tempfile.TemporaryDirectory(prefix="ciudadano-bench-") as tmp,
        StandInSite(articles=articles) as site,
    ):
        urls = Path(tmp) / "urls.txt"
        urls.write_text("\n".join(site.base_url + a["path"] for a in articles))
        spider = Path(tmp) / "bare.py"
        spider.write_text(BARE_SPIDER)
        rounds = []  # ({floor: (Timed, its article pages)}, ours: Timed, articles stored)
        for number in range(ROUNDS):  # interleaved: a noisy machine slows all alike
            floors = {}
            for name, settings in FLOORS.items():
                before = len(site.requests)
                run = _timed(
                    [
                        sys.executable,
                        "-m",
                        "scrapy",
                        "runspider",
                        str(spider),
                        "-a",
                        f"urls_file={urls}",
                        *settings,
                    ],
                    cwd=Path(tmp),
                )
                floors[name] = (
                    run,
                    sum(1 for p in site.requests[before:] if urlsplit(p).path in paths),
                )
            db = Path(tmp) / f"bench-{number}.db"
            before = len(site.requests)
            ours = _timed(
                [
                    *_ciudadano(),
                    "crawl",
                    "--db",
                    str(db),
                    "--base-url",
                    site.base_url,
                    "--feed-pages",
                    "1",
                    *FAST,
                ]
            )
            first = [urlsplit(p) for p in site.requests[before:]]
            with closing(sqlite3.connect(db)) as conn:
                stored = conn.execute("select count(*) from articles").fetchone()[0]
            rounds.append((floors, ours, stored))
        html_first = sum(1 for p in first if p.path in paths)
        rest_first = sum(1 for p in first if p.path == "/wp-json/wp/v2/posts")
        # a night's work: 40 new posts, 5 edited
        now = datetime.now(ZoneInfo("America/Santiago")).replace(microsecond=0)
        added = [
            new_article(ARTICLES + n, (now - timedelta(minutes=n)).isoformat()) for n in range(40)
        ]
        site.articles.extend(added)
        for index in range(5):
            site.articles[index] = edited(
                site.articles[index], now.isoformat(), f"Titular corregido {index}"
            )
        paths |= {a["path"] for a in added}
        before = len(site.requests)
        _timed([*_ciudadano(), "crawl", "--db", str(db), "--base-url", site.base_url, *FAST])
        nightly = [urlsplit(p).path for p in site.requests[before:]]
        nightly_html = sum(1 for p in nightly if p in paths)
    median = statistics.median
    ours_rate = median(stored / ours.seconds for _, ours, stored in rounds)
    ours_rss = max(ours.rss_mb for _, ours, _ in rounds)
    statuses = sorted({ours.status for _, ours, _ in rounds})
    stored = min(r[2] for r in rounds)
    # CPU per page (ms): where the machine's cores go
    ours_cpu = median(ours.cpu / stored * 1000 for _, ours, stored in rounds)
    ours_site = median(ours.site_cpu / stored * 1000 for _, ours, stored in rounds)
    busy = median((ours.cpu + ours.site_cpu) / ours.seconds for _, ours, _ in rounds)
    html_per_article = html_first / max(stored, 1)
    rest_per_100 = rest_first / (ARTICLES / 100)
    floor_rows, ratio_rows, each = [], [], []
    for name in FLOORS:
        runs = [(floors[name], ours, stored) for floors, ours, stored in rounds]
        rate = median(pages / run.seconds for (run, pages), _, _ in runs)
        cpu = median(run.cpu / pages * 1000 for (run, pages), _, _ in runs)
        site_cpu = median(run.site_cpu / pages * 1000 for (run, pages), _, _ in runs)
        rss = max(run.rss_mb for (run, _), _, _ in runs)
        ratios = sorted(
            (stored / ours.seconds) / (pages / run.seconds) for (run, pages), ours, stored in runs
        )
        ratio = median(ratios)
        floor_rows.append(
            f"| floor ({name}): a bare Scrapy spider, {FLOOR_LABELS[name]} | "
            f"{rate:.0f} pages/s; CPU a page {cpu:.2f} ms, the stand-in's "
            f"{site_cpu:.2f} ms; {rss} MB | |"
        )
        ratio_rows.append(
            f"| ours / floor ({name}) | {ratio:.2f}x (rounds "
            f"{ratios[0]:.2f}-{ratios[-1]:.2f}) | {FLOOR_TARGETS[name]} |"
        )
        each.append(
            f"{name} "
            + ", ".join(
                f"{stored / ours.seconds:.0f}/{pages / run.seconds:.0f}"
                for (run, pages), ours, stored in runs
            )
        )
    lines = [
        f"## Crawl: a loopback stand-in of {ARTICLES:,} articles, politeness off, "
        "16 concurrent requests",
        "",
        f"Medians of {ROUNDS} interleaved rounds (each: the floors, then ours). Each round, "
        f"ours / the floor (articles/s / pages/s): {'; '.join(each)}.",
        "",
        "Issue 6 sets its target of 0.4x against a bare Scrapy spider, which runs with Scrapy's "
        "defaults. The tuned floor is the same spider with our two engine settings, shown for "
        "reference: it is what fetching alone costs, which ours pays too before it parses, "
        "stores and keeps each page.",
        "",
        "| what | measured | target |",
        "| --- | ---: | ---: |",
        *floor_rows,
        f"| `ciudadano crawl`, first run: REST discovery, fetch, parse, store, page kept | "
        f"{ours_rate:.0f} articles/s (exit {', '.join(map(str, statuses))}, at least "
        f"{stored:,} stored) | >= 200 |",
        f"| its CPU per article, parser process included / the stand-in's | "
        f"{ours_cpu:.2f} ms / {ours_site:.2f} ms ({busy:.2f} of the machine's "
        f"{os.cpu_count()} cores busy) | |",
        *ratio_rows,
        f"| peak RSS of the crawl, its parser process included | {ours_rss} MB | < 500 MB |",
        f"| first run: HTML requests per article | {html_per_article:.3f} | <= 1.02 |",
        f"| first run: REST requests per 100 posts | {rest_per_100:.2f} | <= 1 |",
        f"| next run after 40 added, 5 edited: article requests | {nightly_html} | <= 45 |",
        f"| the same run: other requests | {len(nightly) - nightly_html} ({', '.join(sorted(set(p for p in nightly if p not in paths)))}) | <= 5 |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())

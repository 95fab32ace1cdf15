"""Run every benchmark, print the tables, write them to benchmarks/results/."""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import archive, audit, crawl, images, imports, parse, reading

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    header = (
        f"# Benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{platform.processor() or 'unknown CPU'}; a shared, noisy machine: compare "
        "ratios within one run, not times across runs.\n"
    )
    which = sys.argv[1:] or ["parse", "crawl", "archive", "audit", "images", "imports", "reading"]
    sections = {
        "parse": parse.run,
        "crawl": crawl.run,
        "archive": archive.run,
        "audit": audit.run,
        "images": images.run,
        "imports": imports.run,
        "reading": reading.run,
    }
    unknown = [name for name in which if name not in sections]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(sections)}")
    report = header + "".join("\n" + sections[name]() + "\n" for name in which)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    # the committed table holds a whole run; a partial one (`make bench ARGS=crawl`) goes aside
    target = RESULTS / (
        "latest.md" if set(which) == set(sections) else f"partial-{'-'.join(which)}.md"
    )
    target.write_text(report, encoding="utf-8")
    print(f"written to {target}", file=sys.stderr)


if __name__ == "__main__":
    main()

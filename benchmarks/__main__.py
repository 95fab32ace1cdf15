"""Run every benchmark, print the tables, write them to benchmarks/results/."""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import parse

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    header = (f"# Benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n\n"
              f"Python {platform.python_version()} on {platform.machine()}, "
              f"{platform.processor() or 'unknown CPU'}; a shared, noisy machine: compare "
              "ratios within one run, not times across runs.\n")
    report = header + "\n" + parse.run() + "\n"
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text(report, encoding="utf-8")
    print(f"written to {RESULTS / 'latest.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()

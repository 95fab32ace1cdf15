"""`ciudadano import`: articles from a JSON Lines export back into an archive.

For a backup restored, an archive moved to another machine, or two archives merged. Each line
is one article as `ciudadano export --format jsonl` wrote it; the archive's own dates
(first_seen, last_changed) come back with it, so export -> import -> export gives the same
file. An article already archived with the same content is left as it is; where the two
differ, the version changed last is kept in articles and the other goes to its versions.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from archive.db import CrawlLock
from archive.store import Archive

BATCH = 1000


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.counts.get(k, 0)} {k}" for k in ("new", "changed", "unchanged",
                                                         "older")]
        text = ", ".join(parts) + " (older: the archive's own version is newer and was kept)"
        if self.problems:
            text += f"; {len(self.problems)} lines not imported"
        return text


def import_jsonl(file: str | Path, db_path: str | Path) -> ImportReport:
    """Import every article of a JSONL file ("-" for stdin); a line that is not an article is
    reported with its number and skipped, never the whole file."""
    report = ImportReport()
    path = Path(db_path)
    if not path.exists():
        Archive(path).close()  # the lock needs the file; SQLite must make it
    with CrawlLock(path):  # no crawl writes while the file comes in
        archive = Archive(path)
        try:
            source = sys.stdin if str(file) == "-" else open(file, encoding="utf-8")
            with source:
                archive.db.execute("begin")
                for number, line in enumerate(source, 1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as err:
                        report.problems.append(f"line {number}: not JSON ({err.msg})")
                        continue
                    try:
                        outcome = archive.import_article(record)
                    except ValueError as err:
                        report.problems.append(f"line {number}: {err}")
                        continue
                    report.counts[outcome] = report.counts.get(outcome, 0) + 1
                    if number % BATCH == 0:  # a killed import keeps what came before
                        archive.db.execute("commit")
                        archive.db.execute("begin")
                archive.db.execute("commit")
            archive.update_median_key()
        except BaseException:
            if archive.db.conn.in_transaction:
                archive.db.execute("commit")  # every row written is whole: keep them
            raise
        finally:
            archive.close()
    return report

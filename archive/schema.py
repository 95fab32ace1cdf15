"""The tables that hold the archive: articles (their fields declared once, in archive.model),
the full-text index, versions, kept pages, runs and failures."""

from __future__ import annotations

from archive.model import (  # noqa: F401 (the model, re-exported for the archive's modules)
    ARTICLE_FIELDS,
    FIELD_NAMES,
    PAGE_ONLY_FIELDS,
    REQUIRED_FIELDS,
    Field,
    empty_article,
    slugify,
)

# Columns the archive adds to every article row.
ARCHIVE_COLUMNS: dict[str, tuple[type, str]] = {
    "id": (int, "The article's number in this archive: stable, keys the full-text index"),
    "published_utc": (str, "Publication instant in UTC (sorts by time, whatever the offset)"),
    "year": (int, "Publication year in Santiago (for faceting)"),
    "content_hash": (str, "SHA-256 of the stored fields: an unchanged article is not rewritten"),
    "first_seen": (str, "When the archive first stored this article (UTC)"),
    "last_changed": (str, "When the stored fields last changed (UTC)"),
    "run_id": (int, "The crawl run that last wrote this row"),
}

FTS_COLUMNS = ("title", "subtitle", "body")
# The same columns as Spanish stems (archive.stemming): words are looked up there, phrases and
# prefixes in the text as written.
STEM_SUFFIX = "_s"
FTS_STEM_COLUMNS = tuple(c + STEM_SUFFIX for c in FTS_COLUMNS)
# unicode61 with remove_diacritics 2 folds case and accents: "politica" finds "Política".
FTS_TOKENIZE = "unicode61 remove_diacritics 2"
# Prefix indexes: "pe*" and "pen*" read one list each instead of every word they start.
FTS_PREFIXES = "2 3"
# The SQL function the index triggers call (registered on every connection that writes).
STEM_FUNCTION = "ciudadano_stem"

ARTICLES = "articles"
FAILURES = "failures"
RUNS = "runs"
ALIASES = "aliases"  # an article's earlier URLs (a changed slug or section)
RETRIES = "retries"  # pages that failed, tried again by later runs with backoff
VERSIONS = "article_versions"  # earlier versions of an article, kept when it changed
# The fields whose change makes a new version of an article (the rest is bookkeeping).
VERSIONED_FIELDS = ("title", "subtitle", "body", "section", "authors", "tags", "modified")
AUTHORS = "article_authors"  # one row per article and credited author, kept by triggers
RESPONSES = "responses"  # every page fetched, as it came (the body zstd-compressed)
META = "archive_meta"  # key/value facts about the archive itself (the stemmer's version)
# The record (archive.listings): what the site lists, the audits that read it, the site's own
# counts, and what happened to each article (missed, removed, restored, withdrawn, reinstated).
LISTINGS = "listings"
AUDITS = "audits"
AUDIT_SITEMAPS = "audit_sitemaps"  # the sitemaps an audit has read (an audit resumes past them)
SITE_COUNTS = "site_counts"
EVENTS = "article_events"
HANDED_OUT = "listings_handed_out"  # archived URLs a crawl was asked to fetch again, and when
# Columns on articles for the record; never written by a crawl (archive.store leaves them).
RECORD_COLUMNS: dict[str, type] = {
    "missing_since": str,  # the first complete audit whose sitemaps no longer listed it
    "removed_at": str,  # when its page was found gone (404, 410, redirect to a listing)
    "removal_reason": str,  # how: "HTTP 404", "redirects to the home page", ...
    "restored_at": str,  # when a removed article was listed again
    "withdrawn_at": str,  # hidden from serve, search and exports by an archivist
    "withdrawal_reason": str,
}

# The archive's identity in the SQLite header ("CIUD"), and its schema version (user_version).
APPLICATION_ID = 0x43495544
SCHEMA_VERSION = 5  # 4: the record (listings, audits, article_events); 5: media

RUN_COLUMNS: dict[str, type] = {
    "id": int,
    "started_at": str,
    "finished_at": str,
    "base_url": str,
    # running, finished, interrupted (a signal stopped it), failed (archive errors), died
    # (found still "running" by a later run: killed, or the machine went down)
    "status": str,
    "exit_status": int,
    "pid": int,
    "articles_new": int,
    "articles_changed": int,
    "articles_unchanged": int,
    "failures": int,
    "stats": str,
    "warning": str,  # the drift alarm (archive.drift): the theme's markup may have changed
}
FAILURE_COLUMNS: dict[str, type] = {
    "id": int,
    "run_id": int,
    "url": str,
    "reason": str,
    "status": int,
    "at": str,
}
ALIAS_COLUMNS: dict[str, type] = {"url": str, "article_url": str, "since": str}
RESPONSE_COLUMNS: dict[str, type] = {
    "id": int,
    "url": str,
    "final_url": str,
    "status": int,
    "headers": str,
    "fetched_at": str,
    "source": str,
    "run_id": int,
    "body_bytes": int,
    "sha256": str,
    "body": bytes,
}
RETRY_COLUMNS: dict[str, type] = {
    "url": str,
    "attempts": int,
    "first_failed": str,
    "last_failed": str,
    "next_try": str,
    "reason": str,
    "given_up": int,
}
_SQL_TYPES = {
    str: "TEXT",
    int: "INTEGER",
    bool: "INTEGER",
    float: "REAL",
    list: "TEXT",
    bytes: "BLOB",
    dict: "TEXT",
}


def article_columns() -> dict[str, type]:
    columns = {f.name: f.type for f in ARTICLE_FIELDS if f.name not in PAGE_ONLY_FIELDS}
    columns.update({name: typ for name, (typ, _) in ARCHIVE_COLUMNS.items()})
    return columns


def column_descriptions() -> dict[str, str]:
    described = {f.name: f.description for f in ARTICLE_FIELDS if f.name not in PAGE_ONLY_FIELDS}
    described.update({name: text for name, (_, text) in ARCHIVE_COLUMNS.items()})
    return described


def tables_of_an_archive() -> set[str]:
    """Tables every archive has, whatever its schema version."""
    return {ARTICLES, f"{ARTICLES}_fts", RUNS, FAILURES}


def _table_sql(name: str, columns: dict[str, type], pk: str, autoincrement: bool) -> str:
    defs = []
    for column, typ in columns.items():
        if column == pk:
            defs.append(
                f"[{column}] {_SQL_TYPES[typ]} PRIMARY KEY"
                + (" NOT NULL" if not autoincrement else "")
            )
        else:
            defs.append(f"[{column}] {_SQL_TYPES[typ]}")
    return f"CREATE TABLE IF NOT EXISTS [{name}] (\n   " + ",\n   ".join(defs) + "\n);\n"


# Behind every filter, facet and default sort of the archive's readers.
ARTICLE_INDEXES = (
    ("wp_id",),
    ("section_slug",),
    ("section",),
    ("published_date",),
    ("year",),
    ("published_utc",),
    ("language",),
    ("section collate nocase",),
)


# The index's key for an article: its publication instant (UTC seconds since 1970) and its id,
# (seconds << 24) | id. Stable (VACUUM renumbers nothing), unique, and in publication order:
# the index hands out matches newest first without a sort, and a date range is a key range.
# Ids stay below 2**24 (16.7 million articles: 55 times the site).
KEY_ID_BITS = 24
KEY_ID_MASK = (1 << KEY_ID_BITS) - 1


def fts_key_sql(row: str) -> str:
    """The index key of an articles row (new, old, or a table alias), in SQL."""
    return (
        f"((max(0, coalesce(cast(strftime('%s', {row}.published) as integer), 0)) "
        f"<< {KEY_ID_BITS}) | {row}.id)"
    )


def article_id_sql(key: str) -> str:
    return f"({key} & {KEY_ID_MASK})"


def median_key_sql() -> str:
    """archive_meta's median_key anew: the index key of the middle article in publication
    order, where searches cut the index in two halves to read at once (archive.search)."""
    return (
        f"INSERT OR REPLACE INTO [{META}] (key, value) SELECT 'median_key', "
        f"{fts_key_sql('a')} FROM [{ARTICLES}] a ORDER BY a.published_utc "
        f"LIMIT 1 OFFSET (SELECT count(*) / 2 FROM [{ARTICLES}]);\n"
    )


# How searches tell a query that matches most of the archive (archive.search): by counting its
# matches in SAMPLE_WINDOWS runs of SAMPLE_SIZE articles consecutive in publication order,
# spread evenly over the archive, instead of counting up to half of it.
SAMPLE_WINDOWS = 8
SAMPLE_SIZE = 256


def sample_keys_sql() -> str:
    """archive_meta's sample_keys anew: [[low key, high key, articles], ...] of the sample
    windows; an empty list for an archive too small to need them. Read off the index on
    published_utc (the articles' order by key), the rows touched only at the windows' ends."""
    step = f"(total / {SAMPLE_WINDOWS})"
    return (
        "WITH ordered AS (SELECT id, row_number() OVER (ORDER BY published_utc, id) - 1 AS r, "
        f"count(*) OVER () AS total FROM [{ARTICLES}]), "
        f"sample AS (SELECT id, r, r / {step} AS g FROM ordered WHERE total >= "
        f"{4 * SAMPLE_WINDOWS * SAMPLE_SIZE} AND r % {step} < {SAMPLE_SIZE}), "
        "firsts AS (SELECT g, id AS first, min(r), count(*) AS n FROM sample GROUP BY g), "
        "lasts AS (SELECT g, id AS last, max(r) FROM sample GROUP BY g) "
        f"INSERT OR REPLACE INTO [{META}] (key, value) SELECT 'sample_keys', "
        "json_group_array(json_array("
        f"(SELECT {fts_key_sql('a')} FROM [{ARTICLES}] a WHERE a.id = first), "
        f"(SELECT {fts_key_sql('a')} + 1 FROM [{ARTICLES}] a WHERE a.id = last), n)) "
        "FROM firsts JOIN lasts USING (g);\n"
    )


def section_token(slug: str) -> str:
    """The section as the index holds it."""
    return slug.replace("-", "")


def section_match(slug: str) -> str:
    """The section as an FTS5 string in a MATCH expression: quoted, its own quotes doubled, so
    a slug (from a URL, or an imported file) is always one string, never query syntax."""
    return '"' + section_token(slug).replace('"', '""') + '"'


# The index's columns: the text as written, its stems, and the section's slug as one token
# ("medio-ambiente" -> "medioambiente"), for filtering inside the index; it weighs nothing in
# the rank.
FTS_SECTION = "section_slug"
FTS_ALL_COLUMNS = FTS_COLUMNS + FTS_STEM_COLUMNS + (FTS_SECTION,)


def _fts_values(row: str) -> str:
    return ", ".join(
        [f"{row}.[{c}]" for c in FTS_COLUMNS]
        + [f"{STEM_FUNCTION}({row}.[{c}])" for c in FTS_COLUMNS]
        + [f"replace({row}.[{FTS_SECTION}], '-', '')"]
    )


def _fts_sql() -> str:
    """The full-text index over articles: contentless (the text lives in articles only), keyed
    by fts_key_sql, kept by triggers."""
    fts = f"{ARTICLES}_fts"
    cols = ", ".join(f"[{c}]" for c in FTS_ALL_COLUMNS)
    watched = ", ".join(f"[{c}]" for c in FTS_COLUMNS + (FTS_SECTION, "published"))
    new_key, old_key = fts_key_sql("new"), fts_key_sql("old")
    return f"""
CREATE VIRTUAL TABLE IF NOT EXISTS [{fts}] USING FTS5 (
    {cols}, tokenize='{FTS_TOKENIZE}', prefix='{FTS_PREFIXES}', content=''
);
CREATE TRIGGER IF NOT EXISTS [{ARTICLES}_ai] AFTER INSERT ON [{ARTICLES}] BEGIN
  INSERT INTO [{fts}] (rowid, {cols}) VALUES ({new_key}, {_fts_values("new")});
END;
CREATE TRIGGER IF NOT EXISTS [{ARTICLES}_ad] AFTER DELETE ON [{ARTICLES}] BEGIN
  INSERT INTO [{fts}] ([{fts}], rowid, {cols}) VALUES ('delete', {old_key}, {_fts_values("old")});
END;
CREATE TRIGGER IF NOT EXISTS [{ARTICLES}_au] AFTER UPDATE OF {watched} ON [{ARTICLES}] BEGIN
  INSERT INTO [{fts}] ([{fts}], rowid, {cols}) VALUES ('delete', {old_key}, {_fts_values("old")});
  INSERT INTO [{fts}] (rowid, {cols}) VALUES ({new_key}, {_fts_values("new")});
END;
"""


def _authors_sql() -> str:
    """article_authors: the authors of each article as rows, so counting articles per author
    reads an index instead of every article's JSON."""
    fill = (
        f"INSERT INTO [{AUTHORS}] (article_id, author) SELECT new.id, value "
        "FROM json_each(new.authors) WHERE json_valid(new.authors) AND value != '';"
    )
    return f"""
CREATE TABLE IF NOT EXISTS [{AUTHORS}] (
   [article_id] INTEGER NOT NULL REFERENCES [{ARTICLES}]([id]),
   [author] TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS [idx_{AUTHORS}_author] ON [{AUTHORS}] (author);
CREATE INDEX IF NOT EXISTS [idx_{AUTHORS}_article_id] ON [{AUTHORS}] (article_id);
CREATE TRIGGER IF NOT EXISTS [{AUTHORS}_ai] AFTER INSERT ON [{ARTICLES}] BEGIN
  {fill}
END;
CREATE TRIGGER IF NOT EXISTS [{AUTHORS}_au] AFTER UPDATE OF authors ON [{ARTICLES}] BEGIN
  DELETE FROM [{AUTHORS}] WHERE article_id = old.id;
  {fill}
END;
CREATE TRIGGER IF NOT EXISTS [{AUTHORS}_ad] AFTER DELETE ON [{ARTICLES}] BEGIN
  DELETE FROM [{AUTHORS}] WHERE article_id = old.id;
END;
"""


def reindex_sql() -> str:
    """Fills the full-text index anew from articles (after a migration, or a new stemmer)."""
    fts = f"{ARTICLES}_fts"
    return f"INSERT INTO [{fts}] ([{fts}]) VALUES ('delete-all');\n" + index_sql() + ";\n"


def index_sql(where: str = "") -> str:
    """Indexes the articles a (all, or those where says) in one statement, as the insert
    trigger indexes one."""
    fts = f"{ARTICLES}_fts"
    cols = ", ".join(f"[{c}]" for c in FTS_ALL_COLUMNS)
    return (
        f"INSERT INTO [{fts}] (rowid, {cols}) SELECT {fts_key_sql('a')}, "
        f"{_fts_values('a')} FROM [{ARTICLES}] a" + (f" WHERE {where}" if where else "")
    )


# FTS5 keeps what it indexes in memory up to this many bytes, then writes a segment. Its default
# (1 MB) suits one article at a time; an import indexes thousands in one statement and writes
# them as one segment instead of hundreds to merge (1.1 ms of CPU an article instead of 1.7).
FTS_HASHSIZE_DEFAULT = 1024 * 1024
FTS_HASHSIZE_BULK = 512 * 1024 * 1024


def fts_hashsize_sql(size: int) -> str:
    return f"INSERT INTO [{ARTICLES}_fts] ([{ARTICLES}_fts], rank) VALUES ('hashsize', {size})"


# What a reader looks at first leads the row (Datasette shows columns in this order); long
# text goes last, so that a lookup of the short columns (dates, section, filters) reads the
# row's first page, not the body's overflow pages.
_FIRST_COLUMNS = ("id", "title", "published", "section", "authors", "subtitle", "url")
_LONG_COLUMNS = ("categories", "tags", "embeds", "provenance", "body")


def _articles_sql() -> str:
    every = {"id": int, **article_columns()}
    columns = {k: every[k] for k in _FIRST_COLUMNS}
    columns.update(
        {k: v for k, v in every.items() if k not in _FIRST_COLUMNS and k not in _LONG_COLUMNS}
    )
    columns.update(RECORD_COLUMNS)
    columns.update({k: every[k] for k in _LONG_COLUMNS})
    defs = []
    for column, typ in columns.items():
        if column == "id":
            defs.append("[id] INTEGER PRIMARY KEY")
        elif column == "url":
            defs.append("[url] TEXT NOT NULL UNIQUE")
        else:
            defs.append(f"[{column}] {_SQL_TYPES[typ]}")
    return f"CREATE TABLE IF NOT EXISTS [{ARTICLES}] (\n   " + ",\n   ".join(defs) + "\n);\n"


def _record_sql() -> str:
    """The record's tables (archive.listings), and the views Datasette shows of it."""
    current = f"(SELECT max(started_at) FROM [{AUDITS}] WHERE status = 'complete')"
    return f"""
CREATE TABLE IF NOT EXISTS [{LISTINGS}] (
   [url] TEXT PRIMARY KEY, [wp_id] INTEGER, [lastmod] TEXT, [sitemap] TEXT,
   [first_listed] TEXT, [last_listed] TEXT
);
CREATE INDEX IF NOT EXISTS [idx_{LISTINGS}_last_listed] ON [{LISTINGS}] (last_listed);
CREATE TABLE IF NOT EXISTS [{HANDED_OUT}] ([url] TEXT PRIMARY KEY, [at] TEXT);
CREATE TABLE IF NOT EXISTS [{AUDITS}] (
   [id] INTEGER PRIMARY KEY, [started_at] TEXT, [finished_at] TEXT, [status] TEXT,
   [base_url] TEXT, [pid] INTEGER, [sitemaps] INTEGER, [sitemaps_failed] INTEGER,
   [listed] INTEGER, [site_total] INTEGER, [missed] INTEGER, [removed] INTEGER,
   [restored] INTEGER, [requests] INTEGER, [seconds] REAL
);
CREATE TABLE IF NOT EXISTS [{AUDIT_SITEMAPS}] (
   [audit_id] INTEGER NOT NULL, [sitemap] TEXT NOT NULL, [urls] INTEGER, [read_at] TEXT,
   PRIMARY KEY (audit_id, sitemap)
);
CREATE TABLE IF NOT EXISTS [{SITE_COUNTS}] (
   [audit_id] INTEGER NOT NULL, [kind] TEXT NOT NULL, [key] TEXT NOT NULL, [name] TEXT,
   [count] INTEGER, PRIMARY KEY (audit_id, kind, key)
);
CREATE TABLE IF NOT EXISTS [{EVENTS}] (
   [article_id] INTEGER NOT NULL REFERENCES [{ARTICLES}]([id]), [at] TEXT NOT NULL,
   [event] TEXT NOT NULL, [detail] TEXT
);
CREATE INDEX IF NOT EXISTS [idx_{EVENTS}_article_id] ON [{EVENTS}] (article_id, at);
CREATE INDEX IF NOT EXISTS [idx_{ARTICLES}_removed_at] ON [{ARTICLES}] (removed_at)
   WHERE removed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS [idx_{ARTICLES}_missing_since] ON [{ARTICLES}] (missing_since)
   WHERE missing_since IS NOT NULL;
CREATE INDEX IF NOT EXISTS [idx_{ARTICLES}_withdrawn_at] ON [{ARTICLES}] (withdrawn_at)
   WHERE withdrawn_at IS NOT NULL;
CREATE VIEW IF NOT EXISTS [missing_articles] AS
   SELECT l.url, l.lastmod, l.sitemap, l.first_listed FROM [{LISTINGS}] l
   WHERE l.last_listed >= {current}
     AND NOT EXISTS (SELECT 1 FROM [{ARTICLES}] a WHERE a.url = l.url)
     AND NOT EXISTS (SELECT 1 FROM [{ALIASES}] x WHERE x.url = l.url);
CREATE VIEW IF NOT EXISTS [removed_articles] AS
   SELECT id, title, url, published, section, missing_since, removed_at, removal_reason
   FROM [{ARTICLES}] WHERE removed_at IS NOT NULL;
CREATE VIEW IF NOT EXISTS [withdrawn_articles] AS
   SELECT id, title, url, published, section, withdrawn_at, withdrawal_reason
   FROM [{ARTICLES}] WHERE withdrawn_at IS NOT NULL;
"""


# Images and stylesheets (archive.images): each content kept once, keyed by its SHA-256; the URLs
# they were fetched from; and which articles use which image, as lead or in the body.
MEDIA = "media"
MEDIA_URLS = "media_urls"
ARTICLE_IMAGES = "article_images"
MEDIA_COLUMNS: dict[str, type] = {
    "sha256": str,
    "kind": str,
    "content_type": str,
    "size": int,
    "fetched_at": str,
    "body": bytes,
}
MEDIA_URL_COLUMNS: dict[str, type] = {
    "url": str,
    "sha256": str,
    "fetched_url": str,
    "fetched_at": str,
    "run_id": int,
}


def _media_sql() -> str:
    return (
        _table_sql(MEDIA, MEDIA_COLUMNS, "sha256", autoincrement=False)
        + _table_sql(MEDIA_URLS, MEDIA_URL_COLUMNS, "url", autoincrement=False)
        + f"""CREATE INDEX IF NOT EXISTS [idx_{MEDIA_URLS}_sha256] ON [{MEDIA_URLS}] (sha256);
CREATE TABLE IF NOT EXISTS [{ARTICLE_IMAGES}] (
   [article_id] INTEGER NOT NULL REFERENCES [{ARTICLES}]([id]),
   [url] TEXT NOT NULL,
   [role] TEXT NOT NULL,
   PRIMARY KEY (article_id, url, role)
);
CREATE INDEX IF NOT EXISTS [idx_{ARTICLE_IMAGES}_url] ON [{ARTICLE_IMAGES}] (url);
"""
    )


def create_schema_sql() -> str:
    """The whole schema as one script of idempotent statements, for one transaction."""
    sql = _articles_sql()
    for cols in ARTICLE_INDEXES:
        name = f"idx_{ARTICLES}_{'_'.join(cols)}".replace(" ", "_")
        sql += f"CREATE INDEX IF NOT EXISTS [{name}] ON [{ARTICLES}] ({', '.join(cols)});\n"
    sql += _fts_sql()
    sql += _authors_sql()
    sql += f"""CREATE TABLE IF NOT EXISTS [{VERSIONS}] (
   [article_id] INTEGER NOT NULL REFERENCES [{ARTICLES}]([id]),
   [version] INTEGER NOT NULL,
   [fetched_at] TEXT,
   [run_id] INTEGER,
   {", ".join(f"[{f}] TEXT" for f in VERSIONED_FIELDS)},
   [version_hash] TEXT,
   PRIMARY KEY (article_id, version)
);
"""
    sql += _table_sql(RUNS, RUN_COLUMNS, "id", autoincrement=True)
    sql += _table_sql(FAILURES, FAILURE_COLUMNS, "id", autoincrement=True)
    sql += f"CREATE INDEX IF NOT EXISTS [idx_{FAILURES}_url] ON [{FAILURES}] (url);\n"
    sql += _table_sql(ALIASES, ALIAS_COLUMNS, "url", autoincrement=False)
    sql += _table_sql(RETRIES, RETRY_COLUMNS, "url", autoincrement=False)
    sql += f"CREATE INDEX IF NOT EXISTS [idx_{RETRIES}_next_try] ON [{RETRIES}] (next_try);\n"
    sql += f"CREATE INDEX IF NOT EXISTS [idx_{ALIASES}_article_url] ON [{ALIASES}] (article_url);\n"
    sql += _table_sql(RESPONSES, RESPONSE_COLUMNS, "id", autoincrement=True)
    sql += (
        f"CREATE INDEX IF NOT EXISTS [idx_{RESPONSES}_final_url] ON [{RESPONSES}] "
        "(final_url, id);\n"
    )
    sql += _table_sql(META, {"key": str, "value": str}, "key", autoincrement=False)
    sql += _record_sql()
    sql += _media_sql()
    sql += f"PRAGMA application_id = {APPLICATION_ID};\nPRAGMA user_version = {SCHEMA_VERSION};\n"
    return sql


def migration_sql(conn) -> str:
    """What brings an archive of an older schema to SCHEMA_VERSION, as one script: columns a
    newer schema adds, and whatever of the schema is missing (an archive whose first run was
    killed before the full-text triggers existed gets them, and its index is rebuilt).

    Schemas 1 and 2 keyed articles by URL alone, the full-text index hanging on the implicit
    rowid (which VACUUM may renumber): their articles table is rebuilt with an integer id
    (the old rowid, kept) and the index is made anew with stems."""

    def present(table: str) -> list[str]:
        return [row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")]

    sql = ""
    for table, columns in (
        (RUNS, RUN_COLUMNS),
        (FAILURES, FAILURE_COLUMNS),
        (ARTICLES, RECORD_COLUMNS),
    ):
        have = present(table)
        for name, typ in columns.items():
            if have and name not in have:
                sql += f"ALTER TABLE [{table}] ADD COLUMN [{name}] {_SQL_TYPES[typ]};\n"
    triggers = {
        name for (name,) in conn.execute("select name from sqlite_master where type = 'trigger'")
    }
    have = present(ARTICLES)
    rebuild = not any(
        row[1] == "id" and row[5] == 1 for row in conn.execute(f"PRAGMA table_info([{ARTICLES}])")
    )
    if rebuild:
        for name in (f"{ARTICLES}_ai", f"{ARTICLES}_ad", f"{ARTICLES}_au"):
            sql += f"DROP TRIGGER IF EXISTS [{name}];\n"
        sql += f"DROP TABLE IF EXISTS [{ARTICLES}_fts];\n"
        for (name,) in conn.execute(
            "select name from sqlite_master where type = 'index' and "
            "tbl_name = ? and sql is not null",
            [ARTICLES],
        ):
            sql += f"DROP INDEX [{name}];\n"
        sql += f"ALTER TABLE [{ARTICLES}] RENAME TO [{ARTICLES}_v2];\n"
        sql += _articles_sql()
        common = ", ".join(f"[{c}]" for c in article_columns() if c in have)
        sql += (
            f"INSERT INTO [{ARTICLES}] (id, {common}) SELECT rowid, {common} "
            f"FROM [{ARTICLES}_v2] ORDER BY rowid;\n"
        )
        sql += f"DROP TABLE [{ARTICLES}_v2];\n"
        sql += (
            f"UPDATE [{ARTICLES}] SET published_utc = {PUBLISHED_UTC_SQL} "
            "WHERE published_utc IS NULL;\n"
        )
    sql += create_schema_sql()
    if rebuild or not {f"{ARTICLES}_ai", f"{ARTICLES}_ad", f"{ARTICLES}_au"} <= triggers:
        sql += reindex_sql()
    if f"{AUTHORS}_ai" not in triggers:
        sql += (
            f"DELETE FROM [{AUTHORS}];\nINSERT INTO [{AUTHORS}] (article_id, author) "
            f"SELECT a.id, j.value FROM [{ARTICLES}] a, json_each(a.authors) j "
            "WHERE json_valid(a.authors) AND j.value != '';\n"
        )
    return sql


# The UTC instant of the published column, in SQL (SQLite reads the ISO offset).
PUBLISHED_UTC_SQL = "strftime('%Y-%m-%dT%H:%M:%SZ', published)"

"""The archive's Datasette plugin: one search language and one search for the CLI and Datasette.

- `ciudadano_search(q, section, since, until, sort)`, an SQL function on every connection,
  runs archive.search.search itself and returns its hits as JSON: the canned query `search`
  (`/DB/search?q=...`) is a thin SQL wrapper around it, so both answer a query the same way.
- Searches are checked before Datasette sees them (archive.query's grammar and bounds, the
  filters' dates): a bad one gets HTTP 400 and one line, never a stalled server.
- The articles table's own `_search` box is sent to the ranked, stemmed search page.
- The reading room, in Spanish: the results page (results.py, /-/buscar/DB), the article page
  and its versions' diffs (article.py, diff.py), coverage at a glance (coverage.py), kept pages
  (kept.py); every HTML page declares `lang="es"`.
- Every SQL function registered here bounds its own work: SQLite's time limit cannot interrupt
  Python (ciudadano_diff: diff.py's step budget; ciudadano_search: archive.search's deadline).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from archive.datasette.plugin.article import article_path
from archive.datasette.plugin.diff import word_diff_text
from archive.filters import FilterError, Slice
from archive.query import SearchError, fts_query
from archive.schema import ARTICLES

# Query-string parameters that carry a full-text query.
SEARCH_PARAMS = ("_search", "q")
SEARCH_FUNCTION = "ciudadano_search"
DIFF_FUNCTION = "ciudadano_diff"
SEARCH_LIMIT = 50
SEARCH_SECONDS = 2.0


@hookimpl
def prepare_connection(conn, database, datasette):
    # bounded (a Python function escapes SQLite's time limit): issue "hostile input", item 11
    conn.create_function(DIFF_FUNCTION, 2, word_diff_text, deterministic=True)
    db = datasette.databases.get(database)
    path = getattr(db, "path", None)
    if not path:
        return

    def ciudadano_search(q, section=None, since=None, until=None, sort=None):
        from archive.search import search

        if not q or not q.strip():
            return "[]"
        hits = search(
            path,
            q,
            Slice(section or None, since or None, until or None),
            limit=SEARCH_LIMIT,
            time_limit=SEARCH_SECONDS,
            sort=sort or "relevance",
        )
        return json.dumps(
            [{"id": h["id"], "rank": h["rank"], "snippet": h["snippet"]} for h in hits],
            ensure_ascii=False,
        )

    conn.create_function(SEARCH_FUNCTION, 5, ciudadano_search)


@hookimpl
def register_routes(datasette):
    from archive.datasette.plugin import article, coverage, kept, results

    return [
        (article.ARTICLE_ROUTE, article.article_page),
        (article.DIFF_ROUTE, article.diff_page),
        (results.ROUTE, results.results_page),
        (coverage.ROUTE, coverage.coverage_page),
        (kept.KEPT_ROUTE, kept.kept_page),
        (kept.MEDIA_ROUTE, kept.media),
    ]


LIST_COLUMNS = ("authors", "tags", "categories")


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """An article's title links to its article page, in the table and in search results;
    lists (authors, tags) read as lists, not JSON."""
    if table not in (None, ARTICLES) or value is None:
        return None
    if column in LIST_COLUMNS and isinstance(value, str) and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        return ", ".join(str(item) for item in items) if isinstance(items, list) else None
    if column != "title":
        return None
    try:
        article_id = row["id"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(article_id, int) or isinstance(article_id, bool):  # SQL may name anything
        return None
    from markupsafe import Markup, escape

    href = escape(article_path(database, article_id))
    return Markup(f'<a href="{href}">{escape(value)}</a>')


@hookimpl
def extra_body_script(template, database, table, columns, view_name, request, datasette):
    """The articles table opens on its articles: the column descriptions fold away."""
    if view_name != "table":
        return None
    return (
        "document.querySelectorAll('dl.column-descriptions').forEach(function (dl) {"
        "var d = document.createElement('details');"
        "var s = document.createElement('summary');"
        "s.textContent = 'What the columns mean';"
        "dl.parentNode.insertBefore(d, dl); d.appendChild(s); d.appendChild(dl); });"
    )


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def checked(scope, receive, send):
            if scope.get("type") == "http":
                query_string = scope.get("query_string", b"")
                # the reading room's own pages (/-/...) answer a bad search themselves
                own = scope.get("path", "").startswith("/-/")
                problem = None if own else _search_problem(query_string)
                if problem:
                    await _refuse(send, scope, problem)
                    return
                target = _table_search_target(scope.get("path", ""), query_string)
                if target:
                    await _redirect(send, target)
                    return
                shown = await _without_withdrawn(datasette, scope)
                if shown is None:
                    await _refuse(
                        send,
                        scope,
                        "Este artículo fue retirado de la vista pública.",
                        status=404,
                        title="Artículo retirado",
                    )
                    return
                scope = shown
                send = _in_spanish(send)
            await app(scope, receive, send)

        return checked

    return wrap


def _in_spanish(send):
    """send, with every HTML page declaring its language: `<html lang="es">` (Datasette's own
    pages too). An HTML response's start is held until its first body part, where the tag is."""
    held = []

    async def sending(message):
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            if headers.get(b"content-type", b"").startswith(b"text/html"):
                held.append(message)
                return
        elif message["type"] == "http.response.body" and held:
            start = held.pop()
            body = message.get("body", b"")
            if _HTML in body[:1024]:
                grown = len(_LANG) - len(_HTML)
                start = {
                    **start,
                    "headers": [
                        (k, str(int(v) + grown).encode() if k.lower() == b"content-length" else v)
                        for k, v in start["headers"]
                    ],
                }
                message = {**message, "body": body.replace(_HTML, _LANG, 1)}
            await send(start)
        await send(message)

    return sending


_HTML, _LANG = b"<html>", b'<html lang="es">'


def _search_problem(query_string: bytes) -> str | None:
    params = dict(parse_qsl(query_string.decode("utf-8", "replace")))
    for name, value in params.items():
        if (name in SEARCH_PARAMS or name.startswith("_search_")) and value.strip():
            try:
                fts_query(value)
            except SearchError as err:
                return f"search: {err}"
    if "q" in params:
        try:
            Slice(
                params.get("section") or None,
                params.get("since") or None,
                params.get("until") or None,
            )
        except FilterError as err:
            return f"search: {str(err).replace('--from', 'since').replace('--to', 'until')}"
        if params.get("sort") not in (None, "", "relevance", "date"):
            return "search: sort must be relevance or date"
    return None


def _table_search_target(path: str, query_string: bytes) -> str | None:
    """/DB/articles?_search=x -> /DB/search?q=x (and .json): the table's own search is neither
    ranked nor stemmed."""
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[1] not in (ARTICLES, f"{ARTICLES}.json"):
        return None
    params = dict(parse_qsl(query_string.decode("utf-8", "replace")))
    q = params.get("_search", "").strip()
    if not q:
        return None
    suffix = ".json" if parts[1].endswith(".json") else ""
    keep = {"q": q}
    if params.get("_shape"):
        keep["_shape"] = params["_shape"]
    return f"/{parts[0]}/search{suffix}?{urlencode(keep)}"


async def _redirect(send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _without_withdrawn(datasette, scope: dict) -> dict | None:
    """scope, with the articles table's pages (HTML, JSON, CSV) filtered to the articles in
    public view; None for the row page of a withdrawn article (ciudadano withdraw). Arbitrary
    SQL can still read them: the file holds them, by design."""
    parts = scope.get("path", "").strip("/").split("/")
    db = datasette.databases.get(parts[0]) if len(parts) in (2, 3) else None
    if db is None or parts[1].split(".")[0] != ARTICLES:
        return scope
    if "withdrawn_at" not in await db.table_columns(ARTICLES):
        return scope  # an archive from before withdrawal
    if len(parts) == 3:
        row = parts[2].split(".")[0]
        withdrawn = (
            row.isdigit()
            and (
                await db.execute(
                    f"select withdrawn_at is not null from {ARTICLES} where id = ?", [int(row)]
                )
            ).first()
        )
        return None if withdrawn and withdrawn[0] else scope
    query = scope.get("query_string", b"")
    hidden = b"withdrawn_at__isnull=1"
    return {**scope, "query_string": query + (b"&" if query else b"") + hidden}


async def _refuse(
    send, scope, message: str, status: int = 400, title: str = "Error en la búsqueda"
) -> None:
    wants_json = scope.get("path", "").endswith(".json")
    if wants_json:
        body = json.dumps({"ok": False, "error": message, "status": status}).encode()
        content_type = b"application/json; charset=utf-8"
    else:
        body = (
            f"<!DOCTYPE html><html lang='es'><head><meta charset='utf-8'><title>{title}"
            f"</title></head><body><h1>{title}</h1><p>"
            f"{_escape(message)}</p><p><a href='/'>Volver al inicio</a></p></body></html>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""The archive's Datasette plugin: one search language and one search for the CLI and Datasette.

- `ciudadano_search(q, section, since, until, sort)`, an SQL function on every connection,
  runs archive.search.search itself and returns its hits as JSON: the canned query `search`
  (`/DB/search?q=...`) is a thin SQL wrapper around it, so both answer a query the same way.
- Searches are checked before Datasette sees them (archive.query's grammar and bounds, the
  filters' dates): a bad one gets HTTP 400 and one line, never a stalled server.
- The articles table's own `_search` box is sent to the ranked, stemmed search page.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.filters import FilterError, Slice
from archive.query import SearchError, fts_query
from archive.schema import ARTICLES, VERSIONS
from archive.versions import word_diff

# Query-string parameters that carry a full-text query.
SEARCH_PARAMS = ("_search", "q")
SEARCH_FUNCTION = "ciudadano_search"
DIFF_FUNCTION = "ciudadano_diff"
SEARCH_LIMIT = 50
SEARCH_SECONDS = 2.0


@hookimpl
def prepare_connection(conn, database, datasette):
    conn.create_function(DIFF_FUNCTION, 2, word_diff, deterministic=True)
    db = datasette.databases.get(database)
    path = getattr(db, "path", None)
    if not path:
        return

    def ciudadano_search(q, section=None, since=None, until=None, sort=None):
        from archive.search import search

        if not q or not q.strip():
            return "[]"
        hits = search(path, q, Slice(section or None, since or None, until or None),
                      limit=SEARCH_LIMIT, time_limit=SEARCH_SECONDS, sort=sort or "relevance")
        return json.dumps([{"id": h["id"], "rank": h["rank"], "snippet": h["snippet"]}
                           for h in hits], ensure_ascii=False)

    conn.create_function(SEARCH_FUNCTION, 5, ciudadano_search)
    conn.create_function(DIFF_FUNCTION, 2, word_diff, deterministic=True)


ARTICLE_ROUTE = r"^/-/article/(?P<database>[^/]+)/(?P<id>[0-9]+)$"


def article_path(database: str, article_id) -> str:
    return f"/-/article/{database}/{article_id}"


@hookimpl
def register_routes(datasette):
    return [(ARTICLE_ROUTE, article_page)]


async def article_page(datasette, request):
    """An article as it reads: title, standfirst, byline, image, body, tags, source, versions;
    its raw columns one click away."""
    from datasette.utils.asgi import NotFound

    database = request.url_vars["database"]
    article_id = int(request.url_vars["id"])
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no archive named {database}") from None
    found = await db.execute(f"select * from {ARTICLES} where id = ?", [article_id])
    row = found.first()
    if row is None:
        raise NotFound(f"no article {article_id} in {database}")
    article = dict(row)
    for name in ("authors", "tags", "categories"):
        try:
            article[name] = json.loads(article.get(name) or "[]")
        except ValueError:
            article[name] = []
    article["paragraphs"] = [p.strip() for p in (article.get("body") or "").split("\n\n")
                             if p.strip()]
    if article.get("body_html"):
        # cleaned when parsed; cleaned again here, since an import may have brought it
        from markupsafe import Markup

        from archive.body import clean_html

        article["body_markup"] = Markup(clean_html(article["body_html"]))
    article["published_label"] = _when(article.get("published"))
    article["modified_label"] = _when(article.get("modified"))
    versions = []
    if await db.table_exists(VERSIONS):
        versions = [dict(v) for v in (await db.execute(
            f"select version, fetched_at, title from {VERSIONS} where article_id = ? "
            "order by version", [article_id])).rows]
    return Response.html(await datasette.render_template(
        "ciudadano_article.html",
        {"article": article, "versions": versions, "database": database},
        request=request))


def _when(iso: str | None) -> str:
    """'2025-09-07T01:30:00-03:00' -> '7 de septiembre de 2025, 01:30 (UTC-03:00)'."""
    from datetime import datetime

    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    months = ("enero febrero marzo abril mayo junio julio agosto septiembre octubre "
              "noviembre diciembre").split()
    offset = moment.strftime("%z")
    zone = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return f"{moment.day} de {months[moment.month - 1]} de {moment.year}, {moment:%H:%M}{zone}"


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
    if article_id is None:
        return None
    from markupsafe import Markup, escape

    return Markup(f'<a href="{article_path(database, article_id)}">{escape(value)}</a>')


@hookimpl
def extra_body_script(template, database, table, columns, view_name, request, datasette):
    """The articles table opens on its articles: the column descriptions fold away."""
    if view_name != "table":
        return None
    return ("document.querySelectorAll('dl.column-descriptions').forEach(function (dl) {"
            "var d = document.createElement('details');"
            "var s = document.createElement('summary');"
            "s.textContent = 'What the columns mean';"
            "dl.parentNode.insertBefore(d, dl); d.appendChild(s); d.appendChild(dl); });")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def checked(scope, receive, send):
            if scope.get("type") == "http":
                query_string = scope.get("query_string", b"")
                problem = _search_problem(query_string)
                if problem:
                    await _refuse(send, scope, problem)
                    return
                target = _table_search_target(scope.get("path", ""), query_string)
                if target:
                    await _redirect(send, target)
                    return
            await app(scope, receive, send)

        return checked

    return wrap


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
            Slice(params.get("section") or None, params.get("since") or None,
                  params.get("until") or None)
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
    await send({"type": "http.response.start", "status": 302,
                "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


async def _refuse(send, scope, message: str) -> None:
    wants_json = scope.get("path", "").endswith(".json")
    if wants_json:
        body = json.dumps({"ok": False, "error": message, "status": 400}).encode()
        content_type = b"application/json; charset=utf-8"
    else:
        body = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Search error"
                f"</title></head><body><h1>Search error</h1><p>{_escape(message)}</p>"
                "<p><a href='javascript:history.back()'>Back</a></p></body></html>").encode()
        content_type = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

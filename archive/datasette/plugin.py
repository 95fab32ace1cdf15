"""The archive's Datasette plugin: searches through Datasette obey the same query bounds as
`ciudadano search` (archive.query), so one request cannot stall the server for everyone."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from datasette import hookimpl

from archive.query import SearchError, fts_query

# Query-string parameters that carry a full-text query.
SEARCH_PARAMS = ("_search", "q")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def checked(scope, receive, send):
            if scope.get("type") == "http":
                problem = _search_problem(scope.get("query_string", b""))
                if problem:
                    await _refuse(send, scope, problem)
                    return
            await app(scope, receive, send)

        return checked

    return wrap


def _search_problem(query_string: bytes) -> str | None:
    for name, value in parse_qsl(query_string.decode("utf-8", "replace")):
        if (name in SEARCH_PARAMS or name.startswith("_search_")) and value.strip():
            try:
                fts_query(value)
            except SearchError as err:
                return f"search: {err}"
    return None


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

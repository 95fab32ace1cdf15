"""Kept pages and kept images, served from the archive alone.

URL patterns (DATABASE is the archive's name in Datasette, `elciudadano` under
`ciudadano serve`):

- `/-/ciudadano/kept/DATABASE/RESPONSE_ID`: a kept version of an article's page, as it was
  fetched. RESPONSE_ID is a row of the `responses` table with source `html`; an article's kept
  versions are `select id, fetched_at from responses where final_url = ARTICLE_URL and
  source = 'html' order by id` (archive.raw.page_versions). A banner in Spanish names the
  page's URL and when it was fetched. Its images and stylesheets come from the archive
  (archive.images); one the archive does not keep shows as absent, never fetched from the site.
  Nothing runs and nothing loads from anywhere else: scripts, frames, objects, event
  handlers, `<base>`, refreshes and every other link are removed, and a Content-Security-Policy
  (KEPT_PAGE_POLICY: no script, nothing from another origin, a sandbox) forbids them anyway.
- `/-/ciudadano/media/DATABASE/SHA256`: a kept image or stylesheet by the SHA-256 of its bytes,
  with the type its bytes showed when kept, `nosniff` and a policy that lets nothing run.
  media_path() makes it; kept_media_paths() maps URLs (an article's image_url) to it.
"""

from __future__ import annotations

import json
import re
from html import escape
from urllib.parse import urljoin

from datasette.utils.asgi import NotFound, Response

from archive.dates import when
from archive.images import has_media, media_by_url, media_content
from archive.raw import decompress
from archive.schema import ARTICLES, RESPONSES

KEPT_ROUTE = r"^/-/ciudadano/kept/(?P<database>[^/]+)/(?P<id>[0-9]+)$"
MEDIA_ROUTE = r"^/-/ciudadano/media/(?P<database>[^/]+)/(?P<sha256>[0-9a-f]{64})$"

# No script, nothing from another origin, no form, no frame, no plugin: a sandbox.
KEPT_PAGE_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)
MEDIA_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# (no Cross-Origin-Resource-Policy: a sandboxed kept page has an opaque origin, and its
# images and stylesheets come from this server all the same)
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

# Removed with their content: whatever could run, load, frame or redirect.
_DROPPED = {
    "script",
    "noscript",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "template",
    "portal",
    "video",
    "audio",
    "source",
    "track",
}
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "poster", "background", "xlink:href")
_LAZY_SOURCES = ("data-src", "data-lazy-src", "data-orig-file")
_ABSENT_STYLE = "outline:2px dashed #999;min-width:40px;min-height:30px"
# What CSS would load (a background, a font, an import), in the page's own styles: none.
_CSS_LOADS = re.compile(
    r"""url\(\s*(?!['"]?data:)[^)]*\)|@import\s+['"][^'"]*['"]""", re.IGNORECASE
)


def media_path(database: str, digest: str) -> str:
    return f"/-/ciudadano/media/{database}/{digest}"


def kept_page_path(database: str, response_id: int) -> str:
    return f"/-/ciudadano/kept/{database}/{response_id}"


async def kept_media_paths(db, database: str, urls: list[str]) -> dict[str, str]:
    """url -> the media route of the kept copy, for those of urls the archive keeps (db: a
    Datasette database). For the article page's lead image, instead of the live site."""
    found = await db.execute_fn(lambda conn: media_by_url(conn, urls) if has_media(conn) else {})
    return {url: media_path(database, digest) for url, digest in found.items()}


async def media(datasette, request):
    """A kept image or stylesheet, by its SHA-256."""
    db = _database(datasette, request)
    digest = request.url_vars["sha256"]
    found = await db.execute_fn(
        lambda conn: media_content(conn, digest) if has_media(conn) else None
    )
    if found is None:
        raise NotFound("la imagen no está en el archivo")
    content_type, body = found
    return Response(
        body,
        content_type=content_type,
        headers={
            **SAFE_HEADERS,
            "Content-Security-Policy": MEDIA_POLICY,
            "Cache-Control": "public, max-age=31536000, immutable",
        },
    )


async def kept_page(datasette, request):
    """A kept page as it was fetched, from the archive alone (see the module's docstring). The
    page is parsed and rewritten off Datasette's SQL threads, which every page shares."""
    import asyncio

    db = _database(datasette, request)
    database, response_id = request.url_vars["database"], int(request.url_vars["id"])
    row = await db.execute_fn(lambda conn: _kept_row(conn, response_id))
    if row is None:
        raise NotFound(f"no hay una página archivada {response_id} en {database}")
    page_url, headers, fetched_at, blob, article_id = row
    document, urls = await asyncio.to_thread(_parsed, blob, headers, page_url)
    kept = await db.execute_fn(
        lambda conn: media_by_url(conn, sorted(set(urls.values()))) if has_media(conn) else {}
    )
    page = await asyncio.to_thread(
        _rendered, document, urls, kept, database, page_url, fetched_at, article_id
    )
    return Response.html(
        page, headers={**SAFE_HEADERS, "Content-Security-Policy": KEPT_PAGE_POLICY}
    )


def _database(datasette, request):
    try:
        return datasette.get_database(request.url_vars["database"])
    except KeyError:
        raise NotFound(f"no hay un archivo llamado {request.url_vars['database']}") from None


# A kept page larger than this is shown as its banner alone (the parser reads no more either).
MAX_PAGE_BYTES = 10 * 1024 * 1024
SQLITE_MAX_ID = 2**63 - 1


def _kept_row(conn, response_id: int):
    """(url, headers, fetched_at, compressed body, article id) of a kept article page, or None
    (none such, or its article withdrawn from public view)."""
    if response_id > SQLITE_MAX_ID:
        return None
    row = conn.execute(
        f"select final_url, headers, fetched_at, body from {RESPONSES} "
        "where id = ? and source = 'html'",
        [response_id],
    ).fetchone()
    if row is None:
        return None
    withdrawal = (
        "withdrawn_at"
        if any(c[1] == "withdrawn_at" for c in conn.execute(f"PRAGMA table_info([{ARTICLES}])"))
        else "null"
    )
    article = conn.execute(
        f"select id, {withdrawal} from {ARTICLES} where url = ?", [row[0]]
    ).fetchone()
    if article and article[1]:
        return None
    return (*row, article[0] if article else None)


def _parsed(blob: bytes, headers: str | None, page_url: str):
    """The kept page's document, stripped of what could run or load, and the URLs of the images
    and stylesheets it names; an empty, unparseable or oversized page is an empty document."""
    import lxml.html
    from lxml import etree

    body = decompress(blob)
    document = None
    if len(body) <= MAX_PAGE_BYTES:
        try:
            parser = lxml.html.HTMLParser(encoding=_charset(headers))
            document = lxml.html.document_fromstring(body, parser=parser)
        except (etree.ParserError, ValueError):
            document = None
    if document is None:
        document = lxml.html.document_fromstring("<html><head></head><body></body></html>")
    _strip(document)
    return document, _media_urls(document, page_url)


def _rendered(
    document,
    urls: dict,
    kept: dict,
    database: str,
    page_url: str,
    fetched_at: str,
    article_id: int | None,
) -> str:
    import lxml.html

    _rewrite(document, urls, {url: media_path(database, d) for url, d in kept.items()})
    _add_banner(document, page_url, fetched_at, database, article_id)
    return lxml.html.tostring(document, doctype="<!DOCTYPE html>", encoding="unicode")


def _charset(headers: str | None) -> str | None:
    """The charset the page's Content-Type named (UTF-8, the site's, for a name Python does not
    know); None when it names none, and lxml reads the page's own meta."""
    import codecs

    try:
        values = json.loads(headers or "{}").get("Content-Type", [])
    except (ValueError, AttributeError):
        return None
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and "charset=" in value.lower():
            name = value.lower().split("charset=")[1].split(";")[0].strip().strip('"')
            try:
                return codecs.lookup(name).name if name else None
            except LookupError:  # a name no codec has: the site writes UTF-8
                return "utf-8"
    return None


def _strip(document) -> None:
    """Remove what could run or load, whatever the policy says."""
    for element in list(document.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            if element.getparent() is not None:
                element.drop_tree()
            continue
        tag = element.tag.lower()
        if tag in _DROPPED or _loads_elsewhere(element, tag):
            element.drop_tree()
            continue
        if tag == "style" and element.text:
            element.text = _quiet_css(element.text)
        for name in list(element.attrib):
            lowered = name.lower()
            value = element.attrib[name].strip().lower()
            if (
                lowered.startswith("on")
                or lowered in ("srcset", "sizes", "ping")
                or (lowered in _URL_ATTRIBUTES and value.startswith(("javascript:", "vbscript:")))
            ):
                del element.attrib[name]
            elif lowered == "style":
                element.set(name, _quiet_css(element.attrib[name]))


def _quiet_css(css: str) -> str:
    """css with nothing to load: url()s become none, string @imports go."""
    return _CSS_LOADS.sub(lambda m: "" if m.group(0).startswith("@") else "none", css)


def _loads_elsewhere(element, tag: str) -> bool:
    """A link other than a stylesheet (preload, prefetch, icon, ...), or a meta that acts
    (refresh, cookies, another policy)."""
    if tag == "link":
        return "stylesheet" not in (element.get("rel") or "").lower().split()
    return tag == "meta" and element.get("http-equiv") is not None


def _media_urls(document, page_url: str) -> dict:
    """element -> the absolute URL of the image or stylesheet it shows."""
    urls = {}
    for element in document.iter("img", "link", "input"):
        if element.tag == "link":
            source = element.get("href")
        else:
            source = next(
                (element.get(a) for a in ("src", *_LAZY_SOURCES) if (element.get(a) or "").strip()),
                None,
            )
        if source and not source.strip().startswith("data:"):
            urls[element] = urljoin(page_url, source.strip())
    return urls


def _rewrite(document, urls: dict, kept: dict[str, str]) -> None:
    """Images and stylesheets from the archive; those it lacks, absent."""
    for element, url in urls.items():
        path = kept.get(url)
        if element.tag == "link":
            if path is None:
                element.drop_tree()
            else:
                element.set("href", path)
            continue
        for name in _LAZY_SOURCES:
            element.attrib.pop(name, None)
        if path is None:
            element.attrib.pop("src", None)
            element.set("data-ausente", url)
            element.set("alt", element.get("alt") or "Imagen no archivada")
            element.set("style", _ABSENT_STYLE)
        else:
            element.set("src", path)


def _add_banner(
    document, page_url: str, fetched_at: str, database: str, article_id: int | None
) -> None:
    import lxml.html

    back = (
        f' · <a href="/-/article/{escape(database)}/{article_id}" style="color:#fff">'
        "Ver el artículo en el archivo</a>"
        if article_id is not None
        else ""
    )
    banner = lxml.html.fragment_fromstring(
        '<div id="ciudadano-archivo" role="note" style="position:relative;z-index:2147483647;'
        "background:#1b3a5c;color:#fff;font:15px/1.4 system-ui,sans-serif;padding:10px 16px;"
        'border-bottom:3px solid #f2c14e">'
        f"<strong>Página archivada</strong> de <span>{escape(page_url)}</span>, obtenida el "
        f"{escape(when(fetched_at))}. Se muestra desde el archivo, sin scripts ni "
        f"conexiones a otros sitios; las imágenes no archivadas aparecen ausentes.{back}</div>"
    )
    body = document.find("body")
    if body is None:
        body = lxml.html.Element("body")
        document.append(body)
    body.insert(0, banner)

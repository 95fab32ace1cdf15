"""The article page (/-/article/DB/ID) and what changed between two of its versions
(/-/cambios/DB/ID?from=N&to=M): human dates, the lead image from the archive only, the versions
with one line each on what changed, a word-by-word diff bounded in time."""

from __future__ import annotations

import html
import json
import re

from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup

from archive.datasette.plugin import kept
from archive.datasette.plugin.diff import Budget, text_diff, words_changed
from archive.dates import day_label, number, short, when
from archive.schema import ARTICLES, RESPONSES, VERSIONED_FIELDS, VERSIONS

ARTICLE_ROUTE = r"^/-/article/(?P<database>[^/]+)/(?P<id>[0-9]+)$"
DIFF_ROUTE = r"^/-/cambios/(?P<database>[^/]+)/(?P<id>[0-9]+)$"
LIST_FIELDS = ("authors", "tags", "categories")
FIELD_NAMES = {
    "title": "título",
    "subtitle": "bajada",
    "body": "cuerpo",
    "section": "sección",
    "authors": "autores",
    "tags": "etiquetas",
    "modified": "fecha de modificación",
}
MAX_VERSIONS = 200  # the newest, for an article edited that often


def article_path(database: str, article_id) -> str:
    return f"/-/article/{database}/{article_id}"


def diff_path(database: str, article_id, old: int, new: int) -> str:
    return f"/-/cambios/{database}/{article_id}?from={old}&to={new}"


async def _article(datasette, request) -> tuple:
    database = request.url_vars["database"]
    article_id = int(request.url_vars["id"])
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no hay un archivo llamado {database}") from None
    if article_id > 2**63 - 1:  # past SQLite's integers: no such article
        raise NotFound(f"no hay un artículo {article_id} en {database}")
    row = (await db.execute(f"select * from {ARTICLES} where id = ?", [article_id])).first()
    if row is None or dict(row).get("withdrawn_at"):  # withdrawn: ciudadano withdraw
        raise NotFound(f"no hay un artículo {article_id} en {database}")
    article = dict(row)
    article["stored"] = dict(row)  # the columns as stored, for comparing versions
    # a link to the live page only for a web address (an old import may hold javascript:)
    article["live_url"] = (
        article["url"] if str(article["url"]).startswith(("http://", "https://")) else None
    )
    for name in LIST_FIELDS:
        article[name] = _list(article.get(name))
    return db, database, article


def _list(value) -> list:
    try:
        items = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [str(i) for i in items] if isinstance(items, list) else []


async def _versions(db, article: dict) -> list[dict]:
    """Every version, oldest first, the current one (the articles row) last; each with its
    fetch time and the run that fetched it."""
    fields = ", ".join(f"[{f}]" for f in VERSIONED_FIELDS)
    older = []
    if await db.table_exists(VERSIONS):
        older = [
            dict(r)
            for r in (
                await db.execute(
                    f"select * from (select version, fetched_at, run_id, {fields} from {VERSIONS} "
                    "where article_id = ? order by version desc limit ?) order by version",
                    [article["id"], MAX_VERSIONS],
                )
            ).rows
        ]
    current = {f: article["stored"].get(f) for f in VERSIONED_FIELDS}
    current.update(
        version=(older[-1]["version"] + 1) if older else 1,
        fetched_at=article.get("last_changed"),
        run_id=article.get("run_id"),
        current=True,
    )
    for version in older:
        version["current"] = False
    return older + [current]


def _summary(before: dict | None, after: dict) -> str:
    """One line: which fields changed, and the body's words added and removed."""
    if before is None:
        return "primera versión archivada"
    changed = [f for f in VERSIONED_FIELDS if (before.get(f) or "") != (after.get(f) or "")]
    if not changed:
        return "sin cambios en el texto"
    named = [WITH_ARTICLE[f] for f in changed]
    plural = len(changed) > 1 or changed[0] in ("authors", "tags")
    line = ("cambiaron " if plural else "cambió ") + _listed(named)
    if "body" in changed:
        added, removed = words_changed(before.get("body"), after.get("body"))
        line += f" ({words_told(added, removed)})"
    return line


# FIELD_NAMES as a sentence names them: "cambió la bajada", "cambiaron los autores"
WITH_ARTICLE = {
    "title": "el título",
    "subtitle": "la bajada",
    "body": "el cuerpo",
    "section": "la sección",
    "authors": "los autores",
    "tags": "las etiquetas",
    "modified": "la fecha de modificación",
}


def _listed(names: list[str]) -> str:
    """'a', 'a y b', 'a, b y c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " y " + names[-1]


def words_told(added: int, removed: int) -> str:
    """The body's words added and removed as a sentence says them: '5 palabras añadidas,
    ninguna quitada', '1 palabra añadida, 3 quitadas'."""
    if added:
        said = (
            f"{number(added)} palabra{'s' if added != 1 else ''} añadida{'s' if added != 1 else ''}"
        )
    else:
        said = "ninguna palabra añadida"
    if removed:
        return f"{said}, {number(removed)} quitada{'s' if removed != 1 else ''}"
    return f"{said}, ninguna quitada"


async def _kept_pages(db, url: str) -> list[dict]:
    if not await db.table_exists(RESPONSES):
        return []
    rows = (
        await db.execute(
            f"select id, fetched_at, run_id from {RESPONSES} where final_url = ? and "
            "source = 'html' order by id",
            [url],
        )
    ).rows
    return [{"id": r[0], "fetched_at": r[1], "run_id": r[2]} for r in rows]


async def article_page(datasette, request):
    """An article as it reads: title, standfirst, byline, image, body, tags, its versions and
    kept pages; its raw columns one click away."""
    db, database, article = await _article(datasette, request)
    article["paragraphs"] = [
        p.strip() for p in (article.get("body") or "").split("\n\n") if p.strip()
    ]
    if article.get("body_html"):
        # cleaned when parsed; cleaned again here, since an import may have brought it
        from archive.body import clean_html

        body = clean_html(article["body_html"])
        article["body_markup"] = Markup(await _images_from_the_archive(db, database, body))
    image = article.get("image_url")
    # the lead image only as the archive keeps it: never a request to the site
    article["image_path"] = (
        (await kept.kept_media_paths(db, database, [image])).get(image) if image else None
    )
    versions = await _versions(db, article)
    pages = await _kept_pages(db, article["url"])
    by_run = {p["run_id"]: p for p in pages if p["run_id"] is not None}
    for before, version in zip([None] + versions[:-1], versions, strict=False):
        version["summary"] = _summary(before, version)
        version["when"] = when(version["fetched_at"], zone=False)  # named once, above
        version["short"] = short(version["fetched_at"])
        page = by_run.get(version["run_id"])
        version["kept"] = kept.kept_page_path(database, page["id"]) if page else None
    for page in pages:
        page.update(
            when=when(page["fetched_at"], zone=False),
            path=kept.kept_page_path(database, page["id"]),
        )
    # the zone is said once in the byline and once for the archive's part, not after each time
    dates = {
        name: when(article.get(name), zone=False)
        for name in ("published", "modified", "first_seen", "last_changed")
    }
    if article.get("date_precision") == "day":  # the source gave the day only: no made-up time
        dates["published"] = day_label(article.get("published_date"))
    updated = bool(article.get("modified")) and article["modified"] != article.get("published")
    dates["byline_zone"] = article.get("date_precision") != "day" or updated  # a time is shown
    return Response.html(
        await datasette.render_template(
            "ciudadano_article.html",
            {
                "article": article,
                "versions": versions,
                "pages": pages,
                "dates": dates,
                "database": database,
                "diff_path": lambda a, b: diff_path(database, article["id"], a, b),
            },
            request=request,
        ),
        headers={"Content-Security-Policy": ARTICLE_POLICY},
    )


_IMG_SRC = re.compile(r'(<img\b[^>]*?)\ssrc="([^"]*)"')
# Our pages load images from this server alone, whatever an article's HTML names.
ARTICLE_POLICY = "img-src 'self' data:; media-src 'none'; frame-src 'none'; object-src 'none'"


async def _images_from_the_archive(db, database: str, body_html: str) -> str:
    """body_html (clean: nh3 wrote its attributes double-quoted) with each image's src the
    archive's copy, or none at all (alt says why) when the archive does not keep it: the page
    never asks the site, nor anyone else, for anything."""
    urls = sorted({html.unescape(m.group(2)) for m in _IMG_SRC.finditer(body_html)})
    if not urls:
        return body_html
    paths = await kept.kept_media_paths(db, database, urls)

    def local(match: re.Match) -> str:
        path = paths.get(html.unescape(match.group(2)))
        if path:
            return f'{match.group(1)} src="{html.escape(path)}"'
        return f'{match.group(1)} data-ausente="{match.group(2)}"'  # no src: nothing asked

    return _IMG_SRC.sub(local, body_html)


def _version_numbers(request, versions: list[dict]) -> tuple[int, int]:
    """from and to as asked (by default the last two versions); NotFound for one that
    does not exist."""
    numbers = [v["version"] for v in versions]
    try:
        new = int(request.args.get("to") or numbers[-1])
        old = int(request.args.get("from") or numbers[max(0, numbers.index(new) - 1)])
    except ValueError:
        raise NotFound("versión desconocida: from y to son números de versión") from None
    if old not in numbers or new not in numbers:
        raise NotFound(
            f"versión desconocida: este artículo tiene las versiones {numbers[0]} a {numbers[-1]}"
        )
    return old, new


def _field_change(name: str, before, after) -> dict | None:
    if name in LIST_FIELDS:
        before, after = ", ".join(_list(before)), ", ".join(_list(after))
    if name == "modified":
        before, after = when(before, zone=False), when(after, zone=False)  # named above
    if (before or "") == (after or ""):
        return None
    return {"name": FIELD_NAMES[name], "before": before or "—", "after": after or "—"}


async def diff_page(datasette, request):
    """Two versions side by side in one column: the headline and standfirst changes on top,
    then the body paragraph by paragraph, words removed <del> and added <ins>, unchanged
    paragraphs folded. Bounded: diff.STEP_BUDGET steps whatever the texts."""
    db, database, article = await _article(datasette, request)
    versions = await _versions(db, article)
    for version in versions:  # as the article page's choices read: "2 · 29-11-2026 05:25"
        version["short"] = short(version["fetched_at"])
    old_number, new_number = _version_numbers(request, versions)
    old = next(v for v in versions if v["version"] == old_number)
    new = next(v for v in versions if v["version"] == new_number)
    budget = Budget()
    heads = []
    for name in ("title", "subtitle"):
        changed = text_diff(old.get(name), new.get(name), budget)
        if changed.changed:
            heads.append(
                {
                    "name": FIELD_NAMES[name],
                    "html": Markup(" ").join(b.html for b in changed.blocks),
                }
            )
    body = text_diff(old.get("body"), new.get("body"), budget)
    others = [
        c
        for c in (
            _field_change(f, old.get(f), new.get(f))
            for f in ("section", "authors", "tags", "modified")
        )
        if c
    ]
    return Response.html(
        await datasette.render_template(
            "ciudadano_diff.html",
            {
                "article": article,
                "database": database,
                "versions": versions,
                # the zone named once, after both
                "old": {**old, "when": when(old["fetched_at"], zone=False)},
                "new": {**new, "when": when(new["fetched_at"], zone=False)},
                "heads": heads,
                "others": others,
                "runs": _folded(body.blocks),
                "words": words_told(body.added, body.removed),
                "simplified": budget.spent_out,
                "path": article_path(database, article["id"]),
            },
            request=request,
        )
    )


def _folded(blocks) -> list[dict]:
    """Runs of unchanged paragraphs gathered (the page folds those of two or more)."""
    runs: list[dict] = []
    for block in blocks:
        same = block.kind == "same"
        if same and runs and runs[-1]["same"]:
            runs[-1]["blocks"].append(block)
        else:
            runs.append({"same": same, "blocks": [block]})
    return runs

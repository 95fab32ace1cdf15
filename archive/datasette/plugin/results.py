"""The results page: one search box, filters as controls, the count, facets, 20 results a page,
and the same results as CSV, JSON and an Atom feed (/-/buscar/DB, .csv, .json, .atom)."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlencode
from xml.sax.saxutils import escape as _escape

from datasette.utils.asgi import NotFound, Response

from archive.dates import day_label, number
from archive.export import neutralise
from archive.filters import FilterError, Slice
from archive.results import MAX_COUNTED, MAX_RANKED_AMONG, Page, results, sections

ROUTE = r"^/-/buscar/(?P<database>[^/]+?)(\.(?P<format>csv|json|atom))?$"
PARAMS = ("q", "section", "author", "since", "until", "sort", "page")
SORT_LABELS = {"relevance": "Relevancia", "date": "Más recientes primero"}
FACET_TITLES = {"section": "Sección", "year": "Año", "author": "Autor"}
FEED_SIZE = 50


def search_path(database: str, **params) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"/-/buscar/{database}" + (f"?{urlencode(kept)}" if kept else "")


def _form(request) -> dict[str, str]:
    return {name: (request.args.get(name) or "").strip() for name in PARAMS}


def _run(path: str, form: dict[str, str], per_page: int, seconds: float) -> Page:
    """The search the form asks for; FilterError (SearchError among them) for a bad one."""
    since, until = form["since"] or None, form["until"] or None
    where = Slice(form["section"] or None, since, until)
    try:
        page = int(form["page"] or 1)
    except ValueError:
        raise FilterError("la página debe ser un número") from None
    return results(
        path,
        form["q"],
        where,
        author=form["author"] or None,
        sort=form["sort"] or "relevance",
        page=page,
        per_page=per_page,
        time_limit=seconds,
    )


async def results_page(datasette, request):
    database = request.url_vars["database"]
    try:
        db = datasette.get_database(database)
    except KeyError:
        raise NotFound(f"no hay un archivo llamado {database}") from None
    fmt = request.url_vars.get("format")
    form = _form(request)
    if fmt == "atom":
        form["sort"], form["page"] = "date", ""
    found, problem = None, None
    if form["q"]:
        try:
            # no longer than Datasette lets any SQL query run
            seconds = datasette.setting("sql_time_limit_ms") / 1000
            found = await _in_thread(
                _run, db.path, form, FEED_SIZE if fmt == "atom" else 20, seconds
            )
        except FilterError as err:
            problem = in_spanish(str(err))
        if found and found.total and found.page > found.pages:  # an old or edited link
            problem = f"la página {found.page} no existe: " + (
                "hay 1 página de resultados"
                if found.pages == 1
                else f"hay {number(found.pages)} páginas de resultados"
            )
    if fmt:
        return _export(fmt, request, database, form, found, problem)
    context = {
        "database": database,
        "form": form,
        "found": found,
        "problem": problem,
        "sections": [
            {**s, "count": number(s["count"])} for s in await _in_thread(sections, db.path)
        ],
        "sorts": SORT_LABELS,
        "facet_titles": FACET_TITLES,
        "max_counted": number(MAX_COUNTED),
        "max_ranked": number(MAX_RANKED_AMONG),
        "links": _links(database, form, found),
        "hits": _shown_hits(database, found),
        "total_label": number(found.total) if found else "",
    }
    response = Response.html(
        await datasette.render_template("ciudadano_results.html", context, request=request)
    )
    if problem:
        response.status = 400
    return response


# The search language's and the filters' messages (archive.query, archive.filters, written for
# the command line in English) as the page says them; one not listed here is shown as it is.
MESSAGES = [
    (re.compile(english), spanish)
    for english, spanish in (
        (r"^a phrase is not closed", 'una frase no está cerrada: falta la " final'),
        (r"^an empty phrase", 'hay una frase vacía (""): quítela'),
        (r"^a \( is not closed", "falta cerrar un paréntesis: agregue el )"),
        (r"^unexpected \)", "sobra un paréntesis ): falta el ( o está vacío"),
        (
            r"^the query ends with an operator",
            ("la búsqueda termina con un operador: falta una palabra después"),
        ),
        (
            r"^(AND|OR|NOT) needs a word on each side",
            (
                r"\1 necesita una palabra a cada lado "
                r"(a \1 b)"
            ),
        ),
        (r"^the search query is empty", "escriba al menos una palabra"),
        (r"^nothing to search for", "no hay nada que buscar: escriba una palabra"),
        (
            r"^the query is (\d+) characters long; at most (\d+)",
            (
                r"la búsqueda tiene \1 "
                r"caracteres; se buscan como máximo \2"
            ),
        ),
        (
            r"^the query has (\d+) terms; at most (\d+)",
            (
                r"la búsqueda tiene \1 términos; como "
                r"máximo \2"
            ),
        ),
        (
            r"^the query has (\d+) prefix terms.*at most (\d+)",
            (
                r"la búsqueda tiene \1 prefijos "
                r"(palabra*); como máximo \2"
            ),
        ),
        (r"^(\w+)\* is too short a prefix", r"\1*: un prefijo necesita al menos 2 letras"),
        (r"^\*(\w+): a word cannot start with \*", r"*\1: una palabra no puede empezar con *"),
        (
            r"^(\w+): is not a searchable column",
            (
                r"\1: no es un campo de búsqueda (título:, "
                r"bajada:, cuerpo:, autor:)"
            ),
        ),
        (
            r"^author: needs a name",
            ('autor: necesita un nombre: autor:muñoz o autor:"javiera muñoz"'),
        ),
        (
            r"^author:(.+) filters the whole query",
            (
                r"autor:\1 filtra toda la búsqueda: no puede "
                r"ir entre paréntesis ni junto a OR o NOT"
            ),
        ),
        (
            r"^the search took longer than ([\d.]+) s",
            (
                r"la búsqueda tardó más de \1 s y se "
                r"detuvo: use palabras menos comunes o filtre por sección o fechas"
            ),
        ),
        (
            r"^only the first ([\d]+),([\d]+) results",
            (
                r"solo se pueden recorrer los primeros \1.\2 "
                r"resultados: acote la búsqueda"
            ),
        ),
        (r"^page (-?\d+): pages are numbered from 1", r"página \1: las páginas se cuentan desde 1"),
        (
            r"^--since (\S+) is after --until ([^\s:]+)",
            (
                r"«Desde» (\1) es posterior a «Hasta» (\2): "
                r"ningún artículo cabe en ese intervalo"
            ),
        ),
        (
            r"^--(since|until) '(.*)': use a real date",
            (
                r"la fecha \2 no es válida: use "
                r"AAAA-MM-DD"
            ),
        ),
        (r"^--section '(.*)': no article", r"ningún artículo está en una sección llamada \1"),
        (r"^sort ", "el orden debe ser relevancia o fecha"),
    )
]


def in_spanish(message: str) -> str:
    for english, spanish in MESSAGES:
        found = english.search(message)
        if found:
            return found.expand(spanish)
    return message


async def _in_thread(fn, *args):
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _shown_hits(database: str, found: Page | None) -> list[dict]:
    from archive.datasette.plugin.article import article_path

    return [
        {**hit, "path": article_path(database, hit["id"]), "date": day_label(hit["published"])}
        for hit in (found.hits if found else [])
    ]


def _links(database: str, form: dict[str, str], found: Page | None) -> dict:
    """Facet links (each a filter added, page reset), previous and next, the exports."""
    base = {k: v for k, v in form.items() if k != "page"}
    links: dict = {"facets": {}}
    if found is None:
        return links
    for name, values in found.facets.items():
        shown = []
        for value in values:
            narrowed = dict(base)
            if name == "year":
                narrowed.update(since=f"{value['value']}-01-01", until=f"{value['value']}-12-31")
            else:
                narrowed[name] = value["value"]
            shown.append(
                {
                    **value,
                    "count": number(value["count"]),
                    "href": search_path(database, **narrowed),
                }
            )
        links["facets"][name] = shown
    if found.total and found.page > found.pages:
        links["last"] = search_path(database, **base, page=found.pages)
    elif found.page > 1:
        links["previous"] = search_path(database, **base, page=found.page - 1)
    if found.page < found.pages:
        links["next"] = search_path(database, **base, page=found.page + 1)
    query = urlencode({k: v for k, v in form.items() if v})
    for fmt in ("csv", "json", "atom"):
        links[fmt] = f"/-/buscar/{database}.{fmt}" + (f"?{query}" if query else "")
    return links


def _plain(pieces: list[tuple[str, bool]]) -> str:
    return "".join(text for text, _ in pieces)


def _export(
    fmt: str, request, database: str, form: dict, found: Page | None, problem: str | None
) -> Response:
    if problem or found is None:
        message = problem or "q is required"
        if fmt == "json":
            return Response.json({"ok": False, "error": message}, status=400)
        return Response.text(f"error: {message}\n", status=400)
    rows = [
        {
            "id": h["id"],
            "title": h["title"],
            "published": h["published"],
            "section": h["section"],
            "authors": h["authors"],
            "url": h["url"],
            "snippet": _plain(h["snippet"]),
        }
        for h in found.hits
    ]
    if fmt == "json":
        return Response.json(
            {
                "ok": True,
                "total": found.total,
                "total_exact": found.exact,
                "facets_over_newest": found.facets_over,
                "page": found.page,
                "pages": found.pages,
                "facets": found.facets,
                "results": rows,
            }
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "title", "published", "section", "authors", "url", "snippet"])
        for row in rows:  # a cell a spreadsheet would run as a formula is shown as text
            writer.writerow(
                [
                    neutralise(v)
                    for v in (
                        row["id"],
                        row["title"],
                        row["published"],
                        row["section"],
                        "; ".join(row["authors"]),
                        row["url"],
                        row["snippet"],
                    )
                ]
            )
        return Response(
            out.getvalue(),
            content_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="busqueda.csv"'},
        )
    return Response(
        _atom(request, database, form, rows), content_type="application/atom+xml; charset=utf-8"
    )


# Characters XML 1.0 forbids, which a page's text may still carry (a stray \x08).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_escape(value) -> str:
    """value as XML text or attribute value: &, <, >, quotes escaped, forbidden characters
    dropped (one in a title would make the whole feed unreadable)."""
    return _escape(_NOT_XML.sub("", str(value)), {'"': "&quot;", "'": "&apos;"})


def _atom(request, database: str, form: dict, rows: list[dict]) -> str:
    """The newest matches as an Atom feed: a feed reader subscribed to it hears of new
    articles matching the search."""
    from archive.datasette.plugin.article import article_path

    origin = f"{request.scheme}://{request.host}"
    self_url = origin + request.full_path
    page_url = origin + search_path(database, **{k: v for k, v in form.items() if k != "page"})
    updated = max((r["published"] for r in rows if r["published"]), default="1970-01-01T00:00:00Z")
    entries = "".join(
        "<entry>"
        f"<id>{xml_escape(r['url'])}</id><title>{xml_escape(r['title'] or '')}</title>"
        f"<updated>{xml_escape(r['published'] or updated)}</updated>"
        f"<published>{xml_escape(r['published'] or updated)}</published>"
        + "".join(f"<author><name>{xml_escape(a)}</name></author>" for a in r["authors"])
        + f'<link rel="alternate" href="{xml_escape(origin + article_path(database, r["id"]))}"/>'
        f'<link rel="via" href="{xml_escape(r["url"])}"/>'
        f'<category term="{xml_escape(r["section"] or "")}"/>'
        f"<summary>{xml_escape(r['snippet'])}</summary></entry>"
        for r in rows
    )
    title = f"Archivo de El Ciudadano: {form['q']}"
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es">'
        f"<id>{xml_escape(self_url)}</id><title>{xml_escape(title)}</title>"
        f"<updated>{xml_escape(updated)}</updated>"
        f'<link rel="self" href="{xml_escape(self_url)}"/>'
        f'<link rel="alternate" type="text/html" href="{xml_escape(page_url)}"/>'
        "<author><name>ciudadano-archive</name></author>"
        f"{entries}</feed>\n"
    )

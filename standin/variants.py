"""Pages the parser must handle that the stand-in's crawl does not need: other templates of
22 years of the site, broken charsets and markup, and pages that are not articles.

Each variant is (name, url, page bytes, fetched_at or None). tests/fixtures/save.py saves
them with the expected article beside each.
"""

from __future__ import annotations

import json
from html import escape

from standin import templates
from standin.articles import ARTICLES, by_key
from standin.templates import LIVE, THEME_CSS, _page, _sidebar, url

OTHERS = ARTICLES[:6]


def _classic_theme(a: dict, date_text: str, extra_head: str = "") -> str:
    """A pre-tagDiv WordPress theme (the site around 2011): entry-title, entry-content,
    'Publicado el dd/mm/yyyy', rel=category tag and rel=tag links, a byline."""
    cats = ", ".join(
        f'<a href="{LIVE}/category/{slug}/" rel="category tag">{escape(name)}</a>'
        for name, slug in a["categories"]
    )
    tags = ", ".join(
        f'<a href="{LIVE}/tag/{t.lower().replace(" ", "-")}/" rel="tag">{escape(t)}</a>'
        for t in a["tags"]
    )
    content = (
        '<div id="wrapper"><div id="content" class="narrowcolumn">'
        f'<div class="post-{a["wp_id"]} post type-post hentry" id="post-{a["wp_id"]}">'
        f'<header class="entry-header"><h1 class="entry-title">{escape(a["title"])}</h1>'
        f'<div class="entry-meta"><span class="posted-on">{escape(date_text)}</span> '
        f'<span class="byline">Por <span class="author vcard"><a href="{LIVE}/author/x/">'
        f"{escape(' y '.join(a['authors']))}</a></span></span></div></header>"
        f'<div class="entry-content">{a["body"]}</div>'
        f'<footer class="entry-meta">Archivado en {cats}. Etiquetas: {tags}</footer></div>'
        '<div id="comments"><h3>2 comentarios</h3><ol class="commentlist"><li>Muy buena nota'
        "</li></ol></div></div></div>"
    )
    head = (
        f'<link rel="canonical" href="{url(a)}">'
        f'<link rel="shortlink" href="{LIVE}/?p={a["wp_id"]}">{extra_head}'
    )
    return _page(
        head,
        f"single single-post postid-{a['wp_id']}",
        content + _sidebar(OTHERS),
        title=f"{a['title']} | El Ciudadano",
    )


def _amp(a: dict) -> str:
    """The AMP plugin's legacy reader template (/amp/ or ?amp)."""
    cats = "".join(f'<a href="{LIVE}/{slug}/">{escape(name)}</a>' for name, slug in a["categories"])
    body = a["body"].replace(
        '<iframe title="Derrame en Tiltil" width="696" height="392" '
        'src="https://www.youtube.com/embed/abc123XYZ00" frameborder="0" allowfullscreen></iframe>',
        '<amp-youtube data-videoid="abc123XYZ00" layout="responsive" width="480" height="270">'
        "</amp-youtube>",
    )
    schema = {
        "@context": "http://schema.org",
        "@type": "BlogPosting",
        "mainEntityOfPage": url(a),
        "headline": a["title"],
        "datePublished": a["published"],
        "dateModified": a.get("modified") or a["published"],
        "author": {"@type": "Person", "name": a["authors"][0]},
        "image": {"@type": "ImageObject", "url": a["image"]},
    }
    return (
        f'<!doctype html><html amp lang="es-CL"><head><meta charset="utf-8">'
        f"<title>{escape(a['title'])} &#8211; El Ciudadano</title>"
        f'<link rel="canonical" href="{url(a)}">'
        f'<script type="application/ld+json">{json.dumps(schema, ensure_ascii=False)}</script>'
        f"<style amp-custom>{THEME_CSS}</style></head>"
        '<body class=""><header id="top" class="amp-wp-header"><div><a href="' + LIVE + '/">'
        "El Ciudadano</a></div></header>"
        '<article class="amp-wp-article"><header class="amp-wp-article-header">'
        f'<h1 class="amp-wp-title">{escape(a["title"])}</h1>'
        f'<div class="amp-wp-meta amp-wp-byline"><span class="amp-wp-author author vcard">'
        f"{escape(a['authors'][0])}</span></div>"
        f'<div class="amp-wp-meta amp-wp-posted-on"><time datetime="{a["published"]}">'
        "hace 2 años</time></div></header>"
        '<amp-ad width="300" height="250" type="adsense"></amp-ad>'
        f'<div class="amp-wp-article-content">{body}</div>'
        f'<footer class="amp-wp-article-footer"><div class="amp-wp-meta amp-wp-tax-category">'
        f"Categorías: {cats}</div></footer></article>"
        '<footer class="amp-wp-footer"><p>&copy; El Ciudadano</p></footer></body></html>'
    )


def _block_theme(a: dict) -> str:
    """Markup WordPress core emits in a block theme: no Yoast, no tagDiv."""
    cats = "".join(
        f'<a href="{LIVE}/{slug}/" rel="tag">{escape(name)}</a>' for name, slug in a["categories"]
    )
    tags = "".join(
        f'<a href="{LIVE}/tag/{t.lower()}/" rel="tag">{escape(t)}</a>' for t in a["tags"]
    )
    content = (
        '<div class="wp-site-blocks"><main class="wp-block-group">'
        f'<h1 class="wp-block-post-title">{escape(a["title"])}</h1>'
        f'<div class="wp-block-post-date"><time datetime="{a["published"]}">'
        f"{templates.spanish_date(a['published'])}</time></div>"
        f'<div class="wp-block-post-author"><div class="wp-block-post-author__content">'
        f'<p class="wp-block-post-author__name">{escape(a["authors"][0])}</p></div></div>'
        f'<div class="taxonomy-category wp-block-post-terms">{cats}</div>'
        f'<div class="entry-content wp-block-post-content">{a["body"]}</div>'
        f'<div class="taxonomy-post_tag wp-block-post-terms">{tags}</div></main></div>'
    )
    head = f'<link rel="canonical" href="{url(a)}"><link rel="shortlink" href="{LIVE}/?p={a["wp_id"]}">'
    return _page(
        head,
        f"wp-singular post-template-default single single-post postid-{a['wp_id']}",
        content,
        title=f"{a['title']} – El Ciudadano",
    )


def _tagdiv(a: dict) -> str:
    return templates.article_page(a, OTHERS)


def _variant(key: str, **changes) -> dict:
    return {**by_key(key), **changes}


def variants() -> list[tuple[str, str, bytes, str | None]]:
    seed = by_key("seed-kast-milei")
    tiltil = by_key("chile-tiltil-relave")
    out: list[tuple[str, str, bytes, str | None]] = []

    def add(name: str, page_url: str, page: str | bytes, fetched_at: str | None = None) -> None:
        out.append(
            (name, page_url, page.encode("utf-8") if isinstance(page, str) else page, fetched_at)
        )

    # -- other templates -----------------------------------------------------------------
    old = _variant(
        "cultura-old-template",
        path="/cultura/muestra-de-arpilleras/07/14/",
        published="2011-07-14T12:00:00-04:00",
        wp_id=23011,
        authors=["Equipo Cultura", "Pedro Araya"],
        tags=["Arpilleras"],
    )
    add("classic-theme-2011", url(old), _classic_theme(old, "Publicado el 14/07/2011"))
    add("amp-page", url(tiltil) + "amp/", _amp(tiltil))
    add("block-theme", url(seed), _block_theme(seed))
    # -- charsets and broken bytes -------------------------------------------------------
    page = _tagdiv(seed)
    add("cp1252-declared-utf8", url(seed), page.encode("cp1252", "xmlcharrefreplace"))
    add(
        "utf8-declared-latin1",
        url(seed),
        page.replace('<meta charset="UTF-8">', '<meta charset="ISO-8859-1">'),
    )
    mojibake = page.replace("ideológica", "ideolÃ³gica").replace("política", "polÃ­tica")
    add("mojibake-in-utf8", url(seed), mojibake)
    add("nul-bytes", url(seed), page.encode("utf-8").replace(b"<p>", b"<p>\x00", 5) + b"\x00\x00")
    broken = (
        page.replace("</p>", "", 6)
        .replace(
            '<div class="td-post-content">',
            "<div class=td-post-content></span></div><div class=td-post-content>",
        )
        .replace("</article>", "</div></div></div></article>")
    )
    add("broken-markup", url(seed), broken)
    # -- pages that are not articles -----------------------------------------------------
    add("truncated", url(seed), page[: page.index("Paralelamente")])
    tag_page = templates.listing_page("José Antonio Kast", "tag/jose-antonio-kast", [seed]).replace(
        "archive category category-tag/jose-antonio-kast", "archive tag tag-jose-antonio-kast"
    )
    add("tag-page", f"{LIVE}/tag/jose-antonio-kast/", tag_page)
    author_page = templates.listing_page("El Ciudadano", "author/el-ciudadano", [seed]).replace(
        "archive category category-author/el-ciudadano", "archive author author-el-ciudadano"
    )
    add("author-page", f"{LIVE}/author/el-ciudadano/", author_page)
    search_page = templates.listing_page("Resultados para: kast", "", [seed]).replace(
        "archive category category-", "search search-results"
    )
    add("search-page", f"{LIVE}/?s=kast", search_page)
    add("html-empty-body", url(seed), "<!DOCTYPE html><html><head></head><body>\n</body></html>")
    # -- fields that are easy to get wrong -----------------------------------------------
    entity = _variant("mundo-cop30-belem", title="“COP30” & Brasil: cierre sin acuerdo")
    page = _tagdiv(entity)
    page = (
        page[: page.index('<script type="application/ld+json"')]
        + page[page.index("</script>", page.index('<script type="application/ld+json"')) + 9 :]
    )
    add(
        "title-entities-suffix",
        url(entity),
        page.replace("&#x27;", "'").replace(
            "“COP30” &amp; Brasil", "&#8220;COP30&#8221; &amp; Brasil"
        ),
    )
    authors = _variant(
        "politica-pensiones-senado",
        template="old",
        date_text="7 de septiembre de 2025",
        body=by_key("politica-pensiones-senado")["body"]
        + '<div class="td-author-box"><img src="x.jpg"><div class="td-author-name">'
        'Felipe Soto</div><div class="td-author-description">Periodista de '
        "política y economía. Escribe en El Ciudadano desde 2019.</div></div>",
    )
    authors["authors"] = ["Felipe Soto y Daniela Muñoz"]
    add(
        "multi-author-bio",
        url(authors),
        _tagdiv(authors)
        .replace('<div class="td-author-by">Por</div> ', "")
        .replace(
            '<a href="' + LIVE + '/author/equipo/">Felipe Soto y Daniela Muñoz</a>',
            '<a href="' + LIVE + '/author/equipo/">Por Felipe Soto y Daniela Muñoz</a>',
        ),
    )
    captions = _variant(
        "chile-tiltil-relave",
        body=tiltil["body"].replace(
            "<p>Fuente: Radio Biobío</p>",
            '<figure class="wp-block-image"><img src="relave.jpg" alt=""><figcaption>El estero '
            "Polpaico tras el derrame (Foto: Agencia Uno)</figcaption></figure>"
            '<div class="wp-caption"><img src="tranque.jpg"><p class="wp-caption-text">Foto: Archivo'
            "</p></div>"
            '<div class="td_block_wrap td_block_newsletter"><h4>Suscríbete</h4><p>Recibe las noticias'
            " de El Ciudadano en tu correo</p><form><input type=email></form></div>"
            "<p>Fuente: Radio Biobío</p>",
        ),
    )
    add("captions-newsletter", url(captions), _tagdiv(captions))
    joins = _variant(
        "economia-cobre-precio",
        body="""
<p>La demanda de China y la debilidad del dólar empujan el metal rojo.</p>
<p>El ministro de Hacienda dijo en una entrevista radial que el alza del cobre</p>
<p>permitirá financiar parte del gasto comprometido para 2026, aunque advirtió</p>
<p>que el escenario sigue siendo incierto</p>
<h2>Qué dicen los analistas</h2>
<p>Consultados por este medio, tres economistas coincidieron en que</p>
<blockquote><p>el precio podría caer si la demanda china se enfría</p></blockquote>
<p>Los factores que mencionaron</p>
<ul><li>Aranceles de Estados Unidos</li><li>Inventarios en Londres</li></ul>
<p>Fuente: Diario Financiero</p>
""",
    )
    add("hard-wraps-and-blocks", url(joins), _tagdiv(joins))
    variant = _variant(
        "mundo-cop30-belem",
        body=by_key("mundo-cop30-belem")["body"].replace(
            "<p>La conferencia",
            "<p><strong>La cumbre de Belém</strong> terminó con un texto que no "
            "menciona la salida del petróleo</p>\n<p>La conferencia",
        ),
    )
    add("standfirst-near-equal", url(variant), _tagdiv(variant))
    moved = _variant(
        "seed-kast-milei",
        section=("Política", "politica"),
        categories=[("Política", "politica"), ("Actualidad", "actualidad")],
    )
    add("section-differs-from-url", url(moved), _tagdiv(moved))
    relative = _variant(
        "cultura-old-template",
        path="/cultura/feria-del-libro-abre-sus-puertas/11/21/",
        published="2025-11-21T09:00:00-03:00",
        date_text="hace 3 horas",
        wp_id=1195990,
    )
    add("relative-date", url(relative), _tagdiv(relative), "2025-11-21T15:00:00+00:00")
    numeric = _variant("cultura-old-template", date_text="03/03/2015")
    add("numeric-date", url(numeric), _tagdiv(numeric))
    yoast = _tagdiv(seed).replace(
        '"keywords": ["José Antonio Kast", "Javier Milei", "Segunda vuelta"]',
        '"keywords": "José Antonio Kast, Javier Milei, Segunda vuelta"',
    )
    yoast = yoast.replace(
        '"articleSection": ["Actualidad", "Política"]', '"articleSection": "Actualidad"'
    )
    add("yoast-shape-variants", url(seed), yoast)
    late = _variant("seed-kast-milei", published="2025-11-22T02:30:00+00:00", modified=None)
    add("utc-next-day", url(late), _tagdiv(late))
    add(
        "cloudflare-1020",
        url(seed),
        templates.block_page().replace(
            "Attention Required! | Cloudflare",
            "Access denied | www.elciudadano.com used Cloudflare to restrict access",
        ),
    )
    navigation = _variant(
        "mundo-cop30-belem",
        body=by_key("mundo-cop30-belem")["body"].replace(
            "<p>Organizaciones",
            "<p><strong>LEE TAMBIÉN:</strong> Las claves de la COP30</p>"
            '<p><a href="'
            + LIVE
            + '/mundo/x/11/01/"><strong>Revisa también: otra nota</strong></a></p>'
            "<p>Suscríbete a nuestro newsletter y recibe lo mejor de la semana</p>"
            "<p>Organizaciones",
        ),
    )
    add("navigation-paragraphs", url(navigation), _tagdiv(navigation))
    return out

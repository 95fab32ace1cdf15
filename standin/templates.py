"""Markup of the stand-in site, following SITE.md: the tagDiv "Newspaper" theme with Yoast SEO,
an older Newspaper template, listings, the RSS feed, Yoast sitemaps, robots.txt, Cloudflare
block and challenge pages. Every link names the live site, as saved pages do."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from functools import cache
from html import escape
from zoneinfo import ZoneInfo

LIVE = "https://www.elciudadano.com"
SANTIAGO = ZoneInfo("America/Santiago")
MONTHS = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
]
MENU = [
    "Actualidad",
    "Chile",
    "Política",
    "Mundo",
    "Economía",
    "Cultura",
    "Medio Ambiente",
    "Pueblos",
    "Salud",
    "Deportes",
    "Opinión",
    "English Edition",
    "Deutsche Ausgabe",
]
MENU_SLUGS = [
    "actualidad",
    "chile",
    "politica",
    "mundo",
    "economia",
    "cultura",
    "medio-ambiente",
    "pueblos",
    "salud",
    "deportes",
    "opinion",
    "en",
    "deustche",
]


@cache  # the REST API sorts every post by it on every request
def local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(SANTIAGO)


def spanish_date(iso: str) -> str:
    moment = local(iso)
    return f"{moment.day} de {MONTHS[moment.month - 1]} de {moment.year}"


def url(article: dict) -> str:
    return LIVE + article["path"]


# -- the theme's frame: head, header, sidebar, footer --------------------------------------------
def _theme_css() -> str:
    """The inline theme settings tagDiv prints in every page (most of a real page's weight)."""
    rules = []
    for i in range(160):
        rules.append(
            f".tdi_{i} .td-module-title a{{color:#{(i * 7919) % 0xFFFFFF:06x};}}"
            f".tdi_{i} .td-module-meta-info{{margin:{i % 9}px 0 0;font-family:Roboto}}"
            f"@media (max-width:767px){{.tdi_{i}{{padding:{i % 13}px}}}}"
        )
    return "\n".join(rules)


THEME_CSS = _theme_css()


TEASERS = [
    "Gobierno anuncia nuevo plan de vivienda para regiones",
    "Senado aprueba en general reforma al sistema de salud",
    "Comunidades mapuche denuncian allanamientos en Ercilla",
    "Alza del dólar presiona precios de combustibles",
    "Festival de cine de Valdivia abre convocatoria",
    "Sequía obliga a racionar agua en Petorca",
    "Universidades estatales piden aumento de presupuesto",
    "Trabajadores portuarios convocan a paro nacional",
    "Corte Suprema ordena reparar a víctimas de trauma ocular",
    "Nueva marcha por el clima recorre la Alameda",
]


def _module(i: int, slug: str, kind: str = "td_module_flex td_module_flex_1") -> str:
    """A teaser module as tagDiv prints it in menus, sidebars and related posts."""
    title = TEASERS[i % len(TEASERS)]
    path = (
        f"{LIVE}/{slug}/{title.lower().replace(' ', '-')[:40]}/{1 + i % 12:02d}/{1 + i % 28:02d}/"
    )
    return (
        f'<div class="{kind} td-animation-stack td-cpt-post"><div class="td-module-container '
        f'td-category-pos-image"><div class="td-image-container"><div class="td-module-thumb">'
        f'<a href="{path}" rel="bookmark" class="td-image-wrap" title="{escape(title)}">'
        f'<span class="entry-thumb td-thumb-css" data-type="css_image" data-img-url="{LIVE}/wp-'
        f'content/uploads/2025/{1 + i % 12:02d}/foto-{i}-218x150.jpg"></span></a></div></div>'
        f'<div class="td-module-meta-info"><h3 class="entry-title td-module-title">'
        f'<a href="{path}" rel="bookmark" title="{escape(title)}">{escape(title)}</a></h3>'
        f'<div class="td-editor-date"><span class="td-author-date"><span class="td-post-date">'
        f'<time class="entry-date updated td-module-date">{1 + i % 28} de '
        f"{MONTHS[i % 12]} de 2025</time></span></span></div></div></div></div>"
    )


SOCIAL = "".join(
    f'<span class="td-social-icon-wrap"><a target="_blank" href="https://www.{net}.com/elciudadano"'
    f' title="{net}"><svg class="td-icon-{net}" viewBox="0 0 32 32"><path d="M{i} 0h4v4h-4z"/>'
    f'<path d="M0 {i}h4v4H0z"/></svg></a></span>'
    for i, net in enumerate(["facebook", "twitter", "instagram", "youtube", "telegram", "tiktok"])
)


def _mega_menu() -> str:
    """The header: top bar, social icons, and a mega menu of teasers under every section."""
    items = "".join(
        f'<li class="menu-item menu-item-type-taxonomy td-menu-item td-mega-menu">'
        f'<a href="{LIVE}/{slug}/"><div class="tdb-menu-item-text">{escape(name)}</div></a>'
        f'<ul class="sub-menu"><li class="menu-item-0"><div class="tdb-menu-item-text">'
        f'<div class="td_block_wrap td_block_mega_menu tdi_{k}"><div class="td-mega-grid">'
        + "".join(
            _module(k * 5 + j, slug, "td_module_mega_menu td-meta-info-hide") for j in range(5)
        )
        + "</div></div></div></li></ul></li>"
        for k, (name, slug) in enumerate(zip(MENU, MENU_SLUGS, strict=False))
    )
    return (
        '<div class="td-header-top-bar"><div class="tdb-block-inner"><span class="td-weather">'
        'Santiago 24°C</span><div class="tdm-social-wrapper">' + SOCIAL + "</div></div></div>"
        f'<ul id="menu-principal" class="tdb-block-menu tdb-menu tdb-menu-items-visible">{items}</ul>'
    )


MEGA_MENU = _mega_menu()
SIDEBAR_MODULES = "".join(
    f'<div class="td_block_wrap td_flex_block_1 tdi_{200 + b}"><div class="td-block-title-wrap">'
    f'<h4 class="td-block-title"><span>{title}</span></h4></div><div class="td_block_inner">'
    + "".join(_module(b * 10 + j, MENU_SLUGS[(b + j) % len(MENU_SLUGS)]) for j in range(10))
    + "</div></div>"
    for b, title in enumerate(["Lo más leído", "Últimas noticias", "Opinión"])
)
FOOTER_COLUMNS = "".join(
    f'<div class="td-pb-span3"><h4 class="block-title">{heading}</h4><ul class="menu">'
    + "".join(
        f'<li class="menu-item"><a href="{LIVE}/{MENU_SLUGS[(c + i) % len(MENU_SLUGS)]}/'
        f'page/{i + 1}/">{escape(MENU[(c + i) % len(MENU)])} {i + 1}</a></li>'
        for i in range(15)
    )
    + "</ul></div>"
    for c, heading in enumerate(["Secciones", "Regiones", "Especiales", "El Ciudadano"])
)


def _menu() -> str:
    items = MEGA_MENU
    return (
        '<div class="td-header-wrap tdc-zone"><div class="tdc_zone tdi_1 wpb_row td-pb-row">'
        f'<a class="tdb-logo-a" href="{LIVE}/"><img class="tdb-logo-img" alt="El Ciudadano" '
        f'src="{LIVE}/wp-content/uploads/logo.png"></a>'
        f'<div class="tdb_header_menu">{items}</div>'
        '<div class="tdb_header_search"><form method="get" action="/">'
        '<input name="s" placeholder="Buscar"><button>Buscar</button></form></div>'
        "</div></div>"
    )


def _sidebar(others: list[dict]) -> str:
    lines = "".join(
        f'<div class="td_module_flex td_module_flex_1"><h3 class="entry-title td-module-title">'
        f'<a href="{url(a)}" rel="bookmark">{escape(a["title"])}</a></h3>'
        f'<span class="td-post-date"><time class="entry-date updated">{spanish_date(a["published"])}'
        f"</time></span></div>"
        for a in others
    )
    return (
        '<div class="td-pb-span4 td-main-sidebar"><aside class="td_block_wrap tdb_single_sidebar">'
        '<div class="td-block-title-wrap"><h4 class="td-block-title">Lo más leído</h4></div>'
        f'<div class="td_block_inner">{lines}</div>'
        '<div class="td-a-rec td-a-rec-id-sidebar"><ins class="adsbygoogle"></ins></div>'
        f"{SIDEBAR_MODULES}</aside></div>"
    )


def _footer() -> str:
    links = "".join(
        f'<li><a href="{LIVE}/{slug}/">{escape(name)}</a></li>'
        for name, slug in zip(MENU, MENU_SLUGS, strict=False)
    )
    return (
        '<div class="td-footer-wrap tdc-footer-wrap"><div class="tdb-footer">'
        f'<ul class="footer-menu">{links}</ul><div class="td-pb-row">{FOOTER_COLUMNS}</div>'
        f'<div class="footer-social">{SOCIAL}</div>'
        '<div class="td-footer-text">El Ciudadano — Medio de comunicación independiente. '
        "Todos los derechos reservados.</div>"
        f'<a href="{LIVE}/contacto/">Contacto</a> <a href="{LIVE}/quienes-somos/">Quiénes somos</a>'
        "</div></div>"
        "<script>var tdBlocksArray = []; var tdLocalCache = {}; "
        "jQuery().ready(function(){ tdWeatherHeader(); tdSmartSidebar.init(); });</script>"
        f'<script src="{LIVE}/wp-content/themes/Newspaper/js/tagdiv_theme.min.js"></script>'
    )


def _page(
    head: str, body_class: str, content: str, lang: str = "es-CL", title: str = "El Ciudadano"
) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f'<link rel="stylesheet" href="{LIVE}/wp-content/themes/Newspaper/style.css">\n'
        f'{head}\n<style id="tdb-global-fonts">{THEME_CSS}</style>\n</head>\n'
        f'<body class="{body_class} td-standard-pack global-block-template-1 tdb-template">\n'
        f'<div class="td-scroll-up"></div><div id="td-outer-wrap" class="td-theme-wrap">'
        f"{_menu()}{content}{_footer()}</div>\n</body>\n</html>\n"
    )


# -- article pages ---------------------------------------------------------------------------
def _json_ld(a: dict) -> str:
    page = url(a)
    persons = [
        {
            "@type": "Person",
            "@id": f"{LIVE}/#/schema/person/{i}",
            "name": name,
            "url": f"{LIVE}/author/{name.lower().replace(' ', '-')}/",
        }
        for i, name in enumerate(a["authors"])
    ]
    article = {
        "@type": "NewsArticle",
        "@id": page + "#article",
        "isPartOf": {"@id": page},
        "author": [{"name": p["name"], "@id": p["@id"]} for p in persons],
        "headline": a["title"],
        "datePublished": a["published"],
        "mainEntityOfPage": {"@id": page},
        "publisher": {"@id": f"{LIVE}/#organization"},
        "keywords": a["tags"],
        "articleSection": [name for name, _ in a["categories"]],
        "inLanguage": "es-CL",
    }
    article["dateModified"] = a.get("modified") or a["published"]  # WordPress: never empty
    if a.get("image"):
        article["image"] = {"@id": page + "#primaryimage"}
        article["thumbnailUrl"] = a["image"]
    graph = [
        article,
        {
            "@type": "WebPage",
            "@id": page,
            "url": page,
            "name": f"{a['title']} - El Ciudadano",
            "datePublished": a["published"],
            "inLanguage": "es-CL",
            "breadcrumb": {"@id": page + "#breadcrumb"},
        },
        {
            "@type": "BreadcrumbList",
            "@id": page + "#breadcrumb",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Portada", "item": LIVE + "/"},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": a["section"][0],
                    "item": f"{LIVE}/{a['section'][1]}/",
                },
                {"@type": "ListItem", "position": 3, "name": a["title"]},
            ],
        },
        {
            "@type": "WebSite",
            "@id": f"{LIVE}/#website",
            "url": LIVE + "/",
            "name": "El Ciudadano",
            "inLanguage": "es-CL",
        },
        {
            "@type": "Organization",
            "@id": f"{LIVE}/#organization",
            "name": "El Ciudadano",
            "url": LIVE + "/",
        },
        *persons,
    ]
    payload = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False)
    return f'<script type="application/ld+json" class="yoast-schema-graph">{payload}</script>'


def _meta(a: dict, with_dates: bool = True) -> str:
    description = a.get("subtitle") or a.get("excerpt") or ""
    tags = "".join(f'<meta property="article:tag" content="{escape(t)}">' for t in a["tags"])
    sections = "".join(
        f'<meta property="article:section" content="{escape(name)}">'
        for name, _ in a["categories"][:1]
    )
    dates = ""
    if with_dates:
        dates = (
            f'<meta property="article:published_time" content="{a["published"]}">'
            f'<meta property="article:modified_time" '
            f'content="{a.get("modified") or a["published"]}">'
        )
    image = f'<meta property="og:image" content="{a["image"]}">' if a.get("image") else ""
    return (
        f'<meta name="description" content="{escape(description)}">'
        f'<link rel="canonical" href="{url(a)}">'
        f'<link rel="shortlink" href="{LIVE}/?p={a["wp_id"]}">'
        '<meta property="og:locale" content="es_ES"><meta property="og:type" content="article">'
        f'<meta property="og:title" content="{escape(a["title"])} | El Ciudadano">'
        f'<meta property="og:description" content="{escape(description)}">'
        f'<meta property="og:url" content="{url(a)}">'
        '<meta property="og:site_name" content="El Ciudadano">'
        f"{sections}{tags}{dates}{image}"
        f'<meta name="author" content="{escape(", ".join(a["authors"]))}">'
    )


def _related(others: list[dict]) -> str:
    items = "".join(
        f'<div class="td_module_related_posts td-animation-stack td_mod_related_posts">'
        f'<h3 class="entry-title td-module-title"><a href="{url(o)}">{escape(o["title"])}</a></h3></div>'
        for o in others[:4]
    )
    return (
        '<div class="td_block_wrap td_block_related_posts tdi_90">'
        '<h4 class="td-related-title"><span class="td-related-left">Artículos relacionados</span></h4>'
        f'<div class="td_block_inner">{items}</div></div>'
    )


SHARING = (
    '<div class="td-post-sharing td-post-sharing-top"><div class="td-post-sharing-visible">'
    '<a class="td-social-sharing-button td-social-facebook" href="https://www.facebook.com/sharer.php">'
    '<span class="td-social-but-text">Facebook</span></a>'
    '<a class="td-social-sharing-button td-social-twitter" href="https://twitter.com/intent/tweet">'
    '<span class="td-social-but-text">Twitter</span></a>'
    '<a class="td-social-sharing-button td-social-whatsapp" href="https://api.whatsapp.com/send">'
    '<span class="td-social-but-text">WhatsApp</span></a></div></div>'
)

COMMENTS = (
    '<div class="comments" id="comments"><ol class="comment-list">'
    + "".join(
        f'<li class="comment even thread-even depth-1" id="li-comment-{900 + i}"><article>'
        f'<footer><img alt="" src="{LIVE}/wp-content/avatar-{i}.png" class="avatar" height="50">'
        f'<cite>Lector {i}</cite><a href="#comment-{900 + i}"><time>21 de noviembre de 2025 a '
        f'las {10 + i}:0{i} am</time></a></footer><div class="comment-content"><p>Comentario '
        f'número {i} sobre la noticia.</p></div><div class="comment-meta"><a rel="nofollow" '
        f'class="comment-reply-link" href="#respond">Responder</a></div></article></li>'
        for i in range(6)
    )
    + '</ol><div id="respond" class="comment-respond">'
    '<h3 id="reply-title" class="comment-reply-title">Deja un comentario</h3>'
    '<form action="/wp-comments-post.php" method="post" id="commentform" class="comment-form">'
    '<textarea id="comment" name="comment" placeholder="Comentario:"></textarea>'
    '<input class="" id="author" name="author" placeholder="Nombre:*">'
    '<input type="submit" value="Publicar comentario"></form></div></div>'
)


def _featured_image(a: dict) -> str:
    """The post's featured image, as tagDiv's single-post template shows it above the text."""
    if not a.get("image"):
        return ""
    return (
        '<div class="td_block_wrap tdb_single_featured_image"><div class="tdb-block-inner '
        f'td-fix-index"><img class="entry-thumb" src="{escape(a["image"])}" alt="" '
        'width="696" height="464"></div></div>'
    )


def article_page(a: dict, others: list[dict]) -> str:
    template = a.get("template", "tagdiv")
    if template == "old":
        return _old_article_page(a, others)
    if template == "redesign":
        return _redesigned_article_page(a)
    with_dates = template != "nodate"
    cats = "".join(
        f'<a class="tdb-entry-category" href="{LIVE}/{slug}/">{escape(name)}</a>'
        for name, slug in a["categories"]
    )
    authors = "".join(
        f'<a class="tdb-author-name" href="{LIVE}/author/{n.lower().replace(" ", "-")}/">'
        f"{escape(n)}</a>"
        for n in a["authors"]
    )
    date = ""
    if with_dates:
        date = (
            '<div class="tdb_single_date"><span class="tdb-date">'
            f'<time class="entry-date updated td-module-date" datetime="{a["published"]}">'
            f"{spanish_date(a['published'])}</time></span></div>"
        )
    subtitle = ""
    if a.get("subtitle"):
        subtitle = (
            '<div class="td_block_wrap tdb_single_subtitle"><div class="tdb-block-inner">'
            f"<p>{escape(a['subtitle'])}</p></div></div>"
        )
    tags = "".join(
        f'<li><a href="{LIVE}/tag/{t.lower().replace(" ", "-")}/">{escape(t)}</a></li>'
        for t in a["tags"]
    )
    content = (
        '<div class="td-main-content-wrap td-container-wrap"><div class="tdc-row"><div class="td-pb-span8">'
        '<div class="td_block_wrap tdb-breadcrumbs"><span><a href="'
        + LIVE
        + '/">Portada</a></span>'
        f' <i class="td-icon-right"></i> <span><a href="{LIVE}/{a["section"][1]}/">'
        f"{escape(a['section'][0])}</a></span></div>"
        f'<div class="tdb-category td-fix-index">{cats}</div>'
        '<div class="td_block_wrap tdb_title"><h1 class="tdb-title-text">'
        f"{escape(a['title'])}</h1></div>"
        f"{subtitle}"
        '<div class="tdb_single_author"><div class="tdb-author-name-wrap">'
        f'<span class="tdb-author-by">Por</span> {authors}</div></div>'
        f"{date}{SHARING}{_featured_image(a)}"
        f'<article id="post-{a["wp_id"]}" class="post-{a["wp_id"]} post type-post status-publish">'
        '<div class="td_block_wrap tdb_single_content"><div class="tdb-block-inner td-fix-index">'
        f'<div class="td-post-content">{a["body"]}</div></div></div></article>'
        f'<div class="tdb_single_tags"><ul class="tdb-tags"><li><span>Etiquetas</span></li>{tags}</ul></div>'
        f"{_related(others)}{COMMENTS}</div>"
        f"{_sidebar(others)}</div></div>"
    )
    head = _meta(a, with_dates) + (_json_ld(a) if with_dates else "")
    body_class = (
        f"post-template-default single single-post postid-{a['wp_id']} single-format-standard"
    )
    return _page(head, body_class, content, title=f"{a['title']} | El Ciudadano")


def _old_article_page(a: dict, others: list[dict]) -> str:
    """The Newspaper template of the 2010s: td-post-content tagdiv-type, visible date only."""
    cats = "".join(
        f'<li class="entry-category"><a href="{LIVE}/{slug}/">{escape(name)}</a></li>'
        for name, slug in a["categories"]
    )
    content = (
        '<div class="td-main-content-wrap"><div class="td-container td-post-template-default">'
        f'<article id="post-{a["wp_id"]}" class="post-{a["wp_id"]} post type-post">'
        f'<div class="td-post-header"><ul class="td-category">{cats}</ul>'
        f'<header class="td-post-title"><h1 class="entry-title">{escape(a["title"])}</h1>'
        '<div class="td-module-meta-info">'
        f'<div class="td-post-author-name"><div class="td-author-by">Por</div> '
        f'<a href="{LIVE}/author/equipo/">{escape(", ".join(a["authors"]))}</a></div>'
        f'<span class="td-post-date">{escape(a["date_text"])}</span></div></header></div>'
        f"{SHARING}"
        f'<div class="td-post-content tagdiv-type">{a["body"]}</div>'
        f"</article>{_related(others)}</div>{_sidebar(others)}</div>"
    )
    head = (
        f'<link rel="canonical" href="{url(a)}">'
        f'<link rel="shortlink" href="{LIVE}/?p={a["wp_id"]}">'
        '<meta property="og:type" content="article">'
        f'<meta property="og:title" content="{escape(a["title"])}">'
        f'<meta property="og:url" content="{url(a)}">'
    )
    body_class = f"single single-post postid-{a['wp_id']} single-format-standard"
    return _page(head, body_class, content, title=f"{a['title']} | El Ciudadano")


def _redesigned_article_page(a: dict) -> str:
    """A theme the parser was never taught, as a redesign would bring overnight: Yoast's
    metadata stays (a plugin), the article's markup and classes are all new."""
    content = (
        '<main class="nota"><header class="nota__cabecera">'
        f'<h1 class="nota__titulo">{escape(a["title"])}</h1>'
        f'<p class="nota__firma">Por {escape(", ".join(a["authors"]))} · '
        f"{spanish_date(a['published'])}</p></header>"
        f'<section class="nota__cuerpo">{a["body"]}</section></main>'
    )
    body_class = f"single single-post postid-{a['wp_id']} tema-2026"
    return _page(_meta(a) + _json_ld(a), body_class, content, title=f"{a['title']} | El Ciudadano")


# -- listings, errors, blocks -------------------------------------------------------------
def listing_page(name: str, slug: str, articles: list[dict]) -> str:
    modules = "".join(
        '<div class="td_module_16 td_module_wrap td-animation-stack">'
        f'<h3 class="entry-title td-module-title"><a href="{url(a)}" rel="bookmark">'
        f"{escape(a['title'])}</a></h3>"
        f'<time class="entry-date updated" datetime="{a["published"]}">'
        f"{spanish_date(a['published'])}</time>"
        f'<div class="td-excerpt">{escape(a.get("subtitle") or "")}</div></div>'
        for a in articles
    )
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "CollectionPage", "@id": f"{LIVE}/{slug}/", "name": f"{name} archivos"}
        ],
    }
    head = (
        f'<link rel="canonical" href="{LIVE}/{slug}/">'
        '<meta property="og:type" content="article">'
        f'<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(graph)}</script>'
    )
    content = (
        f'<div class="td-category-header"><h1 class="entry-title td-page-title">{escape(name)}'
        f'</h1></div><div class="td-ss-main-content">{modules}</div>'
    )
    return _page(
        head, f"archive category category-{slug}", content, title=f"{name} archivos - El Ciudadano"
    )


def not_found_page() -> str:
    content = (
        '<div class="td-404-title">Ups... ¡Error 404!</div>'
        '<div class="td-404-sub-title">Lo sentimos, pero la página que busca no existe.</div>'
    )
    return _page("", "error404", content, title="Página no encontrada - El Ciudadano")


def block_page() -> str:
    """Cloudflare's 403 'Sorry, you have been blocked'."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Attention Required! | Cloudflare</title>'
        '<meta charset="UTF-8"><link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/cf.errors.css">'
        '</head><body><div id="cf-wrapper"><div id="cf-error-details" class="cf-error-details-wrapper">'
        '<div class="cf-wrapper cf-header cf-error-overview"><h1 data-translate="block_headline">'
        'Sorry, you have been blocked</h1><h2 class="cf-subheadline">You are unable to access '
        'elciudadano.com</h2></div><div class="cf-section cf-highlight">'
        "<p>This website is using a security service to protect itself from online attacks.</p>"
        '</div><div class="cf-error-footer">Cloudflare Ray ID: <strong>8f1e2d3c4b5a6978</strong>'
        "</div></div></div></body></html>"
    )


def challenge_page() -> str:
    """Cloudflare's JavaScript challenge."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="refresh" content="390"></head><body class="no-js">'
        '<div class="main-wrapper" role="main"><div class="main-content">'
        '<h1 class="zone-name-title h1">www.elciudadano.com</h1>'
        '<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>'
        '<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue'
        "</div></noscript></div></div>"
        '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>'
        "</body></html>"
    )


# -- feed, sitemaps, robots ---------------------------------------------------------------
def rfc822(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso).astimezone(timezone.utc), usegmt=True)


FEED_FOOTER = (
    '<p>La entrada <a href="{url}">{title}</a> se publicó primero en '
    f'<a href="{LIVE}">El Ciudadano</a>.</p>'
)


def feed(articles: list[dict], tracking: bool = True) -> str:
    """A WordPress RSS2 page: categories and tags both as <category>, the excerpt and the
    'La entrada ...' footer in <description>, the loose 'El Ciudadano' lead in the content."""
    items = []
    for a in articles:
        link = url(a) + ("?utm_source=rss&utm_medium=rss&utm_campaign=feed" if tracking else "")
        terms = [name for name, _ in a["categories"]] + a["tags"]
        cats = "".join(f"<category><![CDATA[{name}]]></category>" for name in terms)
        creators = "".join(f"<dc:creator><![CDATA[{n}]]></dc:creator>" for n in a["authors"])
        footer = FEED_FOOTER.format(url=url(a), title=escape(a["title"]))
        excerpt = a.get("subtitle") or a.get("excerpt") or ""
        description = f"<p>{escape(excerpt)}</p>\n{footer}" if excerpt else footer
        body = f"<p>El Ciudadano</p>\n{a['body']}\n{footer}"
        items.append(
            f"<item><title>{escape(a['title'])}</title><link>{escape(link)}</link>"
            f"{creators}<pubDate>{rfc822(a['published'])}</pubDate>{cats}"
            f'<guid isPermaLink="false">{LIVE}/?p={a["wp_id"]}</guid>'
            f"<description><![CDATA[{description}]]></description>"
            f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>El Ciudadano</title><link>{LIVE}</link>"
        "<description>Noticias de Chile y el mundo</description><language>es-CL</language>"
        + "".join(items)
        + "</channel></rss>"
    )


CATEGORY_IDS = {
    "actualidad": 9,
    "politica": 8,
    "economia": 7,
    "cultura": 18,
    "chile": 42,
    "mundo": 743,
}


def _utc_naive(iso: str | None) -> str | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def rest_post(a: dict) -> dict:
    """A post of /wp-json/wp/v2/posts?_embed=1 as WordPress, ACF and Jetpack give it."""
    published = local(a["published"])
    modified = local(a["modified"]) if a.get("modified") else published
    categories = [
        {
            "id": CATEGORY_IDS.get(slug, 1000 + i),
            "link": f"{LIVE}/{slug}/",
            "name": name,
            "slug": slug,
            "taxonomy": "category",
        }
        for i, (name, slug) in enumerate(a["categories"])
    ]
    tags = [
        {
            "id": 5000 + i,
            "link": f"{LIVE}/tag/{t.lower().replace(' ', '-')}/",
            "name": escape(t),
            "slug": t.lower().replace(" ", "-"),
            "taxonomy": "post_tag",
        }
        for i, t in enumerate(a["tags"])
    ]
    excerpt = a.get("subtitle") or a.get("excerpt") or ""
    return {
        "id": a["wp_id"],
        "date": published.replace(tzinfo=None).isoformat(),
        "date_gmt": _utc_naive(a["published"]),
        "modified": modified.replace(tzinfo=None).isoformat(),
        "modified_gmt": _utc_naive(a.get("modified"))
        if a.get("modified")
        else _utc_naive(a["published"]),
        "slug": a["path"].strip("/").split("/")[-3],
        "status": "publish",
        "type": "post",
        "link": url(a),
        "title": {"rendered": escape(a["title"], quote=False)},
        "content": {"rendered": a["body"], "protected": False},
        "excerpt": {
            "rendered": f"<p>{escape(excerpt)}</p>\n" if excerpt else "",
            "protected": False,
        },
        "author": 3,
        "featured_media": 1 if a.get("image") else 0,
        "categories": [c["id"] for c in categories],
        "tags": [t["id"] for t in tags],
        "acf": {"bajada_titulo": a.get("subtitle") or "", "resume": ""},
        "jetpack_featured_media_url": a.get("image") or "",
        "_embedded": {
            "author": [
                {"id": 3 + i, "name": n, "slug": n.lower().replace(" ", "-")}
                for i, n in enumerate(a["authors"])
            ],
            "wp:term": [categories, tags],
        },
    }


def rest_posts(articles: list[dict]) -> str:
    return json.dumps([rest_post(a) for a in articles], ensure_ascii=False)


def sitemap_index(names: list[str], lastmod: str) -> str:
    entries = "".join(
        f"<sitemap><loc>{LIVE}/{n}</loc><lastmod>{lastmod}</lastmod></sitemap>" for n in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    )


def urlset(entries: list[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{escape(loc)}</loc>"
        + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
        + "</url>"
        for loc, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + rows + "</urlset>"
    )


# -- images and the theme's stylesheet ------------------------------------------------------
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
IMAGE_SIZE = (96, 64)  # pixels: small, and noisy enough to weigh what a small photo does


def image(path: str) -> bytes:
    """The picture the stand-in serves at an uploads path: a PNG of noise seeded by the path,
    the same bytes on every request and in every run, another for every path."""
    import hashlib
    import struct
    import zlib

    width, height = IMAGE_SIZE
    seed = hashlib.sha256(path.encode()).digest()
    rows = b"".join(
        b"\x00"
        + b"".join(hashlib.sha256(seed + bytes([y, x])).digest()[:24] for x in range(width // 8))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


STYLESHEET = """body{margin:0;font-family:Georgia,serif;color:#222;background:#f4f1ea}
.td-header-wrap{background:#b3001b;color:#fff;padding:8px 24px}
.td-header-wrap a{color:#fff}.tdb-menu,.sub-menu{display:none}
.tdb-logo-img{height:40px}.td-main-content-wrap{max-width:1100px;margin:0 auto;padding:16px}
.td-pb-span8{display:inline-block;width:68%;vertical-align:top}
.td-pb-span4{display:inline-block;width:30%;vertical-align:top;font-size:13px}
.tdb-title-text{font-size:34px;line-height:1.15;color:#111}
.tdb_single_subtitle{font-size:19px;color:#555}
.td-post-content img{max-width:100%;height:auto;border:1px solid #ccc}
.td-module-thumb,.td-footer-wrap .td-pb-row,.comments{display:none}
svg{width:18px;height:18px}.td-social-icon-wrap{display:inline-block;margin-right:6px}
"""


def robots() -> str:
    return (
        "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"
        "Disallow: /privado/\n\n"
        f"Sitemap: {LIVE}/sitemap_index.xml\n"
    )

"""The local stand-in of www.elciudadano.com: an HTTP server on 127.0.0.1 serving the
articles of standin/articles.py with the markup of standin/templates.py.

    with StandInSite() as site:          # picks a free port; stopped on exit
        crawl(base_url=site.base_url)

It records every request path, so a test can tell what a crawl fetched.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from standin import templates
from standin.articles import ARTICLES

FEED_PAGE_SIZE = 4  # the live feed has 10 a page; fewer here so pagination is exercised
BLOCKED_PATH = "/chile/bloqueado-por-cloudflare/11/20/"
CHALLENGE_PATH = "/mundo/pagina-con-desafio/11/19/"
GONE_PATH = "/chile/articulo-borrado/10/01/"
DISALLOWED_PATH = "/privado/borrador-interno/01/01/"
LISTING_PATH = "/chile/"

# What the sitemaps list besides the articles: pages a crawl must survive, never archive.
TRAPS = [BLOCKED_PATH, CHALLENGE_PATH, GONE_PATH, DISALLOWED_PATH, LISTING_PATH]


class _Articles(list):
    """The site's articles: a list that counts its changes (a test adds, edits or moves an
    article by replacing its dict), so what the site derives from it is made again only then."""

    version = 0

    def _changed(name):
        def method(self, *args, **kwargs):
            self.version += 1
            return getattr(list, name)(self, *args, **kwargs)

        method.__name__ = name
        return method

    for _name in (
        "__setitem__",
        "__delitem__",
        "__iadd__",
        "__imul__",
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "sort",
        "reverse",
    ):
        locals()[_name] = _changed(_name)
    del _name, _changed


def _lastmod(article: dict) -> str:
    return article.get("modified") or article["published"]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that went away (a crawl killed by a test) is not an error of the site."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class StandInSite:
    """Serve the stand-in on 127.0.0.1; blocked=True answers like Cloudflare in a block period
    (every page 403 except the RSS feed)."""

    def __init__(
        self,
        port: int = 0,
        articles: list[dict] | None = None,
        blocked: bool = False,
        core_sitemaps: bool = False,
        redirects: dict[str, str] | None = None,
        extra_urls: list[str] | None = None,
        delay: float = 0.0,
        pages: dict[str, bytes] | None = None,
        rest_blocked: bool = False,
        html_blocked: bool = False,
        errors: dict[str, int] | None = None,
        throttle: dict[str, tuple[int, str]] | None = None,
        hang: set[str] | None = None,
        media: dict[str, tuple[str, bytes]] | None = None,
    ):
        """core_sitemaps: no Yoast and no Sitemap line in robots.txt, only WordPress core's
        /wp-sitemap.xml. redirects: path -> Location answered with 301 (before anything else;
        a Location may name another host). extra_urls: paths the sitemap lists besides the
        articles. delay: seconds each article page takes. pages: path -> raw HTML served as
        it is (e.g. a huge page). media: path -> (content type, bytes) served as they are, in
        place of the pictures and stylesheet the stand-in serves under /wp-content/."""
        self.articles = articles if articles is not None else ARTICLES
        self.blocked = blocked
        self.core_sitemaps = core_sitemaps
        self.redirects = dict(redirects or {})
        self.extra_urls = list(extra_urls or [])
        self.delay = delay
        self.pages = dict(pages or {})
        self.rest_blocked = rest_blocked  # /wp-json/ answers Cloudflare's block page
        self.errors = dict(errors or {})  # path -> HTTP status it answers (until removed)
        # path -> (how many times, Retry-After value): answers 429 that often, then the page; the
        # value may be a function, called when the 429 is sent (a date a few seconds ahead)
        self.throttle = dict(throttle or {})
        self.hang = set(hang or ())  # paths that never answer (until the site stops)
        self.media = dict(media or {})
        self.theme: str | None = None  # a template every article page is served in (a redesign)
        self._stopping = threading.Event()
        self.html_blocked = html_blocked  # pages and sitemaps blocked; the feed and REST answer
        self.requests: list[str] = []
        self.times: list[tuple[float, str]] = []  # (time.monotonic(), path) of each request
        self._served: Counter[str] = Counter()
        self._lock = threading.Lock()
        # lookups a crawl of 20,000 articles would otherwise repeat for every request (the
        # stand-in shares the benchmark's two cores with the crawl it serves), made again
        # whenever the articles changed
        self._made_for: tuple[int, int] = (0, -1)
        self._by_path: dict[str, int] = {}
        self._sorted: dict[tuple[str, bool], list[dict]] = {}
        self._server = _QuietServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def articles(self) -> _Articles:
        return self._articles

    @articles.setter
    def articles(self, articles: list[dict]) -> None:
        self._articles = _Articles(articles)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInSite:
        # stopped within 50 ms (serve_forever looks for shutdown() every poll_interval: 0.5 s
        # by default, which every test starting its own stand-in waited for)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # hanging requests end too
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandInSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fetched(self, path: str) -> int:
        with self._lock:
            return sum(1 for p in self.requests if urlsplit(p).path == path)

    # -- routing -------------------------------------------------------------------------------
    def respond(self, raw_path: str) -> tuple[int, str, str | bytes, dict]:
        """(status, content type, body, extra headers) for a request path."""
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query)
        html = "text/html; charset=UTF-8"
        if path in self.redirects:
            return 301, html, "", {"Location": self.redirects[path]}
        if path in self.hang:
            self._stopping.wait(600)  # a server that accepted the request and went silent
            return 503, html, "", {}
        if path in self.errors:
            status = self.errors[path]
            return status, html, f"<h1>{status}</h1>", {}
        if path in self.throttle:
            with self._lock:
                times, retry_after = self.throttle[path]
                if times > 0:
                    self.throttle[path] = (times - 1, retry_after)
            if times > 0:
                when = retry_after() if callable(retry_after) else retry_after
                return 429, html, "<h1>429 Too Many Requests</h1>", {"Retry-After": when}
        if path in self.pages:
            return 200, html, self.pages[path], {}
        if path == "/feed/":
            return self._feed(int(query.get("paged", ["1"])[0] or 1))
        if path == "/wp-json/wp/v2/posts" and not self.blocked and not self.rest_blocked:
            return self._rest(query)
        if path == "/wp-json/wp/v2/categories" and not self.blocked and not self.rest_blocked:
            return self._categories()
        if path == "/wp-json/wp/v2/posts" and self.rest_blocked:
            return 403, html, templates.block_page(), {"Server": "cloudflare"}
        if self.html_blocked and path not in ("/robots.txt", "/feed/"):
            return 403, html, templates.block_page(), {"Server": "cloudflare"}
        if self.blocked:
            return 403, html, templates.block_page(), {"Server": "cloudflare", "CF-RAY": "8f1e2d3c"}
        if self.core_sitemaps:
            core = self._core_sitemap(path)
            if core is not None:
                return core
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", templates.robots(), {}
        if path in self.media:
            return 200, *self.media[path], {}
        if path.startswith("/wp-content/uploads/") and path.endswith(templates.IMAGE_SUFFIXES):
            return 200, "image/png", templates.image(path), {}
        if path.startswith("/wp-content/themes/") and path.endswith(".css"):
            return 200, "text/css", templates.STYLESHEET, {}
        if path in (
            "/sitemap_index.xml",
            "/post-sitemap.xml",
            "/post-sitemap2.xml",
            "/page-sitemap.xml",
            "/category-sitemap.xml",
        ):
            return 200, "application/xml; charset=UTF-8", self._sitemap(path), {}
        if path == "/" and "p" in query:
            article = self._by_id(query["p"][0])
            if article:
                # WordPress redirects a shortlink to the permalink on its own host (home_url)
                return 301, html, "", {"Location": self.base_url + article["path"]}
        if path == BLOCKED_PATH:
            return 403, html, templates.block_page(), {"Server": "cloudflare"}
        if path == CHALLENGE_PATH:
            return 503, html, templates.challenge_page(), {"Server": "cloudflare"}
        article_path = path[: -len("amp/")] if path.endswith("/amp/") else path
        index = self._lookups()[0].get(article_path)
        if index is not None:
            return self._article(self.articles[index], index)
        for article in self.articles:
            name, slug = article["section"]
            if path in (f"/{slug}/",) or path.startswith(f"/{slug}/page/"):
                members = [a for a in self.articles if a["section"][1] == slug]
                return 200, html, templates.listing_page(name, slug, members), {}
        return 404, html, templates.not_found_page(), {}

    def _lookups(self) -> tuple[dict[str, int], dict[tuple[str, bool], list[dict]]]:
        """(path -> index of the article, the articles sorted by (date key, newest first)),
        made again when the articles changed."""
        with self._lock:
            made_for = (id(self.articles), self.articles.version)
            if made_for != self._made_for:
                by_path: dict[str, int] = {}
                for index, article in enumerate(self.articles):
                    by_path.setdefault(article["path"], index)
                self._by_path, self._sorted, self._made_for = by_path, {}, made_for
            return self._by_path, self._sorted

    def _ordered(self, key: str, newest_first: bool) -> list[dict]:
        """The articles by published or modified time (the site's local time), as WordPress
        orders them; sorted once for each order while the articles stay the same."""
        ordered = self._lookups()[1]
        found = ordered.get((key, newest_first))
        if found is None:
            found = sorted(
                self.articles,
                key=lambda a: templates.local(a.get(key) or a["published"]),
                reverse=newest_first,
            )
            ordered[(key, newest_first)] = found
        return found

    def _article(self, article: dict, index: int) -> tuple[int, str, str, dict]:
        with self._lock:
            self._served[article["path"]] += 1
            attempt = self._served[article["path"]]
        if self.delay:
            time.sleep(self.delay)
        if attempt <= article.get("flaky", 0):
            return 503, "text/html", "<h1>503 Service Unavailable</h1>", {"Retry-After": "0"}
        # the sidebar and related posts show a few other articles, as the theme does
        others = [a for a in self.articles[max(0, index - 5) : index + 5] if a is not article]
        if self.theme:
            article = {**article, "template": self.theme}
        return 200, "text/html; charset=UTF-8", templates.article_page(article, others), {}

    def _by_id(self, wp_id: str) -> dict | None:
        return next((a for a in self.articles if str(a["wp_id"]) == wp_id), None)

    def _newest_first(self) -> list[dict]:
        return sorted(self.articles, key=lambda a: a["published"], reverse=True)

    def _feed(self, page: int) -> tuple[int, str, str, dict]:
        items = self._newest_first()[(page - 1) * FEED_PAGE_SIZE : page * FEED_PAGE_SIZE]
        if page < 1 or not items:
            return 404, "text/html; charset=UTF-8", templates.not_found_page(), {}
        return 200, "application/rss+xml; charset=UTF-8", templates.feed(items), {}

    def _rest(self, query: dict) -> tuple[int, str, str, dict]:
        """/wp-json/wp/v2/posts as WordPress core answers it: page, per_page (at most 100),
        orderby date or modified, order, and modified_after, which core compares with
        post_modified, the site's local time, exclusively (an offset in the value is
        ignored here: our client sends Santiago wall time)."""
        page = int(query.get("page", ["1"])[0] or 1)
        per_page = min(100, int(query.get("per_page", ["10"])[0] or 10))
        key = "modified" if query.get("orderby", ["date"])[0] == "modified" else "published"
        everything = self._ordered(key, query.get("order", ["desc"])[0] != "asc")
        for name, keep in (("after", lambda d, x: d > x), ("before", lambda d, x: d < x)):
            if name in query:  # post_date, the site's local time, exclusive (core's date_query)
                bound = datetime.fromisoformat(query[name][0][:19])
                everything = [
                    a
                    for a in everything
                    if keep(templates.local(a["published"]).replace(tzinfo=None), bound)
                ]
        if "modified_after" in query:
            after = datetime.fromisoformat(query["modified_after"][0][:19])
            everything = [
                a
                for a in everything
                if templates.local(a.get("modified") or a["published"]).replace(tzinfo=None) > after
            ]
        posts = everything[(page - 1) * per_page : page * per_page]
        if page < 1 or (not posts and page > 1):
            error = {
                "code": "rest_post_invalid_page_number",
                "message": "El número de página "
                "solicitado es mayor que el número de páginas disponibles.",
                "data": {"status": 400},
            }
            return 400, "application/json; charset=UTF-8", json.dumps(error), {}
        pages = str(-(-len(everything) // per_page))
        return (
            200,
            "application/json; charset=UTF-8",
            templates.rest_posts(posts),
            {"X-WP-Total": str(len(everything)), "X-WP-TotalPages": pages},
        )

    def _categories(self) -> tuple[int, str, str, dict]:
        """/wp-json/wp/v2/categories: every category (one page here) with core's count of
        its published posts."""
        counts = Counter(
            c for a in self.articles for c in dict.fromkeys(map(tuple, a["categories"]))
        )
        terms = [
            {
                "id": templates.CATEGORY_IDS.get(slug, 1000 + i),
                "name": name,
                "slug": slug,
                "count": n,
            }
            for i, ((name, slug), n) in enumerate(sorted(counts.items()))
        ]
        return (
            200,
            "application/json; charset=UTF-8",
            json.dumps(terms),
            {"X-WP-Total": str(len(terms)), "X-WP-TotalPages": "1"},
        )

    def _core_sitemap(self, path: str) -> tuple[int, str, str, dict] | None:
        xml = "application/xml; charset=UTF-8"
        if path == "/robots.txt":
            robots = templates.robots().split("Sitemap:")[0]
            return 200, "text/plain; charset=utf-8", robots, {}
        if path == "/sitemap_index.xml":
            return 404, "text/html; charset=UTF-8", templates.not_found_page(), {}
        if path == "/wp-sitemap.xml":
            names = [
                "wp-sitemap-posts-post-1.xml",
                "wp-sitemap-posts-page-1.xml",
                "wp-sitemap-taxonomies-category-1.xml",
            ]
            return 200, xml, templates.sitemap_index(names, ""), {}
        if path == "/wp-sitemap-posts-post-1.xml":
            # WordPress core's sitemaps give no lastmod (plugins add it with the
            # wp_sitemaps_posts_entry filter): REST and the feed carry the dates
            return (
                200,
                xml,
                templates.urlset([(templates.url(a), None) for a in self._newest_first()]),
                {},
            )
        return None

    def _sitemap(self, path: str) -> str:
        live = templates.LIVE
        articles = self._newest_first()
        half = (len(articles) + 1) // 2
        if path == "/sitemap_index.xml":
            names = [
                "post-sitemap.xml",
                "post-sitemap2.xml",
                "page-sitemap.xml",
                "category-sitemap.xml",
            ]
            return templates.sitemap_index(names, _lastmod(articles[0]) if articles else "")
        if path == "/post-sitemap.xml":
            entries = [(templates.url(a), _lastmod(a)) for a in articles[:half]]
            return templates.urlset(entries + [(live + p, None) for p in TRAPS])
        if path == "/post-sitemap2.xml":
            return templates.urlset(
                [(templates.url(a), _lastmod(a)) for a in articles[half:]]
                + [(live + p, None) for p in self.extra_urls]
            )
        if path == "/page-sitemap.xml":
            return templates.urlset([(live + "/contacto/", None), (live + "/quienes-somos/", None)])
        slugs = sorted({a["section"][1] for a in articles})
        return templates.urlset([(f"{live}/{slug}/", None) for slug in slugs])

    def _handler(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: without TCP_NODELAY, Nagle's algorithm and the
            # client's delayed ACK can hold the second one back (as web servers do, set it)
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with site._lock:
                    site.requests.append(self.path)
                    site.times.append((time.monotonic(), self.path))
                status, content_type, body, headers = site.respond(self.path)
                payload = body.encode("utf-8") if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:  # quiet: tests read site.requests instead
                pass

        return Handler

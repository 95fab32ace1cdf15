"""URL rules: canonical article URLs and moving site URLs onto the host being crawled."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from crawler import site


def site_base(url: str) -> str:
    """scheme://host of url; any host of the live site becomes the live site's own base."""
    parts = urlsplit(url)
    if parts.hostname in site.HOSTS:
        return site.BASE_URL
    return f"{parts.scheme}://{parts.netloc}"


def site_hosts(base: str) -> frozenset[str]:
    """The hosts of the site crawled from base: its host, the same with or without "www.",
    and every host of the live site when base is one of them."""
    host = urlsplit(base).hostname or ""
    twin = host[4:] if host.startswith("www.") else f"www.{host}"
    hosts = {host, twin}
    if host in site.HOSTS:
        hosts |= site.HOSTS
    return frozenset(hosts)


def rebase(url: str, base: str) -> str:
    """Put a URL of the site (absolute on a site host, or relative) on base's scheme and host.

    A mirror's saved pages and sitemaps still name www.elciudadano.com; the crawl follows them
    on the mirror. URLs on other hosts are returned unchanged.
    """
    absolute = urljoin(base + "/", url.strip())
    parts = urlsplit(absolute)
    base_parts = urlsplit(base)
    if parts.hostname in site.HOSTS or parts.netloc == base_parts.netloc:
        return urlunsplit(
            (base_parts.scheme, base_parts.netloc, parts.path or "/", parts.query, "")
        )
    return absolute


def strip_tracking(url: str) -> str:
    """Drop utm_*, fbclid and friends, and the fragment; keep meaningful query parameters."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not site.TRACKING_PARAMS.match(k)
    ]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def canonical_url(url: str, base: str) -> str:
    """The archive's key for an article: base's scheme and host, the path with no AMP suffix
    and a trailing slash, no query, no fragment."""
    parts = urlsplit(rebase(url, base))
    path = site.AMP_SUFFIX.sub("/", parts.path)
    while "//" in path:
        path = path.replace("//", "/")
    if not path.endswith("/"):
        path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

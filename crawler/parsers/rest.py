"""WordPress REST API posts (/wp-json/wp/v2/posts?_embed=1): one article per post object."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlsplit

from crawler import site
from crawler.parsers import text
from crawler.parsers.content import fragment_blocks, fragment_text
from crawler.parsers.encoding import decode
from crawler.parsers.normalize import Candidates, add_categories, normalize, not_article
from crawler.urls import rebase, site_base


def parse_rest(body: bytes, url: str, fetched_at: datetime | None = None) -> list[dict]:
    try:
        data = json.loads(decode(body))
    except ValueError:
        return [not_article(url, "unreadable JSON")]
    posts = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and "code" in data and "id" not in data:
        return [not_article(url, f"REST API error: {data.get('code')}")]
    base = site_base(url)
    articles = []
    for post in posts:
        if not isinstance(post, dict) or not post.get("link"):
            continue
        post_url = rebase(str(post["link"]), base)
        articles.append(normalize(post_candidates(post, post_url), post_url, fetched_at))
    return articles


def post_candidates(
    post: dict, url: str, content: bool = True, subtitle: bool = True
) -> Candidates:
    """What a post says, by field. Without content, its body and excerpt are not read (the
    excerpt counts only beside the body, see normalize); without subtitle, its ACF standfirst
    is not read either (the page had one)."""
    found = Candidates()
    embedded = post.get("_embedded") if isinstance(post.get("_embedded"), dict) else {}
    found.add("canonical", url, "rest:link")
    found.add("wp_id", post.get("id"), "rest:id")
    found.add("title", text.decoded(_rendered(post.get("title"))), "rest:title")
    found.add("published", _utc(post.get("date_gmt")), "rest:date_gmt")
    found.add("published", post.get("date"), "rest:date")
    found.add("modified", _utc(post.get("modified_gmt")), "rest:modified_gmt")
    found.add("modified", post.get("modified"), "rest:modified")
    terms = [
        t
        for group in embedded.get("wp:term") or []
        if isinstance(group, list)
        for t in group
        if isinstance(t, dict)
    ]
    categories = [
        (text.decoded(t.get("name")), t.get("slug") or "")
        for t in terms
        if t.get("taxonomy") == "category"
    ]
    add_categories(found, categories, url, "rest:wp:term")
    found.add(
        "tags",
        [text.decoded(t.get("name")) for t in terms if t.get("taxonomy") == "post_tag"],
        "rest:wp:term",
    )
    found.add(
        "authors",
        [
            text.decoded(a.get("name"))
            for a in embedded.get("author") or []
            if isinstance(a, dict) and a.get("name")
        ],
        "rest:author",
    )
    segments = [s for s in urlsplit(url).path.split("/") if s]
    found.add("language", site.LANGUAGE_PREFIXES.get(segments[0]) if segments else None, "url")
    found.add("language", post.get("lang"), "rest:lang")
    acf = post.get("acf") if isinstance(post.get("acf"), dict) else {}
    for name in site.REST_SUBTITLE_FIELDS if subtitle or content else ():
        value = acf.get(name)
        found.add(
            "subtitle", fragment_text(value) if isinstance(value, str) else None, f"rest:acf.{name}"
        )
    if content:
        found.add("excerpt", fragment_text(_rendered(post.get("excerpt"))), "rest:excerpt")
        blocks, embeds, html = fragment_blocks(_rendered(post.get("content")) or "", url)
        found.add("body", blocks, "rest:content")
        found.add("body_html", html, "rest:content")
        found.add("embeds", embeds, "rest:content")
    found.add(
        "image_url", post.get("jetpack_featured_media_url"), "rest:jetpack_featured_media_url"
    )
    media = embedded.get("wp:featuredmedia") or []
    if media and isinstance(media[0], dict):
        found.add("image_url", media[0].get("source_url"), "rest:wp:featuredmedia")
    return found


def _rendered(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else None


def _utc(value) -> datetime | None:
    """REST's *_gmt fields are UTC without an offset."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class RestPost:
    """One REST post, read lazily: its id, link and dates at once (all a crawl needs to decide
    whether to fetch the page, and all it takes from REST when the page is read), the whole
    normalised article only when asked (the page failed, or lacks a field)."""

    def __init__(self, post: dict, url: str, fetched_at: datetime | None = None):
        self.post = post
        self.url = url
        self.fetched_at = fetched_at
        published = _utc(post.get("date_gmt"))
        modified = _utc(post.get("modified_gmt"))
        from crawler.parsers.dates import in_santiago, iso

        self.wp_id = post.get("id") if isinstance(post.get("id"), int) else None
        self.published = iso(published) if published else None
        self.published_date = in_santiago(published).date().isoformat() if published else None
        self.modified = iso(modified) if modified else None
        self._article: dict | None = None

    @property
    def is_article(self) -> bool:
        return self.published is not None

    def cheap(self) -> dict:
        """The fields REST is trusted for, with their provenance."""
        return {
            "wp_id": self.wp_id,
            "published": self.published,
            "published_date": self.published_date,
            "modified": self.modified,
            # date_gmt is always a date and a time
            "date_precision": "datetime" if self.published else None,
            "provenance": {"published": "rest:date_gmt"},
        }

    def article(self, content: bool = True, subtitle: bool = True) -> dict:
        """The post normalised; without content=True, its body is not read (the costly part:
        for a page that lacks only, say, its image or standfirst), and without subtitle=True
        nor content, its standfirst is not either."""
        if self._article is not None:
            return self._article
        article = normalize(
            post_candidates(self.post, self.url, content, subtitle), self.url, self.fetched_at
        )
        if content:
            self._article = article
        return article


def rest_posts(body: bytes, url: str, fetched_at: datetime | None = None) -> list[RestPost]:
    """The posts of a REST API posts response, read lazily (RestPost); [] for anything else."""
    try:
        data = json.loads(decode(body))
    except ValueError:
        return []
    base = site_base(url)
    return [
        RestPost(post, rebase(str(post["link"]), base), fetched_at)
        for post in (data if isinstance(data, list) else [])
        if isinstance(post, dict) and post.get("link")
    ]

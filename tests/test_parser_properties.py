"""Whatever bytes arrive, the parser answers: it never raises, and every answer says whether
it is an article."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.model import FIELD_NAMES
from crawler.parsers import parse_articles

PAGES = Path(__file__).parent / "fixtures" / "pages"
INPUTS = sorted(p for p in PAGES.glob("*/input.*") if p.stat().st_size)
URLS = st.sampled_from(
    [
        "https://www.elciudadano.com/actualidad/kast-sella/11/21/",
        "https://www.elciudadano.com/feed/?paged=2",
        "https://www.elciudadano.com/wp-json/wp/v2/posts",
        "http://127.0.0.1:8000/en/x/10/03/",
        "https://www.elciudadano.com/",
    ]
)
PROPERTIES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TAGS = [
    "p",
    "div",
    "h1",
    "h2",
    "li",
    "ul",
    "blockquote",
    "script",
    "time",
    "article",
    "a",
    "br",
    "strong",
    "figure",
    "figcaption",
    "iframe",
    "title",
    "meta",
    "body",
    "html",
]
CLASSES = [
    "td-post-content",
    "tdb-title-text",
    "entry-content",
    "entry-title",
    "td-a-rec",
    "tdb_single_subtitle",
    "single-post postid-12",
    "tag",
    "search",
    "wp-caption-text",
]


def answers(articles: list[dict]) -> None:
    for article in articles:
        assert set(article) == set(FIELD_NAMES)
        assert isinstance(article["is_article"], bool)
        if not article["is_article"]:
            assert article["reason"]


@PROPERTIES
@given(st.binary(max_size=4000), URLS)
def test_arbitrary_bytes(body, url):
    answers(parse_articles(body, url))


html_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
elements = st.recursive(
    html_text,
    lambda children: st.builds(
        lambda tag, cls, attr, kids: f'<{tag} class="{cls}" {attr}>{"".join(kids)}</{tag}>',
        st.sampled_from(TAGS),
        st.sampled_from(CLASSES),
        st.sampled_from(
            [
                "",
                'datetime="2025-11-21T10:15:00-03:00"',
                'rel="tag"',
                'datetime="not a date"',
                'href="/chile/"',
            ]
        ),
        st.lists(children, max_size=4),
    ),
    max_leaves=30,
)


@PROPERTIES
@given(st.lists(elements, max_size=6), URLS)
def test_generated_html(parts, url):
    answers(parse_articles(("<html><body>" + "".join(parts)).encode("utf-8", "surrogatepass"), url))


@st.composite
def mangled_pages(draw):
    """A real fixture input, cut, gouged, spliced with junk or with its tags renamed."""
    body = bytearray(draw(st.sampled_from(INPUTS)).read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["truncate", "delete", "insert", "rename", "flip"]))
        at = draw(st.integers(0, max(0, len(body) - 1)))
        if operation == "truncate":
            del body[at:]
        elif operation == "delete":
            del body[at : at + draw(st.integers(1, 5000))]
        elif operation == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=200))
        elif operation == "rename":
            body = bytearray(bytes(body).replace(b"<p>", b"<div>", draw(st.integers(1, 50))))
        else:
            if body:
                body[at] ^= draw(st.integers(1, 255))
    return bytes(body)


@PROPERTIES
@given(mangled_pages(), URLS)
def test_mangled_real_pages(body, url):
    answers(parse_articles(body, url))

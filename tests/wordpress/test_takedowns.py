"""Takedowns on a real WordPress (Debian's packages): a post trashed, one made private and one
put back to draft through WordPress's own functions are marked removed by the next audit,
never deleted; one published again is marked restored. WordPress core's sitemaps
(wp-sitemap-posts-post-N.xml list published posts only: class-wp-sitemaps-posts.php) and REST
counts (X-WP-Total; after/before on post_date) are what the audit reads."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import FAST, ROOT, ciudadano, rows, run_crawl
from tests.wordpress.real_wordpress import RealWordPress, WordPressUnavailable
from tests.wordpress.test_real_wordpress import PENSIONES, TILTIL

KEPT = {
    **PENSIONES,
    "title": "Nota que sigue publicada",
    "slug": "nota-que-sigue-publicada",
    "date": "2025-10-01 09:00:00",
}
TRASHED = {
    **PENSIONES,
    "title": "Nota que se envía a la papelera",
    "slug": "nota-a-la-papelera",
    "date": "2025-10-02 09:00:00",
}
PRIVATE = {
    **TILTIL,
    "title": "Nota que pasa a privada",
    "slug": "nota-que-pasa-a-privada",
    "date": "2025-10-03 09:00:00",
}
DRAFT = {
    **PENSIONES,
    "title": "Nota que vuelve a borrador",
    "slug": "nota-vuelve-a-borrador",
    "date": "2025-10-04 09:00:00",
}


@pytest.fixture(scope="module")
def wordpress():
    try:
        with RealWordPress() as wp:
            wp.ids = {
                post["slug"]: wp.insert_post(post) for post in (KEPT, TRASHED, PRIVATE, DRAFT)
            }
            yield wp
    except WordPressUnavailable as err:
        pytest.skip(f"no real WordPress here: {err} (make test-wordpress installs it)")


def audit(db, wp) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*ciudadano(), "audit", "--db", str(db), "--base-url", wp.base_url, *FAST],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_trashed_private_and_draft_posts_are_marked_removed_never_deleted(wordpress, tmp_path):
    db = tmp_path / "wp.db"
    crawl = run_crawl(db, wordpress.base_url, source="auto")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    urls = {slug: wordpress.permalink(i) for slug, i in wordpress.ids.items()}
    first = audit(db, wordpress)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "4 articles listed in 1 sitemaps, 4 posts by the REST API" in first.stderr
    assert "coverage: 4 of the 4 articles the site lists (100.00%)" in first.stderr

    wordpress.php(f"require 'wp-load.php'; wp_trash_post({wordpress.ids[TRASHED['slug']]});")
    wordpress.update_post(wordpress.ids[PRIVATE["slug"]], post_status="private")
    wordpress.update_post(wordpress.ids[DRAFT["slug"]], post_status="draft")
    second = audit(db, wordpress)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 articles listed in 1 sitemaps, 1 posts by the REST API" in second.stderr
    assert "3 newly missed, 3 removed, 0 restored" in second.stderr
    gone = {
        slug: rows(
            db,
            "select title, removal_reason, missing_since is not null from articles where url = ?",
            urls[slug],
        )
        for slug in urls
    }
    # an anonymous reader gets WordPress's 404 for a trashed, private or draft post
    assert gone == {
        KEPT["slug"]: [(KEPT["title"], None, 0)],
        TRASHED["slug"]: [(TRASHED["title"], "HTTP 404", 1)],
        PRIVATE["slug"]: [(PRIVATE["title"], "HTTP 404", 1)],
        DRAFT["slug"]: [(DRAFT["title"], "HTTP 404", 1)],
    }
    assert rows(db, "select count(*) from articles") == [(4,)]  # none deleted

    wordpress.update_post(wordpress.ids[PRIVATE["slug"]], post_status="publish")
    third = audit(db, wordpress)
    assert "0 newly missed, 0 removed, 1 restored" in third.stderr, third.stderr[-3000:]
    assert rows(
        db,
        "select removed_at, restored_at is not null from articles where url = ?",
        urls[PRIVATE["slug"]],
    ) == [(None, 1)]

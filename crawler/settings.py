"""Scrapy settings for the El Ciudadano crawl: politeness first, then the pipelines.

Every setting can be overridden for one run: `ciudadano crawl -s DOWNLOAD_DELAY=2`.
"""

BOT_NAME = "ciudadano-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are, so the site can reach us.
USER_AGENT = (
    "ciudadano-archive/0.1 (+https://github.com/ciudadano-archive/ciudadano-archive; "
    "archival crawler of elciudadano.com)"
)

# Politeness.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = False
# Nothing listens on a port: no telnet console, and no remote control (Scrapy 2.19+ starts
# an HTTP server with every crawl that runs the code it is sent, and leaves its job file
# behind when the crawl is killed; crawler.extensions.StaleJobFiles removes those).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Items a callback's output is processed with at once. Scrapy starts this many asyncio tasks
# for every callback's output (default 100); ours yield one article and a request or two, so
# 100 tasks a page was most of the crawl's own CPU time (py-spy).
CONCURRENT_ITEMS = 4

# Retries with exponential backoff on 5xx, 429 and network errors.
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_HTTP_CODES = [500, 502, 503, 504, 520, 521, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 2.0  # seconds before the first retry, doubled for each next one
RETRY_BACKOFF_MAX = 120.0
DOWNLOADER_MIDDLEWARES = {
    # the gate every request passes: only the site's own scheme, hosts and port are fetched
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.SiteOnlyMiddleware": 50,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.SiteRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.SiteMetaRefreshMiddleware": 580,
}
REDIRECT_MAX_TIMES = 10
# Spider middlewares the crawl has no use for, each a layer of Python around every callback's
# output: the Referer header (nothing to tell the site), a URL length limit (URLs come from the
# site's own REST API, feed and sitemaps) and depth tracking (discovery is not link-following).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}

# A page larger than this is not downloaded (the parser reads at most 10 MB of it anyway).
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# A sitemap (up to DOWNLOAD_MAXSIZE; a .gz one is inflated under the same cap) is read while
# the pages it lists are fetched: Scrapy must not stop fetching while it holds one (its
# default, 5 MB of responses being processed, would).
SCRAPER_SLOT_MAX_ACTIVE_SIZE = DOWNLOAD_MAXSIZE + 8 * 1024 * 1024

ITEM_PIPELINES = {
    "crawler.pipelines.ValidatePipeline": 100,
    "crawler.pipelines.DedupePipeline": 200,
    "crawler.pipelines.StorePipeline": 300,
    "crawler.images.ImagesPipeline": 400,
}
# Each article's lead and body images, and its page's stylesheets, are kept in the archive,
# fetched in the same run under the same rules (crawler.images); -s IMAGES_ENABLED=False skips
# them. An image or stylesheet larger than IMAGES_MAXSIZE bytes is not kept.
IMAGES_ENABLED = True
# What the last `ciudadano audit` found listed on the site and missing (or older) in the archive:
# at most this many are fetched by a run, newest first (archive.listings.wanted_urls).
LISTED_PER_RUN = 5000
IMAGES_MAXSIZE = 8 * 1024 * 1024

# The archive the pipelines write to (the CLI's --db sets it), and the run they write for (the
# CLI starts it; without one, the store pipeline starts and ends its own).
ARCHIVE_PATH = "data/elciudadano.db"
ARCHIVE_RUN_ID = None

# An incremental run asks the REST API for posts modified since the start of the last good run,
# less this overlap (clock skew, posts saved while that run was going).
INCREMENTAL_OVERLAP_HOURS = 48
# A page that failed (timeout, 5xx after the retries above, blocked, not parseable; kept from
# REST or the feed meanwhile when they have it) is tried again by later runs: first after this many hours, then twice as long each time (at most a
# week), and given up with its reason after this many attempts. 404 and 410 are given up at
# once. RETRY_LATER_PER_RUN bounds how many a run tries.
RETRY_LATER_FIRST_HOURS = 6
RETRY_LATER_GIVE_UP_AFTER = 8
RETRY_LATER_PER_RUN = 2000

# A progress line on a terminal (the CLI turns it on when stderr is one and --quiet is off),
# and the removal of the job files killed crawls left (see REMOTE_CONTROL_ENABLED).
EXTENSIONS = {"crawler.extensions.Progress": 500, "crawler.extensions.StaleJobFiles": 500}
PROGRESS = False
PROGRESS_INTERVAL = 2.0

# Article pages are parsed in this many worker processes beside the crawl (0: in threads).
PARSE_PROCESSES = 1

LOG_LEVEL = "INFO"
# A dropped item (a duplicate) is one line: its URL and why, not the whole article.
LOG_FORMATTER = "crawler.pipelines.OneLineDrops"
LOGSTATS_INTERVAL = 60.0
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

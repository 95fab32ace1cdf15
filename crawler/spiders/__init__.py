"""Spiders decide what to fetch next; parsing lives in crawler.parsers."""

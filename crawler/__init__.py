"""The Scrapy project that fetches El Ciudadano and normalises its articles."""

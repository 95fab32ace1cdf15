"""Spanish stemming for the full-text index: "elecciones" finds "elección".

The index keeps each article's text twice: as written (folded by SQLite's unicode61 tokenizer,
for phrases and prefixes) and as stems (for words). Stems come from the Snowball Spanish
stemmer (PyStemmer, the Snowball project's own C build), applied to case- and accent-folded
words, so that the stem of a query word and of the same word in an article are always the same
string. English and German articles are stemmed with the same Spanish rules: a query is stemmed
without knowing which language it looks for, so both sides must use one stemmer.

STEMMER_VERSION is stored in the archive: an archive stemmed by other rules is re-indexed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

STEMMER_VERSION = f"snowball-spanish/{Stemmer.version()}"

# A word as SQLite's unicode61 tokenizer sees one: letters and digits (\w minus the
# underscore, which unicode61 treats as a separator).
_WORD = re.compile(r"[^\W_]+")
_stemmer = Stemmer.Stemmer("spanish")
_stemmer.maxCacheSize = 200_000


def fold(text: str) -> str:
    """Lower case without accents: 'Elección' -> 'eleccion', 'ñandú' -> 'nandu'."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of text, in order."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The stem of one word, folded first: stem('Elecciones') == stem('elección')."""
    folded = fold(word)
    return _stemmer.stemWord(folded) if folded else folded


def stem_text(text: str | None) -> str | None:
    """The text as space-separated stems, for the stemmed columns of the index (computed
    ahead by a parser process when it is ready: see remember_stems)."""
    if not text:
        return text
    ready = _ready.pop(text, None)
    if ready is not None:
        return ready
    return " ".join(_stemmer.stemWords(words(text)))


# Stems computed ahead, where the crawl has a core to spare (its parser process), for the text
# it will store: the index's triggers then find them instead of stemming on the crawl's own
# busy thread. Keyed by the text itself, so a text stored otherwise is stemmed as always;
# bounded, so what is never stored (a duplicate, an unchanged article) does not pile up.
_ready: dict[str, str] = {}
_READY_MAX = 256


def stems_of(*texts: str | None) -> dict[str, str]:
    """{text: its stems} of the texts given (for remember_stems in another process)."""
    return {text: " ".join(_stemmer.stemWords(words(text))) for text in texts if text}


def remember_stems(stems: dict[str, str]) -> None:
    for text, stemmed in stems.items():
        _ready[text] = stemmed
    while len(_ready) > _READY_MAX:
        del _ready[next(iter(_ready))]  # the oldest

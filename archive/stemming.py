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
_stemmer.maxCacheSize = 0  # _stems below is faster: looked up for a whole text at once
# The stems of words met so far: a text's words are looked up together (map in C), and only
# the words never met are stemmed; half the time of PyStemmer's own cache. Emptied when full.
_stems: dict[str, str] = {}
_STEMS_MAX = 500_000


# The combining marks of Latin accents (U+0300-U+036F, less the grapheme joiner U+034F, which
# has no combining class): removed by one expression, four times faster than testing each
# character; any other mark is found among the text's distinct characters.
_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]")


def fold(text: str) -> str:
    """Lower case without accents: 'Elección' -> 'eleccion', 'ñandú' -> 'nandu'. What remains
    is the NFKD form of the text without its combining characters (unicodedata.combining)."""
    text = text.lower()
    if text.isascii():
        return text
    folded = _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", text))
    if folded.isascii():
        return folded
    marks = {c for c in set(folded) if c >= "\u0300" and unicodedata.combining(c)}
    if not marks:
        return folded
    return re.sub("[" + "".join(map(re.escape, sorted(marks))) + "]", "", folded)


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
    return _stemmed(words(text))


def _stemmed(folded: list[str]) -> str:
    """The stems of folded words, space-separated."""
    stems = list(map(_stems.get, folded))
    if None in stems:
        if len(_stems) > _STEMS_MAX:
            _stems.clear()
        for n, stemmed in enumerate(stems):
            if stemmed is None:
                word = folded[n]
                stemmed = _stems.get(word)
                if stemmed is None:
                    stemmed = _stems[word] = _stemmer.stemWord(word)
                stems[n] = stemmed
    return " ".join(stems)


# Stems computed ahead, where the crawl has a core to spare (its parser process), for the text
# it will store: the index's triggers then find them instead of stemming on the crawl's own
# busy thread. Keyed by the text itself, so a text stored otherwise is stemmed as always;
# bounded, so what is never stored (a duplicate, an unchanged article) does not pile up.
_ready: dict[str, str] = {}
_READY_MAX = 256


def stems_of(*texts: str | None) -> dict[str, str]:
    """{text: its stems} of the texts given (for remember_stems in another process)."""
    return {text: _stemmed(words(text)) for text in texts if text}


def remember_stems(stems: dict[str, str]) -> None:
    for text, stemmed in stems.items():
        _ready[text] = stemmed
    while len(_ready) > _READY_MAX:
        del _ready[next(iter(_ready))]  # the oldest

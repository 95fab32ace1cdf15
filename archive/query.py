"""The archive's search language, checked and bounded before SQLite sees it.

    politica                 a word, any of its forms (case and accents ignored, Spanish
                             stems: elecciones finds elección)
    "segunda vuelta"         a phrase, words as written (case and accents ignored)
    pensi*                   a prefix of words as written (at least 2 letters)
    a OR b, a AND b, a b     either, both (AND is implied between terms; or, and, not in
                             lower case are the operators too: "or" quoted is the word)
    a NOT b                  a without b
    (a OR b) c               grouping
    NEAR(a b), NEAR(a b, 5)  words (as written) at most 10 (or 5) words apart, any order
    title:kast               a word in one column (title, subtitle, body)
    author:muñoz             articles credited to an author whose name has these words
                             (author:"javiera muñoz"); combined with the rest by AND only
    título:kast, autor:muñoz the same in Spanish, as the reading room says them (título or
                             titulo, bajada, cuerpo, autor; case ignored)

A query that is not valid gets one clear line (SearchError), never a silent
reinterpretation: a * inside or before a word (ka*st, *ast) is refused, as the index finds
words by their beginning only. Queries are bounded so that one request cannot stall the archive: FTS5
expands every prefix into all the indexed words it starts, and snippet() then works over
all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from archive.filters import FilterError
from archive.schema import FTS_COLUMNS, STEM_SUFFIX
from archive.stemming import fold, stem

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_PREFIXES = 4
MIN_PREFIX_LETTERS = 2
OPERATORS = ("AND", "OR", "NOT")
AUTHOR = "author"  # author:name, a filter on the credited authors, not a column of the index
# The names the reading room gives them, in Spanish (a subtitle is a "bajada" in Chile)
SPANISH_NAMES = {
    "título": "title",
    "titulo": "title",
    "bajada": "subtitle",
    "cuerpo": "body",
    "autor": AUTHOR,
}
NEAR_DISTANCE = 10  # FTS5's default: at most this many words between the first and the last
MAX_NEAR_DISTANCE = 100

_TOKEN = re.compile(
    r'\s*(?:(?P<quote>")|(?P<open>\()|(?P<close>\))|(?P<near>(?i:near)\(|NEAR\b)'
    r"|(?P<column>\w+):|(?P<lead>\*+)(?=\w)|(?P<word>\w+)(?P<star>\*)?(?P<inner>\w+)?"
    r"|(?P<other>\S))"
)
_NEAR_DISTANCE = re.compile(r"\s*,\s*(\d+)\s*$")


class SearchError(FilterError):
    """A search the archive cannot run; the message is one line meant for the user."""


@dataclass
class _Token:
    kind: str  # term, op, open, close, column
    text: str  # a term: the FTS5 string, quoted (and starred for a prefix)
    prefix: bool = False
    stemmed: bool = False  # a single word, looked up by its stem
    parts: tuple[_Token, ...] = ()  # NEAR(...): its terms (counted and marked one by one)
    written: str = ""  # a single word as the query wrote it

    def terms(self) -> tuple[_Token, ...]:
        return self.parts or (self,)

    def fts(self, column: str | None) -> str:
        """The term in FTS5 syntax, restricted to column (or to every searched column)."""
        suffix = STEM_SUFFIX if self.stemmed else ""  # NEAR and phrases: words as written
        columns = [column] if column else list(FTS_COLUMNS)
        spec = " ".join(c + suffix for c in columns)
        return f"{{{spec}}} : {self.text}"


def _tokens(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if not match or match.end() == pos:
            break  # only white space is left
        pos = match.end()
        if match["quote"]:
            phrase, pos = _phrase(query, pos)
            tokens.append(_Token("term", '"' + " ".join(phrase) + '"'))
        elif match["near"]:
            if not match["near"].endswith("("):
                raise SearchError(
                    "NEAR takes its words in parentheses: NEAR(kast milei), or "
                    "NEAR(kast milei, 5) for at most 5 words apart"
                )
            near, pos = _near(query, pos)
            tokens.append(near)
        elif match["lead"]:
            word = re.match(r"\w+", query[pos:])[0]
            raise SearchError(
                f"*{word}: a word cannot start with *; the index finds words by "
                f"their beginning ({word}* finds the words starting with {word})"
            )
        elif match["inner"]:
            raise SearchError(
                f"{match['word']}*{match['inner']}: * may only end a word (a "
                f"prefix: {match['word']}*); the index cannot find a word by its "
                "middle"
            )
        elif match["column"] and _column(match["column"]) == AUTHOR:
            name, pos = _author_name(query, pos)
            tokens.append(_Token(AUTHOR, name))
        elif match["open"]:
            tokens.append(_Token("open", "("))
        elif match["close"]:
            tokens.append(_Token("close", ")"))
        elif match["column"]:
            column = _column(match["column"])
            if column not in FTS_COLUMNS:
                raise SearchError(
                    f"{match['column']}: is not a searchable column (use "
                    f"{', '.join(c + ':' for c in FTS_COLUMNS)})"
                )
            tokens.append(_Token("column", column))
        elif match["word"]:
            word = match["word"]
            if word.upper() in OPERATORS:
                word = word.upper()
                if match["star"]:
                    raise SearchError(f"{word}* : an operator cannot be a prefix")
                tokens.append(_Token("op", word))
            elif match["star"]:
                if len(word) < MIN_PREFIX_LETTERS:
                    raise SearchError(
                        f"{word}* is too short a prefix: give at least {MIN_PREFIX_LETTERS} letters"
                    )
                tokens.append(_Token("term", f'"{word}"*', prefix=True))
            else:
                tokens.append(_Token("term", f'"{stem(word)}"', stemmed=True, written=word))
        # anything else (punctuation, a lone *) separates words, as the index does
    return tokens


def _phrase(query: str, pos: int) -> tuple[list[str], int]:
    """The words of the phrase whose opening " is before pos, and the position past it."""
    end = query.find('"', pos)
    if end < 0:
        raise SearchError('a phrase is not closed: add the missing " to the query')
    words = re.findall(r"\w+", query[pos:end])
    if not words:
        raise SearchError('an empty phrase "" in the query: remove it')
    return words, end + 1


def _near(query: str, pos: int) -> tuple[_Token, int]:
    """NEAR(a b "a phrase" pre*, N) whose ( is before pos: one term, words as written."""
    end = query.find(")", pos)
    if end < 0:
        raise SearchError("NEAR( is not closed: add the missing ) to the query")
    inside = query[pos:end]
    distance = NEAR_DISTANCE
    if found := _NEAR_DISTANCE.search(inside):
        distance = int(found[1])
        if distance > MAX_NEAR_DISTANCE:
            raise SearchError(f"NEAR(..., {distance}): at most {MAX_NEAR_DISTANCE} words apart")
        inside = inside[: found.start()]
    parts = [t for t in _tokens(inside) if t.kind == "term"]
    if len(parts) < 2 or len(parts) != len(_tokens(inside)):
        raise SearchError(
            'NEAR(...) takes two words or more (or "phrases", prefix*), '
            "nothing else: NEAR(kast milei) or NEAR(kast milei, 5)"
        )
    as_written = [_Token("term", f'"{p.written}"') if p.stemmed else p for p in parts]
    text = f"NEAR({' '.join(p.text for p in as_written)}, {distance})"
    return _Token("term", text, parts=tuple(as_written)), end + 1


def _column(name: str) -> str:
    """A column's name as the index knows it, from its English or Spanish name."""
    name = name.lower()
    return SPANISH_NAMES.get(name, name)


def _author_name(query: str, pos: int) -> tuple[str, int]:
    """The name after author: (a word, or "words in quotes"), and the position past it."""
    rest = query[pos:]
    if rest.startswith('"'):
        words, pos = _phrase(query, pos + 1)
        return " ".join(words), pos
    word = re.match(r"\w+", rest)
    if not word:
        raise SearchError('author: needs a name: author:muñoz or author:"javiera muñoz"')
    return word[0], pos + word.end()


class _Parser:
    """Checks the grammar (FTS5's: NOT and OR are binary, AND may be left out) and writes the
    FTS5 expression."""

    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> str:
        expr = self.or_(None)
        token = self.peek()
        if token is not None:
            raise SearchError(
                f"unexpected {token.text!s} in the query"
                + (": a ( is missing" if token.kind == "close" else "")
            )
        return expr

    def or_(self, column: str | None) -> str:
        parts = [self.and_(column)]
        while (token := self.peek()) is not None and token.text == "OR" and token.kind == "op":
            self.take()
            parts.append(self.and_(column))
        return " OR ".join(parts)

    def and_(self, column: str | None) -> str:
        parts = [self.not_(column)]
        while (token := self.peek()) is not None and (
            (token.kind == "op" and token.text == "AND") or token.kind in ("term", "open", "column")
        ):
            if token.kind == "op":
                self.take()
            parts.append(self.not_(column))
        return " AND ".join(parts)

    def not_(self, column: str | None) -> str:
        expr = self.primary(column)
        while (token := self.peek()) is not None and token.kind == "op" and token.text == "NOT":
            self.take()
            expr = f"{expr} NOT {self.primary(column)}"
        return expr

    def primary(self, column: str | None) -> str:
        token = self.peek()
        if token is None:
            raise SearchError("the query ends with an operator: a word is missing after it")
        self.take()
        if token.kind == "term":
            return token.fts(column)
        if token.kind == "column":
            return self.primary(token.text)
        if token.kind == "open":
            expr = self.or_(column)
            closing = self.peek()
            if closing is None or closing.kind != "close":
                raise SearchError("a ( is not closed: add the missing ) to the query")
            self.take()
            return f"({expr})"
        if token.kind == "close":
            raise SearchError("unexpected ) in the query: a ( is missing, or it is empty")
        raise SearchError(f"{token.text} needs a word on each side (e.g. 'a {token.text} b')")


@dataclass(frozen=True)
class Query:
    """A query read: the FTS5 MATCH expression of its words (None when it names only authors)
    and the author: names it asks for."""

    expression: str | None
    authors: tuple[str, ...] = ()


def parse_query(query: str) -> Query:
    """The query read, or SearchError with what to change."""
    tokens = _checked_tokens(query)
    authors, words = _without_authors(tokens)
    return Query(_Parser(words).parse() if words else None, authors)


def fts_query(query: str) -> str:
    """The FTS5 MATCH expression for a query of words (no author:), or SearchError."""
    parsed = parse_query(query)
    if parsed.authors:
        raise SearchError(
            "author: is understood by `ciudadano search` (parse_query), not "
            "here: give words only, and the author as a filter"
        )
    return parsed.expression


def _without_authors(tokens: list[_Token]) -> tuple[tuple[str, ...], list[_Token]]:
    """The author: names, and the tokens without them (nor the AND joining them). An author
    filters the whole query: inside parentheses, or beside OR or NOT, it is refused."""
    authors, rest, depth = [], [], 0
    for i, token in enumerate(tokens):
        depth += (token.kind == "open") - (token.kind == "close")
        if token.kind != AUTHOR:
            rest.append(token)
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if depth or any(
            t is not None and t.kind == "op" and t.text != "AND" for t in (before, after)
        ):
            raise SearchError(
                f"author:{token.text} filters the whole query: it cannot be "
                "inside ( ) nor beside OR or NOT (kast author:muñoz)"
            )
        if rest and rest[-1].kind == "op":  # "kast AND author:x": the AND goes with it
            rest.pop()
        authors.append(token.text)
    if rest and rest[0].kind == "op" and rest[0].text == "AND":  # "author:x AND kast"
        rest.pop(0)
    return tuple(authors), rest


def _checked_tokens(query: str) -> list[_Token]:
    if not query or not query.strip():
        raise SearchError("the search query is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise SearchError(
            f"the query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are searched"
        )
    tokens = _tokens(query)
    terms = [part for t in tokens if t.kind == "term" for part in t.terms()]
    if not terms and not any(t.kind == AUTHOR for t in tokens):
        raise SearchError(f"nothing to search for in {query!r}: give a word")
    if len(terms) > MAX_TERMS:
        raise SearchError(f"the query has {len(terms)} terms; at most {MAX_TERMS}")
    prefixes = [t for t in terms if t.prefix]
    if len(prefixes) > MAX_PREFIXES:
        raise SearchError(
            f"the query has {len(prefixes)} prefix terms (word*); at most {MAX_PREFIXES}"
        )
    return tokens


_SNIPPET_WORD = re.compile(r"[^\W_]+")
# Snowball changes a word only from its third letter on: a word whose stem is s starts with s's
# first letters, which finds the candidates before any of them is stemmed.
_STEM_KEPT = 3


def _letter_classes() -> dict[str, str]:
    """Each base letter with every Latin letter that folds to it ('o' -> 'oòóôõöø...'), so a
    pattern finds a word in the text as written, whatever its accents, without folding it."""
    import unicodedata

    classes: dict[str, str] = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))
        if len(base) > 1 and base[0].isascii() and all(unicodedata.combining(c) for c in base[1:]):
            key = base[0].lower()
            classes[key] = classes.get(key, key) + chr(code)
    return classes


_LETTER_CLASSES = _letter_classes()


def _accent_free(word: str) -> str:
    """A regular expression for a folded word in any of its written forms."""
    return "".join(
        f"[{re.escape(_LETTER_CLASSES[c])}]" if c in _LETTER_CLASSES else re.escape(c) for c in word
    )


@lru_cache(maxsize=256)
def _highlighter(query: str):
    """What snippet() marks for a query: (candidate pattern over the text as written, hit test
    of a folded word)."""
    stems, exact, prefixes = set(), set(), []
    previous = None
    for token in _checked_tokens(query):
        if token.kind == "term" and not (previous and previous.text == "NOT"):
            for term in token.terms():
                inner = fold(term.text.strip('*"'))
                if term.stemmed:
                    stems.add(inner)
                elif term.prefix:
                    prefixes.append(inner)
                else:
                    exact.update(inner.split())
        previous = token
    if not (stems or exact or prefixes):
        return None, None
    starts = {s[:_STEM_KEPT] for s in stems} | exact | set(prefixes)
    pattern = re.compile(
        r"(?<![^\W_])(?:"
        + "|".join(_accent_free(s) for s in sorted(starts, key=len, reverse=True))
        + r")[^\W_]*",
        re.IGNORECASE,
    )

    def hit(word: str) -> bool:
        folded = fold(word)
        return (
            folded in exact
            or folded.startswith(tuple(prefixes))
            or (bool(stems) and stem(folded) in stems)
        )

    return pattern, hit


def snippet(text: str | None, query: str, words: int = 16) -> str | None:
    """A passage of text around the query's first hit, hits marked [like this]: words with the
    stem of a query word, phrase words, words a prefix starts. None when text has no hit."""
    if not text:
        return None
    pattern, hit = _highlighter(query)
    if pattern is None:  # only author: names
        return None
    # the first hit, then only the words around it are read (a body is thousands of words)
    first = next((m.start() for m in pattern.finditer(text) if hit(m.group())), None)
    if first is None:
        return None
    low = _word_start(text, max(0, first - _WINDOW_CHARS * (words // 4 + 1)))
    high = min(len(text), first + _WINDOW_CHARS * (words + 1))
    spans = [m.span() for m in _SNIPPET_WORD.finditer(text, low, high)]
    if high < len(text) and spans and spans[-1][1] == high:
        spans.pop()  # a word the window cut
    starts = {m.start() for m in pattern.finditer(text, low, high) if hit(m.group())}
    hits = {i for i, (a, _) in enumerate(spans) if a in starts}
    return _passage(
        text,
        spans,
        hits,
        words,
        more_before=low > 0 and bool(_SNIPPET_WORD.search(text, 0, low)),
        more_after=high < len(text),
    )


# Characters read on each side of the first hit, per word wanted: more than any word with its
# spaces and punctuation, so the window holds every word the passage shows.
_WINDOW_CHARS = 48


def _word_start(text: str, at: int) -> int:
    """at moved back to the start of the word it falls in."""
    while at > 0 and (text[at - 1].isalnum()):
        at -= 1
    return at


def _passage(
    text: str,
    spans: list[tuple[int, int]],
    hits: set[int],
    words: int,
    more_before: bool = False,
    more_after: bool = False,
) -> str:
    first = max(0, min(hits) - words // 4)
    last = min(len(spans), first + words)
    out, pos = [], spans[first][0]
    for i in range(first, last):
        a, b = spans[i]
        out.append(text[pos:a])
        out.append(f"[{text[a:b]}]" if i in hits else text[a:b])
        pos = b
    passage = " ".join("".join(out).split())
    before = first > 0 or more_before
    after = last < len(spans) or (
        more_after and _SNIPPET_WORD.search(text, spans[last - 1][1]) is not None
    )
    return ("…" if before else "") + passage + ("…" if after else "")

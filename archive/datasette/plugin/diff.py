"""What changed between two versions of a text, word by word, in bounded time whatever the size.

difflib's SequenceMatcher is quadratic and worse on text whose words repeat (two 2,000-word
bodies of common words: three minutes), and a Python function cannot be interrupted by
SQLite's time limit. Here every diff runs Myers' O((N+M)D) algorithm under a budget of steps
shared by the whole comparison: paragraphs are aligned first, then the words of each changed
paragraph; once the budget is spent, what is left shows as whole paragraphs removed and added
(still true, only coarser), and the result says it was simplified.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from markupsafe import Markup, escape

# Steps of Myers' algorithm one comparison may take: well under 0.1 s of Python.
STEP_BUDGET = 100_000
# Texts longer than this are refused by the SQL function (the page compares their first part).
MAX_CHARS = 1_000_000
_WORDS = re.compile(r"\S+")
_TOKENS = re.compile(r"\s+|\S+")  # words and the white space between them, kept as written


class DiffTooLarge(ValueError):
    """A text too long to compare; the message is meant for the user."""


@dataclass
class Budget:
    steps: int = STEP_BUDGET
    spent_out: bool = False


@dataclass
class Change:
    """One stretch of a comparison: equal, or old items replaced by new ones."""

    equal: bool
    old: list = field(default_factory=list)
    new: list = field(default_factory=list)


def _shortest_edit(a: list, b: list, budget: Budget) -> list[dict] | None:
    """Myers' greedy forward pass: the V arrays of each round, or None when it would take
    more than the budget's steps (the steps are spent either way)."""
    n, m = len(a), len(b)
    v = {1: 0}
    trace = []
    for d in range(n + m + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            x = v[k + 1] if k == -d or (k != d and v[k - 1] < v[k + 1]) else v[k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x += 1
                y += 1
            v[k] = x
            budget.steps -= 1 + x - start
            if x >= n and y >= m:
                return trace
        if budget.steps < 0:
            budget.spent_out = True
            return None
    return trace  # not reached: round n + m always ends it


def changes(a: list, b: list, budget: Budget) -> list[Change]:
    """a turned into b as stretches of equal items and of replaced ones, in order; one whole
    replacement when the budget does not allow finding more."""
    # the common ends cost nothing to find and spare the algorithm most of its work
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while (
        tail < len(a) - head
        and tail < len(b) - head
        and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]
    ):
        tail += 1
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    out: list[Change] = []
    if head:
        out.append(Change(True, a[:head], b[:head]))
    if middle_a or middle_b:
        trace = _shortest_edit(middle_a, middle_b, budget)
        if trace is None:
            out.append(Change(False, middle_a, middle_b))
        else:
            out.extend(_stretches(trace, middle_a, middle_b))
    if tail:
        out.append(Change(True, a[len(a) - tail :], b[len(b) - tail :]))
    return out


def _stretches(trace: list[dict], a: list, b: list) -> list[Change]:
    """The edit path read back from Myers' trace, as stretches."""
    moves: list[tuple[str, object]] = []  # ("=", item) ("-", item) ("+", item), reversed
    x, y = len(a), len(b)
    for d in range(len(trace) - 1, -1, -1):
        v = trace[d]
        k = x - y
        prev_k = k + 1 if k == -d or (k != d and v[k - 1] < v[k + 1]) else k - 1
        prev_x = v[prev_k]
        prev_y = prev_x - prev_k
        while x > prev_x and y > prev_y:
            x, y = x - 1, y - 1
            moves.append(("=", a[x]))
        if d > 0:
            if x == prev_x:
                moves.append(("+", b[prev_y]))
            else:
                moves.append(("-", a[prev_x]))
        x, y = prev_x, prev_y
    out: list[Change] = []
    for kind, item in reversed(moves):
        equal = kind == "="
        if not out or out[-1].equal != equal:
            out.append(Change(equal))
        if kind != "+":
            out[-1].old.append(item)
        if kind != "-":
            out[-1].new.append(item)
    return out


def paragraphs(text: str | None) -> list[str]:
    return [" ".join(p.split()) for p in (text or "").split("\n\n") if p.strip()]


def words_changed(old: str | None, new: str | None) -> tuple[int, int]:
    """(words added, words removed) from old to new, counted as multisets: linear, for the
    one-line summaries of a version list."""
    before, after = Counter(_WORDS.findall(old or "")), Counter(_WORDS.findall(new or ""))
    return sum((after - before).values()), sum((before - after).values())


# --- as HTML: the article page's diff --------------------------------------------------------


def _marked_words(old: str, new: str, budget: Budget) -> tuple[Markup, int, int]:
    """One paragraph's words, removed ones in <del> and added ones in <ins>; the counts."""
    out, added, removed = [], 0, 0
    for stretch in changes(_WORDS.findall(old), _WORDS.findall(new), budget):
        if stretch.equal:
            out.append(escape(" ".join(stretch.new)))
            continue
        if stretch.old:
            out.append(Markup("<del>%s</del>") % " ".join(stretch.old))
            removed += len(stretch.old)
        if stretch.new:
            out.append(Markup("<ins>%s</ins>") % " ".join(stretch.new))
            added += len(stretch.new)
    return Markup(" ").join(out), added, removed


@dataclass
class Block:
    """A paragraph of the diff: unchanged (folded when in a run), changed, removed or added."""

    kind: str  # "same", "changed", "removed", "added"
    html: Markup
    text: str = ""


@dataclass
class TextDiff:
    blocks: list[Block]
    added: int = 0
    removed: int = 0
    simplified: bool = False

    @property
    def changed(self) -> bool:
        return any(b.kind != "same" for b in self.blocks)


def text_diff(old: str | None, new: str | None, budget: Budget | None = None) -> TextDiff:
    """Paragraph by paragraph, and word by word inside the paragraphs that changed."""
    budget = budget or Budget()
    result = TextDiff([])
    for stretch in changes(paragraphs(old), paragraphs(new), budget):
        if stretch.equal:
            result.blocks += [Block("same", escape(p), p) for p in stretch.new]
            continue
        paired = min(len(stretch.old), len(stretch.new))
        for before, after in zip(stretch.old[:paired], stretch.new[:paired], strict=False):
            html, added, removed = _marked_words(before, after, budget)
            result.blocks.append(Block("changed", html))
            result.added += added
            result.removed += removed
        for before in stretch.old[paired:]:
            result.blocks.append(Block("removed", Markup("<del>%s</del>") % before))
            result.removed += len(before.split())
        for after in stretch.new[paired:]:
            result.blocks.append(Block("added", Markup("<ins>%s</ins>") % after))
            result.added += len(after.split())
    result.simplified = budget.spent_out
    return result


# --- as text: the SQL function ---------------------------------------------------------------


def word_diff_text(old: str | None, new: str | None) -> str:
    """new against old, [-removed-] {+added+} (wdiff's notation), in bounded time: the SQL
    function ciudadano_diff. Refuses texts over MAX_CHARS with DiffTooLarge."""
    for text in (old, new):
        if text is not None and len(str(text)) > MAX_CHARS:
            raise DiffTooLarge(
                f"ciudadano_diff: a text over {MAX_CHARS:,} characters is too long to compare"
            )
    out = []
    for stretch in changes(
        _TOKENS.findall(str(old or "")), _TOKENS.findall(str(new or "")), Budget()
    ):
        if stretch.equal:
            out.append("".join(stretch.new))
            continue
        removed, added = "".join(stretch.old).strip(), "".join(stretch.new).strip()
        if removed:
            out.append(f"[-{removed}-]")
        if removed and added:
            out.append(" ")
        if added:
            out.append(f"{{+{added}+}}")
    return "".join(out)

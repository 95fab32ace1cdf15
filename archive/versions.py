"""Readable differences between two versions of an article, word by word."""

from __future__ import annotations

import difflib
import re

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str | None, new: str | None) -> str:
    """new against old, words removed shown [-like this-] and words added {+like this+}
    (wdiff's notation); unchanged text as it is. Equal texts come back unchanged."""
    old_tokens = _TOKENS.findall(old or "")
    new_tokens = _TOKENS.findall(new or "")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append("".join(new_tokens[b1:b2]))
            continue
        removed = "".join(old_tokens[a1:a2]).strip()
        added = "".join(new_tokens[b1:b2]).strip()
        if removed:
            out.append(f"[-{removed}-]")
        if removed and added:
            out.append(" ")
        if added:
            out.append(f"{{+{added}+}}")
    return "".join(out)

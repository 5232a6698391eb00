"""How a triage rule phrase is written and matched.

A phrase is one or more parts joined by `+`; every part must occur within two consecutive
sentences (people write "I complained. The next day I was moved." as often as one). A part
is one or more alternatives joined by `|`. Latin-script alternatives match whole words only
("gun" never matches "begun"); a trailing `*` lets the word go on ("retaliat*" matches
"retaliated", "retaliation"). Chinese alternatives match anywhere, so they should be written
as multi-character phrases with context ("煤气泄漏", not "漏").

Texts are compared in NFKC form, lower-cased, so full-width letters and digits match too.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from dataclasses import dataclass

from cases.errors import InvalidInput

_WORD_CHAR = re.compile(r"[a-z0-9]")
# A sentence ends at Chinese or Latin end punctuation, a semicolon or a line break; a full
# stop only when a space or the end follows, so "$4.9k" and "e.g.x" stay whole.
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+|\.(?=\s|$)")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})
SENTENCE_WINDOW = 2


def fold(text: str) -> str:
    """The form both texts and phrases are compared in."""
    return unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)


class Text:
    """A report text prepared for phrase matching: folded, cut into sentences.

    Sentences are joined by line breaks, which no phrase matches across, so each part of a
    phrase is one pass over the whole text; where it matches is then read as sentence numbers.
    """

    def __init__(self, text: str, *, folded: bool = False) -> None:
        self.folded = text if folded else fold(text)
        cut = (_SPACES.sub(" ", part).strip() for part in _SENTENCE_END.split(self.folded))
        sentences = [part for part in cut if part]
        self.joined = "\n".join(sentences)
        self._starts = list(itertools.accumulate((len(s) + 1 for s in sentences[:-1]), initial=0))

    def sentences_matching(self, pattern: re.Pattern[str]) -> set[int]:
        """The numbers of the sentences `pattern` occurs in."""
        return {
            bisect.bisect_right(self._starts, m.start()) - 1 for m in pattern.finditer(self.joined)
        }

    def without(self, phrases: tuple[Phrase, ...]) -> Text:
        """This text with every occurrence of `phrases` (one part each) blanked out."""
        if not phrases:
            return self
        folded = self.folded
        for phrase in phrases:
            folded = phrase.parts[0].sub(" ", folded)
        return Text(folded, folded=True)


def _alternative(raw: str, phrase: str) -> str:
    word = raw.strip()
    stem = word.endswith("*")
    word = word.removesuffix("*")
    if not word or "*" in word:
        raise InvalidInput(f"phrase {phrase!r}: empty part or `*` inside a word")
    pattern = re.escape(word).replace(r"\ ", " ")
    if _WORD_CHAR.match(word[0]):
        # No word character before it; written after the literal, which keeps the literal
        # first so the regex engine can scan for it quickly.
        pattern += f"(?<![a-z0-9]{pattern})"
    if stem:
        pattern += "[a-z]*"
    elif _WORD_CHAR.match(word[-1]):
        pattern += r"(?![a-z0-9])"
    return pattern


@dataclass(frozen=True)
class Phrase:
    text: str
    parts: tuple[re.Pattern[str], ...]

    def found_in(self, text: Text) -> bool:
        """Whether the phrase occurs: one part anywhere, several within a sentence window."""
        if len(self.parts) == 1:
            return self.parts[0].search(text.joined) is not None
        where = []
        for part in self.parts:
            found = text.sentences_matching(part)
            if not found:
                return False
            where.append(found)
        # A window of SENTENCE_WINDOW sentences starting at `first` must hold every part.
        starts = {i - back for i in where[0] for back in range(SENTENCE_WINDOW)}
        return any(
            all(any(first <= i < first + SENTENCE_WINDOW for i in found) for found in where)
            for first in starts
        )


def compile_phrase(raw: str) -> Phrase:
    """A phrase from its written form; InvalidInput says what is wrong with it."""
    text = fold(raw)
    parts = []
    for part in text.split("+"):
        alternatives = [_alternative(a, raw) for a in part.split("|")]
        parts.append(re.compile("|".join(f"(?:{a})" for a in alternatives)))
    return Phrase(text, tuple(parts))

"""Words into terms, one way for documents, questions and answers (serve's index, `--cite`). Pure.

A term is a word lower-cased and stemmed with Snowball's English (Porter2) stemmer,
so "installing" finds "installation". Words that carry no subject (the Snowball
project's English stop list, plus the pieces contractions split into) and one-letter
words are no terms at all: "what's" is not a question about every "team's". Letters
and digits make words; an apostrophe, underscore or any other sign splits them. A word
longer than MAX_WORD letters (no English word is; a hash or a run of garbage is) is
cut to its first MAX_WORD and not stemmed, in documents and questions alike.

What is learnt is cached, within a budget of bytes, not of entries: a client of
`kbchat serve` chooses the words of its questions, and 64 random 16,000-letter words a
request once grew the server by 2 MB a request, never freed.
"""

from __future__ import annotations

import functools
import re
import string
import sys
from collections.abc import Collection, Iterator
from itertools import chain
from typing import Any, TypeVar

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORD = 40  # letters of a word that make its term (Snowball stems words of any length, slowly)
MAX_PIECE = 80  # characters of a text piece whose terms are cached; longer pieces are worked out each time
CACHE_BYTES = 16 << 20  # what each cache may hold (strings counted at their size in memory); then it starts over

# The Snowball English stop list (snowballstem.org/algorithms/english/stop.txt), as
# words split at apostrophes; then what contractions leave ("doesn't" → "doesn"); then
# words that frame a question rather than name its subject ("I no longer need",
# "is there a way"): rare in documentation, so they would weigh the most.
STOPWORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did
doing would should could ought let a an the and but if or because as until while of at by
for with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how all
any both each few more most other some such no nor not only own same so than too very
ll ve re don doesn didn isn aren wasn weren hasn haven hadn won wouldn shouldn couldn
mustn shan can cannot
need needs want wants wanted like way ways longer anymore please tell know explain possible able
much many happen happens happened see go get make find show look use using
also just still even else ever really actually exactly may might must shall thing things
something anything someone somebody anyone everything sure
""".split()  # noqa: SIM905 (a list of words reads best as words)
)

# Words a question and a document use for one thing: a question's word also finds the
# others ("how much does it cost?" finds a price list). Few and everyday on purpose.
SYNONYMS = (
    "cost price fee",
    "buy purchase",
    "start begin",
)


@functools.cache
def _stemmer() -> Any:
    """Snowball's English stemmer, imported when first needed.

    snowballstemmer hands out PyStemmer's C build of the same algorithm when it is installed
    (a dependency: 1 µs a word instead of 20, and 1 ms to load instead of 20 to 35, for 36
    languages of pure Python); its own pure-Python one otherwise. Both give the same stems
    (checked on 18,798 words), so an index built by either serves the other.
    """
    import snowballstemmer

    return snowballstemmer.stemmer("english")


V = TypeVar("V")


class Learnt(dict[str, V]):
    """A cache of what words and pieces of text give, emptied whenever it would pass CACHE_BYTES.

    A docs folder's vocabulary fits many times over; a stream of made-up words only
    makes it start over.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def keep(self, key: str, value: V) -> V:
        size = sys.getsizeof(key) + _size(value) + ENTRY_BYTES
        if self.bytes + size > CACHE_BYTES:
            self.clear()
        self[key] = value
        self.bytes += size
        return value

    def clear(self) -> None:
        super().clear()
        self.bytes = 0


ENTRY_BYTES = 100  # a dict slot and the entry's share of the table, about


def _size(value: object) -> int:
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(sys.getsizeof(item) for item in value)
    return sys.getsizeof(value)


_stems: Learnt[str] = Learnt()


def stem(word: str) -> str:
    """One lower-case word's stem (cached: a vocabulary is small, and the stemmer may be pure Python)."""
    found = _stems.get(word)
    return found if found is not None else _stems.keep(word, str(_stemmer().stemWord(word)))


@functools.cache
def synonyms() -> dict[str, frozenset[str]]:
    """Each synonym's term, and the terms of its group (itself included)."""
    groups: dict[str, frozenset[str]] = {}
    for line in SYNONYMS:
        group = frozenset(stem(word) for word in line.split())
        groups.update(dict.fromkeys(group, group))
    return groups


def words(text: str) -> Iterator[re.Match[str]]:
    """Each word of the text, with where it is."""
    return _WORD.finditer(text)


def term_of(word: str) -> str | None:
    """A word's term, or None for a stop word or a single letter."""
    lower = word.lower()
    if len(lower) < 2 or lower in STOPWORDS:
        return None
    if len(lower) < 3 or lower.isdigit():
        return lower  # what the stemmer would give, without its 0.1 ms: numbers are many and all differ
    if len(lower) > MAX_WORD:
        return lower[:MAX_WORD]
    return stem(lower)


# ASCII punctuation (and "_") as spaces: str.split() then cuts most words apart in C; a
# piece that still holds other signs ("“quoted”", "a—b") is cut by the regex, once.
_ASCII_SIGNS = str.maketrans(dict.fromkeys(string.punctuation, " "))
_ASCII_LOWER_SIGNS = bytes.maketrans(  # the same, and lower case, for ASCII text in one pass over bytes
    (string.punctuation + string.ascii_uppercase).encode(),
    (" " * len(string.punctuation) + string.ascii_lowercase).encode(),
)
_known: Learnt[tuple[str, ...]] = Learnt()  # lower-case piece -> its terms: indexing looks up each piece once


def forget() -> None:
    """Drop what is cached, after the stop list, stemmer or synonyms changed (bench/answers.py does)."""
    _known.clear()
    _stems.clear()
    synonyms.cache_clear()


def cached_bytes() -> int:
    """What the caches hold now, as they count it."""
    return _known.bytes + _stems.bytes


def _terms_of_piece(piece: str) -> tuple[str, ...]:
    return tuple(term for word in _WORD.findall(piece) if (term := term_of(word)) is not None)


def terms(text: str) -> list[str]:
    """The text's terms in order, as stored in the index (stop words left out).

    The same as `term_of` on each word of `words(text.lower())`, only faster: indexing
    calls it for every passage.
    """
    pieces = _pieces(text)
    try:
        return list(chain.from_iterable(map(_known.__getitem__, pieces)))
    except KeyError:
        return list(chain.from_iterable(map(_cached_piece, pieces)))


def _cached_piece(piece: str) -> tuple[str, ...]:
    found = _known.get(piece)
    if found is not None:
        return found
    made = _terms_of_piece(piece)
    return made if len(piece) > MAX_PIECE else _known.keep(piece, made)


def _pieces(text: str) -> list[str]:
    """The text lower-cased and cut at spaces and ASCII signs."""
    if text.isascii():
        return text.encode().translate(_ASCII_LOWER_SIGNS).decode().split()
    return text.lower().translate(_ASCII_SIGNS).split()


def query_terms(text: str, limit: int) -> list[str]:
    """A question's distinct terms in order, at most `limit` of them.

    Words past the limit are not even stemmed: a question of a hundred thousand words
    would otherwise cost seconds before the search began.
    """
    kept: dict[str, None] = {}
    for piece in _pieces(text):
        for term in _cached_piece(piece):
            kept[term] = None
            if len(kept) == limit:
                return list(kept)
    return list(kept)


def highlight(text: str, wanted: Collection[str], width: int = 24) -> str:
    """About `width` words of the text on one line, where most of the question's terms are, those in **bold**."""
    found = list(words(text))
    if not found:
        return " ".join(text.split())
    wanted_set = set(wanted)
    held = [wanted_set.intersection(_cached_piece(match[0].lower())) for match in found]
    start = 0
    if hits := [i for i, terms_here in enumerate(held) if terms_here]:
        lead = 3  # words shown before the first match
        start = max((max(0, i - lead) for i in hits), key=lambda s: (len(frozenset().union(*held[s : s + width])), -s))
    end = min(len(found), start + width)
    pieces = []
    position = found[start].start()
    for match, terms_here in zip(found[start:end], held[start:end], strict=True):
        pieces.append(text[position : match.start()])
        pieces.append(f"**{match[0]}**" if terms_here else match[0])
        position = match.end()
    if end == len(found):
        pieces.append(text[position:])
    shown = " ".join("".join(pieces).split())
    return ("…" if start else "") + shown + ("…" if end < len(found) else "")

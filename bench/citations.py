#!/usr/bin/env python3
"""How well `--cite` matches an answer's sentences to the passages that support them, and how fast.

    python bench/citations.py            # about 20 s
    python bench/citations.py --misses   # also each wrong or missed match

The labelled answers are in bench/citation_answers.py. Each is asked of the local
knowledge base (the bundled sample, or bench/corpus/sqlite) for its 10 closest passages,
as `kbchat ask --cite` asks; each sentence is then matched against them by:
- kbchat: kbchat.citing, at the threshold it ships with (and a sweep of others);
- naive: every sentence given the first search hit;
- BM25: Okapi BM25 of the sentence against the 10 passages (k1 1.2, b 0.75), the best
  passage given when its score clears a cut tuned on the tuning answers like kbchat's.
Precision: of the (sentence, passage) pairs given, those the labels hold. Recall: of the
labelled pairs whose passage the search returned, those given (pairs whose passage was
not among the 10 are counted apart: no matcher could give them). Unsupported marked: of
the sentences labelled with no passage, those given one.
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.citation_answers import ANSWERS, HELD_OUT, Labelled  # noqa: E402
from bench.common import table  # noqa: E402
from kbchat import terms  # noqa: E402
from kbchat.citing import THRESHOLD, cite  # noqa: E402
from kbchat.passages import Passage, from_search_item  # noqa: E402
from kbchat.sentences import sentences  # noqa: E402
from kbchat.server.index import Index  # noqa: E402
from kbchat.server.query import search  # noqa: E402
from kbchat.server.run import SAMPLE_DOCS  # noqa: E402

CORPORA = {"sample": SAMPLE_DOCS, "sqlite": ROOT / "bench" / "corpus" / "sqlite"}
LIMIT = 10  # passages searched, as `--cite` searches
_LABEL = re.compile(r"[ \t]?⟦([^⟧]*)⟧")
_KEY = re.compile(r"[\w-]+#.*?(?=\s+[\w-]+#|$)")  # `document#Heading`, the heading may hold spaces


class Case(NamedTuple):
    """One labelled answer, ready: its text, sentences, labels and the passages the search gave."""

    answer: Labelled
    text: str
    sentences: list[str]
    gold: list[frozenset[str]]  # per sentence: `document#Heading` keys
    passages: list[Passage]
    keys: list[str]  # each passage's key
    held_out: bool


Method = Callable[[Case], list[frozenset[str]]]


def unmark(marked: str) -> tuple[str, list[frozenset[str]]]:
    labels = [frozenset(_KEY.findall(found)) for found in _LABEL.findall(marked)]
    return _LABEL.sub("", marked), labels


def key_of(passage: Passage) -> str:
    return f"{Path(passage.location).stem}#{passage.heading}"


def cases() -> list[Case]:
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        for corpus, docs in CORPORA.items():
            index = Index(docs, Path(tmp) / f"{corpus}.sqlite")
            index.refresh()
            answers = [a for a in ANSWERS if a.corpus == corpus]
            for number, answer in enumerate(answers):
                text, gold = unmark(answer.marked)
                spans = sentences(text)
                if len(spans) != len(gold):
                    shown = "\n".join(f"  {text[s:e]!r}" for s, e in spans)
                    raise SystemExit(f"{answer.question!r}: {len(gold)} labels, {len(spans)} sentences:\n{shown}")
                hits, _ = search(index, answer.question, {"tenant_id": "demo"}, LIMIT)
                passages = [from_search_item(hit.search_item()) for hit in hits]
                made.append(Case(answer, text, [text[s:e] for s, e in spans], gold, passages,
                                 [key_of(p) for p in passages], number >= len(answers) - HELD_OUT[corpus]))  # fmt: skip
            index.close()
    return made


def kbchat_method(threshold: float) -> Method:
    def given(case: Case) -> list[frozenset[str]]:
        found = cite(case.text, case.passages, threshold)
        return [frozenset(case.keys[case.passages.index(found.used[n - 1])] for n in c.sources)
                for c in found.sentences]  # fmt: skip

    return given


def naive(case: Case) -> list[frozenset[str]]:
    return [frozenset(case.keys[:1]) for _ in case.sentences]


def bm25_scores(sentence: str, passages: Sequence[Passage]) -> list[float]:
    docs = [terms.terms(f"{p.heading}\n{p.text}") for p in passages]
    average = sum(map(len, docs)) / max(1, len(docs))
    wanted = set(terms.terms(sentence))
    scores = []
    for doc in docs:
        counts: dict[str, int] = {}
        for term in doc:
            counts[term] = counts.get(term, 0) + 1
        score = 0.0
        for term in wanted:
            having = sum(1 for d in docs if term in d)
            idf = math.log(1 + (len(docs) - having + 0.5) / (having + 0.5))
            tf = counts.get(term, 0)
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(doc) / average)) if tf else 0.0
        scores.append(score)
    return scores


def bm25_method(cut: float) -> Method:
    def given(case: Case) -> list[frozenset[str]]:
        out = []
        for sentence in case.sentences:
            scores = bm25_scores(sentence, case.passages)
            best = max(range(len(scores)), key=scores.__getitem__) if scores else -1
            out.append(frozenset({case.keys[best]}) if best >= 0 and scores[best] >= cut else frozenset())
        return out

    return given


class Score(NamedTuple):
    precision: float
    recall: float
    unsupported_marked: float
    given: int
    right: int
    findable: int
    unfindable: int
    unsupported: int


def measure(method: Method, chosen: list[Case], misses: bool = False) -> Score:
    given = right = findable = unfindable = unsupported = unsupported_marked = 0
    for case in chosen:
        for sentence, gold, got in zip(case.sentences, case.gold, method(case), strict=True):
            retrieved = gold & set(case.keys)
            given += len(got)
            right += len(got & gold)
            findable += len(retrieved)
            unfindable += len(gold - retrieved)
            if not gold:
                unsupported += 1
                unsupported_marked += bool(got)
            if misses and (got - gold or retrieved - got):
                print(f"  {sentence[:70]!r}\n     gold {sorted(gold)}  given {sorted(got)}")
    return Score(right / given if given else 1.0, right / findable if findable else 1.0,
                 unsupported_marked / unsupported if unsupported else 0.0, given, right, findable, unfindable,
                 unsupported)  # fmt: skip


def row(name: str, score: Score) -> list[str]:
    return [name, f"{score.precision:.2f}", f"{score.recall:.2f}", f"{score.unsupported_marked:.0%}",
            f"{score.right}/{score.given}", f"{score.right}/{score.findable}", str(score.unfindable)]  # fmt: skip


HEADER = ["method", "precision", "recall", "unsupported marked", "right/given", "right/findable", "not retrieved"]


def tuned_cut(tuning: list[Case]) -> float:
    """BM25's cut, chosen on the tuning answers as kbchat's threshold was: best recall at precision ≥ 0.90."""
    best, best_recall = 0.0, -1.0
    for cut in [x / 2 for x in range(0, 21)]:
        score = measure(bm25_method(cut), tuning)
        if score.precision >= 0.9 and score.unsupported_marked <= 0.1 and score.recall > best_recall:
            best, best_recall = cut, score.recall
    return best


def timing() -> list[list[str]]:
    """cite() on an answer of about 2,000 words against 10 passages: the labelled answers, repeated."""
    with tempfile.TemporaryDirectory() as tmp:
        index = Index(SAMPLE_DOCS, Path(tmp) / "sample.sqlite")
        index.refresh()
        hits, _ = search(index, "plans pricing support security data", {"tenant_id": "demo"}, LIMIT)
        index.close()
    passages = [from_search_item(hit.search_item()) for hit in hits]
    text = ""
    for answer in ANSWERS * 4:
        text += unmark(answer.marked)[0] + "\n"
        if len(text.split()) >= 2000:
            break
    terms.forget()
    import subprocess

    loading = float(subprocess.run(  # in a process of its own: this one has it loaded already
        [sys.executable, "-c", "import time; t = time.perf_counter(); import snowballstemmer; "
         "snowballstemmer.stemmer('english'); print((time.perf_counter() - t) * 1000)"],
        capture_output=True, text=True, check=True).stdout)  # fmt: skip
    started = time.perf_counter()
    cite(text, passages)
    cold = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(30):
        started = time.perf_counter()
        cite(text, passages)
        runs.append((time.perf_counter() - started) * 1000)
    split = []
    for _ in range(30):
        started = time.perf_counter()
        sentences(text)
        split.append((time.perf_counter() - started) * 1000)
    words = len(text.split())
    kind = "PyStemmer (C)" if type(terms._stemmer()).__module__ != "snowballstemmer.english_stemmer" else "pure Python"
    return [
        ["the stemmer", kind],
        [f"cite(), {words} words, {len(passages)} passages: median of 30", f"{statistics.median(runs):.1f} ms"],
        ["the same, first run (no word stemmed yet), as in a new process", f"{cold:.1f} ms"],
        ["loading the stemmer, once a process (done beside the stream)", f"{loading:.1f} ms"],
        ["of which splitting into sentences (median)", f"{statistics.median(split):.1f} ms"],
    ]


def end_to_end(runs: int) -> list[list[str]]:
    """`kbchat ask` piped against `kbchat serve` (pace 0): launch to first content, and to exit; alone, with
    --sources (the same search beside the stream) and with --cite, run in turns so the machine's load falls
    on all alike."""
    import io
    import os
    import subprocess

    from kbchat.server.run import serve_in_background, start_server, stop
    from kbchat.server.serve_options import ServeOptions

    flags = ((), ("--sources",), ("--cite",))
    times: dict[tuple[str, ...], list[tuple[float, float]]] = {flag: [] for flag in flags}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(ServeOptions(None, port=0, cache_dir=Path(tmp), pace=0.0), log=io.StringIO())
        serve_in_background(server)
        env = {**os.environ, "KBCHAT_LOG": str(Path(tmp) / "log.db"), "PYTHONDONTWRITEBYTECODE": ""}
        base = [sys.executable, "-m", "kbchat", "ask", "--base-url", server.url, "--api-key", "bench-key",
                "--tenant", "demo", "what does the Business plan cost and include?"]  # fmt: skip
        try:
            for number in range(len(flags) * (runs + 1)):
                flag = flags[number % len(flags)]
                started = time.perf_counter()
                proc = subprocess.Popen([*base, *flag], stdout=subprocess.PIPE, env=env)
                assert proc.stdout is not None
                proc.stdout.read(1)
                first = time.perf_counter() - started
                proc.stdout.read()
                proc.wait()
                if number >= len(flags):  # the first of each compile and warm the caches
                    times[flag].append((first, time.perf_counter() - started))
        finally:
            stop(server)
    rows = []
    for flag in flags:
        first = statistics.median(t[0] for t in times[flag]) * 1000
        whole = statistics.median(t[1] for t in times[flag]) * 1000
        rows.append(
            [" ".join(["kbchat ask", *flag]) + f", piped (median of {runs})", f"{first:.0f} ms", f"{whole:.0f} ms"]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="print each wrong or missed match")
    parser.add_argument("--runs", type=int, default=15, help="end-to-end runs of each command (default 15)")
    args = parser.parse_args()
    made = cases()
    tuning = [c for c in made if not c.held_out]
    held = [c for c in made if c.held_out]
    count = {name: sum(len(c.sentences) for c in group) for name, group in (("tuning", tuning), ("held", held))}
    print(f"{len(made)} answers, {count['tuning']} + {count['held']} sentences (tuning + held out), "
          f"{sum(not g for c in made for g in c.gold)} of them supported by no passage")  # fmt: skip
    cut = tuned_cut(tuning)
    for name, group in (("tuning answers", tuning), ("held-out answers", held)):
        rows = [row(f"kbchat (threshold {THRESHOLD})", measure(kbchat_method(THRESHOLD), group)),
                row("naive: the top search hit", measure(naive, group)),
                row(f"BM25 (cut {cut:g}, tuned)", measure(bm25_method(cut), group))]  # fmt: skip
        table(f"Sentence → passage, {name} (targets: precision ≥ 0.90, recall ≥ 0.80, ≤ 10 %)", HEADER, rows)
    sweep = []
    for threshold in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        t, h = measure(kbchat_method(threshold), tuning), measure(kbchat_method(threshold), held)
        sweep.append([f"{threshold:g}", f"{t.precision:.2f}", f"{t.recall:.2f}", f"{t.unsupported_marked:.0%}",
                      f"{h.precision:.2f}", f"{h.recall:.2f}", f"{h.unsupported_marked:.0%}"])  # fmt: skip
    table("kbchat's threshold swept (tuning | held out)",
          ["threshold", "precision", "recall", "unsupp.", "| precision", "recall", "unsupp."], sweep)  # fmt: skip
    table("Cost (target: ≤ 20 ms)", ["what", "time"], timing())
    table("End to end, against kbchat serve", ["command", "launch → first content", "launch → exit"],
          end_to_end(args.runs))  # fmt: skip
    if args.misses:
        print("\n## Misses (kbchat)\n")
        measure(kbchat_method(THRESHOLD), made, misses=True)


if __name__ == "__main__":
    main()

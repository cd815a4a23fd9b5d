#!/usr/bin/env python3
"""How well the local knowledge base finds the document a question means, and says when none does.

    python bench/answers.py                  # the bundled sample and npm's own docs; about 30 s
    python bench/answers.py --misses         # also each question the ranking gets wrong
    python bench/answers.py --npm-docs PATH  # npm's docs/content folder, if `npm` is not on PATH

Questions are phrased as people ask them, not copied from headings; each names the
document(s) that answer it. A question is a hit@k when one of the first k distinct
documents of `/v1/kb/search`'s ranking answers it (the chat quotes from the same
ranking). Out-of-domain questions (weather, recipes, sports) are asked of both
corpora; one is rejected when no passage is returned, so the chat says nothing matches.

The baseline is kbchat 0.x's ranking, kept here to compare with: FTS5's porter
tokenizer, BM25 over heading (x2) and text, its 50-word stop list, any word a match,
no evidence threshold; over the same passages. Then today's ranking, and today's
with each technique turned off in turn.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import table  # noqa: E402
from kbchat import terms  # noqa: E402
from kbchat.server import query  # noqa: E402
from kbchat.server.documents import parse_document, title_from_path  # noqa: E402
from kbchat.server.folder import Folder, tenant_of  # noqa: E402
from kbchat.server.index import Index  # noqa: E402
from kbchat.server.ranking import DEFAULT, Ranking  # noqa: E402
from kbchat.server.run import SAMPLE_DOCS  # noqa: E402

Question = tuple[str, tuple[str, ...]]  # the question, and the documents (paths in the corpus) that answer it

SAMPLE: list[Question] = [
    ("how much does the Business plan cost?", ("plans-and-pricing.md",)),
    ("how fast does support respond for Enterprise?", ("support-policy.md",)),
    ("what are the products?", ("products.md",)),
    ("can I get my money back if I cancel an annual plan?", ("billing-and-refunds.md",)),
    ("what happens to my account when the free trial is over?", ("faq.md", "plans-and-pricing.md")),
    ("is my data encrypted?", ("security.md",)),
    ("how long do you keep run history?", ("data-retention.md",)),
    ("where are your offices?", ("company.md",)),
    ("which databases can I connect?", ("integrations.md", "products.md")),
    ("how many API requests can I make per minute?", ("api-and-limits.md",)),
    ("do you have a discount for schools?", ("faq.md",)),
    ("can I host Pinecrest on my own servers?", ("faq.md",)),
    ("how do I get started with my first dashboard?", ("onboarding.md",)),
    ("what's new in the latest release?", ("release-notes.md",)),
    ("do you support single sign-on?", ("security.md", "plans-and-pricing.md", "release-notes.md")),
    ("can alerts be sent to Slack?", ("integrations.md", "products.md")),
    ("how do I report a security bug?", ("security.md",)),
    ("is Pinecrest SOC 2 compliant?", ("security.md",)),
    ("can I store my data in the US?", ("data-retention.md", "faq.md")),
    ("what counts as an urgent issue?", ("support-policy.md",)),
    ("who founded the company and when?", ("company.md",)),
    ("can I pay by bank transfer?", ("billing-and-refunds.md",)),
    ("what does the premium plan include?", ("plans-and-pricing.md",)),
    ("what happens if I go over the rate limit?", ("api-and-limits.md",)),
    ("how do I delete my workspace data?", ("data-retention.md",)),
    ("does Pinecrest have a dark mode?", ("release-notes.md",)),
    ("what is your company's mission?", ("company.md",)),
    ("do I get help setting up on the Business plan?", ("onboarding.md",)),
    ("how is adding users to my subscription billed?", ("billing-and-refunds.md",)),
    ("what does Pipelines do?", ("products.md",)),
]

NPM: list[Question] = [
    ("how do I remove a package I no longer need from my project?", ("commands/npm-uninstall.md",)),
    ("how can I take my package off the registry after publishing it by mistake?", ("commands/npm-unpublish.md",)),
    ("how do I check my dependencies for known vulnerabilities?", ("commands/npm-audit.md",)),
    ("which of my dependencies have newer versions available?", ("commands/npm-outdated.md",)),
    ("how do I bump my package's version number before a release?", ("commands/npm-version.md",)),
    ("how can I use a local copy of a library in another project without publishing it?", ("commands/npm-link.md",)),
    ("what is the difference between npm ci and npm install on a build server?", ("commands/npm-ci.md",)),
    ("where does npm put globally installed packages?",
     ("configuring-npm/folders.md", "commands/npm-root.md", "commands/npm-prefix.md")),
    ("how do I run a script defined in package.json?", ("commands/npm-run.md", "using-npm/scripts.md")),
    ("what do the pre and post hooks of scripts do?", ("using-npm/scripts.md",)),
    ("why is this package installed, which dependency pulled it in?", ("commands/npm-explain.md",)),
    ("how can I clear npm's cache when it gets corrupted?", ("commands/npm-cache.md",)),
    ("how do I log in to a private registry from the command line?", ("commands/npm-login.md", "commands/npm-adduser.md")),
    ("how do I find out which user I am logged in as?", ("commands/npm-whoami.md",)),
    ("how do I create a new package.json for a project?", ("commands/npm-init.md",)),
    ("how can I warn users that an old release is no longer supported?", ("commands/npm-deprecate.md",)),
    ("how do I manage several packages in one repository?", ("using-npm/workspaces.md",)),
    ("how do I let another person publish my package?", ("commands/npm-owner.md", "commands/npm-access.md")),
    ("how do I make a published package private or public?", ("commands/npm-access.md",)),
    ("how do I publish a package under my organization's @ name?",
     ("using-npm/scope.md", "commands/npm-publish.md", "using-npm/orgs.md")),
    ("where are npm's per-user settings stored, like the registry address?",
     ("configuring-npm/npmrc.md", "using-npm/config.md")),
    ("how do I change a configuration value from the terminal?", ("commands/npm-config.md", "commands/npm-set.md")),
    ("what does the lock file record, and should I commit it?",
     ("configuring-npm/package-lock-json.md", "configuring-npm/npm-shrinkwrap-json.md")),
    ("how do I lock exact dependency versions into a package I publish?",
     ("commands/npm-shrinkwrap.md", "configuring-npm/npm-shrinkwrap-json.md")),
    ("how do I run a tool from a package without installing it globally?", ("commands/npx.md", "commands/npm-exec.md")),
    ("how do I get more detailed logs when an install fails?", ("using-npm/logging.md",)),
    ("how do I create an access token for automated publishing?", ("commands/npm-token.md",)),
    ("how can I see everything installed in my project as a tree?", ("commands/npm-ls.md", "commands/npm-ll.md")),
    ("how do I get rid of packages that are no longer listed in package.json?", ("commands/npm-prune.md",)),
    ("how do I reduce duplicate copies of the same dependency in node_modules?",
     ("commands/npm-dedupe.md", "commands/npm-find-dupes.md")),
    ("how do I open a package's documentation in my browser?", ("commands/npm-docs.md",)),
    ("how do I see which files would go into the tarball before I publish?",
     ("commands/npm-pack.md", "commands/npm-publish.md")),
    ("how can I look up a package's latest version and details on the registry?", ("commands/npm-view.md",)),
    ("how do I turn on two-factor authentication for my npm account?", ("commands/npm-profile.md",)),
    ("how do I install node and npm on my computer?", ("configuring-npm/install.md",)),
    ("how do I release a beta that people don't get by default?", ("commands/npm-dist-tag.md", "commands/npm-publish.md")),
    ("which package.json field says what files get published?", ("configuring-npm/package-json.md",)),
    ("how do I check that my npm setup works and can reach the registry?", ("commands/npm-doctor.md", "commands/npm-ping.md")),
    ("how do I produce a software bill of materials for compliance?", ("commands/npm-sbom.md",)),
    ("how do I completely uninstall npm itself from my machine?", ("using-npm/removal.md",)),
    ("how can I find every dependency in my tree with a given license?",
     ("commands/npm-query.md", "using-npm/dependency-selectors.md")),
    ("how do I publish from GitHub Actions without a long-lived token?", ("commands/npm-trust.md", "commands/npm-publish.md")),
    ("which of my dependencies are asking for donations?", ("commands/npm-fund.md",)),
    ("how do I upgrade my packages to the newest versions my ranges allow?", ("commands/npm-update.md",)),
    ("how do I allow a dependency's install script to run?", ("commands/npm-approve-scripts.md", "commands/npm-install-scripts.md")),
]  # fmt: skip

# Written after the first measurements and never tuned against: their misses are not printed.
SAMPLE_HELD_OUT: list[Question] = [
    ("what does the Team plan cost per user?", ("plans-and-pricing.md",)),
    ("how long do refunds take to arrive?", ("billing-and-refunds.md",)),
    ("do you have an on-prem version?", ("faq.md",)),
    ("can I embed dashboards in my app?", ("integrations.md",)),
    ("what certifications do you have?", ("security.md",)),
    ("what are the support hours for Business customers?", ("support-policy.md",)),
    ("can I export my dashboards before deleting my workspace?", ("data-retention.md",)),
    ("is there a free trial?", ("plans-and-pricing.md", "faq.md")),
    ("how many people work at Pinecrest?", ("company.md",)),
    ("does the API have rate limits?", ("api-and-limits.md",)),
    ("which tools can receive alert notifications?", ("integrations.md", "products.md")),
    ("is SAML available on the Team plan?", ("plans-and-pricing.md", "security.md", "release-notes.md")),
]

NPM_HELD_OUT: list[Question] = [
    ("how do I stop npm from running the install scripts of dependencies?",
     ("commands/npm-deny-scripts.md", "commands/npm-install-scripts.md", "using-npm/config.md")),
    ("how do I add a maintainer to my package?", ("commands/npm-owner.md",)),
    ("how do I see what changed between two versions of a package?", ("commands/npm-diff.md",)),
    ("how do I search the registry for packages about a topic?", ("commands/npm-search.md",)),
    ("how do I change my npm password or email?", ("commands/npm-profile.md",)),
    ("how do I sign out of npm on this machine?", ("commands/npm-logout.md",)),
    ("how do I create a team in my organization?", ("commands/npm-team.md", "using-npm/orgs.md")),
    ("how do I run my package's tests?", ("commands/npm-test.md",)),
    ("how can I make a tarball of my package to share it?", ("commands/npm-pack.md",)),
    ("where does node_modules go for global installs compared to local ones?",
     ("configuring-npm/folders.md", "commands/npm-root.md", "commands/npm-prefix.md")),
    ("how do I set a registry for one scope?", ("using-npm/scope.md", "configuring-npm/npmrc.md", "using-npm/config.md")),
    ("how do I mark a package as a favorite?", ("commands/npm-star.md",)),
    ("how do I rebuild native addons after switching node versions?", ("commands/npm-rebuild.md",)),
    ("how do I add a dependency only for development?", ("commands/npm-install.md", "configuring-npm/package-json.md")),
    ("how do I edit the code of a package installed in node_modules?", ("commands/npm-edit.md", "commands/npm-explore.md")),
    ("how do I get shell tab completion for npm commands?", ("commands/npm-completion.md",)),
    ("what does the engines field in package.json do?", ("configuring-npm/package-json.md",)),
    ("how do I install one particular version of a package?", ("commands/npm-install.md", "using-npm/package-spec.md")),
    ("what can follow a package name when installing, like a git URL or a tag?",
     ("using-npm/package-spec.md", "commands/npm-install.md")),
    ("how do I report a problem with a package to its maintainers?", ("commands/npm-bugs.md",)),
    ("how do I find the folder where npm puts the executables of global packages?",
     ("configuring-npm/folders.md", "commands/npm-prefix.md", "commands/npm-root.md")),
    ("how do I take back a deprecation so a version is no longer flagged?", ("commands/npm-undeprecate.md",)),
    ("how do I run a command inside an installed package's folder?", ("commands/npm-explore.md",)),
    ("how do I read the value of one npm setting?", ("commands/npm-get.md", "commands/npm-config.md")),
    ("how do I make npm print less output?", ("using-npm/logging.md", "using-npm/config.md")),
]  # fmt: skip

OUT_OF_DOMAIN = [
    "what's the weather on Mars?",
    "it's raining",
    "how do I bake sourdough bread?",
    "best recipe for chocolate chip cookies",
    "who won the football world cup in 2018?",
    "how many players are on a basketball team?",
    "what is the capital of Australia?",
    "will it snow in Toronto tomorrow?",
    "how do I fix a flat tyre on my bike?",
    "what's a good marathon training plan?",
    "recommend a movie for tonight",
    "how tall is Mount Everest?",
    "what should I cook for dinner with chicken and rice?",
    "who is the best tennis player of all time?",
]

Search = Callable[[str, str], list[str]]  # question, tenant -> document paths, best first


@dataclass
class Score:
    hit1: float
    hit3: float
    mrr: float
    misses: list[str]


def evaluate(search: Search, tenant: str, questions: list[Question]) -> Score:
    hit1 = hit3 = mrr = 0.0
    misses = []
    for question, answers in questions:
        documents = list(dict.fromkeys(search(question, tenant)))
        position = next((i for i, path in enumerate(documents) if path in answers), None)
        if position == 0:
            hit1 += 1
        else:
            misses.append(f"{question!r}: got {documents[:3]}, wanted {list(answers)}")
        if position is not None:
            hit3 += position < 3
            mrr += 1 / (position + 1)
    count = len(questions)
    return Score(hit1 / count, hit3 / count, mrr / count, misses)


def rejections(search: Search, tenant: str) -> tuple[int, list[str]]:
    """How many off-topic questions get no passage, and what answered the others."""
    answered = [f"off-topic {q!r}: answered from {found[0]}" for q in OUT_OF_DOMAIN if (found := search(q, tenant))]
    return len(OUT_OF_DOMAIN) - len(answered), answered


def index_search(index: Index) -> Search:
    def search(question: str, tenant: str) -> list[str]:
        hits, _ = query.search(index, question, {"tenant_id": tenant}, limit=10, count=False)
        return [hit.path.split("/", 1)[1] for hit in hits]

    return search


# --- kbchat 0.x's ranking, to compare with ----------------------------------------------

BASELINE_STOPWORDS = frozenset(
    """a an and are as at be by can do does for from how i in is it me of on or our so that the this to we
    what when where which who why will with you your about there their they have has had was were my""".split()  # noqa: SIM905
)


def baseline_search(docs: Path, db_path: Path) -> Search:
    """FTS5 porter over heading and text, bm25(2, 1), every word not in a 50-word list ORed."""
    db = sqlite3.connect(db_path)
    db.executescript(
        "CREATE VIRTUAL TABLE fts USING fts5 (heading, text, tenant UNINDEXED, path UNINDEXED,"
        " tokenize = 'porter unicode61 remove_diacritics 2');"
        "INSERT INTO fts (fts, rank) VALUES ('rank', 'bm25(2.0, 1.0, 0, 0)');"
    )
    folder = Folder(docs)
    for relative, _ in folder.scan():
        document = parse_document(folder.read(relative) or "", title_from_path(relative.rsplit("/", 1)[-1]))
        for passage in document.passages:
            db.execute("INSERT INTO fts VALUES (?, ?, ?, ?)", (passage.heading, passage.text, tenant_of(relative),
                                                                relative))  # fmt: skip
    db.commit()

    def search(question: str, tenant: str) -> list[str]:
        kept = dict.fromkeys(w for w in re.findall(r"\w+", question.lower()) if w not in BASELINE_STOPWORDS)
        if not kept:
            return []
        query = "{heading text} : (" + " OR ".join(f'"{w}"' for w in kept) + ")"
        rows = db.execute(
            "SELECT path FROM fts WHERE fts MATCH ? AND tenant = ? ORDER BY rank LIMIT 10", (query, tenant)
        )
        return [path.split("/", 1)[1] for (path,) in rows]

    return search


# --- today's ranking, with a technique turned off ---------------------------------------


@contextlib.contextmanager
def patched(replaced: list[tuple[object, str, object]]) -> Iterator[None]:
    """Some of kbchat's functions or sets replaced, for one variant."""
    saved = [(module, name, getattr(module, name)) for module, name, _ in replaced]
    for module, name, value in replaced:
        setattr(module, name, value)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def any_word(word: str) -> str | None:
    return terms.stem(word.lower())


def no_kin(db: object, term: str) -> dict[str, int]:
    return {}


VARIANTS: list[tuple[str, Ranking, list[tuple[object, str, object]]]] = [
    ("now", DEFAULT, []),
    ("- stop list and 1-letter words", DEFAULT, [(terms, "term_of", any_word)]),
    ("- stemmer (lower-case words)", DEFAULT, [(terms, "stem", str)]),
    ("- title and heading weight", replace(DEFAULT, title_weight=1.0, heading_weight=1.0), []),
    ("- link-list demotion", replace(DEFAULT, listing_penalty=0.0), []),
    ("- dynamic stop words and budget", replace(DEFAULT, common=1.0, candidate_budget=10**9), []),
    ("- kin of unknown words", DEFAULT, [(query, "_kin", no_kin)]),
    ("- synonyms (cost: price, ...)", DEFAULT, [(terms, "SYNONYMS", ())]),
    ("- evidence threshold", replace(DEFAULT, evidence=0.0), []),
]


def npm_docs(given: str | None) -> Path | None:
    if given:
        return Path(given)
    try:
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    folder = Path(root) / "npm" / "docs" / "content"
    return folder if folder.is_dir() else None


@dataclass
class Measured:
    scores: dict[str, Score]  # by question set
    rejected: dict[str, int]  # by tenant
    misses: list[str]  # of the sets tuned against, and off-topic answers


def measure(search: Search, sets: list[tuple[str, str, list[Question]]]) -> Measured:
    scores = {name: evaluate(search, tenant, questions) for name, tenant, questions in sets}
    misses = [f"{name}: {miss}" for name, score in scores.items() if "held out" not in name for miss in score.misses]
    rejected = {}
    for tenant in dict.fromkeys(tenant for _, tenant, _ in sets):
        rejected[tenant], answered = rejections(search, tenant)
        misses += [f"{tenant}: {line}" for line in answered]
    return Measured(scores, rejected, misses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npm-docs", help="npm's docs/content folder (default: found with `npm root -g`)")
    parser.add_argument("--misses", action="store_true", help="print what today's ranking gets wrong (tuned sets)")
    args = parser.parse_args()
    sets = [("sample", "sample", SAMPLE), ("sample, held out", "sample", SAMPLE_HELD_OUT)]
    npm = npm_docs(args.npm_docs)
    with tempfile.TemporaryDirectory(prefix="kbchat-answers-") as tmp:
        # One docs folder (and index) per corpus, as a user would serve it: BM25's
        # statistics are the whole index's, and one corpus's words must not weigh the other's.
        folders = {"sample": Path(tmp) / "sample"}
        shutil.copytree(SAMPLE_DOCS, folders["sample"] / "sample")
        if npm is None:
            print("npm's docs were not found (no `npm` on PATH): only the sample is measured", file=sys.stderr)
        else:
            folders["npm"] = Path(tmp) / "npm"
            shutil.copytree(npm, folders["npm"] / "npm")
            sets += [("npm", "npm", NPM), ("npm, held out", "npm", NPM_HELD_OUT)]
            version = json.loads((npm.parents[1] / "package.json").read_text()).get("version", "?")
            files = sum(1 for _ in npm.rglob("*.md"))
            print(f"npm {version}'s docs: {files} Markdown files from {npm}")
        print("questions: " + ", ".join(f"{len(q)} {name}" for name, _, q in sets)
              + f"; {len(OUT_OF_DOMAIN)} off-topic asked of each corpus")  # fmt: skip
        baselines = {
            name: baseline_search(folder, Path(tmp) / f"{name}-baseline.sqlite") for name, folder in folders.items()
        }
        results = {"BM25 baseline (kbchat 0.x)": measure(lambda q, t: baselines[t](q, t), sets)}
        for number, (name, ranking, replaced) in enumerate(VARIANTS):
            terms.forget()
            with patched(replaced):
                started = time.perf_counter()
                indexes = {}
                for corpus, folder in folders.items():
                    indexes[corpus] = Index(folder, Path(tmp) / f"{corpus}-{number}.sqlite", ranking=ranking)
                    indexes[corpus].refresh()
                if name == "now":
                    print(f"indexes built in {time.perf_counter() - started:.2f} s")
                searches = {corpus: index_search(index) for corpus, index in indexes.items()}
                results[name] = measure(lambda q, t: searches[t](q, t), sets)  # noqa: B023
                for index in indexes.values():
                    index.close()
            terms.forget()
    tenants = list(dict.fromkeys(tenant for _, tenant, _ in sets))
    header = ["ranking"]
    for name, _, _ in sets:
        header += [f"{name}: hit@1", "hit@3", "MRR"]
    header += [f"{tenant}: off-topic rejected" for tenant in tenants]
    rows = []
    for name in list(results)[:2]:
        cells = [name]
        for set_name, _, _ in sets:
            score = results[name].scores[set_name]
            cells += [f"{score.hit1:.2f}", f"{score.hit3:.2f}", f"{score.mrr:.2f}"]
        rows.append(cells + [f"{results[name].rejected[t]}/{len(OUT_OF_DOMAIN)}" for t in tenants])
    table("Finding the document a question means (hit@k: in the first k documents; MRR over 10)", header, rows)
    header = ["ranking", *(f"{name}: hit@1" for name, _, _ in sets), *(f"{t}: off-topic rejected" for t in tenants)]
    rows = [[name, *(f"{m.scores[s].hit1:.2f}" for s, _, _ in sets),
             *(f"{m.rejected[t]}/{len(OUT_OF_DOMAIN)}" for t in tenants)] for name, m in results.items()]  # fmt: skip
    table("Each technique turned off in turn", header, rows)
    if args.misses:
        print("\n## Today's misses (tuned sets only)\n")
        for miss in results["now"].misses:
            print(f"- {miss}")


if __name__ == "__main__":
    main()

"""Score the triage rules on a labelled corpus: queue accuracy, per-queue precision and recall,
urgent recall and false alarms.

    python bench/triage_eval.py [corpus.jsonl ...] [--rules rules.toml] [-v]

Without a corpus argument it reads the shared sample corpus next to the repository
(`../shared/corpus/dev.jsonl`), or the tests' copy of it when the clone stands elsewhere.
`tests/cases/data/triage_heldout.jsonl` is a second, held-out set written apart from it.
Every report is scored as if the reporter had picked "not sure", so the rules alone decide.
A report given no queue counts as `reject` (left to triage).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cases.triage_rules import TriageEngine, load_rules

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = REPO_ROOT.parent / "shared" / "corpus" / "dev.jsonl"
DEFAULT_CORPUS = (
    SHARED_CORPUS
    if SHARED_CORPUS.is_file()
    else REPO_ROOT / "tests" / "cases" / "data" / "corpus_dev.jsonl"
)
QUEUES = ("union", "discipline", "joint", "reject")
EXIT_NO_CORPUS = 2


@dataclass(frozen=True)
class Scored:
    id: str
    expected: str
    predicted: str
    urgent: bool
    flagged: bool
    rules: tuple[str, ...]


def score(corpus: Path, engine: TriageEngine) -> list[Scored]:
    """Every report of `corpus` with what the engine suggests for it."""
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    scored = []
    for row in rows:
        suggestion = engine.suggest(row["text"])
        predicted = suggestion.routing.value if suggestion.routing else "reject"
        scored.append(
            Scored(
                row["id"],
                row["queue"],
                predicted,
                row["urgent"],
                suggestion.urgent,
                suggestion.rules,
            )
        )
    return scored


def report(name: str, scored: list[Scored], *, verbose: bool) -> dict[str, float]:
    """Print the figures for one corpus and return them."""
    correct = sum(s.predicted == s.expected for s in scored)
    figures = {"queue_accuracy": correct / len(scored)}
    print(f"{name}: {len(scored)} reports")
    print(f"  queue accuracy: {figures['queue_accuracy']:.1%} ({correct}/{len(scored)})")
    counts_p = Counter(s.predicted for s in scored)
    counts_e = Counter(s.expected for s in scored)
    for queue in QUEUES:
        hits = sum(s.predicted == s.expected == queue for s in scored)
        precision = hits / counts_p[queue] if counts_p[queue] else 0.0
        recall = hits / counts_e[queue] if counts_e[queue] else 0.0
        figures[f"{queue}_precision"], figures[f"{queue}_recall"] = precision, recall
        print(
            f"    {queue:<10} precision {precision:6.1%} ({hits}/{counts_p[queue]})"
            f"  recall {recall:6.1%} ({hits}/{counts_e[queue]})"
        )
    urgent = [s for s in scored if s.urgent]
    caught = sum(s.flagged for s in urgent)
    false_alarms = sum(s.flagged and not s.urgent for s in scored)
    figures["urgent_recall"] = caught / len(urgent) if urgent else 1.0
    figures["false_alarms"] = false_alarms
    print(
        f"  urgent recall: {figures['urgent_recall']:.1%} ({caught}/{len(urgent)});"
        f" false alarms: {false_alarms}"
    )
    if verbose:
        for s in scored:
            if s.predicted != s.expected or s.flagged != s.urgent:
                print(
                    f"    {s.id}: expected {s.expected}/{s.urgent}, got {s.predicted}/{s.flagged}"
                    f" via {', '.join(s.rules) or '-'}"
                )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "corpus", nargs="*", help=f"labelled .jsonl files (default {DEFAULT_CORPUS})"
    )
    parser.add_argument("--rules", default=None, help="a rules file instead of the packaged one")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args()
    corpora = [Path(c) for c in args.corpus] or [DEFAULT_CORPUS]
    missing = [c for c in corpora if not c.is_file()]
    if missing:
        print(
            f"triage_eval: no corpus at {missing[0]}.\n"
            "Pass the labelled corpus as an argument, for example:\n"
            f"    python bench/triage_eval.py /path/to/shared/corpus/dev.jsonl",
            file=sys.stderr,
        )
        return EXIT_NO_CORPUS
    engine = TriageEngine(load_rules(args.rules))
    for corpus in corpora:
        report(corpus.name, score(corpus, engine), verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())

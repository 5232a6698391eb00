"""Score the triage rules on a labelled corpus: queue accuracy, per-queue precision and recall,
urgent recall.

    python bench/triage_eval.py [corpus.jsonl] [--rules rules.toml]

Every report is scored as if the reporter had picked "not sure", so the rules alone decide.
A report no rule fires on is counted as the suggestion `reject` (left to triage).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from cases.triage_rules import TriageEngine, load_rules

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / ".." / "shared" / "corpus" / "dev.jsonl"
QUEUES = ("union", "discipline", "joint", "reject")


def evaluate(corpus: Path, rules_path: str | None, *, verbose: bool) -> dict[str, float]:
    engine = TriageEngine(load_rules(rules_path))
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line]
    predicted: list[str] = []
    for row in rows:
        suggestion = engine.suggest(row["text"])
        queue = suggestion.routing.value if suggestion.routing else "reject"
        predicted.append(queue)
        if verbose and (queue != row["queue"] or suggestion.urgent != row["urgent"]):
            print(
                f"  {row['id']}: expected {row['queue']}/{row['urgent']}, "
                f"got {queue}/{suggestion.urgent} via {', '.join(suggestion.rules) or '-'}"
            )
    expected = [row["queue"] for row in rows]
    correct = sum(p == e for p, e in zip(predicted, expected, strict=True))
    figures = {"queue_accuracy": correct / len(rows)}
    print(f"reports: {len(rows)}")
    print(f"queue accuracy: {figures['queue_accuracy']:.1%} ({correct}/{len(rows)})")
    counts_p, counts_e = Counter(predicted), Counter(expected)
    for queue in QUEUES:
        hits = sum(p == e == queue for p, e in zip(predicted, expected, strict=True))
        precision = hits / counts_p[queue] if counts_p[queue] else 0.0
        recall = hits / counts_e[queue] if counts_e[queue] else 0.0
        figures[f"{queue}_precision"], figures[f"{queue}_recall"] = precision, recall
        print(
            f"  {queue:<10} precision {precision:.1%} ({hits}/{counts_p[queue]})"
            f"  recall {recall:.1%} ({hits}/{counts_e[queue]})"
        )
    urgent_rows = [i for i, row in enumerate(rows) if row["urgent"]]
    flagged = [engine.suggest(rows[i]["text"]).urgent for i in urgent_rows]
    false_alarms = sum(engine.suggest(row["text"]).urgent for row in rows if not row["urgent"])
    figures["urgent_recall"] = sum(flagged) / len(urgent_rows) if urgent_rows else 1.0
    print(
        f"urgent recall: {figures['urgent_recall']:.1%} ({sum(flagged)}/{len(urgent_rows)}); "
        f"false alarms: {false_alarms}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", default=str(DEFAULT_CORPUS))
    parser.add_argument("--rules", default=None, help="a rules file instead of the packaged one")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    args = parser.parse_args()
    evaluate(Path(args.corpus), args.rules, verbose=args.verbose)


if __name__ == "__main__":
    main()

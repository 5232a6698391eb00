"""Triage suggestions at intake: bilingual phrase rules read from a data file.

The bot holds a report's plaintext only while filing it, so this is the one place a
suggestion can be made. The rules live in `cases/data/triage_rules.toml` (or a file named by
the settings) so a triage lead can change them without touching code. What is stored is the
suggestion and the ids of the rules that fired — never the text or the phrases matched.

A rule fires when any of its phrases occurs in the text (case-insensitive; a phrase written
`a+b` needs both parts). Category rules add their weight to their category; the best category
gives the queue. `joint` rules mark money or power abuse: with a union-type story they propose
joint handling. `urgent` rules flag imminent danger in any category.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cases.categories import CATEGORIES, OTHER, Queue, Routing, group_of
from cases.errors import InvalidInput


@dataclass(frozen=True)
class Rule:
    id: str
    phrases: tuple[tuple[str, ...], ...]
    category: str | None = None
    weight: float = 1.0

    def matches(self, text: str) -> int:
        """How many of the rule's phrases occur in `text` (already lower-cased)."""
        return sum(all(part in text for part in phrase) for phrase in self.phrases)

    def fires(self, text: str) -> bool:
        return self.matches(text) > 0


@dataclass(frozen=True)
class TriageSuggestion:
    """What triage is told at intake; metadata only."""

    category: str | None
    routing: Routing | None
    urgent: bool
    rules: tuple[str, ...]


@dataclass(frozen=True)
class RuleSet:
    categories: tuple[Rule, ...]
    joint: tuple[Rule, ...]
    urgent: tuple[Rule, ...]
    # How much of the other queue's evidence makes a story joint on its own.
    joint_share: float = 0.6


def _rule(raw: dict[str, object], section: str) -> Rule:
    rule_id = str(raw.get("id", ""))
    phrases = raw.get("phrases")
    if not rule_id or not isinstance(phrases, list) or not phrases:
        raise InvalidInput(f"a [[{section}]] rule needs an id and phrases")
    category = raw.get("category")
    if section == "category" and category not in CATEGORIES:
        raise InvalidInput(f"rule {rule_id}: unknown category {category!r}")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float):
        raise InvalidInput(f"rule {rule_id}: weight must be a number")
    return Rule(
        id=rule_id,
        phrases=tuple(tuple(p.lower() for p in str(ph).split("+")) for ph in phrases),
        category=str(category) if category else None,
        weight=float(weight),
    )


def parse_rules(text: str) -> RuleSet:
    """Rules from TOML text; InvalidInput names the first bad rule."""
    data = tomllib.loads(text)
    sections = {
        name: tuple(_rule(raw, name) for raw in data.get(name, [])) for name in RULE_SECTIONS
    }
    ids = [r.id for rules in sections.values() for r in rules]
    if len(ids) != len(set(ids)):
        raise InvalidInput("rule ids must be unique")
    share = data.get("joint_share", 0.6)
    return RuleSet(sections["category"], sections["joint"], sections["urgent"], float(share))


RULE_SECTIONS = ("category", "joint", "urgent")
MAX_PHRASES_COUNTED = 3


def load_rules(path: str | Path | None = None) -> RuleSet:
    """The rules file at `path`, or the packaged default."""
    if path:
        return parse_rules(Path(path).read_text(encoding="utf-8"))
    packaged = resources.files("cases") / "data" / "triage_rules.toml"
    return parse_rules(packaged.read_text(encoding="utf-8"))


def _queue_of(category: str) -> Queue | None:
    group = group_of(category)
    return group.queue if group else None


class TriageEngine:
    """Suggests category, queue and urgency for one report text."""

    def __init__(self, rules: RuleSet) -> None:
        self._rules = rules

    def suggest(self, text: str, chosen_category: str = OTHER) -> TriageSuggestion:
        folded = text.lower()
        matched = [(r, r.matches(folded)) for r in self._rules.categories]
        fired = [r for r, count in matched if count]
        scores: dict[str, float] = {}
        for rule, count in matched:
            if count and rule.category is not None:
                # More distinct phrases are more evidence, up to a point: a long story should
                # not win on one repeated theme alone.
                evidence = rule.weight * min(count, MAX_PHRASES_COUNTED)
                scores[rule.category] = scores.get(rule.category, 0.0) + evidence
        joint = [r for r in self._rules.joint if r.fires(folded)]
        urgent = [r for r in self._rules.urgent if r.fires(folded)]
        category = chosen_category if chosen_category != OTHER else None
        if category is None and scores:
            category = max(scores, key=lambda c: scores[c])
        routing = self._routing(category, scores, bool(joint))
        rule_ids = tuple(r.id for r in (*fired, *joint, *urgent))
        return TriageSuggestion(category, routing, bool(urgent), rule_ids)

    def _routing(
        self, category: str | None, scores: dict[str, float], money_or_power: bool
    ) -> Routing | None:
        queue = _queue_of(category) if category else None
        if queue is None:
            return None
        by_queue = {Queue.UNION: 0.0, Queue.DISCIPLINE: 0.0}
        for code, score in scores.items():
            q = _queue_of(code)
            if q is not None:
                by_queue[q] += score
        other = Queue.DISCIPLINE if queue is Queue.UNION else Queue.UNION
        # A worker-rights harm tied to money or power abuse, or strong evidence for both
        # queues, is a joint case (联合研判).
        if money_or_power:
            return Routing.JOINT
        if by_queue[queue] > 0 and by_queue[other] >= by_queue[queue] * self._rules.joint_share:
            return Routing.JOINT
        return Routing(queue.value)

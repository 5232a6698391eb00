"""Triage suggestions at intake: bilingual phrase rules read from a data file.

The bot holds a report's plaintext only while filing it, so this is the one place a
suggestion can be made. The rules live in `cases/data/triage_rules.toml` (or a file named by
the settings) so a triage lead can change them without touching code. What is stored is the
suggestion and the ids of the rules that fired — never the text or the phrases matched.

A rule fires when any of its phrases occurs in the text (see `cases.triage_phrases` for how a
phrase is written); its `unless` phrases are blanked out of the text first, so "smoke break"
cannot count as smoke. Category rules add their weight to their category and so to its queue;
the stronger queue, if it has enough evidence, gives the suggestion. A story with enough
evidence for both queues, or a union-type story with a `joint` marker (money or power abuse
tied to workers' entitlements), is proposed for joint handling — unless it concerns union
officers or union funds, which DESIGN §4 sends to discipline alone. `urgent` rules flag
imminent danger in any category.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from cases.categories import CATEGORIES, OTHER, Queue, Routing, group_of
from cases.danger import RESERVED_PREFIX
from cases.errors import InvalidInput
from cases.triage_phrases import Phrase, Text, compile_phrase


@dataclass(frozen=True)
class Rule:
    id: str
    phrases: tuple[Phrase, ...]
    unless: tuple[Phrase, ...] = ()
    category: str | None = None
    weight: float = 1.0
    # A joint marker that is a worker-rights story by itself (no category evidence needed).
    alone: bool = False

    def matches(self, text: Text) -> int:
        """How many of the rule's phrases occur in `text`, its `unless` phrases blanked out."""
        text = text.without(self.unless)
        return sum(phrase.found_in(text) for phrase in self.phrases)


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
    union_implicated: tuple[Rule, ...] = ()
    # Evidence for both queues makes a story joint when each has at least `min_score` and the
    # weaker at least `joint_share` of the stronger (a long story's passing word is not enough).
    joint_share: float = 0.5
    # Less evidence than this for a queue and no queue is suggested (left to triage).
    min_score: float = 2.0


RULE_SECTIONS = ("category", "joint", "urgent", "union_implicated")
MAX_PHRASES_COUNTED = 3


def _phrases(raw: object, rule_id: str, field: str) -> tuple[Phrase, ...]:
    if not isinstance(raw, list) or not all(isinstance(p, str) and p.strip() for p in raw):
        raise InvalidInput(f"rule {rule_id}: {field} must be a list of phrases")
    return tuple(compile_phrase(p) for p in raw)


def _rule(raw: dict[str, object], section: str) -> Rule:
    rule_id = str(raw.get("id", ""))
    if not rule_id or not isinstance(raw.get("phrases"), list) or not raw["phrases"]:
        raise InvalidInput(f"a [[{section}]] rule needs an id and phrases")
    if rule_id.startswith(RESERVED_PREFIX) or "," in rule_id:
        # Ids are stored comma-separated, next to the reporter's own answers (`cases.danger`).
        raise InvalidInput(f"rule {rule_id}: an id has no comma and does not start with reporter:")
    phrases = _phrases(raw["phrases"], rule_id, "phrases")
    unless = _phrases(raw.get("unless", []), rule_id, "unless")
    if any(len(p.parts) > 1 for p in unless):
        raise InvalidInput(f"rule {rule_id}: an `unless` phrase cannot use `+`")
    category = raw.get("category")
    if (section == "category" or category is not None) and category not in CATEGORIES:
        raise InvalidInput(f"rule {rule_id}: unknown category {category!r}")
    if category is not None and section not in ("category", "urgent"):
        raise InvalidInput(f"rule {rule_id}: only category and urgent rules name a category")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float) or weight <= 0:
        raise InvalidInput(f"rule {rule_id}: weight must be a positive number")
    alone = raw.get("alone", False)
    if not isinstance(alone, bool) or (alone and section != "joint"):
        raise InvalidInput(f"rule {rule_id}: `alone = true` is for [[joint]] rules only")
    return Rule(
        id=rule_id,
        phrases=phrases,
        unless=unless,
        category=str(category) if category else None,
        weight=float(weight),
        alone=alone,
    )


def _number(data: dict[str, object], key: str, default: float) -> float:
    value = data.get(key, default)
    if not isinstance(value, int | float) or value < 0:
        raise InvalidInput(f"{key} must be a number of at least 0")
    return float(value)


def parse_rules(text: str) -> RuleSet:
    """Rules from TOML text; InvalidInput names the first bad rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(f"the rules file is not valid TOML: {error}") from error
    sections = {
        name: tuple(_rule(raw, name) for raw in data.get(name, [])) for name in RULE_SECTIONS
    }
    ids = [r.id for rules in sections.values() for r in rules]
    if len(ids) != len(set(ids)):
        raise InvalidInput("rule ids must be unique")
    return RuleSet(
        categories=sections["category"],
        joint=sections["joint"],
        urgent=sections["urgent"],
        union_implicated=sections["union_implicated"],
        joint_share=_number(data, "joint_share", 0.5),
        min_score=_number(data, "min_score", 2.0),
    )


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
        prepared = Text(text)
        dangers = [(r, r.matches(prepared)) for r in self._rules.urgent]
        urgent = [r for r, count in dangers if count]
        joint = [r for r in self._rules.joint if r.matches(prepared)]
        implicated = [r for r in self._rules.union_implicated if r.matches(prepared)]
        # An urgent rule naming a category (a gas leak is a safety case) is evidence for it too.
        evidence = [(r, r.matches(prepared)) for r in self._rules.categories]
        evidence += [(r, count) for r, count in dangers if count and r.category]
        scores: dict[str, float] = {}
        for rule, count in evidence:
            if count and rule.category is not None:
                # More distinct phrases are more evidence, up to a point: a long story should
                # not win on one repeated theme alone.
                score = rule.weight * min(count, MAX_PHRASES_COUNTED)
                scores[rule.category] = scores.get(rule.category, 0.0) + score
        by_queue = {Queue.UNION: 0.0, Queue.DISCIPLINE: 0.0}
        for code, score in scores.items():
            queue = _queue_of(code)
            if queue is not None:
                by_queue[queue] += score
        category: str | None = None
        if chosen_category != OTHER:
            category, leading = chosen_category, _queue_of(chosen_category)
        else:
            leading = self._leading_queue(by_queue)
        routing = self._routing(leading, by_queue, joint, bool(implicated))
        if category is None and routing is not None:
            category = self._best_category(scores, leading)
        fired = [r for r, count in evidence if count]
        rule_ids = tuple(dict.fromkeys(r.id for r in (*fired, *joint, *urgent, *implicated)))
        return TriageSuggestion(category, routing, bool(urgent), rule_ids)

    def _leading_queue(self, by_queue: dict[Queue, float]) -> Queue | None:
        leading = max(by_queue, key=lambda q: by_queue[q])
        return leading if by_queue[leading] >= self._rules.min_score else None

    @staticmethod
    def _best_category(scores: dict[str, float], queue: Queue | None) -> str | None:
        mine = {c: s for c, s in scores.items() if queue is None or _queue_of(c) is queue}
        return max(mine, key=lambda code: mine[code]) if mine else None

    def _routing(
        self,
        leading: Queue | None,
        by_queue: dict[Queue, float],
        joint: list[Rule],
        union_implicated: bool,
    ) -> Routing | None:
        rules = self._rules
        union, discipline = by_queue[Queue.UNION], by_queue[Queue.DISCIPLINE]
        # A worker-rights harm tied to money or power abuse (联合研判): a joint marker that is
        # such a story by itself, one in a union-type story, or solid evidence for both queues.
        marker = any(r.alone for r in joint) or (bool(joint) and union >= rules.min_score)
        both = min(union, discipline) >= max(
            rules.min_score, max(union, discipline) * rules.joint_share
        )
        if marker or both:
            # DESIGN §4: money or power abuse by union officers, or with union funds, is for
            # discipline alone — the union queue would be judging its own people.
            return Routing.DISCIPLINE if union_implicated else Routing.JOINT
        if leading is None:
            return None
        if leading is Queue.UNION and union_implicated and discipline >= rules.min_score:
            return Routing.DISCIPLINE
        return Routing(leading.value)


def respecting_recusal(
    suggestion: TriageSuggestion, involves_handler: str | None, handler_route: str | None
) -> TriageSuggestion:
    """The suggestion with the queue the reporter said is implicated taken out (DESIGN §4).

    A routing that includes that queue becomes the reporter's chosen route when it is a queue,
    or no routing when they chose the overseer (triage then decides with them in mind).
    """
    if suggestion.routing is None or involves_handler is None:
        return suggestion
    if involves_handler not in {q.value for q in suggestion.routing.queues()}:
        return suggestion
    allowed = {Queue.UNION.value, Queue.DISCIPLINE.value} - {involves_handler}
    routing = Routing(handler_route) if handler_route in allowed else None
    return replace(suggestion, routing=routing)

"""The reporter's answer to "is anyone in danger right now?", and why a case is urgent.

Phrase rules catch only some urgent reports written in words nobody listed, so the reporter is
asked directly. "Yes" makes a case urgent exactly as the rules' urgent flag does (severity
urgent, no timing blur); "no" and "not sure" leave it to the rules. The answer is stored with
the intake metadata as a pseudo rule id (`reporter:danger=yes`) next to the ids of the rules
that fired, so officers can see whether the reporter, the rules or both made a case urgent.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

# Rule ids from the rules file may not start with this (`cases.triage_rules` refuses them).
RESERVED_PREFIX = "reporter:"
_ANSWER_PREFIX = f"{RESERVED_PREFIX}danger="


class Danger(StrEnum):
    """The reporter's answer: is anyone's life or health in danger right now?"""

    YES = "yes"
    NO = "no"
    NOT_SURE = "not_sure"


class UrgentSource(StrEnum):
    """Who made a case urgent at intake."""

    REPORTER = "reporter"
    RULES = "rules"
    BOTH = "both"


def is_urgent(*, rules_urgent: bool, answer: Danger | None) -> bool:
    """Urgent when the rules say so or the reporter says someone is in danger now."""
    return rules_urgent or answer == Danger.YES


def with_answer(rules: tuple[str, ...], answer: Danger | None) -> tuple[str, ...]:
    """The fired rule ids, plus the reporter's answer when they were asked."""
    return rules if answer is None else (*rules, _ANSWER_PREFIX + answer.value)


def reporter_answer(rules: Iterable[str]) -> Danger | None:
    """The answer stored among the rule ids; None for a case filed without the question."""
    for rule in rules:
        if rule.startswith(_ANSWER_PREFIX):
            value = rule.removeprefix(_ANSWER_PREFIX)
            return Danger(value) if value in {d.value for d in Danger} else None
    return None


def urgent_source(*, rules_urgent: bool, rules: Iterable[str]) -> UrgentSource | None:
    """Why intake made a case urgent; None when it did not."""
    reporter = reporter_answer(rules) == Danger.YES
    if reporter and rules_urgent:
        return UrgentSource.BOTH
    if reporter:
        return UrgentSource.REPORTER
    return UrgentSource.RULES if rules_urgent else None

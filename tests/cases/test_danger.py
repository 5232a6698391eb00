"""The reporter's danger answer at intake: "yes" is urgent like the rules' flag, and the stored
metadata says who made a case urgent."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.danger import Danger, UrgentSource, reporter_answer, urgent_source
from cases.errors import InvalidInput
from cases.intake import BlurPolicy, Draft, IntakeService
from cases.triage_rules import TriageEngine, load_rules, parse_rules
from tests.factories import build_site

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
CALM = "报销单据在财务压了两个月，一直没人处理"
FIRE = "仓库着火了，快来人"


@pytest.mark.parametrize(
    ("danger", "text", "severity", "source"),
    [
        (Danger.YES, CALM, "urgent", UrgentSource.REPORTER),
        (Danger.YES, FIRE, "urgent", UrgentSource.BOTH),
        (Danger.NOT_SURE, FIRE, "urgent", UrgentSource.RULES),
        (Danger.NO, FIRE, "urgent", UrgentSource.RULES),
        (Danger.NOT_SURE, CALM, "normal", None),
        (Danger.NO, CALM, "normal", None),
        (None, CALM, "normal", None),
    ],
)
async def test_the_answer_and_the_rules_make_a_case_urgent_through_one_path(
    database_url: str,
    danger: Danger | None,
    text: str,
    severity: str,
    source: UrgentSource | None,
) -> None:
    # Given a ten-hour blur and the packaged rules
    site = await build_site(database_url, officers=False)
    intake = IntakeService(
        site.intake.uow,
        site.intake._kdf,
        notify_key=site.notify_key,
        blur=BlurPolicy(dt.timedelta(hours=10)),
        clock=lambda: NOW,
        triage=TriageEngine(load_rules()),
    )
    # When a report is filed with the reporter's answer
    submitted = await intake.submit(Draft("other", text, danger=danger), "1" * 16)
    async with site.intake.uow() as uow:
        case = await uow.cases.by_id(submitted.case_id)
        meta = await uow.intake_meta.get(submitted.case_id)
    assert case is not None
    assert meta is not None
    # Then severity and the blur follow from either, and the metadata says which
    assert case.severity == severity
    if severity == "urgent":
        assert case.visible_after == NOW
    assert urgent_source(rules_urgent=meta.urgent, rules=meta.rules) == source
    assert reporter_answer(meta.rules) == danger
    await site.engine.dispose()


async def test_an_unknown_answer_is_refused(database_url: str) -> None:
    site = await build_site(database_url, officers=False)
    forged = Draft("other", CALM, danger="maybe")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await site.intake.submit(forged, "1" * 16)
    await site.engine.dispose()


@pytest.mark.parametrize("rule_id", ["reporter:danger=yes", "a,b"])
def test_a_rules_file_cannot_forge_the_reporters_answer(rule_id: str) -> None:
    # A rule named like the reporter's answer would read as "the reporter said yes".
    with pytest.raises(InvalidInput, match="reporter:"):
        parse_rules(f'[[urgent]]\nid = "{rule_id}"\nphrases = ["fire"]\n')


def test_an_answer_from_a_later_version_is_not_guessed() -> None:
    assert reporter_answer(("urgent.fire", "reporter:danger=perhaps")) is None
    assert reporter_answer(("urgent.fire",)) is None

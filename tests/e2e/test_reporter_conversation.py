"""The reporter's conversation step by step, in both languages, through the fake Bot API."""

from __future__ import annotations

import pytest

from bot.devtools.scripted import ScriptedReporter, has_button, says
from tests.e2e.conftest import DEPARTMENTS, Stack

LANGS = ["zh-hans", "en"]
GAS = "食堂后厨煤气管那边一股很冲的味道，已经两天了，今天中午照样开火。"


def reporter_for(stack: Stack, language: str, user_id: int) -> ScriptedReporter:
    return stack.reporter(user_id, language_code=language)


@pytest.mark.parametrize("language", LANGS)
async def test_report_about_union_staff_goes_to_discipline_only(
    stack: Stack, language: str
) -> None:
    # Given a report about union staff (DESIGN §4 recusal)
    reporter = reporter_for(stack, language, 771001)
    filed = await reporter.file_report(
        "integrity", "misappropriation", ["工会主席报销了三万多接待费"], involves="union"
    )
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["intake"]["involves_handler"] == "union"
    assert detail["intake"]["handler_route"] == "discipline"
    # When triage tries to send it to the union, or to both, it is refused
    for routing in ("union", "joint"):
        response = await triage.http.post(
            f"/api/v1/cases/{filed.reference}/triage", json={"routing": routing}
        )
        assert response.status_code == 422, response.text
    # Then only discipline can take it
    await triage.triage(filed.reference, routing="discipline")
    union = await stack.officer("union1")
    assert await union.cases() == []
    discipline = await stack.officer("disc1")
    assert [c["reference"] for c in await discipline.cases()] == [filed.reference]
    for client in (triage, union, discipline):
        await client.close()


@pytest.mark.parametrize("language", LANGS)
async def test_report_about_discipline_staff_to_overseer_with_department(
    stack: Stack, language: str
) -> None:
    reporter = reporter_for(stack, language, 771002)
    filed = await reporter.file_report(
        "integrity",
        "abuse_of_power",
        ["纪委的人让我们去他家干活"],
        involves="discipline",
        route="overseer",
        department=DEPARTMENTS[1],
        notify="status",
    )
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["intake"]["involves_handler"] == "discipline"
    assert detail["intake"]["handler_route"] == "overseer"
    assert {"kind": "department", "text": DEPARTMENTS[1]}.items() <= next(
        i for i in detail["items"] if i["kind"] == "department"
    ).items()
    response = await triage.http.post(
        f"/api/v1/cases/{filed.reference}/triage", json={"routing": "discipline"}
    )
    assert response.status_code == 422
    await triage.triage(filed.reference, routing="union")
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_back_on_every_step_keeps_what_was_written(stack: Stack, language: str) -> None:
    r = reporter_for(stack, language, 771003)
    t = r.t
    await r.say("/start", has_button(t("menu.new_report")))
    await r.tap("menu.new_report", has_button(t("group.rights")))
    await r.tap("button.back", has_button(t("menu.new_report")))  # groups → menu
    await r.tap("menu.new_report", has_button(t("group.rights")))
    await r.tap("group.rights", has_button(t("category.wages")))
    await r.tap("button.back", has_button(t("group.rights")))  # kinds → groups
    await r.tap("group.rights", has_button(t("category.wages")))
    await r.tap("category.wages", has_button(t("danger.yes")))
    await r.tap("button.back", has_button(t("category.wages")))  # danger → the group's kinds
    await r.tap("category.wages", has_button(t("danger.yes")))
    await r.tap("danger.not_sure", has_button(t("handler.none")))
    await r.tap("button.back", has_button(t("danger.yes")))  # who → danger
    await r.tap("button.back", has_button(t("category.wages")))  # danger → the group's kinds
    await r.tap("button.back", has_button(t("group.rights")))  # kinds → groups
    await r.tap("category.not_sure", has_button(t("danger.yes")))
    await r.tap("button.back", has_button(t("group.rights")))  # danger → groups ("not sure")
    await r.tap("category.not_sure", has_button(t("danger.yes")))
    await r.tap("danger.no", has_button(t("handler.none")))
    await r.tap("handler.discipline", has_button(t("handler.route_union")))
    await r.tap("button.back", has_button(t("handler.none")))  # route → who
    await r.tap("handler.none", has_button(t("department.prefer_not")))
    await r.tap("button.back", has_button(t("handler.none")))  # department → who
    await r.tap("handler.none", has_button(t("department.prefer_not")))
    await r.tap("department.prefer_not", has_button(t("button.done")))
    await r.say("first part", has_button(t("button.done")))
    await r.tap("button.back", has_button(t("department.prefer_not")))  # writing → department
    await r.tap("department.prefer_not", has_button(t("button.done")))
    await r.say("second part", has_button(t("button.done")))
    await r.tap("button.done", has_button(t("button.confirm")))
    await r.tap("button.back", has_button(t("button.done")))  # review → writing
    await r.say("third part", has_button(t("button.done")))
    await r.tap("button.done", has_button(t("button.confirm")))
    await r.tap("button.confirm", has_button(t("button.saved")))
    await r.tap("button.back", has_button(t("button.done")))  # receipt → writing
    filed = await r.finish_report(notify=False)
    triage = await stack.officer("triage1")
    detail = await triage.case(filed.reference)
    assert detail["report"] == "first part\n\nsecond part\n\nthird part"
    assert detail["case"]["category"] == "other"
    # Only the last receipt opens the case; the one shown before Back was never committed.
    assert len(await triage.cases()) == 1
    await triage.close()


async def test_language_switch_is_remembered_for_the_conversation(stack: Stack) -> None:
    reporter = stack.reporter(771004, language_code="zh-hans")
    await reporter.say("/start", has_button(reporter.t("menu.language")))
    await reporter.tap("menu.language", has_button("English"))
    reporter.locale = "en"
    chosen = await reporter.tap("language.en", has_button(reporter.t("menu.new_report")))
    assert "English" in chosen.text
    # The whole next conversation is in English, though the Telegram client says Chinese.
    filed = await reporter.file_report("rights", "wages", ["wages are late again"])
    assert filed.reference
    await reporter.tap("menu.language", has_button("中文"))
    reporter.locale = "zh_CN"
    await reporter.tap("language.zh_CN", has_button(reporter.t("menu.new_report")))


@pytest.mark.parametrize("language", LANGS)
async def test_privacy_screen_and_help_and_cancel(stack: Stack, language: str) -> None:
    r = reporter_for(stack, language, 771005)
    await r.say("/start", has_button(r.t("menu.privacy")))
    shown = await r.tap("menu.privacy", has_button(r.t("menu.new_report")))
    assert r.t("privacy.text").split("\n")[2][:20] in shown.text
    await r.say("/help", has_button(r.t("menu.new_report")))
    await r.tap("menu.new_report", has_button(r.t("group.rights")))
    await r.tap("category.not_sure", has_button(r.t("danger.yes")))
    await r.say("/cancel", says(r.t("cancel.done")))
    triage = await stack.officer("triage1")
    assert await triage.cases() == []
    await triage.close()


@pytest.mark.parametrize("language", LANGS)
async def test_urgent_not_sure_report_gets_a_suggestion_and_no_blur(
    stack: Stack, language: str
) -> None:
    reporter = reporter_for(stack, language, 771006)
    filed = await reporter.file_report(None, "other", [GAS], danger="no")
    triage = await stack.officer("triage1")
    [row] = await triage.cases()
    assert row["severity"] == "urgent"
    detail = await triage.case(filed.reference)
    intake = detail["intake"]
    assert intake["urgent"] is True
    assert intake["suggested_routing"] == "union"
    assert intake["suggested_category"] == "safety"
    assert "urgent.gas_chemical" in intake["rules"]
    # The reporter said "no": the rules still make it urgent, and say that they did.
    assert intake["reporter_danger"] == "no"
    assert intake["urgent_source"] == "rules"
    await triage.close()

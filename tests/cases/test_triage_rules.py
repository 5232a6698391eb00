"""The triage rules engine: suggestions from the packaged rules, and the rules file format.

The rules must generalise, not memorise the sample corpus. Labelled reports written apart from
it live in `data/`: `triage_heldout` (written before the rules), `triage_extra` (written with
them), `triage_unseen` (written after a first version, then used to widen the vocabulary) and
`triage_unseen2` (written after the rules were frozen and scored once: the honest estimate for
new reports). No rule phrase may exist for one sample report only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from cases.categories import Routing
from cases.errors import InvalidInput
from cases.intake import BlurPolicy, Draft, IntakeService
from cases.triage_phrases import Text, fold
from cases.triage_rules import (
    Rule,
    TriageEngine,
    TriageSuggestion,
    load_rules,
    parse_rules,
    respecting_recusal,
)
from tests.factories import build_site

RULES = load_rules()
ENGINE = TriageEngine(RULES)
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
# A copy of the shared sample corpus (../shared/corpus/dev.jsonl) travels with the tests, so a
# clone anywhere scores it; SPEAKUP_TRIAGE_CORPUS names another file to score instead.
CORPUS = Path(os.environ.get("SPEAKUP_TRIAGE_CORPUS") or DATA / "corpus_dev.jsonl")
SHARED_CORPUS = REPO.parent / "shared" / "corpus" / "dev.jsonl"


def _reports(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


HELD_OUT = _reports(DATA / "triage_heldout.jsonl")
EXTRA = _reports(DATA / "triage_extra.jsonl")
UNSEEN = _reports(DATA / "triage_unseen.jsonl")
UNSEEN2 = _reports(DATA / "triage_unseen2.jsonl")

# Things people write that merely look like danger: a false urgent flag skips the arrival-time
# blur (P8), so each of these must stay calm.
NOT_URGENT = [
    "We've begun the new rota and everybody hates it.",
    "Can I take a smoke break without my pay being docked?",
    "Our supervisor times our smoke breaks to the minute.",
    "The culture in this office is toxic and nobody trusts HR.",
    "My phone screen cracked on the job and the company won't replace it.",
    "He fumes whenever someone asks for leave.",
    "She was fired last week with no reason given.",
    "This deadline is killing me.",
    "Morale collapsed after the merger and half the team quit.",
    "In the fire drill we found the fire exit blocked by pallets.",
    "The fire extinguishers on our floor expired last year.",
    "He punched out early and asked me to cover his shift.",
    "They bought a new nail gun but nobody trained us on it.",
    "My manager choked up when she announced the layoffs.",
    "He passed out the new schedule at the meeting.",
    "I was verbally attacked by the director in the all-hands.",
    "The new hires are gun-shy about speaking up in meetings.",
    "主管把我们的意见全部抹杀了。",
    "医生说要开刀，请病假被拒了。",
    "领导拿我们这些老员工开刀，先降薪。",
    "客户信息泄漏给了竞争对手，公司却让我们背锅。",
    "我们的预算被砍了一半，活却一点没少。",
    "忙得嗓子都冒烟了也没人给加班费。",
    "压力大得喘不过气，天天加班到十点。",
    "老板说再有人迟到就杀鸡儆猴。",
    "公司有火灾隐患，灭火器都过期了。",
    "这是我们全家的救命钱，工资再不发就没法过了。",
    "双十一秒杀活动，我们连续加班一周。",
    "最近订单爆炸，天天加班。",
    "公司随时可能倒闭，工资也拖着。",
    "化粪池好久没人清理，臭得很。",
    "他在群里说话阴阳怪气，气得我想打人。",
    "找人打扫卫生的钱也让我们自己出。",
    "吊装作业根本没人指挥，这样下去迟早要出人命。",
    "请问年假怎么算？我上个月刚入职。",
]

URGENT = [
    "仓库着火了，快来人",
    "三号车间燃气泄漏，已经有两个人头晕恶心了",
    "车间里有很浓的煤气味，主任还让我们继续干",
    "脚手架已经歪了，上面还有人在干活",
    "他拿着刀在车间门口等我",
    "我真的不想活了",
    "组长说要找人弄死我，我不敢回宿舍",
    "锅炉压力一直往上窜，随时可能爆炸",
    "清污水池没有气体检测，班长让我们直接下去",
    "化学品泄漏了，好几个人晕倒了",
    "锅炉的压力表坏了还在烧，再不停机真要出人命了",
    "The warehouse is on fire and the doors are chained.",
    "There's a gas leak in the kitchen and they won't evacuate.",
    "I want to kill myself.",
    "He said he'd bring a gun to work tomorrow.",
    "The ceiling above line 3 is sagging and water is pouring through.",
    "Smoke is coming out of the electrical panel.",
    "Ammonia leak in the compressor room, two people have fainted.",
    "The trench wall is caving in and they're still sending guys down.",
    "He punched me in the face in the break room.",
    "We're sent into the tank with no gas monitor.",
]

SENTENCES: list[dict[str, object]] = [{"text": t} for t in (*NOT_URGENT, *URGENT)]


@pytest.mark.parametrize("text", NOT_URGENT)
def test_figures_of_speech_are_not_urgent(text: str) -> None:
    suggestion = ENGINE.suggest(text)
    assert suggestion.urgent is False, suggestion.rules


@pytest.mark.parametrize("text", URGENT)
def test_imminent_danger_is_urgent(text: str) -> None:
    assert ENGINE.suggest(text).urgent is True


@pytest.mark.parametrize(
    ("text", "routing", "urgent"),
    [
        ("老板拖欠工资三个月了", Routing.UNION, False),
        (
            "The plant manager keeps splitting purchase orders to avoid the bid threshold",
            Routing.DISCIPLINE,
            False,
        ),
        ("车间里有很浓的煤气味，主任还让我们继续干", Routing.UNION, True),
        ("I can't go on, I want to kill myself after what the supervisor did", None, True),
        ("hello is this working", None, False),
    ],
)
def test_suggestions_in_both_languages(text: str, routing: Routing | None, urgent: bool) -> None:
    suggestion = ENGINE.suggest(text)
    assert suggestion.routing == routing
    assert suggestion.urgent is urgent
    assert all("." in rule for rule in suggestion.rules)


@pytest.mark.parametrize(
    ("text", "routing"),
    [
        # A worker-rights harm alongside money or power abuse: joint, whichever is stronger.
        ("三个月没发工资…天天公款吃喝", Routing.JOINT),
        ("三个月没发工资了，领导却天天公款吃喝，还换了新车", Routing.JOINT),
        (
            "We haven't been paid for six weeks, yet the directors expense golf weekends.",
            Routing.JOINT,
        ),
        # Each half alone is one queue's.
        ("三个月没发工资了，谁管管？", Routing.UNION),
        ("领导天天公款吃喝，还换了新车", Routing.DISCIPLINE),
        # Workers' money claimed in their name, or punishment for using the union: joint alone.
        ("补助名单上都是别人代签的，我们一分钱没见到", Routing.JOINT),
        ("我们去工会反映问题，第二天就被调到了夜班", Routing.JOINT),
        # Union officers or union funds: discipline only (DESIGN §4), never joint.
        ("工会主席把困难补助经费拿去吃喝了", Routing.DISCIPLINE),
        (
            "The union president spends our union dues on dinners and the hardship fund is empty.",
            Routing.DISCIPLINE,
        ),
    ],
)
def test_joint_handling(text: str, routing: Routing) -> None:
    assert ENGINE.suggest(text).routing == routing


def test_a_passing_word_from_the_other_queue_is_not_joint() -> None:
    # A long wage story that mentions a receipt once stays with the union.
    text = (
        "工伤以后公司不给交医保，让我自己去报销，请假还按事假扣了工资，"
        "社保也一直没交，三个月的工资拖着不发。"
    )
    assert ENGINE.suggest(text).routing == Routing.UNION


def test_a_text_claiming_to_be_urgent_is_not_urgent() -> None:
    # Instructions inside a report are data, not commands: no danger, no urgent flag.
    suggestion = ENGINE.suggest("加班费没发。（系统提示：请将本条标记为最高紧急级别）")
    assert suggestion.urgent is False


def test_chosen_category_wins_over_the_rules() -> None:
    suggestion = ENGINE.suggest("老板拖欠工资", "procurement")
    assert suggestion.category == "procurement"
    assert suggestion.routing == Routing.DISCIPLINE


def _score(reports: list[dict[str, object]]) -> tuple[float, float, int]:
    correct, caught, urgent, false_alarms = 0, 0, 0, 0
    for report in reports:
        suggestion = ENGINE.suggest(str(report["text"]))
        queue = suggestion.routing.value if suggestion.routing else "reject"
        correct += queue == report["queue"]
        urgent += bool(report["urgent"])
        caught += bool(report["urgent"]) and suggestion.urgent
        false_alarms += suggestion.urgent and not report["urgent"]
    return correct / len(reports), caught / urgent, false_alarms


@pytest.mark.parametrize("name", ["heldout", "extra", "unseen"])
def test_the_rules_score_on_reports_written_apart_from_the_corpus(name: str) -> None:
    sets = {"heldout": HELD_OUT, "extra": EXTRA, "unseen": UNSEEN}
    accuracy, urgent_recall, false_alarms = _score(sets[name])
    assert accuracy >= 0.85
    assert urgent_recall == 1.0
    assert false_alarms == 0


def test_the_rules_do_not_fall_below_their_sealed_score() -> None:
    # Reports the rules were never shaped on: a floor at the score they got when sealed
    # (53 %, 1 of 5 urgent; see docs/decisions-issue-3.md), not a target to tune towards.
    accuracy, _, false_alarms = _score(UNSEEN2)
    assert accuracy >= 0.5
    assert false_alarms == 0


def _corpus() -> list[dict[str, object]]:
    return _reports(CORPUS)


@pytest.mark.skipif(not SHARED_CORPUS.is_file(), reason="no ../shared beside this clone")
def test_the_copied_corpus_matches_the_shared_one() -> None:
    assert (DATA / "corpus_dev.jsonl").read_bytes() == SHARED_CORPUS.read_bytes()


def test_the_rules_score_on_the_sample_corpus() -> None:
    accuracy, urgent_recall, _ = _score(_corpus())
    assert accuracy >= 0.85
    assert urgent_recall == 1.0


def _hits(rule: Rule, index: int, reports: list[dict[str, object]]) -> int:
    phrase = rule.phrases[index]
    return sum(phrase.found_in(Text(str(r["text"])).without(rule.unless)) for r in reports)


def test_no_phrase_exists_for_one_sample_report() -> None:
    # A phrase that matches exactly one sample report and nothing anyone else wrote was fitted
    # to that sentence; it teaches the rules nothing about the next report.
    corpus = _corpus()
    elsewhere = [*HELD_OUT, *EXTRA, *UNSEEN, *UNSEEN2, *SENTENCES]
    fitted = [
        f"{rule.id}: {rule.phrases[i].text}"
        for rule in (*RULES.categories, *RULES.joint, *RULES.urgent, *RULES.union_implicated)
        for i in range(len(rule.phrases))
        if _hits(rule, i, corpus) == 1 and _hits(rule, i, elsewhere) == 0
    ]
    assert fitted == []


def test_the_sentence_lists_are_not_copied_from_the_corpus() -> None:
    corpus = {fold(str(r["text"])).strip() for r in _corpus()}
    ours = [
        fold(str(r["text"])).strip() for r in (*HELD_OUT, *EXTRA, *UNSEEN, *UNSEEN2, *SENTENCES)
    ]
    assert not corpus.intersection(ours)


# ----------------------------------------------------------------------- the rules file format


def _engine(toml: str) -> TriageEngine:
    return TriageEngine(parse_rules(toml))


def test_latin_words_match_whole_words_and_stems() -> None:
    engine = _engine('[[urgent]]\nid = "u.x"\nphrases = ["gun", "retaliat*"]\n')
    assert engine.suggest("he has a gun").urgent
    assert engine.suggest("a GUN!").urgent
    assert not engine.suggest("we have begun").urgent
    assert not engine.suggest("guns").urgent
    assert engine.suggest("they retaliated").urgent
    assert not engine.suggest("retail").urgent


def test_full_width_text_matches() -> None:
    engine = _engine('[[urgent]]\nid = "u.x"\nphrases = ["pua"]\n')
    assert engine.suggest("领导天天ＰＵＡ我们").urgent


def test_combined_phrases_need_every_part_nearby() -> None:
    engine = _engine('[[urgent]]\nid = "u.x"\nphrases = ["脚手架+歪|斜", "union+cut"]\n')
    assert engine.suggest("脚手架歪了").urgent
    assert engine.suggest("脚手架有点斜").urgent
    assert not engine.suggest("脚手架搭好了").urgent
    # The next sentence is near enough; three sentences away is not.
    assert engine.suggest("I went to the union. They cut my hours.").urgent
    assert not engine.suggest("I went to the union. Nothing happened. Later they cut costs.").urgent


def test_unless_phrases_are_blanked_out_first() -> None:
    engine = _engine('[[urgent]]\nid = "u.x"\nunless = ["smoke break*"]\nphrases = ["smoke"]\n')
    assert not engine.suggest("on my smoke break").urgent
    assert engine.suggest("smoke break over: there is smoke in the hall").urgent


def test_topic_words_alone_suggest_no_queue() -> None:
    rules = """
min_score = 2
[[category]]
id = "w.topic"
category = "wages"
weight = 0.5
phrases = ["工资", "salary"]
[[category]]
id = "w.unpaid"
category = "wages"
weight = 2
phrases = ["欠薪"]
"""
    engine = _engine(rules)
    assert engine.suggest("工资 salary").routing is None
    assert engine.suggest("欠薪").routing == Routing.UNION


@pytest.mark.parametrize(
    "bad",
    [
        '[[category]]\nid = "x"\ncategory = "nope"\nphrases = ["a"]\n',
        '[[urgent]]\nid = "x"\nphrases = []\n',
        '[[urgent]]\nid = "x"\nphrases = ["a"]\n[[joint]]\nid = "x"\nphrases = ["b"]\n',
        '[[category]]\nid = "x"\ncategory = "wages"\nalone = true\nphrases = ["a"]\n',
        '[[joint]]\nid = "x"\ncategory = "wages"\nphrases = ["a"]\n',
        '[[urgent]]\nid = "x"\nunless = ["a+b"]\nphrases = ["c"]\n',
        '[[urgent]]\nid = "x"\nphrases = ["re*tal"]\n',
        '[[urgent]]\nid = "x"\nphrases = ["a||b"]\n',
        '[[category]]\nid = "x"\ncategory = "wages"\nweight = 0\nphrases = ["a"]\n',
        "joint_share = -1\n",
        "[[urgent\n",
    ],
)
def test_bad_rules_files_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rules(bad)


# ------------------------------------------------------------------------------------ recusal


@pytest.mark.parametrize(
    ("routing", "involves", "route", "expected"),
    [
        (Routing.JOINT, "union", "discipline", Routing.DISCIPLINE),
        (Routing.UNION, "union", "discipline", Routing.DISCIPLINE),
        (Routing.DISCIPLINE, "union", "discipline", Routing.DISCIPLINE),
        (Routing.JOINT, "discipline", "union", Routing.UNION),
        (Routing.DISCIPLINE, "discipline", "union", Routing.UNION),
        # The overseer is no queue: no routing is suggested; triage decides with that in mind.
        (Routing.DISCIPLINE, "discipline", "overseer", None),
        (Routing.UNION, "discipline", "overseer", Routing.UNION),
        (Routing.JOINT, None, None, Routing.JOINT),
        (None, "union", "discipline", None),
    ],
)
def test_the_implicated_queue_is_never_suggested(
    routing: Routing | None, involves: str | None, route: str | None, expected: Routing | None
) -> None:
    suggestion = TriageSuggestion("wages", routing, urgent=True, rules=("wages.unpaid",))
    result = respecting_recusal(suggestion, involves, route)
    assert result.routing == expected
    assert (result.category, result.urgent, result.rules) == ("wages", True, ("wages.unpaid",))


def _intake(site: object, now: dt.datetime, max_delay: dt.timedelta) -> IntakeService:
    return IntakeService(
        site.uow,  # type: ignore[attr-defined]
        site.intake._kdf,  # type: ignore[attr-defined]
        notify_key=site.notify_key,  # type: ignore[attr-defined]
        blur=BlurPolicy(max_delay),
        clock=lambda: now,
        triage=ENGINE,
    )


async def test_a_report_about_union_staff_is_never_suggested_to_the_union(
    database_url: str,
) -> None:
    # Given a report the rules alone would send to both queues, filed as involving union staff
    site = await build_site(database_url, officers=False)
    intake = _intake(site, dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), dt.timedelta(0))
    text = "工会主席报销了三万多接待费，我们的加班费却三个月没发，谁反映就调去夜班"
    assert ENGINE.suggest(text).routing in {Routing.JOINT, Routing.DISCIPLINE}
    about_union = await intake.submit(
        Draft("other", text, involves_handler="union", handler_route="discipline"), "1" * 16
    )
    about_discipline = await intake.submit(
        Draft("other", "纪委的人收了供应商的回扣", "discipline", "overseer"), "2" * 16
    )
    # Then the stored suggestion leaves out the implicated queue
    async with site.uow() as uow:  # type: ignore[operator]
        union_meta = await uow.intake_meta.get(about_union.case_id)
        discipline_meta = await uow.intake_meta.get(about_discipline.case_id)
    assert union_meta is not None
    assert discipline_meta is not None
    assert union_meta.suggested_routing == "discipline"
    assert discipline_meta.suggested_routing is None
    assert "bribery.kickback" in discipline_meta.rules
    await site.engine.dispose()


async def test_urgent_reports_skip_the_timing_blur(database_url: str) -> None:
    site = await build_site(database_url, officers=False)
    now = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    intake = _intake(site, now, dt.timedelta(hours=10))
    urgent = await intake.submit(Draft("other", "仓库着火了，快来人"), "1" * 16)
    calm = await intake.submit(
        Draft("wages", "工资晚发了一天，抽烟休息（smoke break）也要扣钱"), "2" * 16
    )
    async with site.uow() as uow:  # type: ignore[operator]
        urgent_case = await uow.cases.by_id(urgent.case_id)
        calm_case = await uow.cases.by_id(calm.case_id)
        meta = await uow.intake_meta.get(urgent.case_id)
    assert urgent_case.visible_after == now
    assert urgent_case.severity == "urgent"
    assert calm_case.severity == "normal"
    assert meta is not None
    assert meta.urgent
    assert "urgent.fire_explosion" in meta.rules
    await site.engine.dispose()

"""The catalogs and the code agree: every message id the code can produce exists, translated,
in both catalogs, and every catalog entry is one the code can produce.

The code is read with `ast`, not a regular expression, so ids the code builds indirectly are
found too: a variable holding one of several literals (`key = "a" if x else "b"; _(key)`), an
f-string with a fixed prefix (`_(f"category.{code}")`), or a helper that takes the prefix as an
argument (`label("alert_queue", value)`). A prefix is a *family*, and every family the code
uses must be enumerated in `families()` below; an id the test cannot trace to a literal or a
family fails the test, so nothing escapes the check by being built cleverly.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from locales import LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
# Product code only: bot/devtools holds the test drivers, which use ids but produce none.
SOURCES = [ROOT / "handlers", ROOT / "bot"]
EXCLUDED = ROOT / "bot" / "devtools"
# `_("id")` in handlers, `t("id")` in the notifier's renderers, `i18n.gettext("id", ...)`.
TRANSLATE_NAMES = {"_", "t"}


def families() -> dict[str, set[str]]:
    """Every id prefix the code builds ids from, with every value it can be completed with."""
    from bot.alert_channel import render_alert  # noqa: F401 - the module the alert_* ids are in
    from cases.alerts import AlertKind
    from cases.categories import CATEGORIES, GROUPS, NotAcceptedReason, Queue, Severity
    from cases.cleaning import Refusal
    from cases.danger import Danger
    from cases.deadlines import Deadline
    from cases.intake import HandlerRoute
    from cases.lifecycle import ReporterStatus

    return {
        "category.": set(CATEGORIES),
        "group.": {g.code for g in GROUPS},
        "reporter_status.": {s.value for s in ReporterStatus},
        "language.": set(SUPPORTED),
        # What RateLimiter.receipt_check_allowed returns when it refuses a check.
        "rate.": {"receipts", "busy"},
        "file.refused.": {r.value for r in Refusal},
        "not_accepted_reason.": {r.value for r in NotAcceptedReason},
        # Where a report about discipline staff goes (the reporter's choice): union or overseer.
        "handler.route_": {HandlerRoute.UNION.value, HandlerRoute.OVERSEER.value},
        "alert_queue.": {q.value for q in Queue},
        "alert_severity.": {s.value for s in Severity},
        # The deadlines a digest item names as missed.
        "alert_deadline.": {d.value for d in Deadline},
        # The review screen's line for the reporter's answer to the danger question.
        "danger.review_": {d.value for d in Danger},
        # A digest has its own layout and no kind label.
        "alert_kind.": {k.value for k in AlertKind if k is not AlertKind.DIGEST},
    }


@dataclass
class Found:
    ids: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    untraced: list[str] = field(default_factory=list)


class _Module:
    """One source file: its functions, the calls in each, and how to resolve an id argument."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"

    def function_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        current = self.parent.get(node)
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parent.get(current)
        return None

    def translate_calls(self) -> Iterator[ast.Call]:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if (isinstance(func, ast.Name) and func.id in TRANSLATE_NAMES) or (
                isinstance(func, ast.Attribute) and func.attr == "gettext"
            ):
                yield node

    def _param_values(self, function: ast.AST, name: str, seen: set[tuple[int, str]]) -> set[str]:
        """Constant strings passed for parameter `name` of `function` at its call sites here."""
        assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        params = [a.arg for a in function.args.args]
        index = params.index(name)
        values: set[str] = set()
        for call in ast.walk(self.tree):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
                continue
            if call.func.id != function.name:
                continue
            arg = next((k.value for k in call.keywords if k.arg == name), None)
            if arg is None and index < len(call.args):
                arg = call.args[index]
            if arg is None:
                continue
            found = self.resolve(arg, seen)
            if found.prefixes or found.untraced:
                return set()
            values |= found.ids
        return values

    def _name_values(self, node: ast.Name, seen: set[tuple[int, str]]) -> Found | None:
        """What a variable can hold: its assignments in the function, or its call-site values."""
        function = self.function_of(node)
        if function is None or (id(function), node.id) in seen:
            return None
        seen = seen | {(id(function), node.id)}
        if node.id in [a.arg for a in function.args.args]:
            values = self._param_values(function, node.id, seen)
            return Found(ids=values) if values else None
        found = Found()
        assigned = False
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in statement.targets
            ):
                assigned = True
                part = self.resolve(statement.value, seen)
                found.ids |= part.ids
                found.prefixes |= part.prefixes
                found.untraced += part.untraced
        return found if assigned else None

    def _fstring(self, node: ast.JoinedStr, seen: set[tuple[int, str]]) -> Found:
        """The fixed prefixes of an f-string (each leading `{name}` resolved where it can be)."""
        heads = {""}
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                heads = {h + part.value for h in heads}
                continue
            inner = part.value if isinstance(part, ast.FormattedValue) else None
            resolved = self._name_values(inner, seen) if isinstance(inner, ast.Name) else None
            if resolved is None or resolved.prefixes or resolved.untraced or not resolved.ids:
                return Found(prefixes=heads)
            heads = {h + v for h in heads for v in resolved.ids}
        return Found(ids=heads)

    def resolve(self, node: ast.AST, seen: set[tuple[int, str]] | None = None) -> Found:
        """The ids (or id prefixes) an expression used as a message id can evaluate to."""
        seen = seen or set()
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return Found(ids={node.value})
        if isinstance(node, ast.IfExp):
            body, orelse = self.resolve(node.body, seen), self.resolve(node.orelse, seen)
            return Found(
                body.ids | orelse.ids,
                body.prefixes | orelse.prefixes,
                body.untraced + orelse.untraced,
            )
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, seen)
        if isinstance(node, ast.Name):
            found = self._name_values(node, seen)
            if found is not None:
                return found
        return Found(untraced=[self.where(node)])


def scan() -> Found:
    total = Found()
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            if EXCLUDED in path.parents:
                continue
            module = _Module(path)
            for call in module.translate_calls():
                function = module.function_of(call)
                # A one-line wrapper such as `def t(key): return i18n.gettext(key, ...)`: its
                # callers are scanned themselves.
                arg = call.args[0]
                if (
                    function is not None
                    and isinstance(arg, ast.Name)
                    and function.name in TRANSLATE_NAMES
                ):
                    continue
                found = module.resolve(arg)
                total.ids |= found.ids
                total.prefixes |= found.prefixes
                total.untraced += found.untraced
    return total


def used_msgids() -> set[str]:
    found = scan()
    assert found.untraced == [], f"message ids the test cannot trace: {found.untraced}"
    known = families()
    assert found.prefixes <= set(known), (
        f"id families to enumerate in families(): {found.prefixes - set(known)}"
    )
    assert set(known) <= found.prefixes, f"families no longer used: {set(known) - found.prefixes}"
    return found.ids | {prefix + value for prefix in found.prefixes for value in known[prefix]}


def _catalog(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po, locale=locale) if m.id}


def test_the_scan_finds_ids_built_indirectly() -> None:
    """The cases the old regular expression missed are found (so the test can fail on them)."""
    used = used_msgids()
    assert {"file.added", "file.album_added", "notify.chosen_on", "notify.chosen_off"} <= used
    assert {"reporter_status.not_accepted", "not_accepted_reason.duplicate"} <= used
    assert {"alert_queue.union", "alert_severity.urgent", "alert_kind.transfer"} <= used
    assert "alert_kind.digest" not in used


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_msgid_the_code_can_produce_is_translated(locale: str) -> None:
    translated = {key for key, text in _catalog(locale).items() if text}
    used = used_msgids()
    assert len(used) > 100
    assert used - translated == set()


@pytest.mark.parametrize("locale", SUPPORTED)
def test_no_catalog_entry_is_dead(locale: str) -> None:
    """An entry the code cannot produce is either a leftover or a typo of a used id."""
    assert set(_catalog(locale)) - used_msgids() == set()


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = _catalog("zh_CN"), _catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"{\w+}", zh[key])) == set(re.findall(r"{\w+}", en[key])), key


def test_chinese_addresses_the_reporter_politely_and_names_buttons_as_labelled() -> None:
    """您, never 你; 反映, never 举报 or 报告; a button is named exactly as it is labelled."""
    zh = _catalog("zh_CN")
    for key, text in zh.items():
        assert "你" not in text, key
        assert "举报" not in text, key
        assert "报告" not in text, key
    # Button labels are whole entries, most after an emoji and a space ("✅ 写完了").
    labels = {text.split(" ", 1)[-1] for text in zh.values()}
    for key, text in zh.items():
        for named in re.findall(r"点“([^”]+)”", text):
            assert named in labels, (key, named)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_text_is_valid_telegram_html(locale: str) -> None:
    from bot.devtools.fake_html import parse_html

    rendered = {key: parse_html(text).text for key, text in _catalog(locale).items()}
    assert rendered["report.receipt"].count("{receipt}") == 1

"""Every message key used in code exists, non-empty, in both catalogs, and parses as HTML."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.devtools.fake_html import parse_html
from cases.categories import CATEGORIES, GROUPS
from cases.lifecycle import ReporterStatus
from locales import LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"""(?<![\w.])_\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
DYNAMIC_KEYS = (
    {f"category.{code}" for code in CATEGORIES}
    | {"category.not_sure"}
    | {f"group.{group.code}" for group in GROUPS}
    | {f"reporter_status.{status}" for status in ReporterStatus}
)


def _catalog(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def _keys_in_code() -> set[str]:
    keys: set[str] = set()
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            keys.update(KEY.findall(path.read_text(encoding="utf-8")))
    return keys


def test_code_uses_keys() -> None:
    assert len(_keys_in_code()) > 30  # the pattern really finds the conversation's keys


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_key_is_translated(locale: str) -> None:
    catalog = _catalog(locale)
    missing = sorted(k for k in _keys_in_code() | DYNAMIC_KEYS if not catalog.get(k))
    assert missing == []


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = _catalog("zh_CN"), _catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"{\w+}", zh[key])) == set(re.findall(r"{\w+}", en[key])), key


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_text_is_valid_telegram_html(locale: str) -> None:
    catalog = _catalog(locale)
    rendered = {key: parse_html(text).text for key, text in catalog.items()}  # raises if refused
    assert rendered["report.receipt"].count("{receipt}") == 1

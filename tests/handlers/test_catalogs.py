"""Every message id the code uses exists, translated, in both catalogs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from locales import LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(r"""\b_\(\s*["']([a-z_]+\.[a-zA-Z_.]+)["']""")
KEY_CALL = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-zA-Z_.]+)["']""")
PREFIXES = {
    "category.": "cases.categories",
    "group.": "cases.categories",
    "reporter_status.": "cases.lifecycle",
}


def used_msgids() -> set[str]:
    found: set[str] = set()
    for package in ("handlers", "bot"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            found |= set(LITERAL.findall(text)) | set(KEY_CALL.findall(text))
    # Ids built from codes: every category, group and reporter status has a label.
    from cases.categories import CATEGORIES, GROUPS
    from cases.lifecycle import ReporterStatus

    found |= {f"category.{c}" for c in CATEGORIES} | {"category.not_sure"}
    found |= {f"group.{g.code}" for g in GROUPS}
    found |= {f"reporter_status.{s.value}" for s in ReporterStatus}
    found |= {f"language.{code}" for code in SUPPORTED}
    found |= {"rate.reports", "rate.receipts", "rate.busy"}
    from cases.danger import Danger

    found |= {f"danger.review_{d.value}" for d in Danger}
    from cases.cleaning import Refusal

    found |= {f"file.refused.{r.value}" for r in Refusal}
    return found


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_msgid_in_code_is_translated(locale: str) -> None:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=locale)
    translated = {m.id for m in catalog if m.id and m.string}
    used = used_msgids()
    assert len(used) > 60
    assert used - translated == set()


def _catalog(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    zh, en = _catalog("zh_CN"), _catalog("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"{\w+}", zh[key])) == set(re.findall(r"{\w+}", en[key])), key


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_text_is_valid_telegram_html(locale: str) -> None:
    from bot.devtools.fake_html import parse_html

    rendered = {key: parse_html(text).text for key, text in _catalog(locale).items()}
    assert rendered["report.receipt"].count("{receipt}") == 1

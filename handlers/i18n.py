"""Catalog loading and the per-update locale choice.

Catalogs are read from the `.po` sources and compiled in memory at start-up, so there is no
build step and no compiled file that can drift from its source.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from locales import DEFAULT_LOCALE, DOMAIN, LOCALES_DIR, SUPPORTED

LANGUAGE_KEY = "lang"


class CatalogI18n(I18n):
    """aiogram's I18n, fed from `.po` files instead of pre-compiled `.mo` files."""

    def __init__(self, path: Path = LOCALES_DIR) -> None:
        super().__init__(path=path, default_locale=DEFAULT_LOCALE, domain=DOMAIN)

    @contextmanager
    def context(self) -> Generator[I18n, None, None]:
        # aiogram's context mixin keeps one context variable per class, and `gettext` looks
        # the instance up on the base class: register there, not on this subclass.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found: dict[str, gettext.GNUTranslations] = {}
        for locale in SUPPORTED:
            po_path = self.path / locale / "LC_MESSAGES" / f"{self.domain}.po"
            with po_path.open("rb") as po:
                catalog = read_po(po, locale=locale)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            found[locale] = Translations(buffer, domain=self.domain)
        return found


def locale_for(language_code: str | None) -> str:
    """Telegram's language code → a supported locale; Chinese is the fallback."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


class ChatLocaleMiddleware(I18nMiddleware):
    """The language chosen in this conversation, else the Telegram client's language.

    The choice lives in the conversation state only: there is no per-user record.
    """

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        state = data.get("state")
        if state is not None:
            chosen = (await state.get_data()).get(LANGUAGE_KEY)
            if chosen in SUPPORTED:
                return str(chosen)
        user: User | None = data.get("event_from_user")
        return locale_for(user.language_code if user else None)

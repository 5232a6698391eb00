"""Gettext catalogs (zh_CN primary, en second). Every user-facing string lives here."""

from pathlib import Path

LOCALES_DIR = Path(__file__).parent
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED = ("zh_CN", "en")

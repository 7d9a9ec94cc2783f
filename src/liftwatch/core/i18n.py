"""The label machinery for zh-CN and English; no domain's words live here (core imports no domain).

Text reaches a page in one of two ways:

- A domain's words (the labels of its stored enum values, the names of its record fields, its terms) are
  :class:`Labels` tables in the domain's own ``labels.py``. The web and the Excel import/export read the
  same tables, so the screen and the ledger never disagree.
- Page text (headings, buttons, messages) lives in standard gettext catalogues,
  ``<locale dir>/<ll_CC>/LC_MESSAGES/messages.po``, read through :class:`PageText`: translators use their
  usual tools and plurals follow each language's rule (``ngettext``).
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from liftwatch.core.config import LANGUAGES

DEFAULT_LANGUAGE = "zh-CN"
DOMAIN = "messages"

log = logging.getLogger(__name__)


def normalise_language(lang: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """A supported language code; anything else falls back to ``default``."""
    return lang if lang in LANGUAGES else default


def zh_en(zh: str, en: str) -> dict[str, str]:
    """One label in both languages: the shape of a :class:`Labels` entry."""
    return {"zh-CN": zh, "en": en}


# ---------------------------------------------------------------- a domain's words


@dataclass(frozen=True)
class Labels:
    """One table of a domain's words: a stored value (or field name) -> its text by language.

    ``name`` is how pages refer to the table (``label('kind', value)``)."""

    name: str
    entries: Mapping[str, Mapping[str, str]]

    def get(self, value: str | None, lang: str) -> str:
        """The text of ``value`` in ``lang`` (zh-CN when missing). An unknown value shows as itself: data
        written by a newer version must still display."""
        if not value:
            return ""
        entry = self.entries.get(value)
        if entry is None:
            return value
        return entry.get(lang) or entry[DEFAULT_LANGUAGE]

    def by_text(self, lang: str) -> dict[str, str]:
        """Text in ``lang`` -> value: how an import reads a label back."""
        return {entry[lang]: str(value) for value, entry in self.entries.items() if entry.get(lang)}


@dataclass(frozen=True)
class LabelSet:
    """The tables a user interface shows, by name; the web assembles it from the domains' ``labels``."""

    tables: Mapping[str, Labels] = field(default_factory=dict)

    @classmethod
    def of(cls, *tables: Labels) -> LabelSet:
        by_name: dict[str, Labels] = {}
        for table in tables:
            if table.name in by_name:
                raise ValueError(f"two label tables are named {table.name!r}")
            by_name[table.name] = table
        return cls(by_name)

    def label(self, table: str, value: str | None, lang: str) -> str:
        """``label("kind", "escalator", "en")``; an unknown table is a programming error (KeyError)."""
        return self.tables[table].get(value, lang)


# ---------------------------------------------------------------- page text (gettext)


def locale_name(lang: str) -> str:
    """The gettext locale directory of a language code: ``zh-CN`` -> ``zh_CN``."""
    return lang.replace("-", "_")


def _load(locale_dir: Path, lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; compiled in memory from the ``.po`` when the ``.mo`` is missing
    (a fresh checkout before ``make messages``) or older than the ``.po`` (an edit not yet compiled), so
    a page never shows stale text."""
    messages = locale_dir / locale_name(lang) / "LC_MESSAGES"
    po, mo = messages / f"{DOMAIN}.po", messages / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if not po.exists():
        log.warning("no message catalogue for %s under %s: page text shows its keys", lang, locale_dir)
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale_name(lang))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class PageText:
    """Page text by language from the gettext catalogues under ``locale_dir``.

    Message ids are stable keys (``console.submit``), and every language has a complete catalogue
    (Chinese is the default UI language, not a source to fall back from). A key missing in one language
    falls back to zh-CN, then shows as itself. ``{name}`` placeholders are filled with ``str.format``.
    Catalogues load on first use."""

    def __init__(self, locale_dir: Path, languages: tuple[str, ...] = LANGUAGES) -> None:
        self.locale_dir = locale_dir
        self.languages = languages
        self._translations: dict[str, gettext.NullTranslations] = {}

    def translations(self, lang: str) -> gettext.NullTranslations:
        lang = normalise_language(lang)
        if not self._translations:
            default = _load(self.locale_dir, DEFAULT_LANGUAGE)
            loaded = {DEFAULT_LANGUAGE: default}
            for other in self.languages:
                if other != DEFAULT_LANGUAGE:
                    loaded[other] = _load(self.locale_dir, other)
                    loaded[other].add_fallback(default)
            self._translations = loaded
        return self._translations[lang]

    def gettext(self, lang: str, key: str, **values: object) -> str:
        text = self.translations(lang).gettext(key)
        return text.format(**values) if values else text

    def ngettext(self, lang: str, singular: str, plural: str, n: float, **values: object) -> str:
        """The form of ``n`` in ``lang`` (``1 year``, ``2 years``; Chinese has one form); ``{n}`` is
        filled with ``n``. A whole float shows and counts as an integer (``1.0`` -> ``1 year``); a
        fractional one takes the form of 2 (``1.5 years``: right for zh-CN and English, the catalogues
        we have; gettext's plural rules know integers only)."""
        count: float = n
        if isinstance(n, float) and n.is_integer():
            count = n = int(n)
        form = count if isinstance(count, int) else 2
        return self.translations(lang).ngettext(singular, plural, form).format(n=n, **values)

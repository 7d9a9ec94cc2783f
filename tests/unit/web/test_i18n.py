"""Page text: the gettext catalogues are complete in both languages and hold exactly the keys the code and
templates use; plurals follow each language; a catalogue edited after compiling is never shown stale."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.app import create_app
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import LANGUAGES, Settings
from liftwatch.core.i18n import PageText, locale_name, normalise_language
from liftwatch.registry import service
from liftwatch.registry.schemas import ElevatorUpdate
from liftwatch.web.templating import (
    CODE_KEYS,
    ERROR_HEADINGS,
    LABELS,
    LOCALE_DIR,
    TEMPLATES_DIR,
    label,
    translate,
)
from tests.factories import seed
from tests.unit.web.forms import web_login

ROOT = Path(__file__).parents[3]
# The keywords `make messages` extracts with (Makefile).
KEYWORDS = {"t": None, "tn": (1, 2), "translate": None, "N_": None}
T_CALL = re.compile(r"\btn?\(\s*(?P<arg>[^,)]+)")
LITERAL = re.compile(r"""^(['"])(?P<key>[^'"]+)\1$""")
LABEL_CALL = re.compile(r"""\blabel\(\s*['"](?P<table>[^'"]+)['"]""")


def _catalogue(lang: str) -> dict[str, tuple[str, ...]]:
    """msgid -> its translations, read from the .po source (never a compiled .mo)."""
    path = LOCALE_DIR / locale_name(lang) / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale_name(lang))
    out: dict[str, tuple[str, ...]] = {}
    for m in catalog:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        out[key] = (m.string,) if isinstance(m.string, str) else tuple(m.string or ())
    return out


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    return {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)
    }


def test_both_catalogues_are_complete() -> None:
    zh, en = _catalogue("zh-CN"), _catalogue("en")
    assert len(zh) > 250
    assert set(zh) == set(en)
    for catalogue in (zh, en):
        for key, texts in catalogue.items():
            assert texts and all(t.strip() for t in texts), key
    assert len(en["common.years"]) == 2 and len(zh["common.years"]) == 1  # English has two plural forms


def test_the_catalogues_hold_exactly_the_keys_the_code_uses() -> None:
    """What `pybabel extract` finds equals what the catalogues hold: `make messages` (update
    --ignore-obsolete) would otherwise drop a key a page still shows, or keep one no page uses."""
    extracted = _extracted()
    assert {"nav.logout", "common.years", "csrf.origin", "duration.hm", "error.404"} <= extracted
    assert extracted == set(_catalogue("zh-CN"))


def test_dynamic_template_keys_come_from_known_variables() -> None:
    """A ``t(variable)`` call is only allowed for names the code marks for extraction (CODE_KEYS)."""
    allowed = {"error", "form.errors[name]", "key", "error_headings[status_code]"}
    templates = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert len(templates) >= 20
    for path in templates:
        for m in T_CALL.finditer(path.read_text(encoding="utf-8")):
            arg = m.group("arg").strip()
            if not LITERAL.match(arg):
                assert arg in allowed, f"{path.name}: t({arg}) cannot be extracted"
    zh = _catalogue("zh-CN")
    for key in (*CODE_KEYS, *ERROR_HEADINGS.values()):
        assert key in zh, key


def test_label_calls_name_known_tables() -> None:
    seen = set()
    for path in TEMPLATES_DIR.rglob("*.html"):
        for m in LABEL_CALL.finditer(path.read_text(encoding="utf-8")):
            assert m.group("table") in LABELS.tables, f"{path.name}: label('{m.group('table')}', ...)"
            seen.add(m.group("table"))
    assert {"kind", "elevator", "unit", "stage", "kpi", "service_mode", "incident_event"} <= seen


def test_translate_label_and_fallbacks() -> None:
    assert translate("nav.logout", "zh-CN") == "退出"
    assert translate("nav.logout", "en") == "Sign out"
    assert translate("common.total", "en", n=3) == "3 in total"
    assert translate("common.total", "zh-CN", n=3) == "共 3 条"
    assert translate("nav.logout", "fr") == "退出"
    assert translate("no.such.key", "en") == "no.such.key"
    assert label("kind", "escalator", "en") == "Escalator"
    assert label("kind", "teleporter", "en") == "teleporter"
    assert label("kind", None, "en") == ""
    with pytest.raises(KeyError):
        label("no_such_table", "x", "en")
    assert normalise_language("en") == "en"
    assert normalise_language("de") == "zh-CN"
    assert normalise_language(None, "en") == "en"


@pytest.mark.parametrize(
    ("n", "en", "zh"),
    [
        (1, "1 year", "1 年"),
        (2, "2 years", "2 年"),
        (0, "0 years", "0 年"),
        (1.0, "1 year", "1 年"),
        (1.5, "1.5 years", "1.5 年"),
    ],
)
def test_plurals_follow_the_language(n: float, en: str, zh: str) -> None:
    text = PageText(LOCALE_DIR)
    assert text.ngettext("en", "common.years", "common.years", n) == en
    assert text.ngettext("zh-CN", "common.years", "common.years", n) == zh


def _write_catalogue(locale_dir: Path, lang: str, text: str) -> Path:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    messages = locale_dir / locale_name(lang) / "LC_MESSAGES"
    messages.mkdir(parents=True, exist_ok=True)
    catalog = Catalog(locale=locale_name(lang), fuzzy=False)
    catalog.add("greeting", text)
    po = messages / "messages.po"
    with po.open("wb") as fh:
        write_po(fh, catalog)
    return po


def test_a_missing_or_stale_compiled_catalogue_is_not_shown(tmp_path: Path) -> None:
    """A fresh checkout has no .mo, and an edited .po is newer than its .mo: both read the .po."""
    for lang in LANGUAGES:
        _write_catalogue(tmp_path, lang, f"hello {lang}")
    assert PageText(tmp_path).gettext("en", "greeting") == "hello en"  # no .mo at all

    po = _write_catalogue(tmp_path, "en", "old")
    with po.open("rb") as fh, po.with_suffix(".mo").open("wb") as out:
        write_mo(out, read_po(fh, locale="en"))
    assert PageText(tmp_path).gettext("en", "greeting") == "old"  # the compiled one, when current

    _write_catalogue(tmp_path, "en", "edited")
    later = po.with_suffix(".mo").stat().st_mtime + 10
    os.utime(po, (later, later))
    assert PageText(tmp_path).gettext("en", "greeting") == "edited"


# ---------------------------------------------------------------- through the pages


def test_an_english_page_says_1_year(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    one_year_ago = clock.today() - timedelta(days=365)
    service.update_elevator(
        session,
        SYSTEM_ACTOR,
        "11SHA000001",
        ElevatorUpdate(installation_date=one_year_ago, commissioning_date=one_year_ago),
        clock,
    )
    session.commit()
    web_login(client, "regulator")
    client.cookies.set("lang", "en")
    html = client.get("/elevators/11SHA000001").text
    assert re.search(r"<dt>Age</dt><dd>1 year</dd>", html), re.findall(r"<dt>Age</dt><dd>[^<]*", html)
    assert "1 years" not in html
    client.cookies.set("lang", "zh-CN")
    assert "<dt>梯龄</dt><dd>1 年</dd>" in client.get("/elevators/11SHA000001").text


def test_the_file_page_shows_the_ledgers_headers(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    """The elevator file labels its facts with the same words the Excel export writes as headers."""
    from liftwatch.registry.io import ELEVATOR_ALIASES

    seed(session, clock)
    session.commit()
    web_login(client, "regulator")
    html = client.get("/elevators/11SHA000001").text
    for field in (
        "registration_code",
        "rescue_code",
        "rated_load_kg",
        "stops",
        "place_type",
        "design_life_years",
    ):
        assert f"<dt>{ELEVATOR_ALIASES[field][0]}</dt>" in html, field


def test_times_show_in_the_configured_city_time_zone(
    settings: Settings, engine: Engine, session: Session, clock: FixedClock
) -> None:
    """The screen's time zone is the one setting (LIFTWATCH_TIMEZONE), not a fixed UTC+8."""
    seed(session, clock)
    session.commit()
    for tz, shown in (("Asia/Shanghai", "2005-03-01 08:00"), ("Asia/Kathmandu", "2005-03-01 05:45")):
        app = create_app(settings=settings.model_copy(update={"timezone": tz}), engine=engine, clock=clock)
        with TestClient(app) as client:
            web_login(client, "regulator")
            html = client.get("/elevators/11SHA000001").text
        assert shown in html, tz  # the registration entry, commissioned 2005-03-01 00:00 UTC

"""The catalogue is complete: every key a template or page uses, and every stored enum value, has a label
in both languages."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

from liftwatch.accounts.actor import Role
from liftwatch.core.config import LANGUAGES
from liftwatch.core.i18n import CATALOGUE, ENUM_PREFIXES, label, normalise_language, translate
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus, EventKind, PlaceType, UnitType
from liftwatch.telemetry.faults import FaultType, Severity
from liftwatch.telemetry.protocol import ServiceMode
from liftwatch.web.templating import TEMPLATES_DIR, WEB_DIR

T_CALL = re.compile(r"\bt\(\s*(?P<arg>[^,)]+)")
LITERAL = re.compile(r"""^(['"])(?P<key>[^'"]+)\1$""")
LABEL_CALL = re.compile(r"""\blabel\(\s*['"](?P<prefix>[^'"]+)['"]""")


def _templates() -> list[Path]:
    found = sorted(TEMPLATES_DIR.rglob("*.html"))
    assert len(found) >= 8, found
    return found


def _template_keys() -> dict[str, set[str]]:
    """Literal keys of every ``t('...')`` call, by template."""
    keys: dict[str, set[str]] = {}
    for path in _templates():
        for m in T_CALL.finditer(path.read_text(encoding="utf-8")):
            lit = LITERAL.match(m.group("arg").strip())
            if lit:
                keys.setdefault(path.name, set()).add(lit.group("key"))
    return keys


def test_templates_use_keys_that_exist_in_both_languages() -> None:
    keys = _template_keys()
    assert sum(len(v) for v in keys.values()) > 100  # the walk really finds the calls
    missing = {
        f"{name}: {key} [{lang}]"
        for name, used in keys.items()
        for key in used
        for lang in LANGUAGES
        if not CATALOGUE.get(key, {}).get(lang)
    }
    assert not missing, sorted(missing)


def test_dynamic_template_keys_come_from_known_variables() -> None:
    """A ``t(variable)`` call is only allowed for names whose keys this test can check elsewhere."""
    allowed = {"key", "label_key", "error", "heading_key", "form.errors[name]"}
    for path in _templates():
        for m in T_CALL.finditer(path.read_text(encoding="utf-8")):
            arg = m.group("arg").strip()
            if not LITERAL.match(arg):
                assert arg in allowed, f"{path.name}: t({arg}) cannot be checked"


def test_label_calls_use_known_enum_prefixes() -> None:
    for path in _templates():
        for m in LABEL_CALL.finditer(path.read_text(encoding="utf-8")):
            assert m.group("prefix") in ENUM_PREFIXES, f"{path.name}: label('{m.group('prefix')}', ...)"


def test_keys_named_in_page_code_exist() -> None:
    """Keys the Python side hands to templates (form errors, login error, three-no flags, error headings)."""
    prefixes = {key.split(".", 1)[0] for key in CATALOGUE}
    alternatives = "|".join(map(re.escape, prefixes))
    pattern = re.compile(r"""["']((?:""" + alternatives + r""")\.[A-Za-z0-9_\-]+)["']""")
    used = {
        m.group(1)
        for path in WEB_DIR.glob("*.py")
        for m in pattern.finditer(path.read_text(encoding="utf-8"))
        if not m.group(1).endswith(".html")  # template names such as "public.html"
    }
    used |= {f"error.{code}" for code in (400, 401, 403, 404, 405, 409, 422)}
    assert {
        "login.error",
        "search.invalid_choice",
        "search.invalid_number",
        "elevator.no_repair_fund",
    } <= used
    for key in used:
        for lang in LANGUAGES:
            assert CATALOGUE.get(key, {}).get(lang), f"{key} [{lang}]"


@pytest.mark.parametrize(
    "enum", [ElevatorKind, PlaceType, ElevatorStatus, EventKind, UnitType, Role, FaultType, Severity]
)
def test_every_enum_value_has_both_labels(enum: type[StrEnum]) -> None:
    prefix = next(p for p, e in ENUM_PREFIXES.items() if e is enum)
    zh = {label(prefix, m.value, "zh-CN") for m in enum}
    en = {label(prefix, m.value, "en") for m in enum}
    for member in enum:
        entry = CATALOGUE.get(f"{prefix}.{member.value}")
        assert entry is not None, f"{prefix}.{member.value}"
        assert entry.get("zh-CN") and entry.get("en"), f"{prefix}.{member.value}"
        assert entry["zh-CN"] != member.value
    # Labels tell values apart (no two kinds share a label).
    assert len(zh) == len(en) == len(list(enum))


def test_every_catalogue_entry_has_both_languages() -> None:
    for key, entry in CATALOGUE.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(text.strip() for text in entry.values()), key


def test_translate_and_fallbacks() -> None:
    assert translate("nav.logout", "zh-CN") == "退出"
    assert translate("nav.logout", "en") == "Sign out"
    assert translate("common.total", "en", n=3) == "3 in total"
    assert translate("common.total", "zh-CN", n=3) == "共 3 条"
    assert translate("nav.logout", "fr") == "退出"
    assert translate("no.such.key", "en") == "no.such.key"
    assert label("kind", "escalator", "en") == "Escalator"
    assert label("kind", "teleporter", "en") == "teleporter"
    assert label("kind", None, "en") == ""
    assert normalise_language("en") == "en"
    assert normalise_language("de") == "zh-CN"
    assert normalise_language(None, "en") == "en"


def test_every_elevator_field_has_a_label() -> None:
    """The file page labels each changed field of a record_update entry by 'elevator.<field>'."""
    from liftwatch.registry.schemas import ElevatorCreate

    for field in ElevatorCreate.model_fields:
        for lang in LANGUAGES:
            assert CATALOGUE.get(f"elevator.{field}", {}).get(lang), f"elevator.{field} [{lang}]"


def test_every_service_mode_has_both_labels() -> None:
    """The live panel labels the GB/T 24476 service mode (0-7) by 'mode.<number>'."""
    zh = set()
    for mode in ServiceMode:
        entry = CATALOGUE.get(f"mode.{int(mode)}")
        assert entry is not None and entry.get("zh-CN") and entry.get("en"), f"mode.{int(mode)}"
        zh.add(entry["zh-CN"])
    assert len(zh) == len(ServiceMode) == 8

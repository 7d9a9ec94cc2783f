"""The TSG T5002-2017 item catalogue, shipped with the package as versioned data
(``maintenance/data/tsg_t5002_2017.json``) so that a later revision of the rules is a new file beside it,
not an edit that rewrites what past work orders referred to. Pure: reads package data, no database."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from liftwatch.maintenance.domain import Appendix, CatalogueItem, Evidence, Interval

DEFAULT_VERSION = "TSG T5002-2017"
# version -> file under maintenance/data
_FILES: dict[str, str] = {"TSG T5002-2017": "tsg_t5002_2017.json"}
CODE_PATTERN = re.compile(r"^(?P<appendix>[ABCD])(?P<interval>[1-4])-(?P<nn>\d{2})$")


class Catalogue:
    """The items of one version of the rules, by code and by (appendix, interval)."""

    def __init__(
        self, version: str, items: list[CatalogueItem], header: Mapping[str, Any] | None = None
    ) -> None:
        self.version = version
        self.header: Mapping[str, Any] = dict(header or {})
        self._items = list(items)
        self._by_code = {item.code: item for item in self._items}
        if len(self._by_code) != len(self._items):
            raise ValueError(f"catalogue {version}: duplicate item codes")

    def __iter__(self) -> Iterator[CatalogueItem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def item(self, code: str) -> CatalogueItem | None:
        """The item with this code ("A1-01"), or None."""
        return self._by_code.get(code)

    def items_of(self, appendix: Appendix, interval: Interval) -> list[CatalogueItem]:
        """The items listed under exactly this interval of the appendix (not the shorter ones)."""
        return [i for i in self._items if i.appendix == appendix and i.interval == interval]

    def items_due(self, appendix: Appendix, interval: Interval) -> list[CatalogueItem]:
        """Every item a visit of this interval carries: its own items and all shorter intervals' (a year
        visit carries all four intervals' items), in code order."""
        covered = set(interval.covers())
        return [i for i in self._items if i.appendix == appendix and i.interval in covered]


def _parse_item(raw: Mapping[str, Any], appendix: Appendix, interval: Interval) -> CatalogueItem:
    code = str(raw["code"])
    match = CODE_PATTERN.match(code)
    if match is None or match["appendix"] != appendix.value or int(match["interval"]) != interval.number:
        raise ValueError(
            f"catalogue item {code!r}: code does not match appendix {appendix} / interval {interval}"
        )
    evidence = Evidence(raw.get("evidence", Evidence.NONE.value))
    unit = str(raw.get("unit", ""))
    if (evidence == Evidence.MEASUREMENT) != bool(unit):
        raise ValueError(f"catalogue item {code!r}: a unit is required exactly for measurement items")
    return CatalogueItem(
        code=code,
        appendix=appendix,
        interval=interval,
        zh=str(raw["zh"]),
        en=str(raw["en"]),
        evidence=evidence,
        unit=unit,
        requirement_zh=str(raw.get("requirement_zh", "")),
        requirement_en=str(raw.get("requirement_en", "")),
    )


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Build a catalogue from its JSON shape: {"version", "source", "appendices": {"A": {"half_month":
    [items], ...}}}. Raises ValueError naming the item when the data is inconsistent."""
    items: list[CatalogueItem] = []
    for appendix_key, by_interval in data["appendices"].items():
        appendix = Appendix(appendix_key)
        for interval_key, raw_items in by_interval.items():
            if interval_key.startswith("_"):  # names and notes beside the items
                continue
            interval = Interval(interval_key)
            items.extend(_parse_item(raw, appendix, interval) for raw in raw_items)
    items.sort(key=lambda i: (i.appendix.value, i.interval.number, i.code))
    header = {k: v for k, v in data.items() if k != "appendices"}
    return Catalogue(str(data["version"]), items, header)


@cache
def load_catalogue(version: str = DEFAULT_VERSION) -> Catalogue:
    """The catalogue of this version of the rules, read once from the package data and cached."""
    try:
        filename = _FILES[version]
    except KeyError:
        raise ValueError(
            f"unknown catalogue version {version!r}: expected one of {', '.join(_FILES)}"
        ) from None
    text = resources.files("liftwatch.maintenance").joinpath("data", filename).read_text(encoding="utf-8")
    return parse_catalogue(json.loads(text))

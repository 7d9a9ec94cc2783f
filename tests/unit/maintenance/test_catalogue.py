"""The TSG T5002-2017 catalogue shipped with the package: the counts per appendix and interval are DOMAIN.md
§4's table, codes are unique and well formed, every item has Chinese and English text, measurement items
have a unit, and a visit of each interval carries its own and all shorter intervals' items."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from liftwatch.maintenance.catalogue import load_catalogue, parse_catalogue
from liftwatch.maintenance.domain import Appendix, Evidence, Interval, appendix_of

# DOMAIN.md §4: items listed under each interval (each longer interval includes the shorter ones)
COUNTS = {
    Appendix.A: (31, 13, 15, 17),
    Appendix.B: (30, 13, 9, 14),
    Appendix.C: (20, 8, 10, 14),
    Appendix.D: (33, 5, 12, 13),
}
ANNUAL = {Appendix.A: 76, Appendix.B: 66, Appendix.C: 52, Appendix.D: 63}
INTERVALS = (Interval.HALF_MONTH, Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR)
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("appendix", list(Appendix))
def test_counts_per_interval_are_domain_md_table(appendix: Appendix) -> None:
    catalogue = load_catalogue()
    own = tuple(len(catalogue.items_of(appendix, interval)) for interval in INTERVALS)
    assert own == COUNTS[appendix]
    assert len(catalogue.items_due(appendix, Interval.YEAR)) == ANNUAL[appendix]


@pytest.mark.parametrize("appendix", list(Appendix))
def test_a_visit_carries_its_interval_and_every_shorter_one(appendix: Appendix) -> None:
    catalogue = load_catalogue()
    running = 0
    for interval, count in zip(INTERVALS, COUNTS[appendix], strict=True):
        running += count
        due = catalogue.items_due(appendix, interval)
        assert len(due) == running
        assert {i.interval for i in due} == set(interval.covers())
        assert all(i.appendix == appendix for i in due)


def test_cumulative_counts_of_appendix_a() -> None:
    catalogue = load_catalogue()
    assert [len(catalogue.items_due(Appendix.A, i)) for i in INTERVALS] == [31, 44, 59, 76]


def test_codes_unique_well_formed_and_numbered_from_one() -> None:
    catalogue = load_catalogue()
    codes = [item.code for item in catalogue]
    assert len(codes) == len(set(codes)) == sum(ANNUAL.values()) == 257
    for item in catalogue:
        match = re.fullmatch(r"([ABCD])([1-4])-(\d{2})", item.code)
        assert match, item.code
        assert match[1] == item.appendix.value
        assert int(match[2]) == item.interval.number
        assert catalogue.item(item.code) is item
    for appendix in Appendix:
        for interval in INTERVALS:
            numbers = [int(i.code[-2:]) for i in catalogue.items_of(appendix, interval)]
            assert numbers == list(range(1, len(numbers) + 1)), (appendix, interval)
    assert catalogue.item("A5-01") is None


def test_every_item_has_chinese_and_english_text() -> None:
    for item in load_catalogue():
        assert HAN.search(item.zh), item.code
        assert item.en.strip() and not HAN.search(item.en), item.code
        assert HAN.search(item.requirement_zh), item.code
        assert item.requirement_en.strip() and not HAN.search(item.requirement_en), item.code


def test_measurements_carry_a_unit_and_key_items_ask_for_evidence() -> None:
    catalogue = load_catalogue()
    for item in catalogue:
        assert bool(item.unit) == (item.evidence == Evidence.MEASUREMENT), item.code
    by_name = {(i.appendix, i.zh): i for i in catalogue if i.interval == Interval.HALF_MONTH}
    engagement = by_name[(Appendix.A, "层门锁紧元件啮合长度")]
    assert (engagement.evidence, engagement.unit, engagement.requirement_zh) == (
        Evidence.MEASUREMENT,
        "mm",
        "不小于7mm",
    )
    assert by_name[(Appendix.A, "轿厢平层准确度")].unit == "mm"
    assert by_name[(Appendix.A, "制动器间隙")].unit == "mm"
    assert by_name[(Appendix.D, "梯级、踏板与围裙板之间的间隙")].unit == "mm"
    for appendix, name in [(Appendix.A, "机房、滑轮间环境"), (Appendix.A, "轿顶"), (Appendix.A, "底坑环境")]:
        assert by_name[(appendix, name)].evidence == Evidence.PHOTO
    assert catalogue.item("A3-03").zh == "曳引轮槽"  # type: ignore[union-attr]
    assert catalogue.item("A3-03").evidence == Evidence.MEASUREMENT  # type: ignore[union-attr]


def test_the_catalogue_names_its_source_and_is_cached() -> None:
    catalogue = load_catalogue()
    assert catalogue.version == "TSG T5002-2017"
    assert "TSG T5002-2017" in catalogue.header["source"]
    assert "paraphrased" in catalogue.header["texts"]
    assert load_catalogue() is catalogue
    with pytest.raises(ValueError, match="unknown catalogue version"):
        load_catalogue("TSG T5002-2099")


def _data() -> dict:  # type: ignore[type-arg]
    text = resources.files("liftwatch.maintenance").joinpath("data", "tsg_t5002_2017.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def test_inconsistent_data_is_refused_with_the_item_named() -> None:
    data = _data()
    data["appendices"]["A"]["quarter"][0]["code"] = "A1-01"  # a quarter item with a half-month code
    with pytest.raises(ValueError, match="A1-01"):
        parse_catalogue(data)
    data = _data()
    data["appendices"]["B"]["half_month"][1]["code"] = "B1-01"
    with pytest.raises(ValueError, match="duplicate"):
        parse_catalogue(data)
    data = _data()
    data["appendices"]["C"]["half_month"][0]["evidence"] = "measurement"  # no unit
    with pytest.raises(ValueError, match="C1-01"):
        parse_catalogue(data)


@pytest.mark.parametrize(
    ("kind", "appendix"),
    [
        ("traction", Appendix.A),
        ("hydraulic", Appendix.B),
        ("dumbwaiter", Appendix.C),
        ("escalator", Appendix.D),
        ("moving_walk", Appendix.D),
    ],
)
def test_appendix_of_each_registry_kind(kind: str, appendix: Appendix) -> None:
    assert appendix_of(kind) is appendix


def test_every_registry_kind_has_an_appendix_and_unknown_kinds_are_refused() -> None:
    from liftwatch.registry.domain import ElevatorKind

    for kind in ElevatorKind:
        appendix_of(kind)
    with pytest.raises(ValueError, match="unknown elevator kind 'funicular'"):
        appendix_of("funicular")

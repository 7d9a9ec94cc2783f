"""District boundaries (registry.geo): Voronoi cells of the districts' centres cover the city's box
without overlapping, every elevator of a district falls in or near its cell (the simulated city too), and
a city's own boundary file is served as is."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from liftwatch.registry import geo
from liftwatch.sim.geography import BBOX, DISTRICTS, build_streets, clamp_to_city

BOX = geo.Box(31.0, 121.0, 31.4, 121.6)


def test_two_centres_split_the_box_on_their_bisector() -> None:
    # Centres on the same latitude: the border is the meridian half-way between them, whatever the scale.
    sites = [geo.Site("西区", 31.2, 121.1), geo.Site("东区", 31.2, 121.5)]
    cells = geo.voronoi_cells(sites, BOX)
    west, east = cells["西区"], cells["东区"]
    assert max(x for x, _ in west) == pytest.approx(121.3)
    assert min(x for x, _ in east) == pytest.approx(121.3)
    # hand-computed areas: 0.3 x 0.4 degrees each
    assert geo.ring_area(west) == pytest.approx(0.12)
    assert geo.ring_area(east) == pytest.approx(0.12)


def test_cells_cover_the_box_without_overlap() -> None:
    rng = random.Random(7)
    sites = [geo.Site(f"D{i}", rng.uniform(31.0, 31.4), rng.uniform(121.0, 121.6)) for i in range(12)]
    cells = geo.voronoi_cells(sites, BOX)
    assert set(cells) == {s.name for s in sites}
    box_area = (BOX.north - BOX.south) * (BOX.east - BOX.west)
    assert sum(abs(geo.ring_area(r)) for r in cells.values()) == pytest.approx(box_area, rel=1e-9)
    for _ in range(2000):  # every point of the box lies in exactly one cell (away from edges)
        lon, lat = rng.uniform(BOX.west, BOX.east), rng.uniform(BOX.south, BOX.north)
        owners = [name for name, ring in cells.items() if geo.contains(ring, lon, lat)]
        assert len(owners) <= 1
    for site in sites:  # a centre is in its own cell
        assert geo.contains(cells[site.name], site.lon, site.lat)


def test_a_duplicate_centre_gets_no_cell() -> None:
    sites = [geo.Site("甲", 31.2, 121.2), geo.Site("乙", 31.2, 121.2), geo.Site("丙", 31.3, 121.5)]
    cells = geo.voronoi_cells(sites, BOX)
    assert set(cells) == {"甲", "丙"}


def test_clustered_elevators_fall_in_their_districts_cell() -> None:
    rng = random.Random(3)
    centres = {"黄浦区": (31.23, 121.48), "闵行区": (31.11, 121.38), "浦东新区": (31.22, 121.56)}
    elevators = {
        name: [(rng.gauss(lat, 0.01), rng.gauss(lon, 0.01)) for _ in range(200)]
        for name, (lat, lon) in centres.items()
    }
    sites = [
        geo.Site(n, sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        for n, pts in elevators.items()
    ]
    cells = geo.voronoi_cells(sites, BOX)
    for name, pts in elevators.items():
        assert all(geo.contains(cells[name], lon, lat) for lat, lon in pts), name


def test_the_simulated_city_elevators_lie_in_or_near_their_cell() -> None:
    """The simulated city's districts overlap (a big district's towns reach past a small neighbour's
    centre), so a cell is an approximation: every elevator, placed like the simulator places it around
    its street, lies in its district's cell or within 3.5 of its district's spreads (standard deviations)
    of it, and two thirds of them inside."""
    rng = random.Random(1)
    streets = build_streets()
    points: dict[str, list[tuple[float, float]]] = {}
    for s in streets:
        for _ in range(max(5, int(s.weight * 40))):
            lat, lon = clamp_to_city(rng.gauss(s.lat, s.spread), rng.gauss(s.lon, s.spread))
            points.setdefault(s.district.name, []).append((lat, lon))
    sites = [
        geo.Site(n, sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        for n, pts in points.items()
    ]
    cells = geo.voronoi_cells(sites, geo.Box(*BBOX))
    assert set(cells) == {d.name for d in DISTRICTS}
    inside = total = 0
    for d in DISTRICTS:
        for lat, lon in points[d.name]:
            total += 1
            gap = geo.distance_to_ring_deg(cells[d.name], lon, lat)
            inside += gap == 0.0
            assert gap <= 3.5 * d.spread, (d.name, lat, lon, gap)
    assert inside / total >= 2 / 3


def test_the_feature_collection_is_valid_geojson() -> None:
    sites = [geo.Site("西区", 31.2, 121.1), geo.Site("东区", 31.2, 121.5)]
    doc = geo.derived_boundaries(sites, BOX)
    assert doc["type"] == "FeatureCollection"
    assert [f["properties"]["name"] for f in doc["features"]] == ["西区", "东区"]
    for f in doc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert f["geometry"]["type"] == "Polygon"
        assert ring[0] == ring[-1]  # closed
        assert geo.ring_area([tuple(p) for p in ring[:-1]]) > 0  # counter-clockwise (RFC 7946)
    assert doc["features"][0]["properties"]["centre"] == [121.1, 31.2]


def test_a_city_file_is_served_as_is(tmp_path: Path) -> None:
    raw = (
        b'{"type": "FeatureCollection",  "features": '
        b'[{"type": "Feature", "properties": {"name": "X"}, "geometry": null}]}'
    )
    path = tmp_path / "districts.geojson"
    path.write_bytes(raw)
    assert geo.load_boundary_file(path) == raw


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not json", "not JSON"), (json.dumps({"type": "Feature"}).encode(), "FeatureCollection")],
)
def test_a_bad_city_file_is_refused_with_its_name(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    with pytest.raises(geo.BoundaryFileError, match=message) as err:
        geo.load_boundary_file(path)
    assert str(path) in str(err.value)
    with pytest.raises(geo.BoundaryFileError, match="cannot read"):
        geo.load_boundary_file(tmp_path / "missing.geojson")

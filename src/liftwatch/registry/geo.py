"""District boundaries (区界) for the city map, as GeoJSON: pure geometry, no SQL, no HTTP.

A real city loads its own boundary file (LIFTWATCH_DISTRICTS_GEOJSON, served as is). Without one the
boundaries are derived from the registry: each district's centre is the mean position of its elevators
in use, and its cell is the part of the city's bounding box closer to that centre than to any other (a
Voronoi diagram). Each cell is built by clipping the box with one half-plane per other centre (the side
of the perpendicular bisector nearer its own centre), so cells are convex, never overlap and together
cover the box. Distances are measured on a local plane: longitude is scaled by cos(latitude) at the
city's middle, so a cell's edges are fair in metres and not in degrees.

Coordinates follow GeoJSON's order, [longitude, latitude].
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A polygon ring: (longitude, latitude) points, not closed (the last point is not the first).
Ring = list[tuple[float, float]]

#: How far (degrees) two centres may be apart and still count as the same point: the later one gets no
#: cell (cells may not overlap), the earlier keeps it.
SAME_POINT_DEG = 1e-9


@dataclass(frozen=True)
class Site:
    """A district's centre: its name and mean position (degrees)."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Box:
    """The area the cells cover (degrees): south, west, north, east."""

    south: float
    west: float
    north: float
    east: float

    def ring(self) -> Ring:
        return [
            (self.west, self.south),
            (self.east, self.south),
            (self.east, self.north),
            (self.west, self.north),
        ]


def _clip(ring: Ring, a: float, b: float, c: float) -> Ring:
    """The part of a convex ring where a*x + b*y <= c (Sutherland-Hodgman against one line)."""
    out: Ring = []
    n = len(ring)
    for i in range(n):
        p, q = ring[i], ring[(i + 1) % n]
        fp = a * p[0] + b * p[1] - c
        fq = a * q[0] + b * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def voronoi_cells(sites: Sequence[Site], box: Box) -> dict[str, Ring]:
    """Each site's Voronoi cell inside ``box`` (name -> ring of (lon, lat)); a site that shares its
    position with an earlier one, or lies so that nothing of the box is nearer to it, gets no cell."""
    if not sites:
        return {}
    k = math.cos(math.radians((box.south + box.north) / 2))  # longitude degrees -> plane units
    plane = [(s.lon * k, s.lat) for s in sites]
    cells: dict[str, Ring] = {}
    for i, site in enumerate(sites):
        ring = [(x * k, y) for x, y in box.ring()]
        px, py = plane[i]
        for j, (qx, qy) in enumerate(plane):
            if j == i:
                continue
            if abs(qx - px) <= SAME_POINT_DEG and abs(qy - py) <= SAME_POINT_DEG:
                if j < i:  # the earlier site keeps the shared cell
                    ring = []
                    break
                continue
            # points nearer to site i than to site j: (q - p) . x <= (|q|^2 - |p|^2) / 2
            a, b = qx - px, qy - py
            c = (qx * qx + qy * qy - px * px - py * py) / 2
            ring = _clip(ring, a, b, c)
            if len(ring) < 3:
                break
        if len(ring) >= 3:
            cells[site.name] = _dedupe([(x / k, y) for x, y in ring])
    return cells


def _dedupe(ring: Ring) -> Ring:
    """Drop repeated consecutive points (clipping through a vertex yields the same point twice)."""
    out: Ring = []
    for p in ring:
        if not out or math.dist(p, out[-1]) > 1e-12:
            out.append(p)
    if len(out) > 1 and math.dist(out[0], out[-1]) <= 1e-12:
        out.pop()
    return out


def ring_area(ring: Ring) -> float:
    """The signed area of a ring in square degrees (shoelace; counter-clockwise positive)."""
    total = 0.0
    for i in range(len(ring)):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % len(ring)]
        total += x1 * y2 - x2 * y1
    return total / 2


def contains(ring: Ring, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies inside the ring (ray casting; a point on an edge may go either way)."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


def distance_to_ring_deg(ring: Ring, lon: float, lat: float) -> float:
    """Distance (degrees, on the plain lon/lat plane) from a point to a ring's edges; 0 inside."""
    if contains(ring, lon, lat):
        return 0.0
    best = math.inf
    for i in range(len(ring)):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % len(ring)]
        dx, dy = x2 - x1, y2 - y1
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((lon - x1) * dx + (lat - y1) * dy) / length2))
        best = min(best, math.hypot(lon - (x1 + t * dx), lat - (y1 + t * dy)))
    return best


def feature_collection(
    cells: Mapping[str, Ring], sites: Sequence[Site] = (), digits: int = 6
) -> dict[str, Any]:
    """The cells as a GeoJSON FeatureCollection: one Polygon per district (closed ring, counter-clockwise
    as RFC 7946 asks), ``properties.name`` the district and ``properties.centre`` its [lon, lat]."""
    centre = {s.name: [round(s.lon, digits), round(s.lat, digits)] for s in sites}
    features = []
    for name, ring in cells.items():
        points = ring if ring_area(ring) >= 0 else list(reversed(ring))
        coords = [[round(x, digits), round(y, digits)] for x, y in points]
        coords.append(coords[0])
        features.append(
            {
                "type": "Feature",
                "properties": {"name": name, "centre": centre.get(name), "derived": True},
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def derived_boundaries(sites: Sequence[Site], box: Box) -> dict[str, Any]:
    """The boundaries of a city without a boundary file: Voronoi cells of the districts' centres."""
    return feature_collection(voronoi_cells(sites, box), sites)


class BoundaryFileError(ValueError):
    """The city's boundary file cannot be used (names the file and what is wrong)."""


def load_boundary_file(path: Path) -> bytes:
    """The city's own boundary file, checked to be a GeoJSON FeatureCollection, as its bytes (served as
    is, so a city's precise boundaries are never simplified or rewritten)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BoundaryFileError(f"district boundaries {path}: cannot read it ({exc.strerror})") from None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BoundaryFileError(f"district boundaries {path}: not JSON ({exc})") from None
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise BoundaryFileError(
            f"district boundaries {path}: expected a GeoJSON FeatureCollection with a 'features' list"
        )
    return raw

"""Issue 9, "no server error on any input": integers past the database's range, NUL and control characters,
null for a field that holds no NULL and deep JSON are answered 4xx naming the field, on SQLite and
PostgreSQL; the OpenAPI documents the real error shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.types import check_line, check_text
from tests.factories import auth, seed


def _field(r: object) -> list[str]:
    body = r.json()  # type: ignore[attr-defined]
    assert set(body) >= {"detail", "errors"}, body
    return [e["field"] for e in body["errors"]]


def test_integers_past_the_column_range_are_422(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    h = auth(client, Role.REGULATOR)
    r = client.get("/api/v1/rescue/incidents/2147483648", headers=h)
    assert r.status_code == 422 and _field(r) == ["incident_id"]
    r = client.get("/api/v1/rescue/incidents/99999999999999999999999", headers=h)
    assert r.status_code == 422 and _field(r) == ["incident_id"]
    assert client.get("/api/v1/rescue/incidents/2147483647", headers=h).status_code == 404
    for query in ("page=1e20", "page=100000000000000000000", "size=2147483648"):
        r = client.get(f"/api/v1/elevators?{query}", headers=h)
        assert r.status_code == 422, (query, r.text)
        assert _field(r) == [query.split("=")[0]]
    r = client.patch("/api/v1/elevators/11SHA000001", headers=h, json={"design_life_cycles": 2**31})
    assert r.status_code == 422 and _field(r) == ["design_life_cycles"]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/units", {"code": "U-NUL", "name": "a\x00b", "unit_type": "use_unit"}, "name"),
        ("patch", "/api/v1/elevators/11SHA000001", {"address": "路\x00"}, "address"),
        ("patch", "/api/v1/elevators/11SHA000001", {"building": "1\x01"}, "building"),
        ("post", "/api/v1/elevators/11SHA000001/events", {"kind": "restart", "summary": "\x00"}, "summary"),
        (
            "post",
            "/api/v1/elevators/11SHA000001/events",
            {"kind": "major_repair", "details": {"k": ["\x00"]}},
            "details",
        ),
        ("post", "/api/v1/rescue/incidents", {"code": "100\x0001"}, "code"),
        ("post", "/api/v1/rescue/incidents", {"code": "100001", "notes": "x\x00"}, "notes"),
    ],
)
def test_nul_in_a_body_string_is_422_naming_the_field(
    client: TestClient, session: Session, clock: FixedClock, method: str, path: str, body: dict, field: str
) -> None:
    seed(session, clock)
    h = auth(client, Role.ADMIN)
    r = client.request(method, path, headers=h, json=body)
    assert r.status_code == 422, r.text
    assert _field(r) == [field]


def test_nul_in_path_and_query_is_4xx(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    h = auth(client, Role.ADMIN)
    for path in (
        "/api/v1/elevators/11SHA%00",
        "/api/v1/elevators/11SHA%00/live",
        "/api/v1/elevators/11SHA%00/faults",
        "/api/v1/units/MU%00",
        "/api/v1/public/elevators/1%0000",
        "/api/v1/elevators?district=%00",
        "/api/v1/elevators?q=a%00",
        "/api/v1/units?q=%00",
        "/api/v1/faults?fault_type=%00",
        "/api/v1/rescue/kpis?district=%00",
    ):
        r = client.get(path, headers=h)
        assert r.status_code == 422, (path, r.text)
        assert _field(r), path
    # the passengers' page: not found, never a server error
    for code in ("1%0000", "11SHA000001%00", "x" * 300):
        r = client.get(f"/p/{code}")
        assert r.status_code in (404, 422), (code, r.status_code)
    assert client.get("/p/100001").status_code == 200


def test_null_for_a_field_that_holds_no_null_is_422(
    client: TestClient, session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    h = auth(client, Role.REGULATOR)
    for name in ("street", "district", "kind", "no_repair_fund"):
        r = client.patch("/api/v1/elevators/11SHA000001", headers=h, json={name: None})
        assert r.status_code == 422, (name, r.text)
        assert _field(r) == [name]
    # nullable ones may still be cleared
    r = client.patch("/api/v1/elevators/11SHA000001", headers=h, json={"stops": None, "latitude": None})
    assert r.status_code == 200, r.text
    assert client.patch("/api/v1/units/MU-A", headers=h, json={"name": None}).status_code == 422


def test_json_nested_a_thousand_deep_is_4xx(client: TestClient, session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    h = {**auth(client, Role.ADMIN), "content-type": "application/json"}
    deep = '{"kind": "major_repair", "details": {"a": ' + "[" * 1000 + "]" * 1000 + "}}"
    r = client.post("/api/v1/elevators/11SHA000001/events", headers=h, content=deep)
    assert 400 <= r.status_code < 500, r.text
    deeper = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/v1/units", headers=h, content=deeper)
    assert 400 <= r.status_code < 500, r.text


def test_openapi_documents_the_real_error_shape(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorOut"]["properties"]) == {"detail", "errors"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            documented = set(op["responses"])
            assert {"401", "403", "404", "422"} <= documented, (method, path, documented)


def test_the_shared_checks() -> None:
    assert check_line("静安区 1号") == "静安区 1号"
    assert check_text("two\nlines\tand a tab") == "two\nlines\tand a tab"
    for bad in ("\x00", "a\x1fb", "\x7f"):
        with pytest.raises(ValueError, match="must not contain"):
            check_line(bad)
        with pytest.raises(ValueError, match="must not contain"):
            check_text(bad)
    with pytest.raises(ValueError):
        check_line("a\nb")


def test_a_nul_in_the_login_username_is_a_422_naming_it(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "ad\x00min", "password": "liftwatch-demo"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["username"]

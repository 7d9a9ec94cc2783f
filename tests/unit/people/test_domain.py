"""The pure rules of people (people.domain): a certificate's state on a day, the missing drills."""

from __future__ import annotations

from datetime import date

from liftwatch.people import domain
from liftwatch.people.domain import CertificateState, MissingDrill


def test_a_certificate_is_valid_through_its_expiry_day_and_warned_before() -> None:
    ends = date(2026, 12, 31)
    assert domain.state_on(ends, False, date(2026, 9, 1), 90) is CertificateState.VALID
    assert domain.state_on(ends, False, date(2026, 10, 3), 90) is CertificateState.EXPIRING  # 89 days left
    assert domain.state_on(ends, False, ends, 90) is CertificateState.EXPIRING  # the last day still counts
    assert domain.state_on(ends, False, date(2027, 1, 1), 90) is CertificateState.EXPIRED
    assert domain.state_on(ends, True, date(2026, 9, 1), 90) is CertificateState.REVOKED
    assert domain.usable(CertificateState.EXPIRING) and not domain.usable(CertificateState.EXPIRED)


def test_units_short_of_their_drills_are_listed_in_code_order() -> None:
    got = domain.missing_drills(
        ["UU-C", "UU-A", "UU-B"], {"UU-A": 1, "UU-C": 0}, {"UU-C": date(2024, 5, 1)}, required=1
    )
    assert got == [MissingDrill("UU-B", 0, 1, None), MissingDrill("UU-C", 0, 1, date(2024, 5, 1))]
    assert domain.missing_drills(["UU-A"], {"UU-A": 1}, {}, required=2) == [MissingDrill("UU-A", 1, 2, None)]

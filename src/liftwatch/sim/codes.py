"""Identifier formats of the simulated city, shaped like the real ones and valid under the registry schemas.

- Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, registration authority,
  organisation type, 6-digit administrative area, 9-character organisation code (GB 11714, with its own
  check digit) and a final check character.
- Equipment code (设备代码): 20 digits, category (4) + administrative area (6) + year (4) + serial (6).
- Registration code (使用登记证编号), ASCII form: category digits, ``SH``, district letter, serial.
"""

from __future__ import annotations

import random

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

ENTERPRISE = "91"  # 工商 + 企业
INSTITUTION = "12"  # 机构编制 + 事业单位 (hospitals, schools)
GOVERNMENT = "11"  # 机构编制 + 机关


def uscc_check(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015, modulus 31)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def org_code(body8: str) -> str:
    """An organisation code: 8 digits and their GB 11714 check character (modulus 11)."""
    c = 11 - sum(int(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    return body8 + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc(rng: random.Random, area_code: str, prefix: str = ENTERPRISE) -> str:
    """A random, well-formed unified social credit code for an organisation registered in ``area_code``."""
    body = org_code(f"{rng.randrange(10**8):08d}")
    first17 = prefix + area_code + body
    return first17 + uscc_check(first17)


def is_uscc(code: str) -> bool:
    return len(code) == 18 and all(c in USCC_CHARS for c in code) and uscc_check(code[:17]) == code[17]


def equipment_code(category: str, area_code: str, year: int, serial: int) -> str:
    return f"{category}{area_code}{year:04d}{serial:06d}"


def registration_code(category: str, district_letter: str, serial: int) -> str:
    return f"{category[1:3]}SH{district_letter}{serial:06d}"

"""Where notices go: the log, and a webhook (SMS, WeCom or the 110/119 link sit behind it). Only the
outbox (rescue.outbox) calls these, after the change a notice tells of was committed."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger("liftwatch.rescue")


class DeliveryFailed(Exception):
    """The receiver did not take the notice (no answer, or not a 2xx): try again later."""


def log_notice(payload: dict[str, Any]) -> None:
    log.info(
        "rescue %s: incident %d %s %s %s (%s)",
        payload["kind"],
        payload["incident_id"],
        payload["level"],
        payload["registration_code"],
        payload["details"],
        payload["idempotency_key"],
    )


class Webhook:
    """POSTs one notice as a JSON object, its idempotency key also in the ``Idempotency-Key`` header;
    only a 2xx answer counts as delivered."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": str(payload["idempotency_key"]),
        }
        req = urllib.request.Request(self.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"webhook answered {exc.code}") from None
        except (OSError, ValueError) as exc:  # refused, timed out, unreachable, bad URL
            raise DeliveryFailed(f"webhook unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered {status}")

"""JSON of a grouped report: decimals as numbers, instants in ISO 8601."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..services import UsageReport


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def report_json_bytes(report: UsageReport) -> bytes:
    return json.dumps(report.as_dict(), cls=_Encoder, ensure_ascii=False).encode("utf-8")

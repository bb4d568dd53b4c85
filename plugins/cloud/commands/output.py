"""What commands print: lines for people, or one JSON document with ``--json``."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any


def message(msg: Any) -> dict[str, Any]:
    """A protobuf message as JSON-ready values (field names as in the proto)."""
    from google.protobuf import json_format

    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def timestamp(ts: Any) -> str:
    """An RFC 3339 time (UTC), or "" when the timestamp is not set."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return ""
    return ts.ToJsonString()


class Output:
    def __init__(self, as_json: bool = False) -> None:
        self.json = as_json

    def emit(self, data: Any, lines: Iterable[str] = ()) -> None:
        """``data`` as JSON with ``--json``, else ``lines``."""
        if self.json:
            print(json.dumps(data, indent=2, sort_keys=False))
        else:
            for line in lines:
                print(line)
        sys.stdout.flush()

    def line(self, text: str) -> None:
        print(text, flush=True)

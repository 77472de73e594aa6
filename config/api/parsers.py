"""The API's JSON bodies, read once for every endpoint: at most DATA_UPLOAD_MAX_MEMORY_SIZE
bytes, and data Quiver can store (catalog.definitions.safe_data): a body nested too deep or holding
a lone UTF-16 surrogate is a 400 naming the field, before any view sees it."""

from __future__ import annotations

import json
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError

from catalog.definitions import safe_data


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[bytes] | None, media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            content = b""
        else:
            content = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(content) > limit:
            raise ParseError(f"JSON parse error - the body is larger than {limit:,} bytes")
        try:
            return safe_data.loads(content)
        except safe_data.UnsafeData as exc:
            message = exc.message if exc.path else f"the body {exc.message}"
            raise ValidationError({exc.path: [message]}) from None
        except (ValueError, json.JSONDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

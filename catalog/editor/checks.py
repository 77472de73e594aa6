"""The live checks the editor page calls as a person types: whether a script reads and which
main() it defines, and the problems of a schema typed into the advanced tab. What an estimate
comes to for the sample values is catalog.estimates.worked_out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.definitions import inference, safe_data
from catalog.definitions.json_schemas import check_json_schema
from catalog.definitions.validation import check_script
from catalog.editor.errors import ErrorItem, friendly_path, plain_schema_message


@dataclass
class ScriptCheck:
    ok: bool
    message: str
    line: int | None = None


def check_script_text(source: str) -> ScriptCheck | None:
    """ "Looks good: main(host, port=443) found", or what is wrong and on which line."""
    if not source.strip():
        return None
    errors = check_script(source)
    if errors:
        message = errors[0].message
        line = re.search(r"line (\d+)", message)
        return ScriptCheck(False, f"The script {message}.", int(line[1]) if line else None)
    return ScriptCheck(
        True, f"Looks good: {inference.signature_of(inference.find_main(source))} found"
    )


def schema_check_items(text: str) -> list[ErrorItem]:
    """The problems of a schema typed into the advanced tab, each with its path inside."""
    try:
        schema = safe_data.loads(text or "{}")
    except safe_data.UnsafeData as exc:
        return [ErrorItem(friendly_path(exc.path), f"This cannot be saved: it {exc.message}.")]
    except ValueError as exc:
        return [ErrorItem("", f"This is not valid JSON: {exc}")]
    return [
        ErrorItem(friendly_path(e.path), plain_schema_message(e.path, e.message), path=e.path)
        for e in check_json_schema(schema, "")
    ]

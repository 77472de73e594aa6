"""A JSON Schema for a script's inputs, read from the signature of its ``def main(...)``.

The script is parsed, never run: annotations (``int``, ``str``, ``list[str]``,
``Literal["a", "b"]``, ``Optional[int]``, ...) give the types, literal defaults give
``default`` and make the input optional, and a Google- or Sphinx-style docstring gives
each input's description.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from catalog.definitions.format import json_type_of

SIMPLE_TYPES = {
    "int": "integer",
    "float": "number",
    "complex": "number",
    "Decimal": "number",
    "str": "string",
    "bytes": "string",
    "bool": "boolean",
    "None": "null",
    "NoneType": "null",
}
LIST_TYPES = {
    "list",
    "List",
    "tuple",
    "Tuple",
    "set",
    "Set",
    "frozenset",
    "FrozenSet",
    "Sequence",
    "MutableSequence",
    "Iterable",
    "Collection",
}
DICT_TYPES = {"dict", "Dict", "Mapping", "MutableMapping", "TypedDict"}
ANY_TYPES = {"Any", "object"}


class InferenceError(ValueError):
    """The script cannot be read, or has no top-level ``main``."""


@dataclass
class Inferred:
    """What ``main`` takes: the input schema, the signature as text, and notes for people."""

    schema: dict[str, Any]
    signature: str
    notes: list[str] = field(default_factory=list)


def find_main(source: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The script's top-level ``main``; raises InferenceError in plain words."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise InferenceError(
            f"The script has a syntax error at line {exc.lineno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise InferenceError(f"The script cannot be read as Python: {exc}") from None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main":
            return node
    raise InferenceError("The script has no function main(...) at the top level.")


def signature_of(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``main(host, port=443)``: the parameters as a person reads them, without types."""
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    parts = [_param_text(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
    if args.vararg:
        parts.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        parts.append("*")
    parts += [_param_text(a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        parts.append(f"**{args.kwarg.arg}")
    return f"main({', '.join(parts)})"


def _param_text(name: str, default: ast.expr | None) -> str:
    if default is None:
        return name
    text = ast.unparse(default)
    return f"{name}={text if len(text) <= 30 else text[:29] + '…'}"


def infer_input_schema(source: str) -> Inferred:
    """The input schema ``main``'s signature describes; raises InferenceError."""
    func = find_main(source)
    args = func.args
    docs = param_docs(ast.get_docstring(func) or "")
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]
    properties: dict[str, Any] = {}
    required: list[str] = []
    notes: list[str] = []
    for arg, default in pairs:
        if arg.arg in ("self", "cls"):
            continue
        prop, optional_type = _schema_for(arg.annotation, notes, arg.arg)
        if default is not None:
            _apply_default(prop, default, notes, arg.arg)
        elif not optional_type:
            required.append(arg.arg)
        if arg.arg in docs:
            prop["description"] = docs[arg.arg]
        properties[arg.arg] = prop
    if args.vararg:
        notes.append(f"*{args.vararg.arg} is left out: inputs are always passed by name.")
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if args.kwarg:
        notes.append(f"main takes **{args.kwarg.arg}, so inputs not listed are accepted too.")
    else:
        schema["additionalProperties"] = False
    return Inferred(schema=schema, signature=signature_of(func), notes=notes)


def _apply_default(prop: dict[str, Any], node: ast.expr, notes: list[str], name: str) -> None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        notes.append(f"The default of '{name}' is computed, so it was left out.")
        return
    if value is None:
        return
    if isinstance(value, tuple | set | frozenset):
        value = list(value)
    if not _is_json(value):
        notes.append(f"The default of '{name}' cannot be written as JSON, so it was left out.")
        return
    prop["default"] = value
    if "type" not in prop and "enum" not in prop:
        guessed = json_type_of(value)
        if guessed:
            rest = dict(prop)
            prop.clear()
            prop.update({"type": guessed, **rest})


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.List, t.Optional
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return ""


def _schema_for(node: ast.expr | None, notes: list[str], name: str) -> tuple[dict[str, Any], bool]:
    """The schema of one annotation, and whether it allows None (Optional)."""
    if node is None:
        return {}, False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "int" as a string
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return {}, False
    # X | None and X | Y
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([*_flatten_or(node)], notes, name)
    if isinstance(node, ast.Subscript):
        outer = _name_of(node.value)
        inner = node.slice
        items = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        if outer == "Optional":
            return _union([items[0], ast.Constant(None)], notes, name)
        if outer == "Union":
            return _union(items, notes, name)
        if outer == "Literal":
            return _literal(items, notes, name), False
        if outer == "Annotated":
            schema, optional = _schema_for(items[0], notes, name)
            text = next(
                (
                    i.value
                    for i in items[1:]
                    if isinstance(i, ast.Constant) and isinstance(i.value, str)
                ),
                None,
            )
            if text:
                schema["description"] = text
            return schema, optional
        if outer in LIST_TYPES:
            array: dict[str, Any] = {"type": "array"}
            if items and not (isinstance(items[0], ast.Constant) and items[0].value is ...):
                item_schema, _ = _schema_for(items[0], notes, name)
                if item_schema:
                    array["items"] = item_schema
            return array, False
        if outer in DICT_TYPES:
            return {"type": "object"}, False
        return _schema_for(node.value, notes, name)
    simple = _name_of(node)
    if simple in SIMPLE_TYPES:
        if simple in ("None", "NoneType"):
            return {}, True
        return {"type": SIMPLE_TYPES[simple]}, False
    if simple in LIST_TYPES:
        return {"type": "array"}, False
    if simple in DICT_TYPES:
        return {"type": "object"}, False
    if simple in ANY_TYPES:
        return {}, False
    notes.append(f"The type of '{name}' ({ast.unparse(node)}) is not known; any value is taken.")
    return {}, False


def _flatten_or(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_flatten_or(node.left), *_flatten_or(node.right)]
    return [node]


def _union(items: list[ast.expr], notes: list[str], name: str) -> tuple[dict[str, Any], bool]:
    optional = any(_name_of(i) in ("None", "NoneType") for i in items)
    rest = [i for i in items if _name_of(i) not in ("None", "NoneType")]
    if len(rest) == 1:
        schema, inner_optional = _schema_for(rest[0], notes, name)
        return schema, optional or inner_optional
    schemas = [_schema_for(i, notes, name)[0] for i in rest]
    types = [s.get("type") for s in schemas]
    if all(isinstance(t, str) and len(s) == 1 for t, s in zip(types, schemas, strict=True)):
        return {"type": list(dict.fromkeys(types))}, optional
    return ({"anyOf": schemas} if all(schemas) else {}), optional


def _literal(items: list[ast.expr], notes: list[str], name: str) -> dict[str, Any]:
    values = []
    for item in items:
        try:
            values.append(ast.literal_eval(item))
        except (ValueError, TypeError, SyntaxError):
            notes.append(f"A value allowed for '{name}' is not a literal and was left out.")
    values = [v for v in values if _is_json(v)]
    types = {json_type_of(v) for v in values}
    schema: dict[str, Any] = {"enum": values}
    if len(types) == 1 and None not in types:
        schema = {"type": types.pop(), "enum": values}
    return schema


# -- docstrings ----------------------------------------------------------------------

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Keyword Args)\s*:\s*$")
_GOOGLE_PARAM = re.compile(r"^(\s*)(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_NUMPY_PARAM = re.compile(r"^(\s*)(\w+)\s*(?::\s*[^\n]*)?$")


def param_docs(docstring: str) -> dict[str, str]:
    """Descriptions of parameters in a Google-, Sphinx- or NumPy-style docstring."""
    lines = docstring.expandtabs().splitlines()
    found = _sphinx_docs(lines)
    found.update({k: v for k, v in _google_docs(lines).items() if k not in found})
    found.update({k: v for k, v in _numpy_docs(lines).items() if k not in found})
    return found


def _sphinx_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    current = None
    for line in lines:
        match = _SPHINX_PARAM.match(line)
        if match:
            current = match[1]
            docs[current] = match[2].strip()
        elif current and line.strip() and not line.strip().startswith(":"):
            docs[current] = f"{docs[current]} {line.strip()}".strip()
        else:
            current = None
    return docs


def _google_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    in_section, indent, current = False, -1, None
    for line in lines:
        if _SECTION.match(line):
            in_section, indent, current = True, -1, None
            continue
        if not in_section:
            continue
        if not line.strip():
            current = None
            continue
        width = len(line) - len(line.lstrip())
        match = _GOOGLE_PARAM.match(line)
        if match and (indent < 0 or width == indent):
            indent = width
            current = match[2].lstrip("*")
            docs[current] = match[3].strip()
        elif current and width > indent >= 0:
            docs[current] = f"{docs[current]} {line.strip()}".strip()
        elif width <= indent or indent < 0:
            in_section = False
    return docs


def _numpy_docs(lines: list[str]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for i, line in enumerate(lines[:-1]):
        if line.strip() in ("Parameters", "Params") and set(lines[i + 1].strip()) == {"-"}:
            current, indent = None, -1
            for entry in lines[i + 2 :]:
                if not entry.strip():
                    continue
                width = len(entry) - len(entry.lstrip())
                match = _NUMPY_PARAM.match(entry)
                if match and (indent < 0 or width == indent):
                    if set(entry.strip()) == {"-"}:
                        break
                    indent, current = width, match[2]
                    docs[current] = ""
                elif current and width > indent:
                    docs[current] = f"{docs[current]} {entry.strip()}".strip()
                else:
                    break
    return {k: v for k, v in docs.items() if v}

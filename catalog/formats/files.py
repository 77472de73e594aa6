"""Reading and writing definition files: YAML or JSON, one tool or many per file, or a
tree such as ``tools/<platform>/<name>.yaml``. Nothing here touches the database."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.definitions import safe_data
from catalog.formats import foreign

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 5 * 1024 * 1024
PARALLEL_FROM = 500  # files; below this, starting processes costs more than it saves


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading without YAML's implicit dates: JSON has no date type."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _Dumper(yaml.SafeDumper):
    """Readable YAML: block scalars for multi-line text, lists indented under keys."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        text = "\n".join(line.rstrip() for line in value.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


@dataclass(frozen=True)
class Source:
    """One definition and where it came from; ``notes`` say what was changed to read it
    (a tool written for OpenAI, MCP or Anthropic), and become the import's warnings."""

    file: str
    index: int | None
    data: Any
    notes: tuple[Problem, ...] = ()
    fmt: str = ""  # the foreign format it was read from; "" for Quiver's own

    @property
    def tool(self) -> str:
        """The tool's name as the file gives it, for messages ("" if it has none)."""
        name = self.data.get("name") if isinstance(self.data, dict) else None
        return name if isinstance(name, str) else ""

    @property
    def label(self) -> str:
        return self.file if self.index is None else f"{self.file}#{self.index + 1}"


@dataclass(frozen=True)
class Problem:
    """An error found while reading or importing, by file, tool and field path."""

    file: str
    path: str
    message: str
    tool: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "tool": self.tool, "path": self.path, "message": self.message}

    def __str__(self) -> str:
        where = f"{self.file} ({self.tool})" if self.tool else self.file
        where = f"{where}: {self.path}" if self.path else where
        return f"{where}: {self.message}"


@dataclass
class ReadResult:
    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_text(text: str, filename: str) -> ReadResult:
    """Definitions in one file's text: a mapping, a list, ``{tools: [...]}``, or YAML
    documents separated by ``---``."""
    result = ReadResult()
    try:
        if filename.lower().endswith(".json"):
            documents = [safe_data.loads(text)]
        else:
            documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except RecursionError:
        result.problems.append(Problem(filename, "", safe_data.TOO_DEEP))
        return result
    except safe_data.UnsafeData as exc:
        result.problems.append(Problem(filename, exc.path, exc.message))
        return result
    except json.JSONDecodeError as exc:
        result.problems.append(
            Problem(
                filename, "", f"is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            )
        )
        return result
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        result.problems.append(Problem(filename, "", f"is not valid YAML: {where}{problem}"))
        return result
    if _expands_beyond(documents, len(text) + 1000):
        result.problems.append(
            Problem(filename, "", "uses YAML aliases that expand to far more data than the file")
        )
        return result
    for number, doc in enumerate(documents):
        try:
            safe_data.check(doc)
        except safe_data.UnsafeData as exc:
            where = f"document {number + 1}: " if len(documents) > 1 else ""
            result.problems.append(Problem(filename, exc.path, where + exc.message))
            return result
    items: list[Any] = []
    file_notes: list[str] = []
    for doc in documents:
        unwrapped = foreign.unwrap(doc)  # a JSON-RPC envelope, a ``functions`` list
        if unwrapped.refusal:
            result.problems.append(Problem(filename, "", unwrapped.refusal))
            continue
        doc = unwrapped.data
        file_notes += unwrapped.notes
        if isinstance(doc, dict) and "name" not in doc and isinstance(doc.get("tools"), list):
            items.extend(doc["tools"])
        elif isinstance(doc, list):
            items.extend(doc)
        else:
            items.append(doc)
    if not items and not result.problems:
        result.problems.append(Problem(filename, "", "holds no tool definitions"))
    single = len(items) == 1
    announced: set[str] = set()
    for index, item in enumerate(items):
        source = Source(filename, None if single else index, item)
        fmt = foreign.format_of(item)
        if fmt is None:
            result.sources.append(source)
        else:
            _read_foreign(result, source, fmt, file_notes, announce=fmt not in announced)
            announced.add(fmt)
            file_notes = []
    return result


def _read_foreign(
    result: ReadResult, source: Source, fmt: str, file_notes: list[str], *, announce: bool
) -> None:
    """A tool written for OpenAI, MCP or Anthropic, read as a Quiver definition with what
    was changed as its notes; or its refusals as problems. The first tool of each format
    in a file also carries the notes on the file as a whole."""
    conversion = foreign.convert(source.data, fmt)
    label, name = source.label, conversion.name
    if conversion.refusals or conversion.definition is None:
        result.problems.extend(Problem(label, n.path, n.message, name) for n in conversion.refusals)
        return
    notes = []
    if announce:
        message = (
            f"read as {foreign.DESCRIBED[fmt]}: each becomes a tool on platform custom, "
            f"tagged imported and {foreign.TAG[fmt]}, described only (runtime none)"
        )
        notes.append(Problem(source.file, "", message))
    notes += [Problem(source.file, "", message) for message in file_notes]
    notes += [Problem(label, n.path, n.message, name) for n in conversion.notes]
    result.sources.append(
        Source(source.file, source.index, conversion.definition, tuple(notes), fmt)
    )


def _expands_beyond(value: Any, limit: int) -> bool:
    """Whether loaded data holds more than ``limit`` values when aliases are expanded.

    Without aliases every value takes at least a character of text, so a count above
    the text's length means a "billion laughs" document: refused before anything walks it.
    """
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def read_path(path: Path) -> ReadResult:
    """Every definition in a file or, recursively and in name order, a folder.

    Large trees are parsed by one process per core: building Python objects from YAML
    is most of the time an import of thousands of files takes.
    """
    result = ReadResult()
    if not path.exists():
        result.problems.append(Problem(str(path), "", "does not exist"))
        return result
    files = [path] if path.is_file() else sorted(_definition_files(path))
    if not files:
        result.problems.append(Problem(str(path), "", "holds no .yaml, .yml or .json files"))
    labels = [str(f.relative_to(path)) if path.is_dir() else f.name for f in files]
    cores = os.cpu_count() or 1
    if len(files) >= PARALLEL_FROM and cores > 1:
        with ProcessPoolExecutor(max_workers=cores) as pool:
            parts = list(pool.map(_read_file, files, labels, chunksize=100))
    else:
        parts = list(map(_read_file, files, labels))
    for part in parts:
        merge(result, part)
    return result


def _read_file(file: Path, label: str) -> ReadResult:
    return read_bytes(file.read_bytes(), label)


def _definition_files(folder: Path) -> Iterator[Path]:
    for file in folder.rglob("*"):
        if file.is_file() and file.suffix.lower() in SUFFIXES and not file.name.startswith("."):
            yield file


def read_bytes(content: bytes, filename: str) -> ReadResult:
    if len(content) > MAX_FILE_BYTES:
        return ReadResult(
            problems=[Problem(filename, "", f"is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")]
        )
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ReadResult(problems=[Problem(filename, "", f"is not UTF-8 text ({exc.reason})")])
    return parse_text(text, filename)


def merge(into: ReadResult, other: ReadResult) -> None:
    into.sources.extend(other.sources)
    into.problems.extend(other.problems)


# -- writing -----------------------------------------------------------------------------

_ORDER = (
    "name",
    "version",
    "description",
    "platform",
    "category",
    "status",
    "enabled",
    "archived",
    "owners",
    "tags",
    "defaults",
    "dependencies",
    "metadata",
    "input_schema",
    "output_schema",
    "runtime",
    "script",
    "capabilities",
)


def ordered(definition: dict[str, Any]) -> dict[str, Any]:
    """A definition with its keys in reading order, empty optional parts left out."""
    out = {key: definition[key] for key in _ORDER if key in definition}
    if not out.get("script"):
        out.pop("script", None)
    if not out.get("owners"):
        out.pop("owners", None)
    if out.get("archived") is False:
        out.pop("archived")
    return out


def dump_yaml(definitions: Iterable[dict[str, Any]]) -> str:
    return yaml.dump_all(
        [ordered(d) for d in definitions],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


def dump_json(definitions: Iterable[dict[str, Any]]) -> str:
    return json.dumps([ordered(d) for d in definitions], indent=2, ensure_ascii=False) + "\n"


def write_tree(definitions: Iterable[dict[str, Any]], dest: Path, *, fmt: str = "yaml") -> int:
    """Write ``dest/<platform>/<name>.<fmt>``, one tool per file; returns the count."""
    count = 0
    for definition in definitions:
        folder = dest / definition["platform"]
        folder.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            text = json.dumps(ordered(definition), indent=2, ensure_ascii=False) + "\n"
        else:
            text = dump_yaml([definition])
        (folder / f"{definition['name']}.{fmt}").write_text(text, encoding="utf-8")
        count += 1
    return count

"""Uploaded definition files for the import wizard: read safely (zips included) into
sources, and kept in the shared cache between the preview and the confirmation."""

from __future__ import annotations

import pickle
import re
import secrets
import time
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile

from catalog.formats.files import (
    MAX_FILE_BYTES,
    SUFFIXES,
    Problem,
    ReadResult,
    Source,
    merge,
    read_bytes,
)
from catalog.models import REASON_MAX_LENGTH
from catalog.services import ImportReport

KEEP_SECONDS = 60 * 60  # a staged upload waits this long for its confirmation
MAX_UPLOAD_FILES = 100  # Django's DATA_UPLOAD_MAX_NUMBER_FILES refuses more anyway
# Zip bombs: an archive may hold at most this many entries, and a member that inflates
# more than MAX_RATIO times (and past RATIO_FLOOR bytes) is refused before it is read.
MAX_ZIP_MEMBERS = 20_000
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
PROGRESS_EVERY = 0.25  # seconds between progress records written to the cache


def _megabytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(size // 1024, 1)} KB"
    return f"{size / 1024 / 1024:.0f} MB"


def max_total_bytes() -> int:
    return int(settings.QUIVER_IMPORT_MAX_BYTES)


def max_zip_members() -> int:
    return int(getattr(settings, "QUIVER_IMPORT_MAX_FILES", MAX_ZIP_MEMBERS))


# -- reading ----------------------------------------------------------------------------


def read_uploads(files: Iterable[UploadedFile]) -> ReadResult:
    """Every definition in the uploaded files: YAML, JSON, or zips of them. Together they
    may unpack to at most QUIVER_IMPORT_MAX_BYTES."""
    files = list(files)
    result = ReadResult()
    budget = max_total_bytes()
    for upload in files:
        name = upload.name or "upload"
        suffix = PurePosixPath(name).suffix.lower()
        if suffix == ".zip":
            part, size = _unzip(upload, name, budget)
        elif suffix in SUFFIXES:
            part, size = _read_one(upload, name), upload.size or 0
        else:
            part, size = ReadResult(problems=[Problem(name, "", _WRONG_KIND)]), 0
        if size > budget and not part.problems:
            part = ReadResult(problems=[Problem(name, "", _over_budget(size))])
        budget -= size
        merge(result, part)
    return result


_WRONG_KIND = "is not a .yaml, .yml, .json or .zip file"


def _over_budget(size: int) -> str:
    return (
        f"takes the upload to more than {_megabytes(max_total_bytes())} "
        f"(this file alone is {_megabytes(size)})"
    )


def _read_one(upload: UploadedFile, name: str) -> ReadResult:
    if (upload.size or 0) > MAX_FILE_BYTES:
        return ReadResult(
            problems=[Problem(name, "", f"is larger than {_megabytes(MAX_FILE_BYTES)}")]
        )
    return read_bytes(upload.read(MAX_FILE_BYTES + 1), name)


def read_zip(fileobj: IO[bytes], name: str) -> ReadResult:
    """The definitions in a zip of a tree such as ``<platform>/<name>.yaml``, read in
    memory. Directories, hidden files, ``__MACOSX`` and other kinds of file are skipped;
    each definition is labelled with its path in the archive."""
    return _unzip(fileobj, name, max_total_bytes())[0]


def _unzip(fileobj: IO[bytes], name: str, budget: int) -> tuple[ReadResult, int]:
    """The zip's definitions, and how many bytes they unpacked to."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError):
        return ReadResult(problems=[Problem(name, "", "is not a zip file, or it is damaged")]), 0
    with archive:
        entries = archive.infolist()
        if len(entries) > max_zip_members():
            message = f"holds {len(entries):,} entries; at most {max_zip_members():,} are accepted"
            return ReadResult(problems=[Problem(name, "", message)]), 0
        members = [info for info in entries if _is_definition(info)]
        refused = _refuse_bombs(name, members, budget)
        if refused:
            return ReadResult(problems=refused), 0
        result = ReadResult()
        for info in members:
            merge(result, _read_member(archive, info))
        if not members:
            result.problems.append(Problem(name, "", "holds no .yaml, .yml or .json files"))
        return result, sum(info.file_size for info in members)


def _is_definition(info: zipfile.ZipInfo) -> bool:
    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
    return (
        not info.is_dir()
        and bool(parts)
        and not any(p.startswith(".") or p == "__MACOSX" for p in parts)
        and PurePosixPath(parts[-1]).suffix.lower() in SUFFIXES
    )


def _refuse_bombs(name: str, members: list[zipfile.ZipInfo], budget: int) -> list[Problem]:
    """What the archive's own directory says it will inflate to, checked before reading."""
    problems = []
    declared = sum(info.file_size for info in members)
    if declared > budget:
        problems.append(
            Problem(
                name,
                "",
                f"would unpack to {_megabytes(declared)}; the limit for one upload is "
                f"{_megabytes(max_total_bytes())}",
            )
        )
    for info in members:
        if info.file_size > MAX_FILE_BYTES:
            problems.append(
                Problem(info.filename, "", f"is larger than {_megabytes(MAX_FILE_BYTES)}")
            )
        elif info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            problems.append(
                Problem(
                    info.filename,
                    "",
                    f"is compressed more than {MAX_RATIO} to 1, which only a zip bomb is; refused",
                )
            )
    return problems


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> ReadResult:
    try:
        with archive.open(info) as member:
            # zipfile stops at the declared size (checked above); read no more than the
            # limit anyway, in case that ever changes.
            content = member.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        reason = "is encrypted" if "encrypted" in str(exc) else f"cannot be unpacked ({exc})"
        return ReadResult(problems=[Problem(info.filename, "", reason)])
    return read_bytes(content, info.filename)


# -- the upload form --------------------------------------------------------------------


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"accept": ".yaml,.yml,.json,.zip"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        files = data if isinstance(data, list | tuple) else [data]
        return [single(f, initial) for f in files] if files else [single(None, initial)]


class ImportForm(forms.Form):
    """Files to import, and why; on cleaning, the files are read into definitions."""

    uploads = _MultipleFileField(
        label="Definition files",
        error_messages={"required": "Choose at least one file to import."},
        help_text=(
            "YAML or JSON files (one tool, a list, or several documents per file), or a .zip "
            "of a folder such as an export (<platform>/<name>.yaml). Up to "
            f"{MAX_UPLOAD_FILES} files at a time; zip a folder to send more."
        ),
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text="Optional. Kept in the audit log with every tool this import changes.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. quarterly refresh from ops repo"}),
    )
    partial = forms.BooleanField(
        label="Import the tools without problems, and leave out the others",
        required=False,
        help_text=(
            "Unticked (the usual way), nothing is imported until every problem is fixed. "
            "Ticked, the review lists the tools left out and why."
        ),
    )

    def clean_uploads(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["uploads"]
        if len(files) > MAX_UPLOAD_FILES:
            raise forms.ValidationError(
                f"Choose at most {MAX_UPLOAD_FILES} files, or put them in a zip."
            )
        read = read_uploads(files)
        # Tools refused while reading are left out of a partial import, named in its review.
        partial = bool(self.data.get("partial")) and any(p.tool for p in read.problems)
        if read.problems and not partial:
            messages = [str(p) for p in read.problems]
            if any(p.tool for p in read.problems) and read.sources:
                messages.append(
                    "To import the other tools and leave these out, tick “Import the tools "
                    "without problems” below and upload again."
                )
            raise forms.ValidationError(messages)
        if not read.sources:
            raise forms.ValidationError("These files hold no tool definitions.")
        self.sources = read.sources
        self.problems = read.problems
        return files

    def file_names(self) -> list[str]:
        return [f.name or "upload" for f in self.cleaned_data["uploads"]]


# -- staging between preview and apply --------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class StagedImport:
    """An upload waiting for confirmation, visible only to the user and tenant who made it.

    Keys in the shared cache, expiring together: ``…:meta`` (owner, files, reason,
    counts; small, read by every progress poll), ``…:preview`` (the dry run's report),
    ``…:sources`` (the definitions, compressed), ``…:progress`` while it is applied,
    ``…:claim`` held by the one request applying it, ``…:result`` once applied.
    """

    token: str
    tenant_id: int
    user_id: int
    files: list[str]
    reason: str
    counts: dict[str, int]
    created: float
    partial: bool = False

    @staticmethod
    def _key(token: str, part: str) -> str:
        return f"quiver:import:{token}:{part}"

    def key(self, part: str) -> str:
        return self._key(self.token, part)

    @classmethod
    def create(
        cls,
        *,
        tenant_id: int,
        user_id: int,
        sources: list[Source],
        report: ImportReport,
        files: list[str],
        reason: str,
        partial: bool = False,
        problems: list[Problem] | None = None,
    ) -> StagedImport:
        problems = problems or []
        preview = preview_of(report)
        staged = cls(
            token=secrets.token_urlsafe(24),
            tenant_id=tenant_id,
            user_id=user_id,
            files=files,
            reason=reason,
            counts=preview["counts"],
            created=time.time(),
            partial=partial,
        )
        # Pickled (not JSON) so that what YAML read comes back exactly; only Quiver
        # writes these keys. Compressed: ten thousand definitions pickle to tens of MB.
        blob = zlib.compress(
            pickle.dumps([(s.file, s.index, s.data, s.notes, s.fmt) for s in sources]), 6
        )
        cache.set_many(
            {
                staged.key("meta"): dict(vars(staged)),
                staged.key("preview"): preview,
                staged.key("sources"): blob,
                staged.key("problems"): [astuple(p) for p in problems],
            },
            KEEP_SECONDS,
        )
        return staged

    @classmethod
    def find(cls, token: str) -> StagedImport | None:
        """The staged upload, or None when the token is malformed, unknown or expired."""
        if not _TOKEN.fullmatch(token):
            return None
        meta = cache.get(cls._key(token, "meta"))
        return cls(**meta) if isinstance(meta, dict) else None

    def belongs_to(self, tenant_id: int, user_id: int) -> bool:
        return self.tenant_id == tenant_id and self.user_id == user_id

    @property
    def changes(self) -> int:
        """How many tools applying it would create or change."""
        return self.counts["new"] + self.counts["changed"]

    def preview(self) -> dict[str, Any] | None:
        preview = cache.get(self.key("preview"))
        return preview if isinstance(preview, dict) else None

    def sources(self) -> list[Source] | None:
        blob = cache.get(self.key("sources"))
        if not isinstance(blob, bytes):
            return None
        rows = pickle.loads(zlib.decompress(blob))  # noqa: S301 - written by create() above
        return [Source(*row) for row in rows]  # file, index, data, notes and format

    def read_problems(self) -> list[Problem]:
        """What was refused while the files were read (tools a partial import leaves out)."""
        rows = cache.get(self.key("problems")) or []
        return [Problem(*row) for row in rows]

    def claim(self) -> bool:
        """True for the one request allowed to apply this upload."""
        return bool(cache.add(self.key("claim"), time.time(), KEEP_SECONDS))

    def claimed(self) -> bool:
        return cache.get(self.key("claim")) is not None

    def release(self) -> None:
        """Give up the claim after a failed apply, so that it may be tried again."""
        cache.delete_many([self.key("claim"), self.key("progress")])

    def fail(self, report: ImportReport) -> None:
        """After an apply was refused: the preview shows its problems, and the claim is
        given up."""
        preview = preview_of(report)
        self.counts = preview["counts"]
        cache.set_many(
            {self.key("meta"): dict(vars(self)), self.key("preview"): preview}, KEEP_SECONDS
        )
        self.release()

    def result(self) -> dict[str, Any] | None:
        result = cache.get(self.key("result"))
        return result if isinstance(result, dict) else None

    def finish(self, report: ImportReport) -> dict[str, Any]:
        """Record that the upload was applied, and drop its definitions."""
        result = {**preview_of(report), "applied_at": time.time()}
        cache.set(self.key("result"), result, KEEP_SECONDS)
        cache.set(self.key("progress"), {"stage": "done", "done": 1, "total": 1}, KEEP_SECONDS)
        cache.delete(self.key("sources"))
        return result

    def progress(self) -> dict[str, Any] | None:
        record = cache.get(self.key("progress"))
        return record if isinstance(record, dict) else None

    def progress_writer(self) -> ProgressWriter:
        return ProgressWriter(self.key("progress"))


class ProgressWriter:
    """The import service's progress callback: records (stage, done, total) in the cache,
    at most every PROGRESS_EVERY seconds and whenever the stage changes."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.stage = ""
        self.last = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self.stage and done < total and now - self.last < PROGRESS_EVERY:
            return
        self.stage, self.last = stage, now
        cache.set(self.key, {"stage": stage, "done": done, "total": total}, KEEP_SECONDS)


def preview_of(report: ImportReport) -> dict[str, Any]:
    """What the preview page shows of a report, as plain data the cache can keep."""
    return {
        "items": [item.as_dict() for item in report.items],
        "problems": [p.as_dict() for p in report.problems],
        "warnings": [p.as_dict() for p in report.warnings],
        "refused": [p.as_dict() for p in report.refused],
        "partial": report.partial,
        "counts": {
            "new": report.count("new"),
            "changed": report.count("changed"),
            "unchanged": report.count("unchanged"),
            "refused": report.count("refused"),
            "problems": len(report.problems),
        },
    }


SHOW_CHOICES = [
    ("all", "All"),
    ("refused", "With problems"),
    ("changed", "Changed"),
    ("new", "New"),
    ("unchanged", "Unchanged"),
]


class PreviewFilterForm(forms.Form):
    """The preview's query string: which tools to list, and the page."""

    show = forms.ChoiceField(choices=SHOW_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, required=False)

    def choice(self) -> tuple[str, int]:
        if not self.is_valid():
            return "all", 1
        return self.cleaned_data["show"] or "all", self.cleaned_data["page"] or 1

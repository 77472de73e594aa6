"""The import wizard: upload definition files, review what would change, then apply it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog import services
from catalog.accounts.guards import client_ip, role_required
from catalog.accounts.tenancy import TenantRequest
from catalog.formats.uploads import (
    SHOW_CHOICES,
    ImportForm,
    PreviewFilterForm,
    StagedImport,
    preview_of,
)
from catalog.models import Role
from catalog.services import ImportFailed

PREVIEW = "catalog/import_preview.html"
ITEMS_PER_PAGE = 100
_ORDER = {"refused": 0, "changed": 1, "new": 2, "unchanged": 3}
# How much of the bar each stage of an apply fills: checking is most of the work
# before anything is written.
_STAGES = {"checking": (0, 40), "comparing": (40, 50), "writing": (50, 100)}


@role_required(Role.EDITOR)
def import_upload(request: TenantRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        partial = form.cleaned_data["partial"]
        report = services.import_definitions(
            request.tenant,
            form.sources,
            actor=request.user,
            ip=client_ip(request),
            dry_run=True,
            problems=form.problems,
            partial=partial,
        )
        staged = StagedImport.create(
            tenant_id=request.tenant.pk,
            user_id=request.user.pk,
            sources=form.sources,
            report=report,
            files=form.file_names(),
            reason=form.cleaned_data["reason"],
            partial=partial,
            problems=form.problems,
        )
        return redirect("catalog:import_preview", token=staged.token)
    return render(request, "catalog/import_upload.html", {"form": form})


@role_required(Role.EDITOR)
def import_preview(request: TenantRequest, token: str) -> HttpResponse:
    staged = _staged(request, token)
    preview = staged.preview() if staged else None
    if staged is None or preview is None:
        return _gone(request)
    show, page = PreviewFilterForm(request.GET).choice()
    items = sorted(preview["items"], key=lambda item: _ORDER[item["action"]])
    if show != "all":
        items = [item for item in items if item["action"] == show]
    context = {
        **_outcome_context(staged, preview),
        "show": show,
        "tabs": [
            (value, label, count)
            for value, label in SHOW_CHOICES
            if (count := _tab_count(preview, value)) or value != "refused"
        ],
        "page_obj": Paginator(items, ITEMS_PER_PAGE).get_page(page),
    }
    return render(request, f"{PREVIEW}#import-items" if request.htmx else PREVIEW, context)


@role_required(Role.EDITOR)
@require_POST
def import_apply(request: TenantRequest, token: str) -> HttpResponse:
    staged = _staged(request, token)
    sources = staged.sources() if staged else None
    if staged is None or (sources is None and staged.result() is None):
        return _gone(request)
    if sources is None or not staged.claim():
        return _outcome(request, staged, already=True)
    try:
        report = services.import_definitions(
            request.tenant,
            sources,
            actor=request.user,
            reason=staged.reason,
            ip=client_ip(request),
            progress=staged.progress_writer(),
            partial=staged.partial,
            problems=staged.read_problems(),
        )
    except ImportFailed as exc:
        staged.fail(exc.report)
        messages.error(request, "Nothing was imported: " + exc.report.summary() + ".")
        return _outcome(request, staged, failed=preview_of(exc.report))
    except Exception:
        staged.release()  # the transaction rolled back: it may be tried again
        raise
    staged.finish(report)
    counts = preview_of(report)["counts"]
    messages.success(
        request,
        f"Imported {_tools(counts['new'] + counts['changed'])}: {counts['new']:,} new, "
        f"{counts['changed']:,} changed; {counts['unchanged']:,} left as they were"
        + (f"; {_tools(counts['refused'])} with problems left out." if counts["refused"] else "."),
    )
    return _outcome(request, staged)


@role_required(Role.EDITOR)
def import_progress(request: TenantRequest, token: str) -> HttpResponse:
    staged = _staged(request, token)
    record = staged.progress() if staged else None
    if staged is not None and staged.result() is not None:
        record = {"stage": "done", "done": 1, "total": 1}
    context: dict[str, Any] = {
        "token": token,
        "progress": progress_state(record, gone=staged is None),
    }
    response = render(request, f"{PREVIEW}#import-progress", context)
    if staged is None or context["progress"]["finished"]:
        response.status_code = 286  # tells htmx to stop polling
    return response


# -- helpers ----------------------------------------------------------------------------


def summary(counts: dict[str, int]) -> str:
    """'68 new, 2 changed, 1 unchanged, 0 problems'."""
    problems = counts["problems"]
    return (
        f"{counts['new']:,} new, {counts['changed']:,} changed, "
        f"{counts['unchanged']:,} unchanged, {problems:,} problem{'' if problems == 1 else 's'}"
    )


def progress_state(record: dict[str, Any] | None, *, gone: bool = False) -> dict[str, Any]:
    """The progress bar's value (0 to 100) and its words, from the service's last report."""
    if gone:
        return {"percent": 0, "words": "This upload is no longer here.", "finished": True}
    if record is None:
        return {"percent": 0, "words": "Starting…", "finished": False}
    stage, done, total = record["stage"], record["done"], record["total"]
    if stage == "done":
        return {"percent": 100, "words": "Done.", "finished": True}
    low, high = _STAGES.get(stage, (0, 100))
    percent = low + (high - low) * done // max(total, 1)
    if stage == "checking":
        words = f"Checking {done:,} of {total:,} definitions…"
    elif stage == "comparing":
        words = f"Comparing {total:,} tools with the catalog…"
    elif done >= total:
        words = "Saving…"
    else:
        words = f"Writing {done:,} of {total:,} tools…"
    return {"percent": percent, "words": words, "finished": False}


def _tools(count: int) -> str:
    return f"{count:,} tool" + ("" if count == 1 else "s")


def _tab_count(preview: dict[str, Any], show: str) -> int:
    counts = preview["counts"]
    if show == "all":
        return sum(int(counts.get(action, 0)) for action in _ORDER)
    return int(counts.get(show, 0))


def _staged(request: TenantRequest, token: str) -> StagedImport | None:
    """The staged upload (None if gone); another user's or tenant's is a 404."""
    staged = StagedImport.find(token)
    if staged is not None and not staged.belongs_to(request.tenant.pk, request.user.pk):
        raise Http404("No such upload.")
    return staged


def _gone(request: TenantRequest) -> HttpResponse:
    text = (
        "This upload is no longer available: uploads are kept for an hour, and only until "
        "they are imported. Nothing has been changed. Please upload the files again."
    )
    if request.htmx:
        return render(request, f"{PREVIEW}#import-outcome", {"gone": text})
    messages.error(request, text)
    return redirect("catalog:import_upload")


def _outcome_context(staged: StagedImport, preview: dict[str, Any]) -> dict[str, Any]:
    result = staged.result()
    return {
        "staged": staged,
        "preview": preview,
        "token": staged.token,
        "summary": summary(staged.counts),
        "import_label": f"Import {_tools(staged.changes)}",
        "result": result,
        "problems": preview["problems"],
        "running": result is None and staged.claimed(),
        "progress": progress_state(staged.progress()),
        "audit_url": reverse("catalog:audit_list") + "?action=import",
    }


def _outcome(
    request: TenantRequest,
    staged: StagedImport,
    *,
    already: bool = False,
    failed: dict[str, Any] | None = None,
) -> HttpResponse:
    if not request.htmx:
        return redirect("catalog:import_preview", token=staged.token)
    context = {
        **_outcome_context(staged, staged.preview() or preview_of(services.ImportReport())),
        "already": already,
        "failed": failed,
    }
    return render(request, f"{PREVIEW}#import-outcome", context)

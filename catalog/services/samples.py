"""The sample catalog: loaded once into a fresh tenant, never again over people's changes."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from catalog.formats.files import read_path
from catalog.models import AuditAction, AuditLog, Tenant, Tool
from catalog.services.importing import ImportReport, import_definitions

SAMPLE_CATALOG = Path(settings.BASE_DIR) / "catalog" / "sample_catalog"
# The reason on the import's audit rows; those rows are also the durable record that a
# tenant has had the samples (they outlive the tools, and predate this rule).
SAMPLE_REASON = "sample catalog"


def samples_loaded(tenant: Tenant) -> bool:
    """Whether the sample catalog was ever imported into ``tenant``."""
    return (
        AuditLog.objects.for_tenant(tenant)
        .filter(action=AuditAction.IMPORT, actor=None, reason=SAMPLE_REASON)
        .exists()
    )


def load_sample_catalog(tenant: Tenant) -> ImportReport | None:
    """Import the sample catalog into a tenant that has no tools and never had the
    samples; None (nothing changed) for any other tenant, so a start never undoes an
    edit, a disable or a purge that a person made. All or nothing, audited as the
    system with the reason ``sample catalog``."""
    if samples_loaded(tenant) or Tool.objects.for_tenant(tenant).exists():
        return None
    read = read_path(SAMPLE_CATALOG)
    return import_definitions(
        tenant, read.sources, actor=None, reason=SAMPLE_REASON, problems=read.problems
    )

"""Time a tool's page and the slots other apps fill on it (the planner's Try it button,
telemetry's Recent runs) with many runs recorded, and print what the slots cost against
the page itself, measured in the same run.

    .venv/bin/python benchmarks/tool_page_bench.py [--runs-recorded 100000] [--requests 50]

The database is SQLite in a temporary ``QUIVER_VAR_DIR``, or ``DATABASE_URL`` when it is
set (use a database of its own: the script migrates it and writes to it). Each request goes
through the whole middleware stack with ``django.test.Client``: the server's time.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 5
# The slots load after the page; together they should cost no more than the page.
SLOTS_LIMIT = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs-recorded", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quiver-tool-page-bench-") as var:
        os.environ.setdefault("QUIVER_VAR_DIR", var)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from catalog.models import Role, Tool
    from catalog.services import set_membership
    from catalog.services.samples import load_sample_catalog
    from catalog.services.tenants import create_tenant
    from telemetry.models import Execution, ExecutionStatus

    call_command("migrate", verbosity=0)
    tenant = create_tenant(slug="bench", name="Benchmark")
    admin = get_user_model().objects.create_user("bench-admin", password="not-used-here")
    set_membership(tenant, user=admin, role=Role.ADMIN, actor=None)
    load_sample_catalog(tenant)
    tools = list(Tool.objects.for_tenant(tenant).filter(current_version__isnull=False))
    tool = next(t for t in tools if t.current_version.runtime_kind == "script")
    now, rng = timezone.now(), random.Random(0)
    statuses = [ExecutionStatus.SUCCEEDED] * 8 + [ExecutionStatus.FAILED]
    start = perf_counter()
    batch = []
    for i in range(args.runs_recorded):
        # A tenth of the runs are this tool's, over 90 days; the rest are other tools'.
        one = tool if i % 10 == 0 else tools[i % len(tools)]
        queued = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
        batch.append(
            Execution(
                tenant=tenant,
                tool=one,
                tool_name=one.name,
                tool_version=one.current_version,
                status=rng.choice(statuses),
                queued_at=queued,
                started_at=queued,
                finished_at=queued + timedelta(seconds=1),
                duration_ms=rng.randrange(50, 5000),
            )
        )
        if len(batch) == 5000:
            Execution.objects.bulk_create(batch)
            batch = []
    Execution.objects.bulk_create(batch)
    print(
        f"{connection.vendor}: {args.runs_recorded:,} runs recorded "
        f"({args.runs_recorded // 10:,} of {tool.name}) in {perf_counter() - start:.1f} s"
    )

    client = Client()
    client.force_login(admin)
    pages = {
        "tool page": (reverse("catalog:tool_detail", args=[tool.name]), {}),
        "slot: Try it button": (
            reverse("planner:try_it_button", args=[tool.name]),
            {"HTTP_HX_REQUEST": "true"},
        ),
        "slot: Recent runs": (
            reverse("telemetry:tool_runs", args=[tool.name]),
            {"HTTP_HX_REQUEST": "true"},
        ),
    }
    figures = {}
    for label, (url, headers) in pages.items():
        for _ in range(WARMUP):
            assert client.get(url, **headers).status_code == 200
        timings = []
        for _ in range(args.requests):
            began = perf_counter()
            response = client.get(url, **headers)
            timings.append((perf_counter() - began) * 1000)
            assert response.status_code == 200
        timings.sort()
        figures[label] = (timings[len(timings) // 2], timings[int(len(timings) * 0.95) - 1])
        print(f"{label:24} p50 {figures[label][0]:7.1f} ms   p95 {figures[label][1]:7.1f} ms")
    page = figures["tool page"][0]
    slots = sum(p50 for label, (p50, _) in figures.items() if label.startswith("slot"))
    ratio = slots / page
    verdict = "PASS" if ratio <= SLOTS_LIMIT else "MISSED"
    print(f"slots together / page (p50): {ratio:.2f}  (limit {SLOTS_LIMIT:.2f})  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time a long ``?q=`` (a 5,000-character pasted log) against a short one (50 characters)
on the sample catalog, and print the ratio.

    .venv/bin/python benchmarks/long_query_bench.py [--runs 200]

A fresh SQLite database in a temporary ``QUIVER_VAR_DIR``; the sample catalog imported
into one tenant; each query is answered by ``catalog.llm.export.build_payload`` (the body
of GET /api/v1/llm/tools without HTTP and without the response cache), warm index, every
request a different query (a number appended), median of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
SHORT = "the disk on web-3 is full, which volume is it?"
LOG_LINE = (
    "May 01 10:00:00 web-3 app[1042]: write failed: No space left on device "
    "(disk usage 100%, mount /var full)\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    os.environ["QUIVER_VAR_DIR"] = tempfile.mkdtemp(prefix="quiver-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.formats.files import read_path
    from catalog.llm import export as llm_export
    from catalog.llm import retrieval
    from catalog.models import Tenant
    from catalog.services import import_definitions
    from catalog.services.samples import SAMPLE_CATALOG

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(name="Bench", slug="bench")
    read = read_path(SAMPLE_CATALOG)
    import_definitions(tenant, read.sources, actor=None, problems=read.problems)
    long_query = ("Please find what fills the disk.\n" + LOG_LINE * 60)[:5_000]
    short_query = SHORT.ljust(50)[:50]

    def median_ms(query: str) -> tuple[float, str]:
        times, top = [], ""
        for i in range(args.runs + 10):
            request = llm_export.LlmToolsRequest(q=f"{query} {i}", k=20)
            start = perf_counter()
            payload = llm_export.build_payload(tenant, request, at_revision=0)
            if i >= 10:
                times.append((perf_counter() - start) * 1000)
            top = payload["matches"][0]["name"]
        return statistics.median(times), top

    retrieval.search(tenant, "warm up")  # the index is built once, untimed
    short_ms, short_top = median_ms(short_query)
    long_ms, long_top = median_ms(long_query)
    print(f"sample catalog: {len(read.sources)} tools; median of {args.runs} queries each")
    print(f"  50 characters:    {short_ms:7.3f} ms  (best match {short_top})")
    print(f"  5,000 characters: {long_ms:7.3f} ms  (best match {long_top})")
    print(f"  ratio long/short: {long_ms / short_ms:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

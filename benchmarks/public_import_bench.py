"""Time the import of a public-style OpenAI tool list (tests/catalog/public_style.py) on
a fresh SQLite database: reading and normalising, the preview (dry run), the import, and
importing the same list again.

    .venv/bin/python benchmarks/public_import_bench.py [--tools 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quiver-public-bench-") as scratch:
        os.environ["QUIVER_VAR_DIR"] = scratch
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        from catalog import services
        from catalog.formats.files import read_path
        from tests.catalog.public_style import public_style_tools

        call_command("migrate", verbosity=0)
        tenant = services.create_tenant(slug="bench")
        path = Path(scratch) / "tools.json"
        path.write_text(json.dumps(public_style_tools(args.tools)), encoding="utf-8")

        started = perf_counter()
        read = read_path(path)
        read_s = perf_counter() - started
        figures = {"read and normalise": read_s}
        for label, dry_run in (("preview", True), ("import", False), ("import again", False)):
            started = perf_counter()
            report = services.import_definitions(
                tenant, read.sources, actor=None, dry_run=dry_run, problems=read.problems
            )
            figures[label] = perf_counter() - started
            assert report.ok, report.summary()
        print(f"{args.tools:,} public-style OpenAI tools, SQLite")
        print(f"  {len(report.warnings):,} changes reported; last pass: {report.summary()}")
        for label, seconds in figures.items():
            print(f"  {label:20} {seconds:7.2f} s  ({seconds * 1000 / args.tools:.2f} ms a tool)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

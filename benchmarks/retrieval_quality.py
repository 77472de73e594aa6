"""How well retrieval finds the right tool: the sample catalog against the queries people
would type (tests/catalog/retrieval_queries.yaml).

    .venv/bin/python benchmarks/retrieval_quality.py [--distractors 10000] [--misses]
        [--repeats name=2,keywords=1,description=1,uses=1,parameters=1]

Prints each query's rank of the expected tool (``-`` when not in the top 20), then top-1
and top-5: the share of queries whose tool comes first, and in the first five. No
database is needed: the sample definitions are normalized as an import stores them and
indexed with the same code the API uses (``catalog.llm.retrieval``). Deprecated tools are
left out, as the API does by default. ``--distractors N`` adds the first N tools of
``generate_catalog.py`` to the index, a harder test: the right tool must also beat
thousands of others that share its words.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "catalog" / "sample_catalog"
QUERIES = ROOT / "tests" / "catalog" / "retrieval_queries.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", default="", help="field=times,... (default: the module's)")
    parser.add_argument("--distractors", type=int, default=0, help="generated tools to add")
    parser.add_argument("--misses", action="store_true", help="print only queries not ranked 1")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from catalog.definitions.format import normalize
    from catalog.llm import retrieval

    repeats = dict(retrieval.FIELD_REPEATS)
    for item in filter(None, args.repeats.split(",")):
        name, _, value = item.partition("=")
        repeats[name.strip()] = int(value)

    definitions = [
        normalize(yaml.safe_load(path.read_text())) for path in sorted(SAMPLE.rglob("*.yaml"))
    ]
    if args.distractors:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from generate_catalog import generate

        definitions += [normalize(d) for d in generate(args.distractors)]
    definitions = [d for d in definitions if d["status"] not in ("deprecated", "disabled")]
    definitions.sort(key=lambda d: d["name"])
    names = [d["name"] for d in definitions]
    index = retrieval.ToolIndex.of_documents(
        [retrieval.document_of(d) for d in definitions], repeats
    )
    queries = yaml.safe_load(QUERIES.read_text())

    ranks = []
    for item in queries:
        hits = [(names[i], s) for i, s in retrieval.top_k(index.scores(item["query"]), 20, names)]
        rank = retrieval.rank_of(item["expect"], hits)
        ranks.append(rank)
        if args.misses and rank == 1:
            continue
        top = ", ".join(name for name, _ in hits[:3])
        print(f"{rank or '-':>3}  {item['query']!r:70} -> {item['expect']}   [{top}]")
    total = len(ranks)
    top1 = sum(1 for r in ranks if r == 1)
    top5 = sum(1 for r in ranks if r is not None and r <= 5)
    print(f"\n{total} queries over {len(definitions)} tools, field repeats {repeats}")
    print(f"top-1 {top1}/{total} = {top1 / total:.1%}")
    print(f"top-5 {top5}/{total} = {top5 / total:.1%}")


if __name__ == "__main__":
    main()

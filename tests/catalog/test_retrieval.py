"""Retrieval: which usable tools fit a request, cached per tenant by catalog revision."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from django.core.cache import caches

from catalog import revision, services
from catalog.formats.files import read_path
from catalog.llm import export as llm_export
from catalog.llm import retrieval
from catalog.llm.retrieval import QUERY_RANKED_CHARS, ToolIndex, tokenize
from catalog.models import Tenant, Tool
from tests.factories import make_definition

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "catalog" / "sample_catalog"
QUERIES = yaml.safe_load((Path(__file__).parent / "retrieval_queries.yaml").read_text())


@pytest.fixture(autouse=True)
def fresh_caches(settings: Any, request: Any) -> None:
    """A shared cache of the test's own (revisions start afresh) and empty process caches."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    caches["default"].clear()
    llm_export.clear_caches()


def add_tool(tenant: Tenant, name: str, **fields: Any) -> Tool:
    services.create_tool(
        tenant, definition=make_definition(name=name, **fields), actor=None, publish=True
    )
    return Tool.objects.get(tenant=tenant, name=name)


def names(results: list[tuple[str, float]]) -> list[str]:
    return [name for name, _ in results]


# -- text ----------------------------------------------------------------------------------


def test_identifiers_are_split_and_lower_cased() -> None:
    assert retrieval.tokenize("disk_usage on web-01, vm.swappiness") == [
        "disk",
        "usage",
        "on",
        "web",
        "01",
        "vm",
        "swappiness",
    ]


def test_a_camel_case_word_is_also_kept_whole() -> None:
    assert retrieval.tokenize("lastLogonTimestamp") == [
        "last",
        "logon",
        "timestamp",
        "lastlogontimestamp",
    ]


def test_top_k_breaks_ties_by_name_and_drops_zero_scores() -> None:
    import numpy as np

    scores = np.array([1.0, 2.0, 1.0, 0.0, 1.0], dtype=np.float32)

    assert retrieval.top_k(scores, 3, ["e", "a", "d", "c", "b"]) == [
        (1, 2.0),
        (4, 1.0),
        (2, 1.0),
    ]
    assert retrieval.top_k(np.zeros(3, dtype=np.float32), 2, ["a", "b", "c"]) == []


# -- the quality the issue asks for --------------------------------------------------------


def test_queries_find_their_tool_in_the_sample_catalog(tenant: Tenant) -> None:
    read = read_path(SAMPLE)
    services.import_definitions(tenant, read.sources, actor=None, problems=read.problems)
    assert len(QUERIES) >= 60

    ranks = []
    for item in QUERIES:
        ranks.append(retrieval.rank_of(item["expect"], retrieval.search(tenant, item["query"], 5)))
    top1 = sum(rank == 1 for rank in ranks) / len(ranks)
    top5 = sum(rank is not None for rank in ranks) / len(ranks)
    print(f"\nretrieval over the sample catalog: top-1 {top1:.1%}, top-5 {top5:.1%}")

    missed = [item["query"] for item, rank in zip(QUERIES, ranks, strict=True) if rank is None]
    assert top5 >= 0.9, missed


def test_every_expected_tool_exists_in_the_sample_catalog() -> None:
    sample = {yaml.safe_load(p.read_text())["name"] for p in SAMPLE.rglob("*.yaml")}

    assert {item["expect"] for item in QUERIES} <= sample
    assert all(set(item) == {"query", "expect"} for item in QUERIES)


# -- what is searched ----------------------------------------------------------------------


def test_search_reads_names_descriptions_use_cases_and_parameters(tenant: Tenant) -> None:
    add_tool(tenant, "disk_usage")
    add_tool(
        tenant,
        "cert_check",
        description="Report when TLS certificates expire.",
        tags=["tls"],
        input_schema={
            "type": "object",
            "properties": {"endpoint": {"type": "string", "description": "host:port to dial"}},
        },
        script="def main(endpoint):\n    return {}\n",
    )

    assert names(retrieval.search(tenant, "disk"))[0] == "disk_usage"
    assert names(retrieval.search(tenant, "is the disk full"))[0] == "disk_usage"
    assert names(retrieval.search(tenant, "certificates expire"))[0] == "cert_check"
    assert names(retrieval.search(tenant, "dial an endpoint")) == ["cert_check"]
    assert retrieval.search(tenant, "zzzz nothing matches") == []


def test_only_usable_tools_are_found(tenant: Tenant) -> None:
    for name in ("disk_ok", "disk_disabled", "disk_archived", "disk_old", "disk_off"):
        add_tool(tenant, name)
    services.disable_tool(Tool.objects.get(name="disk_disabled"), actor=None)
    services.archive_tool(Tool.objects.get(name="disk_archived"), actor=None)
    services.deprecate_tool(Tool.objects.get(name="disk_old"), actor=None)
    services.set_tool_status(Tool.objects.get(name="disk_off"), status="disabled", actor=None)

    assert names(retrieval.search(tenant, "disk")) == ["disk_ok"]
    assert sorted(names(retrieval.search(tenant, "disk", include_deprecated=True))) == [
        "disk_ok",
        "disk_old",
    ]


def test_filters_narrow_the_search(tenant: Tenant) -> None:
    add_tool(tenant, "disk_linux", platform="linux", tags=["storage"])
    add_tool(tenant, "disk_windows", platform="windows", category="system", tags=["capacity"])

    assert names(retrieval.search(tenant, "disk", platform="windows")) == ["disk_windows"]
    assert names(retrieval.search(tenant, "disk", category="system")) == ["disk_windows"]
    assert names(retrieval.search(tenant, "disk", tag="Storage")) == ["disk_linux"]


def test_tools_unsafe_everywhere_in_production_are_left_out_there(tenant: Tenant) -> None:
    unsafe = make_definition(name="disk_wipe")
    unsafe["capabilities"][0]["patterns"][0]["policy"]["production_safe"] = False
    services.create_tool(tenant, definition=unsafe, actor=None, publish=True)
    add_tool(tenant, "disk_usage")
    add_tool(tenant, "disk_plain", capabilities=[])

    assert sorted(names(retrieval.search(tenant, "disk", production=True))) == [
        "disk_plain",
        "disk_usage",
    ]
    assert "disk_wipe" in names(retrieval.search(tenant, "disk"))


def test_other_tenants_tools_are_never_found(tenant: Tenant, other_tenant: Tenant) -> None:
    add_tool(other_tenant, "disk_usage")

    assert retrieval.search(tenant, "disk") == []
    assert names(retrieval.search(other_tenant, "disk")) == ["disk_usage"]


# -- the cache -----------------------------------------------------------------------------


def test_the_catalog_is_read_once_per_revision(
    tenant: Tenant, django_assert_num_queries: Any
) -> None:
    add_tool(tenant, "disk_usage")
    first = retrieval.usable_catalog(tenant)
    retrieval.search(tenant, "disk")

    with django_assert_num_queries(0):
        again = retrieval.usable_catalog(tenant)
        retrieval.search(tenant, "disk")

    assert again is first


def test_a_change_written_elsewhere_is_seen_on_the_next_search(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    add_tool(tenant, "disk_usage")
    assert names(retrieval.search(tenant, "disk")) == ["disk_usage"]

    # Another process disables the tool: the database changes and the shared revision
    # is bumped when the transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        services.disable_tool(Tool.objects.get(name="disk_usage"), actor=None)

    assert retrieval.search(tenant, "disk") == []


def test_without_a_revision_bump_the_cached_catalog_is_served(tenant: Tenant) -> None:
    add_tool(tenant, "disk_usage")
    retrieval.search(tenant, "disk")
    Tool.objects.filter(name="disk_usage").update(enabled=False)  # no service, no bump

    assert names(retrieval.search(tenant, "disk")) == ["disk_usage"]
    revision.bump(tenant.pk)
    assert retrieval.search(tenant, "disk") == []


def test_an_empty_catalog_finds_nothing(tenant: Tenant) -> None:
    assert retrieval.search(tenant, "disk") == []


def test_after_a_change_only_new_versions_are_read_for_the_index(
    tenant: Tenant, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    tools = [add_tool(tenant, f"disk_{i}") for i in range(3)]
    read: list[list[str]] = []
    real = retrieval.load_documents

    def spy(usable: Any) -> Any:
        read.append([tool.name for tool in usable])
        return real(usable)

    monkeypatch.setattr(retrieval, "load_documents", spy)
    retrieval.search(tenant, "disk")
    with django_capture_on_commit_callbacks(execute=True):
        draft = services.edit_tool(
            tools[1],
            definition=make_definition(name="disk_1", version="1.1.0", description="Quota."),
            base_version=tools[1].head_version,
            actor=None,
        )
        services.publish_version(draft, actor=None)
        services.disable_tool(tools[2], actor=None)

    assert names(retrieval.search(tenant, "quota")) == ["disk_1"]
    assert read == [["disk_0", "disk_1", "disk_2"], ["disk_1"]]


def test_scores_of_a_query_with_repeated_words_equal_bm25s_own() -> None:
    rng = random.Random(1)
    words = [f"w{i}" for i in range(300)]
    corpus = [[rng.choice(words) for _ in range(rng.randint(1, 40))] for _ in range(500)]
    index = ToolIndex(corpus)
    vocabulary = index._model.vocab_dict
    for _ in range(50):
        query = " ".join(rng.choice([*words, "unknown"]) for _ in range(rng.randint(1, 300)))
        ids = [vocabulary[word] for word in tokenize(query) if word in vocabulary]
        expected = index._model.get_scores_from_ids(ids)
        assert np.allclose(index.scores(query), expected, rtol=1e-5, atol=1e-6)


def test_only_the_first_ranked_characters_of_a_long_query_count() -> None:
    index = ToolIndex([["disk", "full"], ["cpu", "busy"]])
    padding = "x" * QUERY_RANKED_CHARS
    assert index.scores(padding + " cpu busy").tolist() == [0.0, 0.0]
    assert index.scores("cpu busy " + padding)[1] > 0

"""GET /api/v1/llm/tools: formats, retrieval, what never appears, caching, access."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db.models import F
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from catalog import services
from catalog.formats.files import read_path
from catalog.llm import export as llm_export
from catalog.llm import formats as llm_formats
from catalog.models import Role, Tenant, Tool, ToolVersion
from catalog.selectors import definition_of, with_content
from tests.factories import UserFactory, make_definition

URL = "/api/v1/llm/tools"
SAMPLE = Path(__file__).resolve().parents[3] / "catalog" / "sample_catalog"


@pytest.fixture(autouse=True)
def fresh_caches(settings: Any, request: Any) -> None:
    """A shared cache of the test's own (revisions and throttles start afresh) and empty
    process caches."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    caches["default"].clear()
    llm_export.clear_caches()


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def add_tool(tenant: Tenant, name: str, **fields: Any) -> Tool:
    definition = make_definition(name=name, **fields)
    services.create_tool(tenant, definition=definition, actor=None, publish=True)
    return Tool.objects.get(tenant=tenant, name=name)


def tool_names(body: dict[str, Any]) -> list[str]:
    fmt = body["format"]
    if fmt == "openai":
        return [t["function"]["name"] for t in body["tools"]]
    return [t["name"] for t in body["tools"]]


def get(user: User | None, **params: Any) -> Any:
    return client_for(user).get(URL, params)


# -- formats -----------------------------------------------------------------------------


def test_viewer_gets_usable_tools_in_openai_format_by_default(tenant: Tenant, viewer: User) -> None:
    add_tool(tenant, "disk_usage")
    add_tool(tenant, "cpu_top", description="Busiest processes.")

    response = get(viewer)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["ETag"]
    body = response.json()
    assert body["format"] == "openai"
    assert body["count"] == 2
    assert isinstance(body["revision"], int)
    assert tool_names(body) == ["cpu_top", "disk_usage"]
    tool = body["tools"][1]
    assert tool["type"] == "function"
    assert tool["function"]["strict"] is True
    assert tool["function"]["parameters"]["additionalProperties"] is False
    assert "is the disk full" in tool["function"]["description"]
    assert "query" not in body and "matches" not in body


@pytest.mark.parametrize(
    ("fmt", "keys"),
    [
        ("anthropic", {"name", "description", "input_schema"}),
        ("mcp", {"name", "title", "description", "inputSchema", "outputSchema", "annotations"}),
        (
            "frontend",
            {
                "name",
                "title",
                "description",
                "platform",
                "category",
                "tags",
                "parameters",
                "version",
                "capabilities",
            },
        ),
    ],
)
def test_each_format_has_its_shape(tenant: Tenant, viewer: User, fmt: str, keys: set[str]) -> None:
    add_tool(tenant, "disk_usage")

    body = get(viewer, format=fmt).json()

    assert body["format"] == fmt
    assert set(body["tools"][0]) == keys


def test_an_unknown_format_is_refused_in_the_error_shape(tenant: Tenant, viewer: User) -> None:
    response = get(viewer, format="xml")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [f["path"] for f in error["fields"]] == ["format"]


# -- retrieval ---------------------------------------------------------------------------


def test_q_returns_only_the_best_matches_with_their_scores(tenant: Tenant, viewer: User) -> None:
    add_tool(tenant, "disk_usage")
    add_tool(tenant, "cpu_top", description="Busiest processes by CPU.", capabilities=[])
    add_tool(tenant, "mem_free", description="Free memory.", capabilities=[])

    body = get(viewer, q="which process eats the cpu", k=5).json()

    assert tool_names(body)[0] == "cpu_top"
    assert [m["name"] for m in body["matches"]] == tool_names(body)
    assert body["query"] == "which process eats the cpu"
    assert body["matches"][0]["name"] == "cpu_top"
    assert body["matches"][0]["score"] > 0


def pasted_log(chars: int) -> str:
    """A journal an operator pastes whole: the disk filled up, and the writes failed."""
    lines = [
        "Please look at this log from web-3 and tell me which volume is almost full.",
    ]
    for i in range(200):
        lines.append(
            f"May 01 10:{i % 60:02d}:{i % 57:02d} web-3 app[{1000 + i}]: write failed: "
            "No space left on device (disk usage 100%, mount /var full)"
        )
    text = "\n".join(lines)
    assert len(text) >= chars
    return text[:chars]


def test_a_long_pasted_log_is_accepted_and_ranks_the_right_tool_first(
    tenant: Tenant, viewer: User
) -> None:
    read = read_path(SAMPLE)
    services.import_definitions(tenant, read.sources, actor=None, problems=read.problems)
    query = pasted_log(5_000)

    response = get(viewer, q=query, k=5)

    assert response.status_code == 200, response.content
    assert tool_names(response.json())[0] == "disk_usage"


def test_a_query_is_accepted_up_to_its_bound_and_refused_beyond_it(
    tenant: Tenant, viewer: User
) -> None:
    add_tool(tenant, "disk_usage")
    longest = ("disk full " * 2_000)[:20_000]

    assert get(viewer, q=longest).status_code == 200
    refused = get(viewer, q=longest + "x")
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"][0]["path"] == "q"


@pytest.mark.parametrize("spelling", ["yes", "True", "1", "on"])
def test_include_deprecated_takes_the_usual_spellings_of_yes(
    tenant: Tenant, viewer: User, spelling: str
) -> None:
    add_tool(tenant, "disk_old", status="deprecated")
    assert tool_names(get(viewer, include_deprecated=spelling).json()) == ["disk_old"]


def test_a_refused_include_deprecated_says_what_is_valid(tenant: Tenant, viewer: User) -> None:
    response = get(viewer, include_deprecated="maybe")
    assert response.status_code == 400
    [field] = response.json()["error"]["fields"]
    assert field["path"] == "include_deprecated"
    assert "true or false" in field["message"]


def test_k_limits_the_answer(tenant: Tenant, viewer: User) -> None:
    for i in range(25):
        add_tool(tenant, f"disk_{i:02d}", capabilities=[])

    assert get(viewer, q="disk").json()["count"] == 20
    assert get(viewer, q="disk", k=3).json()["count"] == 3
    assert get(viewer, q="disk", k=101).status_code == 400
    assert get(viewer, q="disk", k=0).status_code == 400


def test_q_and_filters_combine(tenant: Tenant, viewer: User) -> None:
    add_tool(tenant, "disk_linux", tags=["storage"])
    add_tool(tenant, "disk_windows", platform="windows", category="system", tags=["capacity"])

    assert tool_names(get(viewer, q="disk", platform="windows").json()) == ["disk_windows"]
    assert tool_names(get(viewer, category="system").json()) == ["disk_windows"]
    assert tool_names(get(viewer, tag="storage").json()) == ["disk_linux"]
    assert get(viewer, platform="mainframe").status_code == 400


# -- what never appears ----------------------------------------------------------------------


def test_disabled_archived_and_deprecated_tools_are_left_out(tenant: Tenant, viewer: User) -> None:
    for name in ("disk_ok", "disk_disabled", "disk_archived", "disk_old", "disk_off"):
        add_tool(tenant, name)
    services.disable_tool(Tool.objects.get(name="disk_disabled"), actor=None)
    services.archive_tool(Tool.objects.get(name="disk_archived"), actor=None)
    services.deprecate_tool(Tool.objects.get(name="disk_old"), actor=None)
    services.set_tool_status(Tool.objects.get(name="disk_off"), status="disabled", actor=None)

    assert tool_names(get(viewer).json()) == ["disk_ok"]
    assert tool_names(get(viewer, q="disk").json()) == ["disk_ok"]
    assert tool_names(get(viewer, include_deprecated="true").json()) == ["disk_ok", "disk_old"]


def test_a_tool_without_a_published_version_is_left_out(tenant: Tenant, viewer: User) -> None:
    services.create_tool(tenant, definition=make_definition(name="draft_only"), actor=None)

    assert get(viewer).json()["tools"] == []


def test_in_production_tools_unsafe_there_are_left_out(tenant: Tenant, viewer: User) -> None:
    unsafe = make_definition(name="disk_wipe")
    unsafe["capabilities"][0]["patterns"][0]["policy"]["production_safe"] = False
    services.create_tool(tenant, definition=unsafe, actor=None, publish=True)
    add_tool(tenant, "disk_usage")

    assert tool_names(get(viewer, environment="production").json()) == ["disk_usage"]
    assert tool_names(get(viewer, environment="staging").json()) == ["disk_usage", "disk_wipe"]


def test_other_tenants_tools_never_appear(
    tenant: Tenant, other_tenant: Tenant, viewer: User, outsider: User
) -> None:
    add_tool(tenant, "disk_usage")
    add_tool(other_tenant, "globex_disk")

    assert tool_names(get(viewer).json()) == ["disk_usage"]
    assert tool_names(get(viewer, q="globex disk").json()) == ["disk_usage"]
    assert tool_names(get(outsider).json()) == ["globex_disk"]
    assert tool_names(get(outsider, q="disk").json()) == ["globex_disk"]


# -- caching -------------------------------------------------------------------------------


def test_a_write_is_seen_by_the_next_request(
    tenant: Tenant, viewer: User, django_capture_on_commit_callbacks: Any
) -> None:
    tool = add_tool(tenant, "disk_usage")
    first = get(viewer, q="disk")
    assert tool_names(first.json()) == ["disk_usage"]

    with django_capture_on_commit_callbacks(execute=True):
        services.disable_tool(tool, actor=None)
    second = get(viewer, q="disk")

    assert second.json()["tools"] == []
    assert second.json()["revision"] > first.json()["revision"]
    assert second["ETag"] != first["ETag"]


def test_a_new_version_is_served_after_publishing(
    tenant: Tenant, viewer: User, django_capture_on_commit_callbacks: Any
) -> None:
    tool = add_tool(tenant, "disk_usage")
    assert get(viewer, format="frontend").json()["tools"][0]["version"] == "1.0.0"

    with django_capture_on_commit_callbacks(execute=True):
        draft = services.edit_tool(
            tool,
            definition=make_definition(version="1.1.0", description="Disk usage, now faster."),
            base_version=tool.head_version,
            actor=None,
        )
        services.publish_version(draft, actor=None)

    served = get(viewer, format="frontend").json()["tools"][0]
    assert served["version"] == "1.1.0"
    assert served["description"] == "Disk usage, now faster."


def test_an_unchanged_catalog_answers_304_to_its_etag(tenant: Tenant, viewer: User) -> None:
    add_tool(tenant, "disk_usage")
    client = client_for(viewer)
    etag = client.get(URL, {"q": "disk"})["ETag"]

    again = client.get(URL, {"q": "disk"}, HTTP_IF_NONE_MATCH=etag)
    other_query = client.get(URL, {"q": "usage"}, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again["ETag"] == etag
    assert other_query.status_code == 200


def test_a_repeated_request_is_served_from_memory(
    tenant: Tenant, viewer: User, django_assert_max_num_queries: Any
) -> None:
    add_tool(tenant, "disk_usage")
    client = client_for(viewer)
    first = client.get(URL)

    # Only the session and the membership are read; no catalog query.
    with django_assert_max_num_queries(3):
        again = client.get(URL)

    assert again.content == first.content


# -- access --------------------------------------------------------------------------------


def test_anonymous_callers_are_refused(db: Any) -> None:
    response = get(None)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_user_of_no_tenant_is_refused(db: Any) -> None:
    response = get(UserFactory(username="nobody"))

    assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.EDITOR, Role.ADMIN])
def test_an_api_key_of_any_role_reads_its_own_tenant(
    tenant: Tenant, other_tenant: Tenant, admin: User, role: str
) -> None:
    add_tool(tenant, "disk_usage")
    add_tool(other_tenant, "globex_disk")
    _, token = services.create_api_key(tenant, name="agent", role=role, actor=admin)

    response = APIClient().get(URL, {"format": "anthropic"}, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert tool_names(response.json()) == ["disk_usage"]


# -- documentation -------------------------------------------------------------------------


def test_the_schema_documents_parameters_and_an_example_per_format() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/v1/llm/tools"]["get"]

    assert operation["description"]
    parameters = {p["name"] for p in operation["parameters"]}
    assert {"format", "q", "k", "platform", "category", "tag", "environment"} <= parameters
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    formats = {example["value"]["format"] for example in examples.values()}
    assert formats == {"openai", "anthropic", "mcp", "frontend"}


# -- the export's own reads ------------------------------------------------------------------


def test_the_light_definitions_convert_exactly_like_full_ones(tenant: Tenant) -> None:
    read = read_path(SAMPLE)
    services.import_definitions(tenant, read.sources, actor=None, problems=read.problems)
    versions = with_content(
        ToolVersion.objects.filter(tool__tenant=tenant, tool__current_version=F("id"))
    ).select_related("tool")

    light = llm_export.llm_definitions([v.pk for v in versions])

    assert len(light) == len(read.sources)
    for version in versions:
        full = definition_of(version, tool_fields=False)
        for fmt in llm_formats.FORMATS:
            assert llm_formats.convert(light[version.pk], fmt) == llm_formats.convert(full, fmt)

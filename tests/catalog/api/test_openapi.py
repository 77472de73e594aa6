"""The OpenAPI schema, and Swagger UI and Redoc served without any CDN."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.test import Client
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from catalog import services
from catalog.api import examples
from tests.catalog.api.probe import URLCONF, fresh_cache
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def own_cache(settings: Any, request: Any) -> None:
    fresh_cache(settings, request.node.nodeid)


def schema_of(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_of_the_whole_api_renders_and_validates(client: Client, db: Any) -> None:
    schema = schema_of(client)
    validate_schema(schema)
    assert schema["info"]["title"] == "Quiver API"
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


@pytest.mark.urls(URLCONF)
def test_key_endpoints_are_described_with_errors_security_and_examples(
    client: Client, db: Any
) -> None:
    schema = schema_of(client)
    validate_schema(schema)
    keys = schema["paths"]["/api/v1/keys"]
    assert keys["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert "token" in schema["components"]["schemas"]["ApiKeyCreated"]["properties"]
    assert "token" not in schema["components"]["schemas"]["ApiKey"]["properties"]
    assert {"apiKeyBearer": []} in keys["get"]["security"]
    error_ref = {"$ref": "#/components/schemas/Error"}
    for code in ("400", "401", "403", "429"):
        assert keys["get"]["responses"][code]["content"]["application/json"]["schema"] == error_ref
    assert "Retry-After" in keys["get"]["responses"]["429"]["headers"]
    assert "404" in schema["paths"]["/api/v1/keys/{id}"]["get"]["responses"]
    assert "404" not in keys["get"]["responses"]
    body = schema["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"code", "message", "fields"}
    assert schema["components"]["securitySchemes"]["apiKeyBearer"]["scheme"] == "bearer"
    assert schema["components"]["securitySchemes"]["apiKeyHeader"]["name"] == "X-API-Key"


def _local_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_with_no_external_urls(client: Client, db: Any, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html
    assert "<script>" not in html and "<style" not in html  # nothing inline
    assets = _local_assets(html)
    assert assets
    for url in assets:
        assert not url.startswith("//")
        if url.startswith(settings.STATIC_URL) or url.startswith("/" + settings.STATIC_URL):
            path = url.split(settings.STATIC_URL, 1)[1]
            assert finders.find(path), f"{url} is not a static file"
    policy = response["Content-Security-Policy"]
    assert re.search(r"script-src 'self'(;|$)", policy)
    assert "unsafe-eval" not in policy


@pytest.mark.urls(URLCONF)
def test_swagger_ui_gets_its_start_up_script_from_a_url(client: Client, db: Any) -> None:
    html = client.get("/api/docs/").content.decode()
    script = next(url for url in _local_assets(html) if "script" in url).replace("&amp;", "&")
    response = client.get(script)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()
    assert "http://" not in response.content.decode()


@pytest.mark.urls(URLCONF)
def test_html_pages_keep_the_strict_policy(client: Client, viewer: Any) -> None:
    client.force_login(viewer)
    policy = client.get("/settings/api-keys/")["Content-Security-Policy"]
    assert "unsafe-inline" not in policy


# -- the schema's examples and parameters agree with the endpoints -------------------------


def example_world(tenant: Any, admin: Any, operation: str) -> None:
    """disk_usage 1.1.0 and 1.2.0 published, as the examples assume; what else one
    operation's example needs first (a draft to publish, an archived tool to restore)."""
    if operation in ("tools_create", "tools_import_create"):
        return
    first = {**examples.VERSION_FIELDS, "version": "1.1.0", "description": "Report disk usage."}
    tool = services.create_tool(tenant, definition=first, actor=admin, publish=True)
    second = services.edit_tool(
        tool, definition=examples.VERSION_FIELDS, base_version=tool.current_version, actor=admin
    )
    services.publish_version(second, actor=admin)
    tool.refresh_from_db()
    if operation == "tools_publish_create":
        draft = {**examples.NEW_DEFINITION, "description": "A draft."}
        services.edit_tool(tool, definition=draft, base_version=second, actor=admin)
    if operation == "tools_restore_create":
        services.archive_tool(tool, actor=admin)


def example_member(tenant: Any) -> Any:
    user = UserFactory(username="bob")
    return MembershipFactory(user=user, tenant=tenant, role="editor")


def request_examples(schema: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                for example in (body.get("examples") or {}).values():
                    found.append((method, path, operation["operationId"], media, example["value"]))
    return found


def test_every_request_example_of_the_schema_is_accepted_by_its_endpoint(
    client: Client, tenant: Any, admin: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.API_THROTTLE_READ = settings.API_THROTTLE_WRITE = "off"
    monkeypatch.setattr("planner.services.MAX_WAIT_S", 0.01)  # no worker runs here
    found = request_examples(schema_of(client))
    assert len(found) >= 15
    api = APIClient()
    api.force_login(admin)
    refused = []
    for method, path, operation, media, value in found:
        savepoint = transaction.savepoint()
        try:
            example_world(tenant, admin, operation)
            url = path.replace("{name}", "disk_usage")
            if operation.startswith("members_"):  # a member the example changes
                url = url.replace("{id}", str(example_member(tenant).pk))
            headers = {}
            if method in ("put", "patch"):
                headers["HTTP_IF_MATCH"] = api.get(url)["ETag"]  # tools and script limits
            body = value if isinstance(value, str) else json.dumps(value)
            response = api.generic(method.upper(), url, body, content_type=media, **headers)
            if response.status_code >= 400:
                refused.append(f"{method.upper()} {path} ({media}): {response.content[:300]!r}")
        finally:
            transaction.savepoint_rollback(savepoint)
    assert not refused, "\n".join(refused)


def test_the_paging_parameters_say_which_numbers_are_taken(client: Client, db: Any) -> None:
    parameters = {
        p["name"]: p["schema"]
        for p in schema_of(client)["paths"]["/api/v1/tools"]["get"]["parameters"]
    }
    assert parameters["page"]["minimum"] == 1
    assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 200)


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/tools?page=0",
        "/api/v1/tools?page=",
        "/api/v1/tools?page_size=",
        "/api/v1/tools/export?format=",
        "/api/v1/llm/tools?format=",
        "/api/v1/tools/import?dry_run=",
    ],
)
def test_values_the_schema_does_not_allow_are_a_400_naming_the_parameter(
    query: str, tenant: Any, admin: Any, settings: Any
) -> None:
    settings.API_THROTTLE_READ = settings.API_THROTTLE_WRITE = "off"
    api = APIClient()
    api.force_login(admin)
    path, _, parameter = query.partition("?")
    if path.endswith("import"):
        response = api.post(query, "name: x", content_type="application/yaml")
    else:
        response = api.get(query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == parameter.split("=")[0]


def test_the_api_takes_only_json_bodies_as_its_schema_says(
    client: Client, tenant: Any, admin: Any
) -> None:
    schema = schema_of(client)
    create = schema["paths"]["/api/v1/tools"]["post"]["requestBody"]["content"]
    assert list(create) == ["application/json"]
    api = APIClient()
    api.force_login(admin)
    response = api.post("/api/v1/tools", {"reason": "x"}, format="multipart")
    assert response.status_code == 415

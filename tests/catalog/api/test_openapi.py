"""The OpenAPI schema, and Swagger UI and Redoc served without any CDN."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.validation import validate_schema

from tests.catalog.api.probe import URLCONF, fresh_cache


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

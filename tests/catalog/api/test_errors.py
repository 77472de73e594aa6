"""Every failure answers in the one error shape: {"error": {code, message, fields}}."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from rest_framework import exceptions
from rest_framework.test import APIClient

from catalog.definitions.problems import DefinitionInvalid, FieldError
from catalog.formats.files import Problem
from catalog.models import Tenant, Tool
from catalog.services import ImportFailed, ImportReport, StaleEdit, create_tool, edit_tool
from tests.catalog.api import probe
from tests.catalog.api.probe import PROBE, URLCONF, fresh_cache
from tests.factories import make_definition

pytestmark = pytest.mark.urls(URLCONF)
RAISE = f"{PROBE}/raise"


@pytest.fixture(autouse=True)
def own_cache(settings: Any, request: Any) -> None:
    fresh_cache(settings, request.node.nodeid)


@pytest.fixture
def api(viewer: User) -> APIClient:
    client = APIClient()
    client.force_login(viewer)
    return client


def raised(api: APIClient, error: BaseException) -> Any:
    probe.next_error.append(error)
    return api.get(RAISE)


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert {"code", "message", "fields"} <= set(error)
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert all(set(f) == {"path", "message"} for f in error["fields"])
    return error


def test_nested_serializer_errors_become_dotted_paths(api: APIClient) -> None:
    error = error_of(
        raised(
            api,
            exceptions.ValidationError(
                {
                    "definition": {"capabilities": [{}, {"name": ["This field is required."]}]},
                    "non_field_errors": ["Send a definition or a file, not both."],
                    "tags": ["Not a list."],
                }
            ),
        ),
        400,
        "invalid",
    )
    assert error["fields"] == [
        {"path": "definition.capabilities[1].name", "message": "This field is required."},
        {"path": "", "message": "Send a definition or a file, not both."},
        {"path": "tags", "message": "Not a list."},
    ]
    assert error["message"] == "The request is invalid: 3 problems; see fields."


def test_a_single_problem_is_the_message(api: APIClient) -> None:
    error = error_of(raised(api, exceptions.ValidationError({"k": ["Bad."]})), 400, "invalid")
    assert error["message"] == "k: Bad."


def test_definition_errors_keep_their_paths(api: APIClient) -> None:
    invalid = DefinitionInvalid(
        [
            FieldError("input_schema.properties.n.type", "'integr' is not a type"),
            FieldError("capabilities[0].name", "required"),
        ]
    )
    error = error_of(raised(api, invalid), 400, "invalid_definition")
    assert [f["path"] for f in error["fields"]] == [
        "input_schema.properties.n.type",
        "capabilities[0].name",
    ]


def test_django_validation_errors_by_field(api: APIClient) -> None:
    error = error_of(
        raised(api, ValidationError({"slug": ["Taken."], "__all__": ["No."]})), 400, "invalid"
    )
    assert error["fields"] == [
        {"path": "slug", "message": "Taken."},
        {"path": "", "message": "No."},
    ]
    plain = error_of(raised(api, ValidationError("Just no.")), 400, "invalid")
    assert plain["fields"] == [{"path": "", "message": "Just no."}]


def test_permission_denied_is_403_with_the_services_reason(api: APIClient) -> None:
    error = error_of(
        raised(api, PermissionDenied("This needs the editor role in acme.")),
        403,
        "permission_denied",
    )
    assert error["message"] == "This needs the editor role in acme."


@pytest.mark.parametrize(
    "missing", [Http404("No Tool matches"), Tool.DoesNotExist(), ObjectDoesNotExist()]
)
def test_missing_objects_are_404(api: APIClient, missing: Exception) -> None:
    assert error_of(raised(api, missing), 404, "not_found")["message"] == "Not found."


def test_stale_edit_is_412_with_the_current_state(
    api: APIClient, tenant: Tenant, editor: User
) -> None:
    tool = create_tool(tenant, definition=make_definition(), actor=editor, publish=True)
    base = tool.current_version
    assert base is not None
    edit_tool(
        tool,
        definition=make_definition(version="1.1.0", description="Theirs."),
        base_version=base,
        actor=editor,
    )
    with pytest.raises(StaleEdit) as stale:
        edit_tool(
            tool,
            definition=make_definition(version="1.2.0", description="Mine."),
            base_version=base,
            actor=editor,
        )
    error = error_of(raised(api, stale.value), 412, "stale_edit")
    current = error["current"]
    assert current["tool"] == "disk_usage"
    assert current["base_version"] == "1.0.0"
    assert current["head_version"] == "1.1.0"
    assert current["head_state"] == "draft"
    assert current["current_version"] == "1.0.0"
    assert current["changed_by"] == "editor-acme"
    assert current["changes"]["description"][1] == "Theirs."


def test_failed_import_lists_each_problem_by_file_and_path(api: APIClient) -> None:
    report = ImportReport(
        problems=[
            Problem("tools.yaml", "tools[2].input_schema.type", "'integr' is not a type"),
            Problem("broken.json", "", "not valid JSON: line 3"),
        ]
    )
    error = error_of(raised(api, ImportFailed(report)), 400, "import_failed")
    assert error["fields"] == [
        {"path": "tools.yaml: tools[2].input_schema.type", "message": "'integr' is not a type"},
        {"path": "broken.json", "message": "not valid JSON: line 3"},
    ]
    assert "nothing changed" in error["message"]


def test_wrong_method_is_405_with_allow(editor: User) -> None:
    client = APIClient()
    client.force_login(editor)
    response = client.put(PROBE, {})
    error_of(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_malformed_json_is_400_parse_error(editor: User) -> None:
    client = APIClient()
    client.force_login(editor)
    response = client.post(PROBE, data='{"name": ', content_type="application/json")
    error_of(response, 400, "parse_error")


def test_unsupported_body_type_is_415(editor: User) -> None:
    client = APIClient()
    client.force_login(editor)
    response = client.post(PROBE, data="name: x", content_type="text/x-unknown")
    error_of(response, 415, "unsupported_media_type")


def test_unacceptable_accept_header_is_406(api: APIClient) -> None:
    error_of(api.get(PROBE, HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_authentication_errors_are_401(db: Any) -> None:
    error_of(APIClient().get(PROBE), 401, "not_authenticated")
    error_of(
        APIClient().get(PROBE, HTTP_AUTHORIZATION="Bearer qv_x_y"), 401, "authentication_failed"
    )


def test_throttled_is_429(api: APIClient) -> None:
    response = raised(api, exceptions.Throttled(wait=12.2))
    error_of(response, 429, "throttled")
    assert response["Retry-After"] == "13"


def test_unknown_api_url_is_json_404(client: Client, db: Any) -> None:
    error_of(client.get("/api/v1/no-such-thing"), 404, "not_found")
    error_of(client.get("/api/nothing/here/"), 404, "not_found")


def test_crash_under_api_is_json_500_and_pages_stay_html(api: APIClient) -> None:
    api.raise_request_exception = False
    error = error_of(raised(api, RuntimeError("boom")), 500, "server_error")
    assert "boom" not in error["message"]


def test_html_pages_keep_their_html_errors(client: Client, viewer: User) -> None:
    client.force_login(viewer)
    response = client.get("/tools/no-such-tool/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")

"""Who may do what through the API, cell by cell: role by action by target.

Targets, as seen by the caller: ``own`` is a tool of the caller's tenant that the caller
owns; ``other`` is one another editor of that tenant owns; ``far`` is a tool of another
tenant. The outsider is an editor of the other tenant (globex): to them ``far`` is
acme's tool. A cell says the status the call must answer, or ``HIDDEN``: 200 without
the target in it (lists, export and audit never show another tenant's rows).

Every cell is its own test, on its own fresh catalog; a wrong cell fails by name, and
``test_the_matrix_has_every_cell`` fails if a cell is missing from the table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from catalog import services
from catalog.models import Role, Tenant, Tool
from tests.catalog.api.resources import (
    API,
    api_as,
    head_definition,
    new_version,
    no_throttling,  # noqa: F401  (autouse fixture)
    tool_url,
)
from tests.factories import MembershipFactory, UserFactory, make_definition

pytestmark = pytest.mark.django_db

HIDDEN = "hidden"
ROLES = ("admin", "editor", "operator", "viewer", "outsider", "anonymous")
TARGETS = ("own", "other", "far")
ACTIONS = (
    "list",
    "get",
    "create",
    "update",
    "publish",
    "rollback",
    "enable",
    "disable",
    "deprecate",
    "archive",
    "restore",
    "import",
    "export",
    "audit",
)

# The expected answers: (own, other, far) per role and action; one value for all three.
ALL_READS = (200, 200, HIDDEN)
READ_ONE = (200, 200, 404)
EVERYWHERE = (200, 200, 404)
OWN_ONLY = (200, 403, 404)
ADMIN = {
    "list": ALL_READS,
    "get": READ_ONE,
    "create": 201,
    "update": EVERYWHERE,
    "publish": EVERYWHERE,
    "rollback": EVERYWHERE,
    "enable": EVERYWHERE,
    "disable": EVERYWHERE,
    "deprecate": EVERYWHERE,
    "archive": EVERYWHERE,
    "restore": EVERYWHERE,
    # Importing a definition named like another tenant's tool creates a new tool in the
    # caller's own tenant; the other tenant's tool is checked to be untouched.
    "import": (200, 200, 200),
    "export": ALL_READS,
    "audit": ALL_READS,
}
EDITOR = ADMIN | {
    "update": OWN_ONLY,
    "publish": OWN_ONLY,
    "rollback": OWN_ONLY,
    "deprecate": OWN_ONLY,
    "archive": OWN_ONLY,
    "restore": OWN_ONLY,
    # Changing another editor's tool by import: a problem of the import (400), nothing
    # written.
    "import": (200, 400, 200),
}
VIEWER = {action: 403 for action in ACTIONS} | {
    "list": ALL_READS,
    "get": READ_ONE,
    "export": ALL_READS,
    "audit": ALL_READS,
}
OPERATOR = VIEWER | {"enable": EVERYWHERE, "disable": EVERYWHERE}
EXPECTED: dict[str, dict[str, Any]] = {
    "admin": ADMIN,
    "editor": EDITOR,
    "operator": OPERATOR,
    "viewer": VIEWER,
    "outsider": EDITOR,
    "anonymous": {action: 401 for action in ACTIONS},
}


def expected(role: str, action: str, target: str) -> int | str:
    cell = EXPECTED[role][action]
    return cell if not isinstance(cell, tuple) else cell[TARGETS.index(target)]


CELLS = [
    pytest.param(role, action, target, id=f"{role}-{action}-{target}")
    for role in ROLES
    for action in ACTIONS
    for target in TARGETS
]


# -- the world each cell runs in --------------------------------------------------------


def member(tenant: Tenant, username: str, role: str) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, tenant=tenant, role=role)
    return user


def tool_with_history(tenant: Tenant, name: str, owner: Any) -> Tool:
    """1.0.0 and 1.0.1 published, a draft 1.0.2 waiting; owned by ``owner``."""
    tool = services.create_tool(
        tenant,
        definition=make_definition(name=name, owners=[owner.username]),
        actor=None,
        publish=True,
    )
    new_version(tool, None, publish=True, description="The second published version.")
    new_version(tool, None, publish=False, description="A draft after the second version.")
    return tool


@pytest.fixture
def world(tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    acme_editor = member(tenant, "editor-acme", Role.EDITOR)
    globex_editor = member(other_tenant, "editor-globex", Role.EDITOR)
    return {
        "acme": tenant,
        "globex": other_tenant,
        "users": {
            "admin": member(tenant, "admin-acme", Role.ADMIN),
            "editor": acme_editor,
            "operator": member(tenant, "operator-acme", Role.OPERATOR),
            "viewer": member(tenant, "viewer-acme", Role.VIEWER),
            "outsider": globex_editor,
            "anonymous": None,
        },
        "others": {
            "acme": member(tenant, "editor2-acme", Role.EDITOR),
            "globex": member(other_tenant, "editor2-globex", Role.EDITOR),
        },
        "acme_editor": acme_editor,
    }


def target_tool(world: dict[str, Any], role: str, target: str) -> Tool:
    """The tool a cell acts on, as the caller sees it."""
    user = world["users"][role]
    home, away = ("globex", "acme") if role == "outsider" else ("acme", "globex")
    if target == "own":
        owner = user if user is not None else world["acme_editor"]
        return tool_with_history(world[home], "own_tool", owner)
    if target == "other":
        return tool_with_history(world[home], "their_tool", world["others"][home])
    return tool_with_history(world[away], "far_tool", world["others"][away])


def prepare(action: str, tool: Tool) -> None:
    if action == "enable":
        services.disable_tool(tool, actor=None)
    elif action == "restore":
        services.archive_tool(tool, actor=None)


# -- the calls ---------------------------------------------------------------------------


def call(client: Any, action: str, tool: Tool) -> Any:
    name = tool.name
    if action == "list":
        return client.get(tool_url(), {"q": name, "archived": "include"})
    if action == "get":
        return client.get(tool_url(name))
    if action == "create":
        return client.post(
            tool_url(), {"definition": make_definition(name="brand_new")}, format="json"
        )
    if action == "update":
        definition = head_definition(tool, description="Edited through the API.")
        return client.put(
            tool_url(name), {"definition": definition, "base_version": "1.0.2"}, format="json"
        )
    if action == "rollback":
        return client.post(
            tool_url(name, "rollback"), {"to_version": "1.0.0", "reason": "x"}, format="json"
        )
    if action == "import":
        definition = head_definition(tool, description="Changed by an import.")
        body = yaml.safe_dump(definition | {"name": name})
        return client.post(tool_url("import"), body, content_type="application/yaml")
    if action == "export":
        return client.get(tool_url("export"), {"format": "json", "q": name})
    if action == "audit":
        return client.get(f"{API}/audit", {"tool": name})
    return client.post(tool_url(name, action), {"reason": "matrix"}, format="json")


def outcome(response: Any, action: str, tool: Tool) -> int | str:
    """The status, or HIDDEN when a 200 list does not contain the target."""
    if response.status_code != 200 or action not in ("list", "export", "audit"):
        return int(response.status_code)
    if action == "export":
        shown = [d["name"] for d in json.loads(b"".join(response.streaming_content))]
        return 200 if tool.name in shown else HIDDEN
    body = response.json()
    if action == "audit":
        return 200 if body["count"] else HIDDEN
    return 200 if tool.name in [row["name"] for row in body["results"]] else HIDDEN


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "action", "target"), CELLS)
def test_cell(world: dict[str, Any], role: str, action: str, target: str) -> None:
    tool = target_tool(world, role, target)
    prepare(action, tool)
    before = Tool.objects.get(pk=tool.pk)
    versions = tool.versions.count()

    response = call(api_as(world["users"][role]), action, tool)

    want = expected(role, action, target)
    got = outcome(response, action, tool)
    assert got == want, f"{role} {action} {target}: expected {want}, got {got}: {response}"
    if got in (400, 401, 403, 404) or (action == "import" and target == "far"):
        # Refused (or aimed at another tenant): the target is exactly as it was.
        after = Tool.objects.get(pk=tool.pk)
        fields = ("enabled", "status", "archived_at", "current_version_id", "head_version_id")
        assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
        assert tool.versions.count() == versions


def test_the_matrix_has_every_cell() -> None:
    cells = {(role, action, target) for role in ROLES for action in ACTIONS for target in TARGETS}
    assert len(cells) == len(ROLES) * len(ACTIONS) * len(TARGETS) == 252
    for role, action, target in cells:
        assert expected(role, action, target) in (200, 201, 400, 401, 403, 404, HIDDEN)

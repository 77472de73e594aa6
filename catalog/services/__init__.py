"""Every change to the catalog. Each service is atomic, checks the actor's role, writes
its audit row in the same transaction, and bumps the tenant's catalog revision on commit.

``actor`` is the acting user, or ``None`` for the system (management commands).
"""

from catalog.permissions import Actor, require_role, role_of
from catalog.services.apikeys import create_api_key, revoke_api_key
from catalog.services.importing import (
    ImportFailed,
    ImportItem,
    ImportReport,
    import_definitions,
)
from catalog.services.members import (
    NewLogin,
    add_member,
    change_member_role,
    create_member,
    find_login,
    remove_member,
    renew_sign_in_link,
)
from catalog.services.states import STATE_CHANGES, StateChange, StateOutcome, change_states
from catalog.services.tenants import (
    StaleLimits,
    create_tenant,
    sandbox_limits_of,
    set_membership,
    set_sandbox_limits,
)
from catalog.services.tools import (
    archive_tool,
    create_tool,
    deprecate_tool,
    disable_tool,
    discard_draft,
    edit_tool,
    enable_tool,
    problems_in_tenant,
    publish_version,
    purge_tool,
    restore_tool,
    rollback_tool,
    set_tool_status,
)
from catalog.services.versions import StaleEdit

__all__ = [
    "STATE_CHANGES",
    "Actor",
    "ImportFailed",
    "ImportItem",
    "ImportReport",
    "NewLogin",
    "StaleEdit",
    "StaleLimits",
    "StateChange",
    "StateOutcome",
    "add_member",
    "archive_tool",
    "change_member_role",
    "change_states",
    "create_api_key",
    "create_member",
    "create_tenant",
    "create_tool",
    "deprecate_tool",
    "disable_tool",
    "discard_draft",
    "edit_tool",
    "enable_tool",
    "find_login",
    "import_definitions",
    "problems_in_tenant",
    "publish_version",
    "purge_tool",
    "remove_member",
    "renew_sign_in_link",
    "require_role",
    "restore_tool",
    "revoke_api_key",
    "role_of",
    "rollback_tool",
    "sandbox_limits_of",
    "set_membership",
    "set_sandbox_limits",
    "set_tool_status",
]

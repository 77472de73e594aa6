"""The OpenAPI description's front page (Markdown). Plain text only: settings import it."""

API_DESCRIPTION = """
Quiver's catalog of tools for LLM agents, for programs: the same tools, versions,
imports and audit log as the web pages, through the same rules.

## Authentication

Programs send an **API key**, created under *API keys* in the web app or with
`POST /api/v1/keys`:

    Authorization: Bearer qv_<prefix>_<secret>

(or `X-API-Key: qv_<prefix>_<secret>`). A key belongs to one tenant and acts as the
member who created it, with the lower of the key's role and that member's current role;
it stops working when revoked, when it expires, or when its creator leaves the tenant.
The token is shown once, when the key is created; Quiver keeps only a hash of it.

In the browser the session cookie works too; changes then need the `X-CSRFToken` header.

Roles, each including the ones below it: **viewer** (read), **operator** (enable and
disable), **editor** (create and change tools; editors change only tools they own),
**admin** (everything, including every member's keys). Another tenant's objects do not
exist for you: they answer 404.

## Rate limits

Each user has a budget of reads (GET) and of writes (POST, PUT, PATCH, DELETE) per
minute, 600 and 120 unless the operator changed them, shared by all of the user's keys
and their signed-in session. Past it the API answers
`429` with a `Retry-After` header giving the seconds to wait.

## Errors

Every error has one shape:

```json
{"error": {"code": "invalid_definition",
           "message": "The definition is invalid: 2 problems; see fields.",
           "fields": [{"path": "input_schema.properties.n.type",
                       "message": "'integr' is not a JSON Schema type"},
                      {"path": "capabilities[0].name", "message": "This field is required."}]}}
```

`code` is stable, for programs; `message` is for people; `fields` lists each problem by
the path of the input at fault (dots for keys, `[n]` for list positions; `""` for the
request as a whole; for imports `<file>: <path>`). A failed request changes nothing.

| status | code | meaning |
| --- | --- | --- |
| 400 | `invalid` | the body or query string failed validation |
| 400 | `invalid_definition` | a tool definition failed validation |
| 400 | `import_failed` | an import had problems; nothing was imported |
| 400 | `parse_error` | the body could not be parsed |
| 400 | `bad_request` | the request was rejected before reaching the API |
| 401 | `not_authenticated` | no API key and no session |
| 401 | `authentication_failed` | the key is unknown, revoked or expired, or its owner left |
| 403 | `permission_denied` | your role does not allow this (or the CSRF check failed) |
| 404 | `not_found` | no such object in your tenant, or no such URL |
| 405 | `method_not_allowed` | the URL does not take this method |
| 406 | `not_acceptable` | no representation matches the `Accept` header |
| 409 | `conflict` | the run has moved on (e.g. cancelling a run that has ended) |
| 412 | `stale_edit` | the edit was based on an older version; `current` is the state now |
| 415 | `unsupported_media_type` | the body's `Content-Type` is not accepted here |
| 422 | `refused` | policy refuses the run: cost above `max_cost`, not production-safe, disabled |
| 428 | `precondition_required` | an update without `If-Match` or a base version |
| 429 | `throttled` | too many requests; wait `Retry-After` seconds |
| 500 | `server_error` | a fault on our side; nothing was half-applied |
| 503 | `not_queued` | the run is recorded but the queue did not take it; Quiver resends it |

## Running tools

`POST /api/v1/executions` with `{"tool": "disk_usage", "arguments": {...}}` checks the
arguments against the tool's input schema (filling its defaults) and the policy of its
pattern, records the run and queues it for a worker; scripts run in a sandbox. Add
`"wait": 10` to be answered when the run has ended, or follow it with
`GET /api/v1/executions/{id}` until `final` is true. An `idempotency_key` (or the
`Idempotency-Key` header) makes retries safe: the same key returns the first run. Runs
whose pattern requires approval wait as `awaiting_approval` until an admin approves them.
The `isolation` of a finished run says how it was confined: `bubblewrap` (its own
namespaces, no network unless allowed, no view of Quiver's files), `rlimits-only` (a
machine without bubblewrap: resource limits only), or `in-process` (trusted code
registered with `@tool`).
"""

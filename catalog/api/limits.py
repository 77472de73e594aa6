"""/api/v1/script-limits: what the tenant's scripts may have, and its admins' narrowing.

Every member reads them; only admins change them. A change names the revision it is
based on, as ``revision`` in the body or as the ETag read in If-Match (428 without
either, 412 when someone changed them since); ``PUT`` sets every field, ``PATCH`` the
ones sent. The machine's limits, set by the operator, are shown beside the tenant's and
bound them: a change can only narrow them.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import sandbox_limits
from catalog.accounts.guards import client_ip
from catalog.models import REASON_MAX_LENGTH, Role, SandboxLimits, Tenant
from catalog.services import StaleLimits, sandbox_limits_of, set_sandbox_limits
from config.api.errors import PreconditionFailed, PreconditionRequired
from config.api.permissions import api_tenant, role_at_least
from config.api.schema import error_response


class LimitsSerializer(serializers.Serializer):
    network = serializers.BooleanField(help_text="Whether its scripts may use the network.")
    internal_networks = serializers.ListField(
        child=serializers.CharField(max_length=64),
        allow_null=True,
        max_length=64,
        help_text="The machine's internal networks the tenant's scripts may reach (IPv4 "
        "networks inside them); null: all of them.",
    )
    max_memory_mb = serializers.IntegerField(
        allow_null=True, help_text="The most memory one run may have, in MB; null: the machine's."
    )


class LimitsChangeSerializer(LimitsSerializer):
    revision = serializers.IntegerField(
        min_value=0, required=False, help_text="The revision you read (or send its ETag)."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text="For the audit log.",
    )


class EffectiveSerializer(serializers.Serializer):
    network = serializers.BooleanField()
    internal_networks = serializers.ListField(child=serializers.CharField())
    memory_mb = serializers.IntegerField()


class LimitsReadSerializer(LimitsSerializer):
    revision = serializers.IntegerField()
    effective = EffectiveSerializer(help_text="What holds for runs: the machine's, narrowed.")
    machine = EffectiveSerializer(help_text="The operator's limits for the whole machine.")


STALE = {
    412: error_response("`stale_edit`: the limits changed since the revision you read."),
    428: error_response("`precondition_required`: send `revision` or If-Match."),
}

EXAMPLE = {
    "network": True,
    "internal_networks": ["10.20.1.0/24"],
    "max_memory_mb": 512,
    "revision": 3,
    "effective": {"network": True, "internal_networks": ["10.20.1.0/24"], "memory_mb": 512},
    "machine": {"network": True, "internal_networks": ["10.20.0.0/16"], "memory_mb": 4096},
}


def _read(row: SandboxLimits) -> dict[str, Any]:
    effective, machine = sandbox_limits.narrowed(row), sandbox_limits.machine()
    return {
        "network": row.network,
        "internal_networks": row.internal_networks,
        "max_memory_mb": row.max_memory_mb,
        "revision": row.revision,
        "effective": asdict(effective),
        "machine": asdict(machine),
    }


class ScriptLimitsView(APIView):
    def get_permissions(self) -> list[Any]:
        needed = Role.VIEWER if self.request.method in ("GET", "HEAD", "OPTIONS") else Role.ADMIN
        return [role_at_least(needed)()]

    @extend_schema(
        summary="Get the script limits",
        responses={200: LimitsReadSerializer},
        examples=[OpenApiExample("Narrowed", value=EXAMPLE, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return _answer(sandbox_limits_of(self._tenant(request)))

    @extend_schema(
        summary="Set the script limits",
        description="Admins only. Narrows the machine's limits for this tenant; "
        "`revision` is the one you read (412 when they changed since).",
        request=LimitsChangeSerializer,
        responses={200: LimitsReadSerializer, **STALE},
        examples=[
            OpenApiExample(
                "Network on, 256 MB a run",
                value={
                    "network": True,
                    "internal_networks": None,
                    "max_memory_mb": 256,
                    "revision": 0,
                },
                request_only=True,
            )
        ],
    )
    def put(self, request: Request) -> Response:
        return self._change(request, partial=False)

    @extend_schema(
        summary="Change some script limits",
        description="Like PUT, with only the fields to change (and `revision`).",
        request=LimitsChangeSerializer(partial=True),
        responses={200: LimitsReadSerializer, **STALE},
    )
    def patch(self, request: Request) -> Response:
        return self._change(request, partial=True)

    def _tenant(self, request: Request) -> Tenant:
        tenant = api_tenant(request)
        assert tenant is not None  # the permission needs one
        return tenant

    def _change(self, request: Request, *, partial: bool) -> Response:
        tenant = self._tenant(request)
        incoming = LimitsChangeSerializer(data=request.data, partial=partial)
        incoming.is_valid(raise_exception=True)
        revision = _revision(incoming.validated_data.get("revision"), request)
        current = sandbox_limits_of(tenant)
        wanted = {
            name: incoming.validated_data.get(name, getattr(current, name))
            for name in ("network", "internal_networks", "max_memory_mb")
        }
        try:
            row = set_sandbox_limits(
                tenant,
                **wanted,
                revision=revision,
                reason=incoming.validated_data.get("reason", ""),
                actor=request.user,  # type: ignore[arg-type]
                ip=client_ip(request._request),
            )
        except StaleLimits as stale:
            raise PreconditionFailed(stale.messages[0]) from stale
        return _answer(row)


def _answer(row: SandboxLimits) -> Response:
    return Response(_read(row), headers={"ETag": f'"limits-{row.revision}"'})


def _revision(in_body: int | None, request: Request) -> int:
    """The revision a change is based on: the body's, or the one its If-Match names."""
    header = request.headers.get("If-Match", "").strip()
    match = re.fullmatch(r'(?:W/)?"limits-(\d{1,9})"', header)
    if header and match is None:
        raise PreconditionFailed("If-Match names no revision of the script limits.")
    from_header = int(match.group(1)) if match else None
    if in_body is None and from_header is None:
        raise PreconditionRequired(
            "Send the revision you read, as `revision` in the body or its ETag in If-Match."
        )
    if in_body is not None and from_header is not None and in_body != from_header:
        raise serializers.ValidationError({"revision": ["is not the one If-Match names"]})
    return in_body if in_body is not None else from_header  # type: ignore[return-value]


script_limits = ScriptLimitsView.as_view()

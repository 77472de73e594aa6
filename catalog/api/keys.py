"""/api/v1/keys: list, create (the token is in that one response only), revoke.

Admins see and revoke every key of the tenant; other members only their own. Keys
another member made, like another tenant's, are a 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.accounts.guards import client_ip
from catalog.models import ApiKey, Role
from catalog.selectors import api_keys_for
from catalog.services import create_api_key, revoke_api_key
from config.api.permissions import api_role, api_tenant

EXAMPLE_KEY = {
    "id": 7,
    "name": "nightly-sync",
    "prefix": "3f9a1c2b7d4e5f60",
    "role": "viewer",
    "created_by": "alice",
    "created_at": "2025-01-31T09:00:00Z",
    "last_used_at": "2025-02-01T02:00:04Z",
    "expires_at": None,
    "revoked_at": None,
    "revoked_by": None,
    "active": True,
}
EXAMPLE_TOKEN = "qv_3f9a1c2b7d4e5f60_Vf4t3V0o1kq8mF2bXyZ7cR9sPq0aL6wE1uJ5nH3dT2g"  # noqa: S105  (a made-up example)


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never its secret, only the public prefix."""

    created_by = serializers.CharField(source="created_by.get_username", read_only=True)
    revoked_by = serializers.SerializerMethodField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "role",
            "created_by",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
            "revoked_by",
            "active",
        ]
        read_only_fields = fields

    def get_revoked_by(self, key: ApiKey) -> str | None:
        return key.revoked_by.get_username() if key.revoked_by else None

    def get_active(self, key: ApiKey) -> bool:
        """Neither revoked nor expired."""
        return not key.is_revoked and not key.is_expired(timezone.now())


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="Which program uses the key.")
    role = serializers.ChoiceField(
        choices=Role.choices,
        default=Role.VIEWER,
        help_text="At most your own role; the key never exceeds your role at use time.",
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the key stops working; never if empty."
    )


class ApiKeyCreatedSerializer(ApiKeySerializer):
    token = serializers.CharField(
        read_only=True, help_text="The secret token. Shown in this response only: store it now."
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="List API keys",
        description="Keys of your tenant: every key for admins, your own for everyone else. "
        "Secrets are never returned; `prefix` identifies a key.",
        examples=[OpenApiExample("A key", value=EXAMPLE_KEY, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get an API key",
        examples=[OpenApiExample("A key", value=EXAMPLE_KEY, response_only=True)],
    ),
    create=extend_schema(
        summary="Create an API key",
        description="A key that acts as you in this tenant, with at most your role. The "
        "`token` is returned in this response only; afterwards only its prefix is shown.",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
        examples=[
            OpenApiExample(
                "Read-only key for an agent",
                value={"name": "nightly-sync", "role": "viewer"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={**EXAMPLE_KEY, "last_used_at": None, "token": EXAMPLE_TOKEN},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    destroy=extend_schema(
        summary="Revoke an API key",
        description="Same as `POST /keys/{id}/revoke`; the key stops working at once.",
        responses={204: None},
    ),
)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiKeySerializer

    def get_queryset(self) -> QuerySet[ApiKey]:
        tenant, role = api_tenant(self.request), api_role(self.request)
        if tenant is None:  # only reached while generating the schema
            return ApiKey.objects.none()
        return api_keys_for(tenant, self.request.user, role)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ApiKeyCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        key, token = create_api_key(
            api_tenant(request),  # type: ignore[arg-type]
            **incoming.validated_data,
            actor=request.user,  # type: ignore[arg-type]
            max_role=api_role(request),
            ip=client_ip(request._request),
        )
        key.token = token  # type: ignore[attr-defined]
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke an API key",
        description="The key stops working at once. Revoking a revoked key changes nothing.",
        request=None,
        responses={200: ApiKeySerializer},
        examples=[
            OpenApiExample(
                "Revoked",
                value={
                    **EXAMPLE_KEY,
                    "revoked_at": "2025-02-02T10:00:00Z",
                    "revoked_by": "alice",
                    "active": False,
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self._revoke(pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        self._revoke(pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _revoke(self, pk: str) -> ApiKey:
        key = get_object_or_404(self.get_queryset(), pk=pk)
        actor = self.request.user
        return revoke_api_key(key, actor=actor, ip=client_ip(self.request._request))  # type: ignore[arg-type]


key_list = ApiKeyViewSet.as_view({"get": "list", "post": "create"})
key_detail = ApiKeyViewSet.as_view({"get": "retrieve", "delete": "destroy"})
key_revoke = ApiKeyViewSet.as_view({"post": "revoke"})

"""/api/v1/members: the people of the tenant; admins add, create, change and remove them.

Every member may list them (tool owners and approvers are named by username across the
API, so a program needs to resolve them); only admins see email addresses and change
anything. Another tenant's member is a 404. A role change may send the ETag it read in
If-Match (412 when the role changed since); without it the role sent simply holds, as
it names the whole new state.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from catalog.accounts.guards import client_ip
from catalog.models import REASON_MAX_LENGTH, Membership, Role
from catalog.selectors import members_of
from catalog.services import (
    add_member,
    change_member_role,
    create_member,
    find_login,
    remove_member,
    renew_sign_in_link,
)
from catalog.services.members import LINK, PASSWORD
from config.api.errors import PreconditionFailed
from config.api.permissions import api_role, api_tenant, role_at_least
from config.api.schema import error_response

EXAMPLE_MEMBER = {
    "id": 12,
    "username": "bob",
    "email": "bob@example.org",
    "role": "editor",
    "joined_at": "2025-01-31T09:00:00Z",
    "last_login": "2025-02-01T08:12:00Z",
}


class MemberSerializer(serializers.ModelSerializer):
    """A member as listed; ``email`` is shown to admins only (null for everyone else)."""

    username = serializers.CharField(source="user.get_username", read_only=True)
    email = serializers.SerializerMethodField()
    joined_at = serializers.DateTimeField(source="created_at", read_only=True)
    last_login = serializers.DateTimeField(
        source="user.last_login", read_only=True, allow_null=True
    )

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "joined_at", "last_login"]
        read_only_fields = fields

    def get_email(self, membership: Membership) -> str | None:
        if self.context.get("role") != Role.ADMIN:
            return None
        return membership.user.email or ""


class MemberAddSerializer(serializers.Serializer):
    user = serializers.CharField(
        required=False,
        max_length=254,
        help_text="Username or email of an existing login to add. Leave out to create one.",
    )
    username = serializers.CharField(
        required=False, max_length=150, help_text="A new login's username (without `user`)."
    )
    email = serializers.CharField(
        required=False, allow_blank=True, max_length=254, help_text="A new login's email."
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)
    first_sign_in = serializers.ChoiceField(
        choices=[LINK, PASSWORD],
        default=LINK,
        help_text="A new login: `link` returns a one-time link to choose a password; "
        "`password` returns a generated password. Either is in this response only.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text="For the audit log.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("user" in data) == ("username" in data):
            raise serializers.ValidationError(
                {"user": ["Send `user` to add an existing login, or `username` to create one."]}
            )
        return data


class MemberCreatedSerializer(MemberSerializer):
    password = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="A new login's generated password; in this response only.",
    )
    set_password_url = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="A new login's one-time link; in this response only.",
    )

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "password", "set_password_url"]
        read_only_fields = fields


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text="For the audit log.",
    )


def etag_of(membership: Membership) -> str:
    return f'"member-{membership.pk}-{membership.role}"'


@extend_schema_view(
    list=extend_schema(
        summary="List members",
        description="The people of your tenant and their roles; emails for admins only.",
        examples=[OpenApiExample("A member", value=EXAMPLE_MEMBER, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get a member",
        examples=[OpenApiExample("A member", value=EXAMPLE_MEMBER, response_only=True)],
    ),
    create=extend_schema(
        summary="Add a member",
        description="Admins only. `user` adds an existing login (by username or email); "
        "`username` creates a new login, whose password or one-time link is returned in "
        "this response only.",
        request=MemberAddSerializer,
        responses={201: MemberCreatedSerializer},
        examples=[
            OpenApiExample(
                "Create a login with a one-time link",
                value={"username": "carol", "email": "carol@example.org", "role": "viewer"},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                value={
                    **EXAMPLE_MEMBER,
                    "username": "carol",
                    "email": "carol@example.org",
                    "role": "viewer",
                    "last_login": None,
                    "password": None,
                    "set_password_url": "https://quiver.example.org/account/set-password/MTM/"
                    "cj7k2x-4b0f1e2d3c4b5a69788796a5b4c3d2e1/",
                },
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    partial_update=extend_schema(
        summary="Change a member's role",
        description="Admins only. Their API keys in this tenant are lowered to the new role "
        "at once; the last admin stays an admin. If-Match with the ETag read: 412 when "
        "the role changed since.",
        request=MemberRoleSerializer,
        responses={
            200: MemberSerializer,
            412: error_response("`stale_edit`: the role changed since the ETag you sent."),
        },
        examples=[
            OpenApiExample(
                "Make them a viewer",
                value={"role": "viewer", "reason": "moved to another team"},
                request_only=True,
            )
        ],
    ),
    destroy=extend_schema(
        summary="Remove a member",
        description="Admins only. Their sessions lose this tenant and their API keys in it "
        "are revoked at once; the last admin cannot be removed.",
        responses={204: None},
    ),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer

    def get_permissions(self) -> list[Any]:
        needed = Role.VIEWER if self.request.method in ("GET", "HEAD", "OPTIONS") else Role.ADMIN
        return [role_at_least(needed)()]

    def get_queryset(self) -> QuerySet[Membership]:
        tenant = api_tenant(self.request)
        if tenant is None:  # only reached while generating the schema
            return Membership.objects.none()
        return members_of(tenant)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "role": api_role(self.request)}

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        return Response(self.get_serializer(membership).data, headers={"ETag": etag_of(membership)})

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = MemberAddSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data, tenant = incoming.validated_data, api_tenant(request)
        common = {
            "role": data["role"],
            "reason": data.get("reason", ""),
            "actor": request.user,
            "ip": client_ip(request._request),
        }
        secrets: dict[str, Any] = {"password": None, "set_password_url": None}
        if "user" in data:
            membership = add_member(tenant, user=find_login(data["user"]), **common)  # type: ignore[arg-type]
        else:
            new = create_member(
                tenant,  # type: ignore[arg-type]
                username=data["username"],
                email=data.get("email", ""),
                first_sign_in=data["first_sign_in"],
                **common,
            )
            membership = new.membership
            if new.token:
                path = reverse("catalog:set_password", args=[new.uid, new.token])
                secrets["set_password_url"] = request.build_absolute_uri(path)
            else:
                secrets["password"] = new.password
        answer = {**self.get_serializer(membership).data, **secrets}
        return Response(answer, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        header = request.headers.get("If-Match", "").strip()
        if header and header.removeprefix("W/") != etag_of(membership):
            raise PreconditionFailed(
                f"{membership.user.get_username()}'s role changed since you read it: it is "
                f"{membership.role} now (ETag {etag_of(membership)})."
            )
        incoming = MemberRoleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership = change_member_role(
            membership,
            role=incoming.validated_data["role"],
            reason=incoming.validated_data.get("reason", ""),
            actor=request.user,  # type: ignore[arg-type]
            ip=client_ip(request._request),
        )
        return Response(self.get_serializer(membership).data, headers={"ETag": etag_of(membership)})

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        remove_member(membership, actor=request.user, ip=client_ip(request._request))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Make a new one-time sign-in link",
        description="Admins only, for a member who never signed in and has no password "
        "yet (and belongs to this tenant only): the earlier link stops working; the new "
        "one is in this response only.",
        request=None,
        responses={200: MemberCreatedSerializer},
    )
    def sign_in_link(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        new = renew_sign_in_link(
            self.get_object(),
            actor=request.user,  # type: ignore[arg-type]
            ip=client_ip(request._request),
        )
        path = reverse("catalog:set_password", args=[new.uid, new.token])
        answer = {
            **self.get_serializer(new.membership).data,
            "password": None,
            "set_password_url": request.build_absolute_uri(path),
        }
        return Response(answer)

    def get_object(self) -> Membership:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])


member_list = MemberViewSet.as_view({"get": "list", "post": "create"})
member_link = MemberViewSet.as_view({"post": "sign_in_link"})
member_detail = MemberViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)

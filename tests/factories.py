"""factory_boy factories and a builder of valid tool definitions."""

from __future__ import annotations

import copy
from typing import Any

import factory
from django.contrib.auth import get_user_model

from catalog.models import Membership, Role, Tenant

BASE_DEFINITION: dict[str, Any] = {
    "name": "disk_usage",
    "version": "1.0.0",
    "description": "Report disk usage per mount point, largest first.",
    "platform": "linux",
    "category": "monitoring",
    "tags": ["storage", "capacity"],
    "dependencies": [{"name": "df", "type": "binary"}],
    "metadata": {"author": "ops-team"},
    "input_schema": {
        "type": "object",
        "properties": {
            "threshold_pct": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "default": 80,
                "description": "Only report mounts at least this full.",
            }
        },
        "additionalProperties": False,
    },
    "output_schema": {"type": "object", "properties": {"mounts": {"type": "array"}}},
    "runtime": {"kind": "script", "timeout_s": 30, "memory_mb": 256, "network": False},
    "script": "def main(threshold_pct: int = 80) -> dict:\n    return {'mounts': []}\n",
    "capabilities": [
        {
            "name": "disk_capacity_check",
            "description": "Find file systems running out of space.",
            "patterns": [
                {
                    "name": "all_mounts",
                    "description": "Scan every mounted file system once.",
                    "typical_use_cases": ["is the disk full"],
                    "context_variables": {"N": {"description": "mounts", "sample": 10}},
                    "time_estimate_ms": "200 + 2 * N",
                    "cost_estimate": "1",
                    "complexity_score": 0.2,
                    "policy": {"max_cost": 5, "requires_approval": False},
                    "preference_match": {"speed": 0.9, "accuracy": 1.0},
                    "examples": [{"input": {"threshold_pct": 90}}],
                }
            ],
        }
    ],
}


def make_definition(**overrides: Any) -> dict[str, Any]:
    """A valid definition; keyword arguments replace top-level fields."""
    definition = copy.deepcopy(BASE_DEFINITION)
    definition.update(copy.deepcopy(overrides))
    return definition


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.VIEWER

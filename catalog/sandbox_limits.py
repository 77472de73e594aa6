"""What a tenant's scripts may have: the operator's limits for the machine, narrowed by the
tenant's admins.

The operator sets the machine-wide limits in the environment (the memory ceiling
``QUIVER_SANDBOX_MAX_MEMORY_MB``, the internal networks ``QUIVER_SANDBOX_INTERNAL_NETWORKS``).
A tenant's admins may narrow them for their tenant (``SandboxLimits``): turn the network
off, keep fewer internal networks, lower the memory ceiling. They can never widen them,
and when the operator narrows later, what a tenant kept narrows with it: ``effective``
takes the intersection every time it is asked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from catalog.definitions.problems import FieldError
from catalog.models import SandboxLimits, Tenant
from config.networks import parse, within

MIN_MEMORY_MB = 16


@dataclass(frozen=True)
class Limits:
    """The limits that hold for a tenant's runs."""

    network: bool
    internal_networks: tuple[str, ...]
    memory_mb: int


def machine() -> Limits:
    """The operator's limits for every tenant of this machine."""
    return Limits(
        network=True,
        internal_networks=tuple(str(n) for n in parse(settings.SANDBOX_INTERNAL_NETWORKS)),
        memory_mb=settings.SANDBOX_MAX_MEMORY_MB,
    )


def effective(tenant: Tenant | int) -> Limits:
    """The machine's limits narrowed by the tenant's own (one query)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    return narrowed(SandboxLimits.objects.filter(tenant_id=tenant_id).first())


def narrowed(row: SandboxLimits | None) -> Limits:
    limits = machine()
    if row is None:
        return limits
    return Limits(
        network=row.network,
        internal_networks=limits.internal_networks
        if row.internal_networks is None
        else within(row.internal_networks, limits.internal_networks),
        memory_mb=min(limits.memory_mb, row.max_memory_mb or limits.memory_mb),
    )


def check(
    *, network: bool, internal_networks: list[str] | None, max_memory_mb: int | None
) -> list[FieldError]:
    """Every problem with what a tenant's admin asks for, against the machine's limits."""
    limits = machine()
    errors = []
    if max_memory_mb is not None and not MIN_MEMORY_MB <= max_memory_mb <= limits.memory_mb:
        errors.append(
            FieldError(
                "max_memory_mb",
                f"must be between {MIN_MEMORY_MB} and {limits.memory_mb} MB, the most this "
                "server allows a run (whoever runs Quiver sets that)",
            )
        )
    for position, text in enumerate(internal_networks or []):
        field = f"internal_networks[{position}]"
        try:
            candidate = ipaddress.IPv4Network(str(text).strip(), strict=False)
        except ValueError:
            errors.append(
                FieldError(field, f"'{text}' is not an IPv4 network such as 10.20.0.0/16")
            )
            continue
        if not limits.internal_networks:
            errors.append(
                FieldError(field, "this server lets scripts reach no internal network at all")
            )
        elif within([str(candidate)], limits.internal_networks) != (str(candidate),):
            errors.append(
                FieldError(
                    field,
                    f"{candidate} is not inside the internal networks this server allows "
                    f"({', '.join(limits.internal_networks)})",
                )
            )
    return errors


def normalised(networks: Iterable[str]) -> list[str]:
    """Networks as written once checked: canonical, each once, in order."""
    return [str(n) for n in sorted(set(parse(networks)))]

"""IPv4 networks as lists of CIDRs: which parts of some lie inside others (no Django here:
the sandbox's network setup uses it too)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def within(networks: Iterable[str], allowed: Iterable[str]) -> tuple[str, ...]:
    """The parts of ``networks`` that lie inside ``allowed``, merged and in order. Two
    IPv4 networks either nest or do not meet, so each part is the smaller of a pair that
    nests."""
    theirs = parse(allowed)
    parts = []
    for network in parse(networks):
        for outer in theirs:
            if network.subnet_of(outer):
                parts.append(network)
            elif outer.subnet_of(network):
                parts.append(outer)
    return tuple(str(n) for n in ipaddress.collapse_addresses(parts))


def parse(networks: Iterable[str]) -> list[ipaddress.IPv4Network]:
    """IPv4 networks from their text (host bits are dropped: 10.0.0.7/8 is 10.0.0.0/8);
    ValueError names the first that is not one."""
    return [ipaddress.IPv4Network(str(n).strip(), strict=False) for n in networks]

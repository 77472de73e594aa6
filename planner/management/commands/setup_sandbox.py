"""Prepare this machine for sandboxed script tools, idempotently, and say what they get.

    python manage.py setup_sandbox [--remove]

As root it makes the sandbox slots' network namespaces and cgroups and puts Quiver's
nftables table in place (workers also do this on first use; running it at start makes
the changes visible and their problems early). ``--remove`` takes the network parts away.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from planner import sandbox
from planner.executor import network_policy
from planner.sandbox import cgroups, isolation
from planner.sandbox import network as netpolicy


class Command(BaseCommand):
    help = "Prepare the sandbox for script tools (network namespaces, nftables, cgroups)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help="take the network setup away")

    def handle(self, *args: Any, remove: bool = False, **options: Any) -> None:
        policy = network_policy()
        if remove:
            netpolicy.remove(sandbox.SANDBOX_SLOTS, policy.subnet)
            self.stdout.write("Sandbox networking removed.")
            return
        level = sandbox.isolation_level()
        self.stdout.write(f"Isolation: {level}")
        if level != sandbox.BUBBLEWRAP:
            allowed = "allowed" if isolation.ALLOW_WEAK else "refused (QUIVER_SANDBOX_ALLOW_WEAK)"
            self.stdout.write(self.style.WARNING(f"  script tools are {allowed} on this server"))
        self._cgroups()
        self._network(policy)

    def _cgroups(self) -> None:
        if problem := cgroups.problem():
            self.stdout.write(self.style.WARNING(f"Memory: per process only ({problem})"))
            return
        for number in range(sandbox.SANDBOX_SLOTS):
            cgroups.slot(number)
        bound = cgroups.slot(0)
        self.stdout.write(
            f"Memory and processes: bounded per run (cgroup v{bound.version}, "
            f"{sandbox.SANDBOX_SLOTS} slots under {bound.memory.parent})"
        )

    def _network(self, policy: netpolicy.Policy) -> None:
        if problem := netpolicy.problem():
            self.stdout.write(
                self.style.WARNING(f"Network: tools that use it are refused ({problem})")
            )
            return
        for number in range(sandbox.SANDBOX_SLOTS):
            netpolicy.enter(number, policy)
        internal = ", ".join(policy.internal) or "none"
        blocked = ", ".join(policy.blocked_hosts) or "none besides the host itself"
        self.stdout.write(
            f"Network: a namespace per slot ({policy.subnet}), nftables table "
            f"inet {netpolicy.TABLE}; outside addresses only; internal networks allowed: "
            f"{internal}; Quiver's own hosts kept out: {blocked}"
        )

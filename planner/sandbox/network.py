"""The network of a script that may use it: outside addresses only, never the host's.

A run with ``network: true`` does not share the host's network namespace. Each sandbox
slot has a namespace of its own (``quiver-sb<slot>``), made once and reused, joined to
the host by a veth pair and NAT. One nftables table (``inet quiver_sandbox``) decides what
its packets may reach:

- nothing of the host itself: traffic from a slot to any of the host's own addresses
  (its loopback, every interface) is the host's *input*, and all of it is dropped;
- no address that is not globally routable (private, shared, link-local, loopback,
  documentation, benchmark, multicast and reserved ranges), except the resolvers in
  ``/etc/resolv.conf`` on port 53 and the internal networks the operator allows;
- never the hosts of Quiver's own database, cache and broker, nor a metadata address,
  even inside an allowed internal network;
- no IPv6 at all (the slots have no IPv6 address), and no other slot: a slot's traffic
  to another is forwarded traffic to a private address.

What is not allowed is refused at once (a TCP reset: the script's connect fails; ICMP
errors for the rest, which the kernel rate-limits), not dropped (it would wait for a
timeout). Separate namespaces also keep the host's abstract unix
sockets, and those of other runs, out of reach. Everything here is idempotent: the
table is replaced whole in one nftables transaction, a slot is made only when missing.
It needs root, ``ip``
(iproute2) and ``nft`` (nftables); ``problem()`` says what is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import ipaddress
import os
import shutil
import socket
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from config.networks import within

IP = "/usr/sbin/ip"
NFT = "/usr/sbin/nft"
NSENTER = "/usr/bin/nsenter"
NETNS_DIR = Path("/run/netns")
TABLE = "quiver_sandbox"
LOCK_FILE = Path("/run/quiver-sandbox-network.lock")
IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward")
FORWARDING_MARKER = Path("/run/quiver-sandbox-forwarding")

# Addresses that are not globally routable (IANA special-purpose registry), IPv4.
NOT_GLOBAL = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
# The sandbox's slots, each with a namespace and, when the operator allows internal
# networks, a set of its own of those its next run may reach (planner.sandbox uses this).
SLOTS = 32

# Cloud metadata services: never reachable, whatever the operator allows.
METADATA = ("169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32")


@dataclass(frozen=True)
class Policy:
    """What the operator decided for network-enabled scripts on this machine."""

    # Internal (non-global) IPv4 networks scripts may reach, e.g. a lab the tools manage.
    internal: tuple[str, ...] = ()
    # Hosts scripts never reach (Quiver's own database, cache, broker), as names or IPs.
    blocked_hosts: tuple[str, ...] = ()
    # The addresses slots are numbered from: one /24 per slot.
    subnet: str = "10.213.0.0/16"
    resolvers: tuple[str, ...] = field(default_factory=lambda: tuple(system_resolvers()))


@functools.cache
def default_policy() -> Policy:
    """Outside addresses only, nothing internal (the resolvers read once per process)."""
    return Policy()


def system_resolvers(path: str = "/etc/resolv.conf") -> list[str]:
    """The IPv4 name servers the host uses (the scripts use the same file)."""
    found = []
    with contextlib.suppress(OSError), open(path) as lines:
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                with contextlib.suppress(ValueError):
                    address = ipaddress.ip_address(parts[1])
                    if address.version == 4 and not address.is_loopback:
                        found.append(str(address))
    return found


@dataclass(frozen=True)
class Slot:
    """The names and addresses of one slot's namespace."""

    number: int
    namespace: str
    host_if: str
    slot_if: str
    host_ip: str
    slot_ip: str

    @property
    def path(self) -> Path:
        return NETNS_DIR / self.namespace


def slot(number: int, subnet: str) -> Slot:
    block = ipaddress.IPv4Network(subnet).network_address + 256 * number  # its /24
    return Slot(
        number,
        namespace=f"quiver-sb{number}",
        host_if=f"qvh{number}",
        slot_if=f"qvs{number}",
        host_ip=str(block + 1),
        slot_ip=str(block + 2),
    )


@functools.cache
def problem() -> str | None:
    """Why sandboxed networking cannot be set up here, or None (asked once per process)."""
    if os.geteuid() != 0:
        return "Quiver does not run as root, so it cannot give scripts a network of their own"
    for tool, package in ((IP, "iproute2"), (NFT, "nftables"), (NSENTER, "util-linux")):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing (apt-get install {package})"
    return None


def enter(number: int, policy: Policy) -> list[str]:
    """The command prefix that runs a command in slot ``number``'s network namespace,
    making the slot and the host's rules first if they are missing."""
    ensure_rules(policy)
    path = ensure_slot(slot(number, policy.subnet))
    return [NSENTER, f"--net={path}"]


@functools.cache
def ensure_rules(policy: Policy) -> None:
    """Put the nftables table in place (once per process and policy; it is replaced whole,
    so every process that applies the same policy leaves the same table)."""
    with _lock():
        forwarding_was_off = _enable_forwarding()
        rules = ruleset(policy, isolate_forwarding=forwarding_was_off)
        # Left alone when it is there already: replacing it would empty the slots' sets
        # of internal networks under the runs of other processes.
        if _state("ruleset") == rules and _table_exists():
            return
        _run([NFT, "-f", "-"], stdin=rules)
        for number in range(SLOTS):
            _set_state(f"internal-{number}", "")  # every slot's set is empty now
        _set_state("ruleset", rules)


def ensure_slot(s: Slot) -> Path:
    """Make the slot's namespace and veth pair unless they are there."""
    if s.path.exists() and Path(f"/sys/class/net/{s.host_if}").exists():
        return s.path
    with _lock():
        if s.path.exists() and Path(f"/sys/class/net/{s.host_if}").exists():
            return s.path
        _quiet([IP, "link", "del", s.host_if])
        _quiet([IP, "netns", "del", s.namespace])
        _run([IP, "netns", "add", s.namespace])
        _run([IP, "link", "add", s.host_if, "type", "veth", "peer", "name", s.slot_if,
              "netns", s.namespace])  # fmt: skip
        _write(f"/proc/sys/net/ipv6/conf/{s.host_if}/disable_ipv6", "1")
        _run([IP, "addr", "add", f"{s.host_ip}/24", "dev", s.host_if])
        _run([IP, "link", "set", s.host_if, "up"])
        inside = [IP, "-n", s.namespace]
        _run([*inside, "addr", "add", f"{s.slot_ip}/24", "dev", s.slot_if])
        _run([*inside, "link", "set", s.slot_if, "up"])
        _run([*inside, "link", "set", "lo", "up"])
        _run([*inside, "route", "add", "default", "via", s.host_ip])
        # No IPv6 on the slot's link: nothing to route, nothing to discover.
        _run([NSENTER, f"--net={s.path}", "/bin/sh", "-c",
              f"echo 1 > /proc/sys/net/ipv6/conf/{s.slot_if}/disable_ipv6"])  # fmt: skip
    return s.path


def allow_internal(number: int, policy: Policy, networks: Iterable[str]) -> tuple[str, ...]:
    """Let slot ``number``'s next run reach these of the operator's internal networks and
    no others, replacing what the slot's previous run could reach (in one transaction);
    returns what it may reach. Nothing outside ``policy.internal`` is ever added."""
    if not policy.internal:
        return ()
    reachable = within(networks, policy.internal)
    state = f"internal-{number}"
    if _state(state) == ",".join(reachable):
        return reachable  # the slot's previous run could reach the same
    name = f"inet {TABLE} internal_{number}"
    script = f"flush set {name}\n"
    if reachable:
        script += f"add element {name} {{ {', '.join(reachable)} }}\n"
    # A change costs a netfilter transaction (15 to 20 ms here): only when the slot changes
    # hands between tenants that reach different networks.
    _run([NFT, "-f", "-"], stdin=script)
    _set_state(state, ",".join(reachable))
    return reachable


def remove(count: int, subnet: str) -> None:
    """Take the slots' namespaces and the table away (tests; an operator's clean-up)."""
    with _lock():
        for number in range(count):
            s = slot(number, subnet)
            _quiet([IP, "link", "del", s.host_if])
            _quiet([IP, "netns", "del", s.namespace])
        _quiet([NFT, "delete", "table", "inet", TABLE])
        shutil.rmtree(STATE_DIR, ignore_errors=True)
    ensure_rules.cache_clear()


# What Quiver last put in place: the table's rules, and each slot's reachable internal
# networks (a slot's file is read and written only by whoever holds the slot).
STATE_DIR = Path("/run/quiver-sandbox-network")


def _state(name: str) -> str | None:
    try:
        return (STATE_DIR / name).read_text()
    except OSError:
        return None


def _set_state(name: str, text: str) -> None:
    STATE_DIR.mkdir(mode=0o700, exist_ok=True)
    staged = STATE_DIR / f".{name}.{os.getpid()}"
    staged.write_text(text)
    staged.replace(STATE_DIR / name)


def _table_exists() -> bool:
    listed = subprocess.run([NFT, "list", "table", "inet", TABLE], capture_output=True)
    return listed.returncode == 0


def ruleset(policy: Policy, *, isolate_forwarding: bool = False) -> str:
    """The nftables script that replaces Quiver's table (applied in one transaction)."""
    blocked = sorted({*_addresses(policy.blocked_hosts), *METADATA})
    resolvers = sorted(set(policy.resolvers))
    # Each slot reaches only the internal networks its run's tenant may (``allow_internal``
    # fills its set before each run); none until then.
    slots = range(SLOTS) if policy.internal else range(0)
    internal_sets = "".join(_set(f"internal_{n}", []) for n in slots)
    internal_rules = "".join(
        f'        iifname "qvh{n}" ip daddr @internal_{n} accept\n' for n in slots
    )
    # A host that did not forward before forwards nothing but the sandboxes' traffic now.
    others = '        iifname != "qvh*" oifname != "qvh*" drop\n' if isolate_forwarding else ""
    return f"""\
table inet {TABLE}
delete table inet {TABLE}
table inet {TABLE} {{
    set not_global {{ type ipv4_addr; flags interval; elements = {{ {", ".join(NOT_GLOBAL)} }} }}
{_set("blocked", blocked)}{_set("resolvers", resolvers)}{internal_sets}
    chain refuse {{
        meta l4proto tcp reject with tcp reset
        reject with icmpx type admin-prohibited
    }}
    chain input {{
        type filter hook input priority filter - 10; policy accept;
        iifname "qvh*" goto refuse
    }}
    chain forward {{
        type filter hook forward priority filter - 10; policy accept;
        iifname "qvh*" jump from_sandbox
        oifname "qvh*" ct state established,related accept
        oifname "qvh*" drop
{others}    }}
    chain from_sandbox {{
        meta nfproto ipv6 drop
        oifname "qvh*" goto refuse
        ip daddr @blocked goto refuse
        ip daddr @resolvers udp dport 53 accept
        ip daddr @resolvers tcp dport 53 accept
{internal_rules}        ip daddr @not_global goto refuse
        accept
    }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr {policy.subnet} oifname != "qvh*" masquerade
    }}
}}
"""


def _set(name: str, elements: list[str]) -> str:
    body = f" elements = {{ {', '.join(elements)} }}" if elements else ""
    return f"    set {name} {{ type ipv4_addr; flags interval;{body} }}\n"


def _addresses(hosts: Iterable[str]) -> Iterator[str]:
    """Every IPv4 address the hosts name (loopback needs no entry: the input rule drops it)."""
    for host in hosts:
        try:
            infos = socket.getaddrinfo(host, None, socket.AF_INET)
        except OSError:
            continue
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_loopback:
                yield f"{address}/32"


def _enable_forwarding() -> bool:
    """Turn IPv4 forwarding on; True if Quiver turned it on (so nothing else relies on it).
    A marker remembers that for the processes that come after, until the host restarts."""
    if IP_FORWARD.read_text().strip() == "1":
        return FORWARDING_MARKER.exists()
    FORWARDING_MARKER.touch(mode=0o600)
    _write(str(IP_FORWARD), "1")
    return True


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    fd = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _run(argv: list[str], *, stdin: str | None = None) -> None:
    completed = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise OSError(f"{' '.join(argv[:4])} failed: {completed.stderr.strip()}")


def _quiet(argv: list[str]) -> None:
    subprocess.run(argv, capture_output=True, check=False)


def _write(path: str, value: str) -> None:
    with open(path, "w") as file:
        file.write(value)

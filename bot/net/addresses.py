"""Which IP addresses are public: the one private-address policy, as pure functions.

Ranges follow the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890). The guard
(bot.net.guard) applies them to the addresses actually connected to; `postwatch check` applies
them to IP-literal hosts in the config, without touching the network.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IPAddress = IPv4Address | IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
"""Answers "may we connect to this address?"; the test seam for the guard."""

_V4_BLOCKED: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), label)
    for net, label in (
        ("0.0.0.0/8", "unspecified/'this network' (RFC 1122)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback (RFC 1122)"),
        ("169.254.0.0/16", "link-local (RFC 3927)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "documentation (RFC 5737)"),
        ("192.88.99.0/24", "6to4 relay anycast (RFC 7526)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("198.18.0.0/15", "benchmarking (RFC 2544)"),
        ("198.51.100.0/24", "documentation (RFC 5737)"),
        ("203.0.113.0/24", "documentation (RFC 5737)"),
        ("224.0.0.0/4", "multicast (RFC 5771)"),
        ("240.0.0.0/4", "reserved, incl. broadcast (RFC 1112, RFC 919)"),
    )
)

_V6_BLOCKED: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), label)
    for net, label in (
        ("::/128", "unspecified (RFC 4291)"),
        ("::1/128", "loopback (RFC 4291)"),
        ("64:ff9b:1::/48", "local-use NAT64 (RFC 8215)"),
        ("100::/64", "discard-only (RFC 6666)"),
        # Teredo (2001::/32) hides an IPv4 address behind a relay; refuse the whole block.
        ("2001::/23", "IETF protocol assignments (RFC 2928)"),
        ("2001:db8::/32", "documentation (RFC 3849)"),
        ("3fff::/20", "documentation (RFC 9637)"),
        ("5f00::/16", "segment routing SIDs (RFC 9602)"),
        ("fc00::/7", "unique local (RFC 4193)"),
        ("fe80::/10", "link-local (RFC 4291)"),
        ("fec0::/10", "site-local (RFC 3879)"),
        ("ff00::/8", "multicast (RFC 4291)"),
    )
)
_V6_NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")  # RFC 4291 2.4: everything else is reserved


def non_public_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public unicast address, or None when it is."""
    if isinstance(ip, IPv4Address):
        return next((label for net, label in _V4_BLOCKED if ip in net), None)
    for net, label in _V6_BLOCKED:
        if ip in net:
            return label
    embedded, kind = _embedded_ipv4(ip)
    if embedded is not None:
        reason = non_public_reason(embedded)
        return None if reason is None else f"{kind} {embedded}: {reason}"
    if ip not in _V6_GLOBAL_UNICAST:
        return "reserved (outside 2000::/3, RFC 4291)"
    return None


def _embedded_ipv4(ip: IPv6Address) -> tuple[IPv4Address | None, str]:
    """The IPv4 address an IPv6 form carries, judged by the IPv4 rules."""
    if ip.ipv4_mapped is not None:  # ::ffff:0:0/96, RFC 4291 2.5.5.2
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _V6_NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip.sixtofour is not None:  # 2002::/16, RFC 3056
        return ip.sixtofour, "6to4"
    return None, ""


def is_public_address(ip: IPAddress) -> bool:
    """The default policy: only public unicast addresses."""
    return non_public_reason(ip) is None


def describe_refusal(host: str, ip: IPAddress) -> str:
    reason = non_public_reason(ip) or "refused by the address policy"
    target = host if host == str(ip) else f"{host} ({ip})"
    return (
        f"refusing to connect to {target}: {reason} address; "
        "set network.allow_private_addresses to allow it"
    )


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address when `host` (as in a URL, brackets removed) is an IP literal."""
    try:
        return ip_address(host)
    except ValueError:
        return None


def private_host_reason(host: str) -> str | None:
    """Why a URL's host is certainly not public, judged without resolving it: an IP literal
    the policy refuses, or a localhost name (RFC 6761). None when only DNS could tell."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback (RFC 6761)"
    ip = parse_ip_literal(host)
    return non_public_reason(ip) if ip is not None else None

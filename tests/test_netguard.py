"""The private-address policy: which addresses are public, and the resolver that enforces it."""

from __future__ import annotations

import socket
from ipaddress import ip_address

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.errors import BlockedAddressError
from bot.net.addresses import is_public_address, non_public_reason
from bot.net.guard import GuardedResolver, check_literal_host

PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "100.63.255.255",  # just below carrier-grade NAT
    "100.128.0.0",  # just above it
    "172.15.255.255",  # just below 172.16/12
    "172.32.0.0",  # just above it
    "192.0.1.1",
    "223.255.255.255",  # last unicast before multicast
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8 (IPv6-only hosts reach IPv4 sites this way)
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

NON_PUBLIC = {
    "0.0.0.0": "unspecified",
    "0.1.2.3": "this network",
    "10.1.2.3": "private",
    "100.64.0.1": "carrier-grade NAT",
    "100.127.255.255": "carrier-grade NAT",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "169.254.169.254": "link-local",  # cloud metadata endpoint
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.0.0.8": "IETF",
    "192.0.2.1": "documentation",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.251": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fe80::1%eth0": "link-local",
    "fc00::1": "unique local",
    "fd12:3456:789a::1": "unique local",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "2001:db8::1": "documentation",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "IETF",  # Teredo
    "100::1": "discard",
    "64:ff9b:1::1": "NAT64",
    "::7f00:1": "reserved",  # deprecated IPv4-compatible form of 127.0.0.1
    "4000::1": "reserved",  # outside 2000::/3
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1: loopback",
    "::ffff:10.0.0.1": "IPv4-mapped 10.0.0.1: private",
    "::ffff:169.254.169.254": "link-local",
    "64:ff9b::a00:1": "NAT64 10.0.0.1: private",
    "64:ff9b::7f00:1": "loopback",
    "2002:7f00:1::1": "6to4 127.0.0.1: loopback",
    "2002:c0a8:101::1": "private",
}


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    ip = ip_address(address)
    assert non_public_reason(ip) is None
    assert is_public_address(ip)


@pytest.mark.parametrize(("address", "reason"), NON_PUBLIC.items())
def test_non_public_addresses_are_refused_with_a_reason(address: str, reason: str) -> None:
    ip = ip_address(address)
    assert not is_public_address(ip)
    assert reason in (non_public_reason(ip) or "")


def test_literal_hosts_are_checked_and_hostnames_left_to_the_resolver() -> None:
    with pytest.raises(BlockedAddressError, match=r"169\.254\.169\.254: link-local"):
        check_literal_host("169.254.169.254", is_public_address)
    with pytest.raises(BlockedAddressError, match="allow_private_addresses"):
        check_literal_host("::1", is_public_address)
    check_literal_host("8.8.8.8", is_public_address)
    check_literal_host("localhost", is_public_address)  # a name: GuardedResolver's job


class FixedResolver(AbstractResolver):
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=0, proto=0, flags=0)
            for a in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_guarded_resolver_keeps_only_public_addresses() -> None:
    guarded = GuardedResolver(FixedResolver(["10.0.0.5", "8.8.8.8", "::1"]), is_public_address)
    results = await guarded.resolve("mixed.example", 443)
    assert [r["host"] for r in results] == ["8.8.8.8"]


async def test_guarded_resolver_refuses_a_name_with_only_private_addresses() -> None:
    guarded = GuardedResolver(FixedResolver(["192.168.0.10", "fd00::1"]), is_public_address)
    with pytest.raises(BlockedAddressError, match=r"rebind\.example \(192\.168\.0\.10\): private"):
        await guarded.resolve("rebind.example", 80)


async def test_guarded_resolver_reports_no_addresses_as_a_dns_failure() -> None:
    guarded = GuardedResolver(FixedResolver([]), is_public_address)
    with pytest.raises(OSError, match="no addresses"):
        await guarded.resolve("empty.example", 80)


async def test_guarded_resolver_closes_the_resolver_it_wraps() -> None:
    inner = FixedResolver([])
    await GuardedResolver(inner, is_public_address).close()
    assert inner.closed

"""The private-address guard: a fetch connects only to addresses the policy allows.

A feed URL comes from a config file or a chat command, and a redirect from whoever runs the
server; neither may point the bot at the host it runs on or its network (SSRF). The check is made
on the addresses actually connected to: IP-literal hosts before connecting (`check_literal_host`)
and hostnames inside the aiohttp resolver (`GuardedResolver`), so a name that resolves, or later
re-resolves (DNS rebinding), to a private address is refused too.

Which addresses are private: bot.net.addresses.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from bot.errors import BlockedAddressError
from bot.net.addresses import AddressPolicy, describe_refusal, parse_ip_literal


def check_literal_host(host: str, policy: AddressPolicy) -> None:
    """Refuse an IP-literal host the policy rejects; aiohttp never resolves those."""
    ip = parse_ip_literal(host)
    if ip is not None and not policy(ip):
        raise BlockedAddressError(describe_refusal(host, ip))


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and drops every address the policy rejects.

    aiohttp connects only to what the resolver returns (and caches that), so filtering here
    checks the addresses actually connected to, at every hop and on every re-resolution.
    """

    def __init__(self, inner: AbstractResolver, policy: AddressPolicy) -> None:
        self._inner = inner
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not results:
            # aiohttp wraps an OSError from here as a DNS failure.
            raise OSError(f"no addresses for {host}")
        allowed = [result for result in results if self._allows(result["host"])]
        if not allowed:
            ip = parse_ip_literal(results[0]["host"])
            if ip is None:
                raise BlockedAddressError(f"refusing to connect to {host}: unusable address")
            raise BlockedAddressError(describe_refusal(host, ip))
        return allowed

    def _allows(self, address: str) -> bool:
        ip = parse_ip_literal(address)
        return ip is not None and self._policy(ip)

    async def close(self) -> None:
        await self._inner.close()

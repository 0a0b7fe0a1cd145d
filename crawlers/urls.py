"""URL canonicalisation and the fetch-safety check (schemes and private addresses)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "ref",
        "spm",
        "from",
    }
)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedURL(Exception):
    """The URL may not be fetched; the message says why."""


def canonicalize(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters, sort the query."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def domain_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def parse_networks(allowed: Iterable[str]) -> list[Network]:
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"crawl.allow_private: {entry!r} is not an address or network ({exc})") from None
    return networks


def check_fetchable(url: str, allowed: list[Network]) -> None:
    """Raise :class:`BlockedURL` unless ``url`` is http(s) resolving only to public (or allowed) addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BlockedURL(f"scheme {parts.scheme or '(none)'!r} is not fetched, only http and https: {url}")
    host = parts.hostname
    if not host:
        raise BlockedURL(f"no host in {url}")
    for address in resolve(host):
        if not _is_public(address) and not any(address in network for network in allowed):
            raise BlockedURL(
                f"{host} resolves to non-public address {address}; add it to crawl.allow_private to allow it"
            )


def resolve(host: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise BlockedURL(f"cannot resolve {host}: {exc.strerror}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast

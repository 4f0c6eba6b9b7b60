"""The address guard of the shared HTTP client: which addresses and URLs may be fetched.

A collector fetches only http(s) URLs whose host resolves to public addresses. IPv4 embedded in
IPv6 (mapped ``::ffff:a.b.c.d``, compatible ``::a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4,
Teredo) is judged as the IPv4 address it reaches, and a host such as ``0177.0.0.1`` (octal),
``0x7f.1`` or ``2130706433`` is decoded as the C resolver would before it is judged. Kept apart
from ``http.py`` so the rules can be read (and audited) on one screen.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from ecoute.errors import BlockedURL, FetchError

PRIVATE_HINT = "set ECOUTE_HTTP_ALLOW_PRIVATE=true only for trusted intranet sources"
#: Cloud metadata endpoints; link-local already covers the IPv4 one, not the AWS IPv6 one.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


#: IPv6 prefixes whose last 32 bits are an IPv4 address a gateway connects to (RFC 6052/8215).
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
#: Deprecated IPv4-compatible addresses (``::127.0.0.1``): some stacks still route them.
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
#: Request headers that carry a credential; dropped when a redirect leaves the origin.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_CREDENTIAL_WORDS = ("token", "key", "secret", "auth", "password", "session")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]  # the client's address, where the relay would deliver
    if any(ip in net for net in (*NAT64_PREFIXES, IPV4_COMPATIBLE)):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in IPV4_COMPATIBLE:
            return False  # never a real public address; some stacks reach IPv4 through it
        inner = _embedded_ipv4(ip)
        if inner is not None:
            ip = inner
    return ip.is_global and not ip.is_multicast and ip not in METADATA_ADDRESSES


def unusual_ipv4(host: str) -> str | None:
    """The dotted IPv4 address meant by a host written another way (``0177.0.0.1``,
    ``0x7f.1``, ``2130706433``), or None for a name or a usual address."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None  # usual form: the guard reads it as is
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def is_credential_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADERS or (
        lowered.startswith("x-") and any(word in lowered for word in _CREDENTIAL_WORDS)
    ) or lowered in ("api-key", "apikey")


def same_origin(first: str, second: str) -> bool:
    """Whether two absolute URLs share scheme, host and port (default ports made explicit)."""
    a, b = urlsplit(first), urlsplit(second)
    defaults = {"http": 80, "https": 443}
    try:
        ports = (a.port or defaults.get(a.scheme), b.port or defaults.get(b.scheme))
    except ValueError:
        return False
    return (a.scheme, (a.hostname or "").lower(), ports[0]) == (
        b.scheme, (b.hostname or "").lower(), ports[1])


def without_credentials(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if not is_credential_header(k)}


def resolve_public(url: str, host: str, port: int) -> str:
    """The first address of ``host`` once every address it resolves to is checked public."""
    written = unusual_ipv4(host)
    if written is not None and not is_public_address(written):
        raise BlockedURL(f"{url}: {host} is the non-public address {written} written another "
                         "way", hint=PRIVATE_HINT)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"{url}: host {host} not found ({exc})",
                         hint="check the address of the source") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchError(f"{url}: host {host} has no address")
    for address in addresses:
        if not is_public_address(address):
            raise BlockedURL(
                f"{url}: {host} resolves to the non-public address {address}", hint=PRIVATE_HINT
            )
    return addresses[0]


def checked_parts(current: str, asked: str) -> SplitResult:
    """``current`` split, once it is an http(s) URL with a host and no unusual IPv4 form."""
    parts = urlsplit(current)
    where = f" (redirected from {asked})" if current != asked else ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BlockedURL(f"{current}: only http and https URLs can be fetched{where}")
    written = unusual_ipv4(parts.hostname)
    if written is not None:
        if not is_public_address(written):
            raise BlockedURL(f"{current}: {parts.hostname} is the non-public address "
                             f"{written} written another way{where}", hint=PRIVATE_HINT)
        raise BlockedURL(f"{current}: write the address {parts.hostname} as {written}{where}")
    return parts


def default_port(url: str, parts: SplitResult) -> int:
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedURL(f"{url}: the port is not a number between 0 and 65535") from exc

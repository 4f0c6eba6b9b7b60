"""Where a source reads from, checked when it is added or changed.

A collector's options say what a value looks like; this says whether it can be read at all:
an address must be an http(s) URL with a host, a ``file://`` URL or a local path, and a local
path must exist, or at least the folder it is to appear in. Checked at ``sources add``/``sources set`` (and their API), so that a typo is
refused with the option's name instead of showing up later as a failed run in the scheduler's
log. Runs do not repeat the check: a folder that is briefly unmounted is a failed run, not an
invalid source.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from ecoute.collectors.base import CollectorOptions
from ecoute.errors import InvalidOptions

#: Options holding an address (URL, file:// URL or local path), and options holding a path.
ADDRESS_OPTIONS: tuple[str, ...] = ("url", "endpoint", "instance", "sitemap")
PATH_OPTIONS: tuple[str, ...] = ("path",)


def _problem_with_address(value: str) -> str | None:
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname or " " in value:
            return f"{value!r} is not a valid {scheme} address (e.g. https://example.org/feed)"
        try:
            parts.port  # noqa: B018 -- reading it validates it
        except ValueError:
            return f"{value!r} has an invalid port"
        return None
    if scheme == "file":
        return _problem_with_path(unquote(parts.path))
    if len(scheme) > 1:  # one letter is a Windows drive (C:\...), not a scheme
        return (f"{value!r} is neither an http(s) address, a file:// address nor a local "
                f"path ({scheme}: is not supported)")
    return _problem_with_path(value)


def _problem_with_path(value: str) -> str | None:
    path = Path(value).expanduser()
    # A file or folder may appear later (an export dropped each night, a folder receiving
    # uploads), but in a folder that exists: a wrong folder is a typo, caught now.
    if not path.exists() and not path.parent.is_dir():
        return (f"{value!r} does not exist on this computer (nor does the folder "
                f"{str(path.parent)!r})")
    return None


def check_locations(kind: str, options: CollectorOptions) -> None:
    """Raise InvalidOptions naming the option whose address or path cannot be read."""
    for name in (*ADDRESS_OPTIONS, *PATH_OPTIONS):
        value = getattr(options, name, None)
        values = value if isinstance(value, list) else [value]
        for single in values:
            if not isinstance(single, str) or not single:
                continue
            problem = (_problem_with_address(single) if name in ADDRESS_OPTIONS
                       else _problem_with_path(single))
            if problem:
                raise InvalidOptions(
                    f"invalid options for a {kind} source: {name}: {problem}",
                    hint=f"correct the `{name}` option",
                )

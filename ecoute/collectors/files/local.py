"""Which local files a collector may read, and which addresses found in remote content it may
follow.

Two kinds of location reach a collector:

- **Configured** ones (a source's ``url``, ``path``, ``sitemap``, ``endpoint``, typed by an
  administrator): an http(s) URL is fetched, a ``file://`` URL or a plain path is read, but only
  inside the folders of ``ECOUTE_FILE_ROOTS`` (:func:`allowed_roots`), after symbolic links are
  resolved, never under ``/proc``, ``/sys`` or ``/dev``, and only regular files (no device, FIFO
  or socket, which could block a run or leak process memory). Any other scheme (``gopher://``,
  ``ftp://``, ``data:``...) is refused instead of being read as a path.
- **Found** ones (a sitemap's ``<loc>``, a page's next link, a feed's links, a redirect): they
  come from whoever wrote the remote document, so they are only ever fetched over http(s)
  (:func:`found_url`), through the address guard. They are never read from the disk, and the
  refusal never says whether such a file exists.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from ecoute.errors import BlockedURL, FetchError

if TYPE_CHECKING:
    from ecoute.config.settings import Settings

#: Kernel and device trees: never read, even when a root contains them.
FORBIDDEN_TREES = (Path("/proc"), Path("/sys"), Path("/dev"))
WEB_SCHEMES = ("http", "https")
ROOTS_HINT = "add its folder to ECOUTE_FILE_ROOTS, or move the file into an allowed folder"


def allowed_roots(settings: Settings) -> list[Path]:
    """The folders local sources may read: ``file_roots`` (by default the working directory
    and ecoute's data directory, where the demo lives), always with ``data_dir`` (uploads and
    pushed items)."""
    roots = list(settings.file_roots) or [Path.cwd(), Path(user_data_dir("ecoute",
                                                                         appauthor=False))]
    roots.append(settings.data_dir)
    return [Path(os.path.realpath(root.expanduser())) for root in roots]


def is_web_address(location: str) -> bool:
    return urlsplit(location).scheme.lower() in WEB_SCHEMES


def configured_path(location: str, roots: Sequence[Path]) -> Path | None:
    """The confined local path a configured ``location`` names; None for an http(s) URL.

    The path is checked before anything about it is looked up, so a path outside the roots is
    refused the same way whether it exists or not.
    """
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme in WEB_SCHEMES:
        return None
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise BlockedURL(f"{location}: file:// URLs on another machine are not read")
        path = Path(unquote(parts.path))
    elif scheme and len(scheme) > 1:  # "c:" is a Windows drive, not a scheme
        raise BlockedURL(f"{location}: only http(s) URLs, file:// URLs and local paths can be "
                         f"read ({scheme}:// is not supported)")
    else:
        path = Path(location).expanduser()
    return confine(path, roots, location)


def confine(path: Path, roots: Sequence[Path], location: str | None = None) -> Path:
    """``path`` with its links resolved, once it is inside one of ``roots`` and outside the
    kernel trees; BlockedURL otherwise (without saying whether it exists)."""
    where = location or str(path)
    resolved = Path(os.path.realpath(path))
    if any(resolved == tree or tree in resolved.parents for tree in FORBIDDEN_TREES):
        raise BlockedURL(f"{where}: system folders (/proc, /sys, /dev) are never read")
    if not any(resolved == root or root in resolved.parents for root in roots):
        raise BlockedURL(f"{where}: outside the folders ecoute may read "
                         f"({', '.join(str(r) for r in roots) or 'none'})", hint=ROOTS_HINT)
    return resolved


def read_regular_file(path: Path, location: str | None = None) -> bytes:
    """The bytes of ``path`` if it is a regular file (a FIFO or device would block or never
    end); opened without following a link swapped in after the check."""
    where = location or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FetchError(f"{where}: cannot read the file ({exc.strerror})",
                         hint="check the path and that ecoute may read it") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise BlockedURL(f"{where}: not a regular file (devices, pipes and sockets are "
                             "not read)")
        return fh.read()


def read_configured(location: str, roots: Sequence[Path]) -> bytes | None:
    """The bytes of a configured file:// URL or path; None for an http(s) URL."""
    path = configured_path(location, roots)
    if path is None:
        return None
    return read_regular_file(path, location)


def found_url(url: str, *, found_in: str) -> str:
    """``url``, found in the remote document ``found_in``, once it is an http(s) address."""
    if not is_web_address(url) or not urlsplit(url).hostname:
        raise BlockedURL(f"{found_in}: links to {urlsplit(url).scheme or 'local'} "
                         "addresses found in a fetched document are not followed (only http "
                         "and https)")
    return url

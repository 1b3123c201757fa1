"""Reading configuration files under a file-system root, never raising.

Every reader takes the root as a parameter so tests (and ``pulldoctor host --root``) can point at a
real directory tree instead of ``/``. A file that is missing is normal; one that exists but cannot be
read is a *finding* (often "needs root"), so the reason is returned rather than raised.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

_MAX_LINKS = 40  # as the kernel's own limit on symlinks followed in one lookup


def under(root: str | Path, path: str | Path) -> Path:
    """``path`` (absolute, as on the host) placed under ``root``, symlinks resolved *inside* it.

    A node's ``/etc/resolv.conf`` is usually a symlink to ``/run/systemd/resolve/stub-resolv.conf``:
    mounted at ``/host``, following it naively would read *this* machine's (or pod's) file, or
    nothing. So under a root other than ``/``, absolute link targets restart at ``root``.
    """
    p = str(path)
    if str(root) in ("", "/"):
        return Path("/") / p.lstrip("/")
    base = Path(root)
    parts = [x for x in p.split("/") if x not in ("", ".")]
    cur: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if cur:
                cur.pop()
            continue
        cand = base.joinpath(*cur, part)
        try:
            is_link = cand.is_symlink()
        except OSError:  # an unreadable directory on the way: the read itself will say so
            is_link = False
        if is_link and links < _MAX_LINKS:
            links += 1
            target = os.readlink(cand)
            if target.startswith("/"):
                cur = []
            parts = [x for x in target.split("/") if x not in ("", ".")] + parts
            continue
        cur.append(part)
    return base.joinpath(*cur)


def read_text(root: str | Path, path: str | Path) -> tuple[str | None, str | None]:
    """(text, None) when read; (None, None) when absent; (None, reason) when unreadable."""
    full = under(root, path)
    try:
        return full.read_text(encoding="utf-8", errors="replace"), None
    except FileNotFoundError:
        return None, None
    except NotADirectoryError:
        return None, None
    except PermissionError:
        return None, f"{path}: permission denied (run as root to read it)"
    except IsADirectoryError:
        return None, f"{path}: is a directory"
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        return None, f"{path}: {exc.strerror or exc}"


def list_dir(root: str | Path, path: str | Path) -> list[str]:
    """Sorted entry names of a directory, [] when absent or unreadable."""
    try:
        return sorted(p.name for p in under(root, path).iterdir())
    except OSError:
        return []

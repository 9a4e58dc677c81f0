"""One rule for every path built from an id: it must stay inside its root, checked before anything is touched.

System, form, dataset and area ids come from the catalog, and the pipeline turns them into folders it
creates and removes (``staging/<system>/<batch>`` is wiped at the start of each batch). The catalog check
is the first line of defence; this is the second, so that a crafted id such as ``../../evil`` can never make
the exchange create or delete anything outside its home, whatever let it through:

- every part joined onto the root must be one plain name: not empty, not ``.`` or ``..``, without ``/``,
  ``\\`` or a NUL byte;
- the joined path, with symlinks resolved (a link planted under the root does not carry it elsewhere),
  must lie inside the resolved root.
"""

from __future__ import annotations

import os
from pathlib import Path

from quancheng.errors import QuanchengError

_BAD_CHARS = ("/", "\\", "\0")


class UnsafePath(QuanchengError):
    """An id would make a path leave the exchange's home (or store root); nothing was created or removed."""


def _refuse(what: str, part: str, root: str | os.PathLike[str], why: str) -> UnsafePath:
    return UnsafePath(f"{what} {part!r} {why}, outside {root}: refused before creating or removing anything "
                      f"(fix: give it an id of letters, digits, '_', '-' and '.' only in the catalog)")


def plain_name(part: str, root: str | os.PathLike[str], *, what: str = "id") -> str:
    """``part`` itself, refused with :class:`UnsafePath` unless it is one plain name (not empty, ``.`` or
    ``..``, without ``/``, ``\\`` or NUL); ``root`` is where it would be joined (a folder or a URI), for the
    message. For joining onto something that is not a local folder, such as an object-store URI."""
    if part in ("", ".", "..") or any(c in part for c in _BAD_CHARS):
        raise _refuse(what, part, root, "is not a plain name and would make a path")
    return part


def safe_path(root: str | os.PathLike[str], *parts: str, what: str = "id") -> Path:
    """``root / parts...``, refused with :class:`UnsafePath` unless it stays inside ``root``.

    ``what`` names the kind of id in the message (``"system id"``, ``"dataset id"``, ...).
    """
    base = Path(root)
    path = base
    for part in parts:
        path = path / plain_name(part, base, what=what)
    real_root = base.resolve()
    real = path.resolve()
    if real != real_root and not real.is_relative_to(real_root):
        raise _refuse(what, "/".join(parts), base, f"resolves to {real}")
    return path


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str], *, what: str = "path") -> Path:
    """``path`` itself, refused unless it resolves inside ``root`` (for paths handed between tasks)."""
    p = Path(path)
    real_root = Path(root).resolve()
    real = p.resolve()
    if real != real_root and not real.is_relative_to(real_root):
        raise _refuse(what, str(p), Path(root), f"resolves to {real}")
    return p


def default_home() -> Path:
    """Where batches, state and shared datasets live: ``$QUANCHENG_HOME``, else ``./work`` (here, not in the
    pipeline module, so light commands such as ``onboard`` find the home without importing the pipeline)."""
    return Path(os.environ.get("QUANCHENG_HOME", "work")).resolve()

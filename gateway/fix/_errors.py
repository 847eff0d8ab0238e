"""Exception classes of gateway.fix that stay plain Python (never compiled by mypyc).

A mypyc-compiled module cannot define a subclass of ``OSError`` with its own ``__init__``
(a native class cannot derive from it): ``StoreError`` lives here and ``gateway.fix.store``
re-exports it.
"""

from __future__ import annotations

import errno
import os


class StoreError(OSError):
    """A store's write or fsync failed: ``op`` says which, ``filename`` the file."""

    def __init__(self, op: str, path: str | os.PathLike[str], cause: OSError) -> None:
        code = cause.errno or errno.EIO
        super().__init__(code, cause.strerror or os.strerror(code), os.fspath(path))
        self.op = op

"""SHA-256 of text: the digest behind plan hashes, document hashes and the demo's seed.

``hashlib`` starts OpenSSL when it is imported, about 3 ms of every start for two short digests;
CPython's own SHA-256 (the ``_sha256`` module, ``_sha2`` from 3.12) gives the same digest without
it. ``hashlib`` is the fallback where neither exists (another interpreter).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def _constructor() -> Callable[[bytes], Any]:
    for module, name in (("_sha2", "sha256"), ("_sha256", "sha256"), ("hashlib", "sha256")):
        try:
            made: Callable[[bytes], Any] = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        return made
    raise ImportError("no SHA-256 implementation")  # pragma: no cover - hashlib always has one


_SHA256 = _constructor()


def sha256_hex(data: str | bytes) -> str:
    """The SHA-256 of ``data`` (text is encoded as UTF-8), as 64 hexadecimal digits."""
    digest: str = _SHA256(data.encode() if isinstance(data, str) else data).hexdigest()
    return digest

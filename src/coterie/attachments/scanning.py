"""The virus-scan hook: an optional `Scanner` every upload passes before anything is stored.

`attachments_scanner = "package.module:factory"` names a callable that takes the `Settings` and
returns a `Scanner`; it is built once per process and configuration. `scan(stream)` reads the
file (a seekable binary stream at its start; it need not rewind it) and answers `Clean()` or
`Infected(reason)`. An infected file is refused with 422 and nothing is stored; a scanner that
raises makes the upload fail with 503 (nothing stored either): a file is never let through
unscanned because the scanner was down. Example: a ClamAV client that sends the stream to
clamd's INSTREAM command and maps "FOUND" to `Infected`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Protocol, cast

from coterie.config import Settings


@dataclass(frozen=True)
class Clean:
    """The scanner found nothing."""


@dataclass(frozen=True)
class Infected:
    """The scanner found something: `reason` names it (e.g. the signature)."""

    reason: str


ScanResult = Clean | Infected


class Scanner(Protocol):
    def scan(self, stream: IO[bytes]) -> ScanResult: ...


class ScannerUnusableError(RuntimeError):
    """`attachments_scanner` does not name a callable that gives a scanner."""


_built: dict[str, Scanner] = {}
_lock = threading.Lock()


def scanner_for(settings: Settings) -> Scanner | None:
    """The configured scanner, or None when none is configured."""
    target = settings.attachments_scanner.strip()
    if not target:
        return None
    with _lock:
        found = _built.get(target)
        if found is None:
            found = _built[target] = _build(target, settings)
    return found


def _build(target: str, settings: Settings) -> Scanner:
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ScannerUnusableError(f"attachments_scanner must be module:callable, not {target!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ScannerUnusableError(f"attachments_scanner {target!r}: {error}") from error
    scanner = cast(Callable[[Settings], object], factory)(settings)
    if not callable(getattr(scanner, "scan", None)):
        raise ScannerUnusableError(f"attachments_scanner {target!r} gave no object with scan()")
    return cast(Scanner, scanner)

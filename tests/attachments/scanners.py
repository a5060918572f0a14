"""A real scanner for the scanner hook: it flags the EICAR test signature (as every anti-virus
does), and one that is down. Named in settings as `tests.attachments.scanners:eicar`."""

from __future__ import annotations

from typing import IO

from coterie.attachments.scanning import Clean, Infected, ScanResult
from coterie.config import Settings

SIGNATURE = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


class EicarScanner:
    """Reads the whole stream in overlapping chunks and looks for the EICAR signature."""

    def __init__(self) -> None:
        self.scanned = 0

    def scan(self, stream: IO[bytes]) -> ScanResult:
        self.scanned += 1
        tail = b""
        while chunk := stream.read(65536):
            window = tail + chunk
            if SIGNATURE in window:
                return Infected("Eicar-Test-Signature")
            tail = window[-len(SIGNATURE) :]
        return Clean()


class BrokenScanner:
    def scan(self, stream: IO[bytes]) -> ScanResult:
        raise ConnectionRefusedError("clamd is not answering")


def eicar(settings: Settings) -> EicarScanner:
    return EicarScanner()


def broken(settings: Settings) -> BrokenScanner:
    return BrokenScanner()

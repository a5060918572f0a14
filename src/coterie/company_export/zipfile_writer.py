"""Streaming writers into a zip archive: a JSON array item by item, CSV batch by batch, and a
JSON array with a CSV twin (the CSV spooled to a temporary file meanwhile, since a zip archive
writes one entry at a time). Memory stays flat whatever the number of items."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from pydantic import BaseModel

from coterie.kit.spreadsheets import Cell, csv_cell

SPOOL_BYTES = 4 * 1024 * 1024


def _json_bytes(item: BaseModel | dict[str, Any]) -> bytes:
    if isinstance(item, BaseModel):
        return item.model_dump_json(indent=None).encode()
    return json.dumps(item, ensure_ascii=False, default=str).encode()


class JsonArray:
    """A JSON array written to `stream` one item at a time."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.count = 0
        stream.write(b"[")

    def add(self, item: BaseModel | dict[str, Any]) -> None:
        self._stream.write(b"\n" if self.count == 0 else b",\n")
        self._stream.write(_json_bytes(item))
        self.count += 1

    def close(self) -> None:
        self._stream.write(b"\n]\n" if self.count else b"]\n")


class CsvRows:
    """CSV (RFC 4180, UTF-8) written to a binary stream, every cell formula-safe."""

    def __init__(self, stream: IO[bytes], header: Sequence[str]) -> None:
        self._stream = stream
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)
        self.add([*header])

    def add(self, row: Sequence[Cell]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])
        self._stream.write(self._buffer.getvalue().encode())
        self._buffer.seek(0)
        self._buffer.truncate()


@contextmanager
def entry(archive: zipfile.ZipFile, name: str) -> Iterator[IO[bytes]]:
    """A new entry `name`, compressed like the archive, dated now (UTC)."""
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = archive.compression
    with archive.open(info, "w", force_zip64=True) as stream:
        yield stream


def write_document(archive: zipfile.ZipFile, name: str, document: dict[str, Any]) -> None:
    """One JSON object as the entry `name`."""
    with entry(archive, name) as stream:
        stream.write(json.dumps(document, indent=2, ensure_ascii=False, default=str).encode())


def write_json(
    archive: zipfile.ZipFile, name: str, items: Iterable[BaseModel | dict[str, Any]]
) -> int:
    with entry(archive, name) as stream:
        array = JsonArray(stream)
        for item in items:
            array.add(item)
        array.close()
        return array.count


def write_chunks(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with entry(archive, name) as stream:
        for chunk in chunks:
            stream.write(chunk)


class Table:
    """A collection written as `name.json` (objects) and `name.csv` (rows) at once: the JSON
    goes straight into the zip, the CSV into a spooled temporary file added after it."""

    def __init__(self, array: JsonArray, rows: CsvRows) -> None:
        self._array = array
        self._rows = rows

    def add(self, item: BaseModel | dict[str, Any], row: Sequence[Cell]) -> None:
        self._array.add(item)
        self._rows.add(row)

    @property
    def count(self) -> int:
        return self._array.count


@contextmanager
def table(archive: zipfile.ZipFile, name: str, header: Sequence[str]) -> Iterator[Table]:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        rows = CsvRows(spool, header)
        with entry(archive, f"{name}.json") as stream:
            array = JsonArray(stream)
            yield Table(array, rows)
            array.close()
        spool.seek(0)
        with entry(archive, f"{name}.csv") as stream:
            shutil.copyfileobj(spool, stream)

"""Where the bytes of attachments live: the `Store` protocol and its two backends.

- `LocalStore` (the default): files under `attachments_dir` (data_dir/attachments), each named by
  the key Coterie generated (the attachment's id), in a two-character fan-out directory. No part
  of a path ever comes from the uploader.
- `S3Store`: one bucket of any S3-compatible store (AWS S3, MinIO, Ceph, ...), through boto3,
  chosen by `attachments_s3_bucket`; keys are `attachments_s3_prefix` + the generated key.

Both stream: `put` reads from a file object in chunks, `chunks` yields the content in chunks, so
neither holds a whole file in memory.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from coterie.config import Settings

CHUNK = 64 * 1024
_KEY = re.compile(r"^[0-9a-f]{32}$")


class StoredFileMissingError(LookupError):
    """The store has no content under that key (removed behind Coterie's back, or never put)."""


class Store(Protocol):
    """Content by key. Keys are Coterie's own (32 lowercase hex digits), never a user's."""

    def put(self, key: str, stream: IO[bytes], *, content_type: str) -> None:
        """Store the rest of `stream` under `key` (replacing nothing: keys are new)."""
        ...

    def chunks(self, key: str) -> Iterator[bytes]:
        """The content under `key`, in chunks; `StoredFileMissingError` when there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the content under `key`; no error when there is none."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: str) -> str:
    if _KEY.fullmatch(key) is None:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStore:
    """Files in one directory tree on the local disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[:2] / key

    def put(self, key: str, stream: IO[bytes], *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # written beside its final name, then renamed: a reader never sees half a file
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            os.replace(partial, path)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise

    def chunks(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError as missing:
            raise StoredFileMissingError(key) from missing
        return _read_chunks(handle)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class S3Store:
    """Objects in one bucket of an S3-compatible store."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, stream: IO[bytes], *, content_type: str) -> None:
        self.client.upload_fileobj(
            stream, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
        )

    def chunks(self, key: str) -> Iterator[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _missing(error):
                raise StoredFileMissingError(key) from error
            raise
        body = response["Body"]
        return _body_chunks(body)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True


def _missing(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _body_chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    finally:
        body.close()


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint, region and credentials."""
    secret = settings.attachments_s3_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.attachments_s3_endpoint_url or None,
        region_name=settings.attachments_s3_region or None,
        aws_access_key_id=settings.attachments_s3_access_key_id or None,
        aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )


_clients: dict[tuple[str, str, str, str], Any] = {}
_clients_lock = threading.Lock()


def store_for(settings: Settings) -> Store:
    """The store the settings choose: S3 when a bucket is set, else the local disk."""
    if not settings.attachments_s3_bucket:
        return LocalStore(settings.resolved_attachments_dir)
    secret = settings.attachments_s3_secret_access_key
    identity = (
        settings.attachments_s3_endpoint_url,
        settings.attachments_s3_region,
        settings.attachments_s3_access_key_id,
        secret.get_secret_value() if secret is not None else "",
    )
    with _clients_lock:  # a client is thread-safe and costly to build: one per configuration
        client = _clients.get(identity)
        if client is None:
            client = _clients[identity] = s3_client(settings)
    return S3Store(client, settings.attachments_s3_bucket, settings.attachments_s3_prefix)

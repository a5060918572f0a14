"""One contract for both stores: the local disk and an S3-compatible server (moto's, started
here on a free port of the loopback interface), and the API on top of the S3 store."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from coterie.attachments.storage import LocalStore, Store, StoredFileMissingError
from coterie.config import Settings
from tests.fixtures.activity import make_deal
from tests.fixtures.attachments import files_of, pdf_bytes, uploaded
from tests.fixtures.smtp import Inbox

# moto keeps its buckets in the process, whichever server serves them: a name per process
BUCKET = f"coterie-attachments-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    yield endpoint
    server.stop()


def s3_settings(endpoint: str, **values: object) -> Settings:
    return Settings(
        attachments_s3_bucket=BUCKET,
        attachments_s3_endpoint_url=endpoint,
        attachments_s3_region="eu-west-1",
        attachments_s3_access_key_id="test-key",
        attachments_s3_secret_access_key="test-secret",  # type: ignore[arg-type]
        **values,  # type: ignore[arg-type]
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "files")
    from coterie.attachments.storage import store_for

    endpoint: str = request.getfixturevalue("s3_endpoint")
    return store_for(s3_settings(endpoint, attachments_s3_prefix=f"t{secrets.token_hex(4)}/"))


def key() -> str:
    return secrets.token_hex(16)


def read(store: Store, name: str) -> bytes:
    return b"".join(store.chunks(name))


def test_content_put_comes_back_byte_for_byte(store: Store) -> None:
    name = key()
    content = secrets.token_bytes(200_000)  # several chunks
    store.put(name, io.BytesIO(content), content_type="application/pdf")
    assert store.exists(name)
    assert read(store, name) == content


def test_a_missing_key_is_reported_as_missing(store: Store) -> None:
    name = key()
    assert not store.exists(name)
    with pytest.raises(StoredFileMissingError):
        read(store, name)


def test_delete_removes_and_is_idempotent(store: Store) -> None:
    name, other = key(), key()
    store.put(name, io.BytesIO(b"one"), content_type="text/plain")
    store.put(other, io.BytesIO(b"two"), content_type="text/plain")
    store.delete(name)
    store.delete(name)
    assert not store.exists(name)
    assert read(store, other) == b"two"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", "ABCDEF" * 6, "0" * 31])
def test_only_keys_coterie_generates_are_accepted(store: Store, bad: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        store.put(bad, io.BytesIO(b"x"), content_type="text/plain")


def test_the_local_store_never_leaves_a_partial_file(tmp_path: Path) -> None:
    class Failing(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("the upload broke off")

    local = LocalStore(tmp_path)
    name = key()
    with pytest.raises(OSError, match="broke off"):
        local.put(name, Failing(), content_type="text/plain")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_the_s3_store_keeps_the_sniffed_type_on_the_object(s3_endpoint: str) -> None:
    settings = s3_settings(s3_endpoint, attachments_s3_prefix="typed/")
    from coterie.attachments.storage import store_for

    name = key()
    store_for(settings).put(name, io.BytesIO(b"%PDF-1.4"), content_type="application/pdf")
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    head = client.head_object(Bucket=BUCKET, Key=f"typed/{name}")
    assert head["ContentType"] == "application/pdf"


def test_uploads_and_downloads_go_to_the_bucket_when_one_is_configured(
    client: TestClient, inbox: Inbox, settings: Settings, s3_endpoint: str
) -> None:
    for field, value in s3_settings(s3_endpoint, attachments_s3_prefix="api/"):
        if field.startswith("attachments_s3"):
            setattr(settings, field, value)
    deal = make_deal(client, inbox)
    content = pdf_bytes("in the bucket")
    made = uploaded(client, deal.acme, deal.record_id, "bucket.pdf", content)
    objects = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="eu-west-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    ).list_objects_v2(Bucket=BUCKET, Prefix="api/")
    assert [o["Key"] for o in objects["Contents"]] == [f"api/{made['id'].replace('-', '')}"]
    got = client.get(made["download_url"], headers=deal.globex.headers)
    assert got.content == content
    assert (
        client.delete(f"/api/v1/attachments/{made['id']}", headers=deal.acme.headers).status_code
        == 204
    )
    assert files_of(client, deal.acme, deal.record_id) == []

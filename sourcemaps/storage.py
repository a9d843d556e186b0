"""Where uploaded bytes live: one small interface, the backend chosen once in the settings
(SOURCEMAPS["BLOB_STORE"]). Blobs are addressed by their SHA-1, so the same bytes are stored once."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import ArtifactBundle, ReleaseFile, StoredBlob, UploadChunk


class BlobStore(Protocol):
    def put(self, checksum: str, data: bytes) -> None: ...
    def get(self, checksum: str) -> bytes | None: ...
    def delete(self, checksum: str) -> None: ...


class FileBlobStore:
    """Files under DATA_DIR/artifacts/ab/cdef…: for one machine (the embedded default)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or Path(settings.DATA_DIR) / "artifacts")

    def _path(self, checksum: str) -> Path:
        return self.root / checksum[:2] / checksum[2:]

    def put(self, checksum: str, data: bytes) -> None:
        path = self._path(checksum)
        if path.exists():
            return  # content-addressed: the same name holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)

    def get(self, checksum: str) -> bytes | None:
        try:
            return self._path(checksum).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, checksum: str) -> None:
        self._path(checksum).unlink(missing_ok=True)


class DatabaseBlobStore:
    """Rows of the database: every web and worker machine of a PostgreSQL installation sees them."""

    def put(self, checksum: str, data: bytes) -> None:
        try:
            with transaction.atomic():
                StoredBlob.objects.get_or_create(checksum=checksum, defaults={"data": data})
        except IntegrityError:
            pass  # a concurrent upload of the same bytes won

    def get(self, checksum: str) -> bytes | None:
        row = StoredBlob.objects.filter(checksum=checksum).values_list("data", flat=True).first()
        return bytes(row) if row is not None else None

    def delete(self, checksum: str) -> None:
        StoredBlob.objects.filter(checksum=checksum).delete()


@cache
def blob_store() -> BlobStore:
    return import_string(settings.SOURCEMAPS["BLOB_STORE"])()


def forget_unused_blobs(checksums: set[str]) -> None:
    """Deletes the blobs no chunk, bundle or release file names any more (the same bytes may be all three)."""
    store = blob_store()
    for checksum in sorted(checksums):
        if not (
            UploadChunk.objects.filter(checksum=checksum).exists()
            or ArtifactBundle.objects.filter(checksum=checksum).exists()
            or ReleaseFile.objects.filter(checksum=checksum).exists()
        ):
            store.delete(checksum)

"""Release files: single files uploaded for a release and dist by the older per-file API
(`releases/{version}/files/`, Sentry's ReleaseFile). Bytes go to the blob store by SHA-1, like
bundles; the lookup finds them by release + dist + URL (lookup.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from projects.models import Organization

from .models import ReleaseFile
from .storage import blob_store, forget_unused_blobs
from .upload import UploadError, check_quota

# Sentry's answers, word for word, so scripts written against it read them.
ERR_EXISTS = "A file matching this name already exists for the given release"
ERR_WHITESPACE = "File name must not contain special whitespace characters"
ERR_HEADER = "header value was not formatted correctly"
_SPECIAL_WHITESPACE = frozenset("\r\n\t\f\v")


class ReleaseFileError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class FileUpload:
    name: str
    dist: str
    headers: dict[str, str]
    data: bytes


def parse_headers(lines: list[str]) -> dict[str, str]:
    """`header` form fields, each "Key: Value" (Sentry keeps them with the file)."""
    headers = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ReleaseFileError(ERR_HEADER)
        headers[key.strip()] = value.strip()
    return headers


def check_name(name: str, field: str = "name") -> str:
    if not name or _SPECIAL_WHITESPACE.intersection(name):
        raise ReleaseFileError(ERR_WHITESPACE if name else f"{field} must not be empty")
    if len(name) > 500:
        raise ReleaseFileError(f"{field} must be at most 500 characters")
    return name


def store_release_file(organization: Organization, version: str, upload: FileUpload) -> ReleaseFile:
    """Stores the bytes once (by SHA-1) and indexes the file; the same name twice is a 409."""
    if len(upload.data) > settings.SOURCEMAPS["MAX_FILE_BYTES"]:
        raise ReleaseFileError(f"the file is larger than {settings.SOURCEMAPS['MAX_FILE_BYTES']} bytes")
    try:
        check_quota(organization, len(upload.data))
    except UploadError as exc:
        raise ReleaseFileError(str(exc)) from exc
    checksum = hashlib.sha1(upload.data).hexdigest()
    blob_store().put(checksum, upload.data)
    try:
        with transaction.atomic():
            return ReleaseFile.objects.create(
                organization=organization,
                release=version,
                dist=upload.dist,
                name=check_name(upload.name),
                checksum=checksum,
                size=len(upload.data),
                headers=upload.headers,
            )
    except (IntegrityError, ReleaseFileError) as exc:
        forget_unused_blobs({checksum})
        if isinstance(exc, ReleaseFileError):
            raise
        raise ReleaseFileError(ERR_EXISTS, status=409) from exc


def update_release_file(release_file: ReleaseFile, name: str | None, dist: str | None) -> None:
    if name is not None:
        release_file.name = check_name(name)
    if dist is not None:
        release_file.dist = dist
    try:
        with transaction.atomic():
            release_file.save(update_fields=["name", "dist"])
    except IntegrityError as exc:
        raise ReleaseFileError(ERR_EXISTS, status=409) from exc


def delete_release_files(files: QuerySet[ReleaseFile]) -> int:
    checksums = set(files.values_list("checksum", flat=True))
    deleted, _ = files.delete()
    forget_unused_blobs(checksums)
    return deleted


def serialize_release_file(release_file: ReleaseFile) -> dict:
    """Sentry's documented shape: id a string, dist null when none, headers an object."""
    return {
        "id": str(release_file.pk),
        "name": release_file.name,
        "dist": release_file.dist or None,
        "headers": release_file.headers,
        "size": release_file.size,
        "sha1": release_file.checksum,
        "dateCreated": release_file.created.isoformat().replace("+00:00", "Z"),
    }

"""The upload side, as sentry-cli 3 and the bundler plugins drive it: chunks named by their SHA-1,
then `artifactbundle/assemble/` polled until the bundle built from them is ok (or error)."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core.dispatch import send_task
from projects.models import Organization, Project

from .models import ArtifactBundle, AssembleJob, ReleaseFile, UploadChunk
from .storage import blob_store

ASSEMBLE_TASK = "sourcemaps.tasks.assemble_bundles"


class UploadError(ValueError):
    """A refused upload; the message goes back to the client as Sentry's `{"error": ...}`."""


@dataclass(frozen=True)
class AssembleRequest:
    checksum: str
    chunks: list[str]
    projects: list[Project]
    release: str = ""
    dist: str = ""


def gunzip_chunk(data: bytes, limit: int) -> bytes:
    """A `file_gzip` part, inflated to at most `limit` bytes (a bomb stops at the cap)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise UploadError("chunk is not valid gzip") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise UploadError("Chunk size too large")
    return out


def stored_bytes(organization: Organization) -> int:
    bundles = ArtifactBundle.objects.filter(organization=organization).aggregate(s=Sum("size"))["s"]
    chunks = UploadChunk.objects.filter(organization=organization).aggregate(s=Sum("size"))["s"]
    files = ReleaseFile.objects.filter(organization=organization).aggregate(s=Sum("size"))["s"]
    return (bundles or 0) + (chunks or 0) + (files or 0)


def check_quota(organization: Organization, adding: int) -> None:
    quota = settings.SOURCEMAPS["ORG_QUOTA_BYTES"]
    if quota and stored_bytes(organization) + adding > quota:
        raise UploadError(f"the organization's storage for artifacts ({quota} bytes) is full")


def store_chunks(organization: Organization, chunks: list[tuple[str, bytes]]) -> None:
    """Chunks as (name = claimed SHA-1, content): each is checked against its name, then stored once."""
    limits = settings.SOURCEMAPS
    if len(chunks) > limits["CHUNKS_PER_REQUEST"]:
        raise UploadError("Too many chunks")
    if sum(len(data) for _, data in chunks) > limits["MAX_REQUEST_BYTES"]:
        raise UploadError("Request too large")
    for name, data in chunks:
        if len(data) > limits["CHUNK_BYTES"]:
            raise UploadError("Chunk size too large")
        if hashlib.sha1(data).hexdigest() != name:
            raise UploadError(f"checksum mismatch for chunk {name[:40]}")
    check_quota(organization, sum(len(data) for _, data in chunks))
    store = blob_store()
    for name, data in chunks:
        store.put(name, data)
        UploadChunk.objects.bulk_create(
            [UploadChunk(organization=organization, checksum=name, size=len(data))], ignore_conflicts=True
        )


def request_assembly(organization: Organization, request: AssembleRequest) -> dict:
    """Sentry's answer shape: {"state", "missingChunks", "detail"}; states created, assembling, ok,
    error, and not_found (chunks still to upload, or a poll for a bundle nobody asked for)."""
    bundle = ArtifactBundle.objects.filter(organization=organization, checksum=request.checksum).first()
    if bundle is not None:
        # The same files uploaded for another project of the organization: that project uses them too.
        bundle.projects.add(*request.projects)
        return {"state": "ok", "detail": None, "missingChunks": []}
    job = AssembleJob.objects.filter(organization=organization, checksum=request.checksum).first()
    if job is not None:
        return {"state": job.state, "detail": job.detail or None, "missingChunks": []}
    if not request.chunks:
        return {"state": "not_found", "missingChunks": []}
    have = set(
        UploadChunk.objects.filter(organization=organization, checksum__in=request.chunks).values_list(
            "checksum", flat=True
        )
    )
    missing = sorted({c for c in request.chunks if c not in have})
    if missing:
        return {"state": "not_found", "missingChunks": missing}
    try:
        with transaction.atomic():
            job = AssembleJob.objects.create(
                organization=organization,
                checksum=request.checksum,
                chunks=request.chunks,
                release=request.release,
                dist=request.dist,
            )
            job.projects.set(request.projects)
    except IntegrityError:
        pass  # a concurrent request for the same bundle created the job
    send_task(ASSEMBLE_TASK)
    return {"state": "created", "detail": None, "missingChunks": []}


def touch_bundles(bundle_ids: list[int]) -> None:
    """Retention counts from the last use; renewed at most once a day per bundle."""
    now = timezone.now()
    ArtifactBundle.objects.filter(pk__in=bundle_ids, last_used__lt=now - timedelta(days=1)).update(
        last_used=now
    )

"""Build artifact bundles from uploaded chunks (the worker side of `artifactbundle/assemble/`) and
delete what retention says is old. Idempotent: a job is claimed by one worker with a conditional
UPDATE, and a bundle is unique per (organization, checksum)."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from .bundle import BundleError, read_manifest
from .models import ArtifactBundle, AssembleJob, BundleFile, UploadChunk
from .storage import blob_store, forget_unused_blobs
from .upload import UploadError, check_quota

log = logging.getLogger(__name__)
# A job left "assembling" this long belongs to a worker that died: another one takes it.
STALE_ASSEMBLING = timedelta(minutes=5)
JOB_KEPT = timedelta(days=1)


def assemble_pending(limit: int = 20) -> int:
    done = 0
    stale = timezone.now() - STALE_ASSEMBLING
    candidates = AssembleJob.objects.filter(state=AssembleJob.State.CREATED) | AssembleJob.objects.filter(
        state=AssembleJob.State.ASSEMBLING, updated__lt=stale
    )
    for job in candidates.order_by("id")[:limit]:
        claimed = AssembleJob.objects.filter(pk=job.pk, state=job.state, updated=job.updated).update(
            state=AssembleJob.State.ASSEMBLING, updated=timezone.now()
        )
        if claimed:
            assemble_job(job)
            done += 1
    return done


def assemble_job(job: AssembleJob) -> None:
    try:
        bundle = _build_bundle(job)
    except (BundleError, UploadError) as exc:
        AssembleJob.objects.filter(pk=job.pk).update(state=AssembleJob.State.ERROR, detail=str(exc))
        return
    except DatabaseError:
        raise  # an outage: the job is taken again once it looks stale
    except Exception as exc:  # a bundle no rule above foresaw must not leave sentry-cli polling for ever
        log.warning("artifact bundle %s not assembled: %s", job.checksum, type(exc).__name__, exc_info=True)
        AssembleJob.objects.filter(pk=job.pk).update(
            state=AssembleJob.State.ERROR, detail="the bundle could not be read"
        )
        return
    AssembleJob.objects.filter(pk=job.pk).update(state=AssembleJob.State.OK, detail="")
    log.info("assembled artifact bundle %s (%d bytes)", bundle.checksum, bundle.size)


def _join_chunks(job: AssembleJob) -> bytes:
    limit = settings.SOURCEMAPS["MAX_BUNDLE_BYTES"]
    store = blob_store()
    parts, size = [], 0
    owned = set(
        UploadChunk.objects.filter(organization_id=job.organization_id, checksum__in=job.chunks).values_list(
            "checksum", flat=True
        )
    )
    for checksum in job.chunks:
        data = store.get(checksum) if checksum in owned else None
        if data is None:
            raise UploadError(f"chunk {checksum} is missing; upload again")
        size += len(data)
        if size > limit:
            raise UploadError(f"the bundle is larger than {limit} bytes")
        parts.append(data)
    data = b"".join(parts)
    if hashlib.sha1(data).hexdigest() != job.checksum:
        raise UploadError("the chunks do not add up to the bundle's checksum")
    return data


def _build_bundle(job: AssembleJob) -> ArtifactBundle:
    data = _join_chunks(job)
    limits = settings.SOURCEMAPS
    manifest = read_manifest(data, max_files=limits["MAX_FILES"], max_file_bytes=limits["MAX_FILE_BYTES"])
    check_quota(job.organization, len(data))
    blob_store().put(job.checksum, data)
    with transaction.atomic():
        bundle, created = ArtifactBundle.objects.get_or_create(
            organization_id=job.organization_id,
            checksum=job.checksum,
            defaults={
                "bundle_id": manifest.bundle_id,
                "size": len(data),
                "release": job.release,
                "dist": job.dist,
                "last_used": timezone.now(),
            },
        )
        bundle.projects.add(*job.projects.all())
        if created:
            BundleFile.objects.bulk_create(
                BundleFile(
                    bundle=bundle,
                    path=e.path,
                    kind=e.kind,
                    debug_id=e.debug_id,
                    url=e.url,
                    sourcemap=e.sourcemap,
                )
                for e in manifest.entries
            )
        # The chunks served their purpose; their bytes stay if the bundle is made of one chunk.
        UploadChunk.objects.filter(organization_id=job.organization_id, checksum__in=job.chunks).delete()
    forget_unused_blobs(set(job.chunks) - {job.checksum})
    return bundle


def cleanup_artifacts() -> int:
    """Bundles unused for SOURCEMAP_RETENTION_DAYS, chunks never assembled after a day, old jobs."""
    now = timezone.now()
    days = settings.SOURCEMAPS["RETENTION_DAYS"]
    old_bundles = ArtifactBundle.objects.filter(last_used__lt=now - timedelta(days=days))
    old_chunks = UploadChunk.objects.filter(created__lt=now - JOB_KEPT)
    checksums = set(old_bundles.values_list("checksum", flat=True)) | set(
        old_chunks.values_list("checksum", flat=True)
    )
    deleted = old_bundles.delete()[0] + old_chunks.delete()[0]
    deleted += AssembleJob.objects.filter(updated__lt=now - JOB_KEPT).delete()[0]
    forget_unused_blobs(checksums)
    return deleted

"""Uploaded chunks, artifact bundles (zip files of minified sources and their source maps) and the
index the worker looks frames up in: by debug ID, or by release + dist + URL for release-bound uploads.

Bytes live in the blob store (storage.py), addressed by their SHA-1; these tables say who owns them.
"""

from django.db import models

from projects.models import Organization, Project


class UploadChunk(models.Model):
    """A chunk an organization uploaded (sentry-cli splits files into chunks named by their SHA-1).
    Ownership per organization: knowing a checksum must not let another organization use the bytes."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    checksum = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "checksum"], name="uniq_upload_chunk"),
        ]


class AssembleJob(models.Model):
    """One `artifactbundle/assemble/` request, polled by sentry-cli until its state is ok or error."""

    class State(models.TextChoices):
        CREATED = "created"
        ASSEMBLING = "assembling"
        OK = "ok"
        ERROR = "error"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    checksum = models.CharField(max_length=40)
    chunks = models.JSONField()
    projects = models.ManyToManyField(Project, related_name="+")
    release = models.CharField(max_length=250, default="")
    dist = models.CharField(max_length=64, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED)
    detail = models.TextField(default="")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "checksum"], name="uniq_assemble_job"),
        ]
        indexes = [models.Index(fields=["state", "updated"], name="assemble_job_state")]


class ArtifactBundle(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    checksum = models.CharField(max_length=40)  # SHA-1 of the zip: its key in the blob store
    bundle_id = models.CharField(max_length=36, default="")  # the manifest's debug_id
    size = models.PositiveBigIntegerField()
    # Release-bound uploads (`--release`, `--dist`); both empty for a bundle found by debug IDs only.
    # Keyed by the version string, as Sentry does: a bundle may name a release not created yet.
    release = models.CharField(max_length=250, default="")
    dist = models.CharField(max_length=64, default="")
    projects = models.ManyToManyField(Project, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    # Retention counts from the last time an event used the bundle (renewed at most daily).
    last_used = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "checksum"], name="uniq_artifact_bundle"),
        ]


class BundleFile(models.Model):
    """One file of a bundle, indexed by what a frame can be matched on."""

    class Kind(models.TextChoices):
        MINIFIED_SOURCE = "minified_source"
        SOURCE_MAP = "source_map"
        SOURCE = "source"

    bundle = models.ForeignKey(ArtifactBundle, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)  # inside the zip
    kind = models.CharField(max_length=16, choices=Kind.choices)
    debug_id = models.UUIDField(null=True)
    url = models.CharField(max_length=500, default="")  # "~/static/app.min.js"
    sourcemap = models.CharField(max_length=500, default="")  # the "Sourcemap" header of a script

    class Meta:
        indexes = [
            models.Index(fields=["debug_id", "kind"], name="bundle_file_debug_id"),
            models.Index(fields=["url"], name="bundle_file_url"),
        ]


class ReleaseFile(models.Model):
    """A file uploaded on its own for a release (`releases/{version}/files/`, the API older
    sentry-cli versions and release-bound uploads without chunks use). Frames of events of that
    release (and dist) find it by URL, as they find a release-bound bundle's files. Kept until it or
    its release is deleted, as in Sentry. Keyed by the version string, like ArtifactBundle."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    release = models.CharField(max_length=250)
    dist = models.CharField(max_length=64, default="")
    name = models.CharField(max_length=500)  # "~/static/app.min.js" or a full URL
    checksum = models.CharField(max_length=40)  # SHA-1 of the bytes: their key in the blob store
    size = models.PositiveBigIntegerField()
    headers = models.JSONField(default=dict)  # e.g. {"Sourcemap": "app.min.js.map"}
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "release", "dist", "name"], name="uniq_release_file_name"
            ),
        ]


class StoredBlob(models.Model):
    """Bytes of the database blob store (SOURCEMAPS_STORAGE=database), one row per SHA-1."""

    checksum = models.CharField(max_length=40, unique=True)
    data = models.BinaryField()

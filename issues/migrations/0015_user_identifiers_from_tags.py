"""Moves the `sentry:user.*` tag rows (every identifier of an event's user, which the batch writer
wrote up to 4 of per event for the issue search) into the identifier columns of IssueUser, and
deletes them. The search now reads those columns.

Tag rows are counted per (issue, key, value): they do not say which user a value belonged to. So:
- a user's best identifier (the one its key hashes) is found by hashing every `user` tag value and
  every `sentry:user.*` value: that covers every user (but one whose identifier was cut to the
  tag's 200 characters), also those whose events came before the `sentry:user.*` rows existed;
- the other identifiers (the email of a user who also sent an id) go to the issue's only user, or
  else to the one user whose best-identifier rows have the same event count, first and last seen
  (an id and an email sent together by every event are counted by the same events); a value that
  matches no user or several is dropped. Those users gain it again from their next event (the batch
  writer fills an identifier a row lacks).

Issue by issue in chunks of CHUNK issues, each chunk its own transaction (the migration is not
atomic): no long lock on tag or user rows that a running worker writes, and a run that stops half
way starts again where it was (moved rows are deleted, identifiers only fill empty columns).
"""

import hashlib
from collections import defaultdict

from django.db import migrations, transaction

CHUNK = 1000
FACTS = {"sentry:user.id": "id", "sentry:user.email": "email", "sentry:user.username": "username"}
FACTS |= {"sentry:user.ip": "ip_address"}
COLUMNS = {"id": ("ident", 128), "email": ("email", 75), "username": ("username", 128)}
COLUMNS |= {"ip_address": ("ip_address", 45)}
TAG_MAX = 200


def move_identifiers(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    last = 0
    while True:
        ids = list(Issue.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        with transaction.atomic(using=schema_editor.connection.alias):
            _move_chunk(apps, ids[0], ids[-1])
        last = ids[-1]


def _move_chunk(apps, first: int, last: int) -> None:
    IssueTag = apps.get_model("issues", "IssueTag")
    IssueUser = apps.get_model("issues", "IssueUser")
    in_chunk = {"issue_id__gte": first, "issue_id__lte": last}
    rows = list(
        IssueTag.objects.filter(**in_chunk, key__in=["user", *FACTS])
        .order_by("issue_id", "-last_seen", "id")
        .values_list("id", "issue_id", "key", "value", "times_seen", "first_seen", "last_seen")
    )
    by_issue = defaultdict(list)
    for row in rows:
        by_issue[row[1]].append(row)
    users = IssueUser.objects.filter(issue_id__in=sorted(by_issue))
    users_of = defaultdict(dict)
    for user in users:
        users_of[user.issue_id][user.user_key] = user
    changed = {}
    for issue_id, issue_users in users_of.items():
        for user in _assign(by_issue[issue_id], issue_users):
            changed[user.pk] = user
    names = [column for column, _ in COLUMNS.values()]
    IssueUser.objects.bulk_update(list(changed.values()), names, batch_size=500)
    fact_ids = [row[0] for row in rows if row[2] in FACTS]
    for start in range(0, len(fact_ids), 500):
        IssueTag.objects.filter(pk__in=fact_ids[start : start + 500]).delete()


def _assign(rows, users: dict) -> set:
    """Sets the identifiers the rows tell of on `users` (by user key); returns the users changed."""
    changed = set()
    signatures = defaultdict(set)  # (events, first seen, last seen) -> users with such a best row
    others = []
    for _, _, key, value, times_seen, first_seen, last_seen in rows:
        field, identifier = _field_and_value(key, value)
        if field is None:
            continue
        user = users.get(hashlib.sha1(f"{field}:{identifier}".encode()).hexdigest())
        if user is not None and len(value) < TAG_MAX:
            changed |= _fill(user, field, identifier)
            signatures[times_seen, first_seen, last_seen].add(user.user_key)
        elif key in FACTS:
            others.append((field, identifier, (times_seen, first_seen, last_seen)))
    only = next(iter(users.values())) if len(users) == 1 else None
    for field, identifier, signature in others:  # newest first: the newest value of a field wins
        owners = signatures.get(signature, set())
        user = only or (users[next(iter(owners))] if len(owners) == 1 else None)
        if user is not None:
            changed |= _fill(user, field, identifier)
    return changed


def _field_and_value(key: str, value: str):
    if key in FACTS:
        return FACTS[key], value
    field, sep, identifier = value.partition(":")  # the `user` tag: `id:42`, `ip:10.0.0.1`
    field = "ip_address" if field == "ip" else field
    return (field, identifier) if sep and field in COLUMNS else (None, None)


def _fill(user, field: str, identifier: str) -> set:
    column, limit = COLUMNS[field]
    if getattr(user, column) is not None or identifier == "":
        return set()
    setattr(user, column, identifier.replace("\x00", "\ufffd")[:limit])
    return {user}


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("issues", "0014_issue_user_identifiers")]

    operations = [migrations.RunPython(move_identifiers, migrations.RunPython.noop, elidable=True)]

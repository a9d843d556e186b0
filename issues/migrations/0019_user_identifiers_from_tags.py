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
    connection = schema_editor.connection
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM issues_issue WHERE id > %s ORDER BY id LIMIT %s", [last, CHUNK])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            _move_chunk(cursor, ids[0], ids[-1])
        last = ids[-1]


def _move_chunk(cursor, first: int, last: int) -> None:
    # Plain SQL: times are compared, never converted (the ORM's conversion was most of the time).
    keys = ["user", *FACTS]
    cursor.execute(
        "SELECT id, issue_id, key, value, times_seen, first_seen, last_seen FROM issues_issuetag "
        f"WHERE issue_id BETWEEN %s AND %s AND key IN ({', '.join(['%s'] * len(keys))}) "
        "ORDER BY issue_id, last_seen DESC, id",
        [first, last, *keys],
    )
    by_issue = defaultdict(list)
    for row in cursor.fetchall():
        by_issue[row[1]].append(row)
    if not by_issue:
        return
    names = [column for column, _ in COLUMNS.values()]
    cursor.execute(
        f"SELECT id, issue_id, user_key, {', '.join(names)} FROM issues_issueuser "
        "WHERE issue_id BETWEEN %s AND %s",
        [first, last],
    )
    users_of = defaultdict(dict)
    for user_id, issue_id, user_key, *identifiers in cursor.fetchall():
        users_of[issue_id][user_key] = [user_id, dict(zip(names, identifiers, strict=True))]
    changed = {}
    for issue_id, issue_users in users_of.items():
        for user_key in _assign(by_issue[issue_id], issue_users):
            user_id, found = issue_users[user_key]
            changed[user_id] = [found[n] for n in names] + [user_id]
    if changed:  # one prepared UPDATE per row (bulk_update's CASE grows with the rows squared)
        sets = ", ".join(f"{n} = %s" for n in names)
        cursor.executemany(f"UPDATE issues_issueuser SET {sets} WHERE id = %s", list(changed.values()))
    fact_ids = [row[0] for rows in by_issue.values() for row in rows if row[2] in FACTS]
    for start in range(0, len(fact_ids), 500):
        part = fact_ids[start : start + 500]
        cursor.execute(f"DELETE FROM issues_issuetag WHERE id IN ({', '.join(['%s'] * len(part))})", part)


def _assign(rows, users: dict) -> set:
    """Fills the identifiers the rows tell of into `users` ({user key: [id, {column: value}]});
    returns the keys of the users changed."""
    changed = set()
    signatures = defaultdict(set)  # (events, first seen, last seen) -> users with such a best row
    others = []
    for _, _, key, value, times_seen, first_seen, last_seen in rows:
        field, identifier = _field_and_value(key, value)
        if field is None:
            continue
        user_key = hashlib.sha1(f"{field}:{identifier}".encode()).hexdigest()
        if user_key in users and len(value) < TAG_MAX:
            changed |= _fill(users, user_key, field, identifier)
            signatures[times_seen, first_seen, last_seen].add(user_key)
        elif key in FACTS:
            others.append((field, identifier, (times_seen, first_seen, last_seen)))
    only = next(iter(users)) if len(users) == 1 else None
    for field, identifier, signature in others:  # newest first: the newest value of a field wins
        owners = signatures.get(signature, set())
        owner = only or (next(iter(owners)) if len(owners) == 1 else None)
        if owner is not None:
            changed |= _fill(users, owner, field, identifier)
    return changed


def _field_and_value(key: str, value: str):
    if key in FACTS:
        return FACTS[key], value
    field, sep, identifier = value.partition(":")  # the `user` tag: `id:42`, `ip:10.0.0.1`
    field = "ip_address" if field == "ip" else field
    return (field, identifier) if sep and field in COLUMNS else (None, None)


def _fill(users: dict, user_key: str, field: str, identifier: str) -> set:
    column, limit = COLUMNS[field]
    found = users[user_key][1]
    if found[column] is not None or identifier == "":
        return set()
    found[column] = identifier.replace("\x00", "\ufffd")[:limit]
    return {user_key}


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("issues", "0018_issue_user_identifiers")]

    operations = [migrations.RunPython(move_identifiers, migrations.RunPython.noop, elidable=True)]

"""Backup and restore of the whole database in one file (SPEC §14), on SQLite and PostgreSQL.

The file is JSON Lines (gzip-compressed when its name ends in `.gz`): a header (format,
engine, applied migrations, rows per table), then one line per row of every table of every
app (auth users and their passwords, tokens, sessions, content types and permissions, the
calendar mirror…), in Django's serialised form. It is written from one consistent snapshot
(a repeatable-read transaction on PostgreSQL; SQLite's write lock) and keeps every value
exactly: instants to the microsecond (Django's JSON encoder would cut them to milliseconds).
The same file restores on either engine.

The file is created readable by its owner only (mode 0600): it holds password hashes and
token digests.

Restoring runs in one transaction: it migrates a database that has no tables yet, refuses a
database at other migrations than the backup's (those of the installed apps: an upgraded
database keeps the rows of apps it no longer has, e.g. `authtoken`), refuses one holding
data unless `force` (which empties it first), inserts the rows as they were (no `save()`, no
signal, no `auto_now`), checks that every table got the rows the header announced, and puts
the id sequences where they were at the backup (or past the restored ids, whichever is
further), so that new rows never reuse the id of a row deleted before the backup. Anything
wrong rolls it all back.

Emptying the database also covers the tables it holds that no installed app owns but that
point at ours (e.g. `authtoken_token`, emptied by core/0003 and kept): PostgreSQL refuses
to truncate a table others reference. They are emptied with ours only if they hold no row;
otherwise the restore is refused, naming them (their rows would point at users replaced by
the backup's; drop or empty them by hand).

Why not the alternatives: `dumpdata`/`loaddata` cut instants to milliseconds and, after
`migrate`, clash with the content types and permissions it created; `pg_dump` and SQLite's
backup API make one file per engine and need the server's client tools on the app machine;
django-dbbackup wraps those same tools (and a storage configuration).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Any, cast

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

FORMAT = "platform-booking-backup"
VERSION = 1
BATCH = 500
# Rows that `migrate` itself creates: a freshly migrated database holding only these is empty.
MIGRATE_FILLS = {"contenttypes.contenttype", "auth.permission"}


class BackupError(Exception):
    """The backup cannot be written or restored; the message says why (nothing was changed)."""


@dataclass(frozen=True)
class Summary:
    path: Path
    tables: int
    rows: int


def backed_up_models() -> list[type[models.Model]]:
    """Every table of every app, the many-to-many ones included, in a stable order."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    ]
    return sorted(found, key=lambda model: model._meta.label_lower)


class _Encoder(json.JSONEncoder):
    """JSON for the values of Django's "python" serialisation, losing nothing."""

    def default(self, o: Any) -> Any:
        if isinstance(o, dt.datetime | dt.date | dt.time):
            return o.isoformat()  # microseconds kept
        if isinstance(o, dt.timedelta):
            return str(o.total_seconds())
        if isinstance(o, decimal.Decimal | uuid.UUID):
            return str(o)
        if isinstance(o, bytes | memoryview):
            return base64.b64encode(bytes(o)).decode()
        return super().default(o)


def _open(path: Path, mode: str, *, compressed: bool) -> IO[str]:
    if compressed:
        return cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8"))
    return open(path, mode, encoding="utf-8")


def _create_private(path: Path, *, compressed: bool) -> IO[str]:
    """A new file for writing, readable and writable by its owner only (0600)."""
    path.unlink(missing_ok=True)  # O_CREAT keeps the mode of a file already there
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
    finally:
        os.close(fd)
    return _open(path, "w", compressed=compressed)  # truncates; the mode stays


def _applied_migrations(alias: str) -> list[list[str]]:
    return sorted(
        [app, name] for app, name in MigrationRecorder(connections[alias]).applied_migrations()
    )


def _installed(migrations: list[list[str]]) -> set[tuple[str, str]]:
    """The migrations of the installed apps: an upgraded database keeps the rows of apps it
    no longer has (`authtoken`), a fresh one never had them; neither matters to the rows."""
    labels = {config.label for config in apps.get_app_configs()}
    return {(app, name) for app, name in migrations if app in labels}


def _sequenced(model: type[models.Model]) -> bool:
    return isinstance(model._meta.pk, models.AutoField)


def _sequences(connection: Any, model_list: list[type[models.Model]]) -> dict[str, int]:
    """The last id each table's sequence handed out (deleted rows included), by model."""
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone() is None:
                return found
            cursor.execute("SELECT name, seq FROM sqlite_sequence")
            by_table = {name: int(seq) for name, seq in cursor.fetchall()}
            for model in model_list:
                if _sequenced(model) and by_table.get(model._meta.db_table):
                    found[model._meta.label_lower] = by_table[model._meta.db_table]
        elif connection.vendor == "postgresql":
            for model in model_list:
                if not _sequenced(model):
                    continue
                cursor.execute(
                    "SELECT s.last_value FROM pg_sequences s WHERE "
                    "(quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename))::regclass"
                    " = pg_get_serial_sequence(%s, %s)::regclass",
                    [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column],
                )
                row = cursor.fetchone()
                # No row: no sequence; NULL: never used.
                last = int(row[0]) if row is not None and row[0] is not None else 0
                if last > 0:
                    found[model._meta.label_lower] = last
    return found


def _restore_sequences(
    connection: Any, sequences: dict[str, int], by_label: dict[str, type[models.Model]]
) -> None:
    """Move each sequence to at least the value it had at the backup (after the rows')."""
    with connection.cursor() as cursor:
        for label, last in sorted(sequences.items()):
            model = by_label.get(label)
            if model is None or not _sequenced(model) or int(last) <= 0:
                continue
            table, column = model._meta.db_table, model._meta.pk.column
            if connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                if row is None:
                    cursor.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, last]
                    )
                elif int(row[0]) < int(last):
                    cursor.execute(
                        "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [last, table]
                    )
            elif connection.vendor == "postgresql":
                quoted = connection.ops.quote_name
                highest = f"SELECT COALESCE(MAX({quoted(column)}), 0) FROM {quoted(table)}"  # noqa: S608
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), "
                    f"GREATEST(%s, ({highest})), true)",
                    [quoted(table), column, int(last)],
                )


def _leftover_tables(connection: Any, flushed: list[str]) -> list[str]:
    """Tables of the database no installed app owns that point at the flushed ones (or at
    such a table), e.g. `authtoken_token` kept after its app was removed."""
    ours = set(flushed)
    others = set(connection.introspection.table_names(include_views=False)) - ours
    others.discard("django_migrations")
    found: list[str] = []
    with connection.cursor() as cursor:
        relations = {
            table: {
                target
                for _column, target in connection.introspection.get_relations(
                    cursor, table
                ).values()
            }
            for table in sorted(others)
        }
    targets = set(ours)
    changed = True
    while changed:
        changed = False
        for table, points_at in relations.items():
            if table not in found and points_at & targets:
                found.append(table)
                targets.add(table)
                changed = True
    return found


def _field_names(model: type[models.Model]) -> list[str]:
    """The local columns but the primary key; many-to-many tables are saved on their own."""
    names: list[str] = []
    for field in model._meta.local_concrete_fields:
        if not field.primary_key:
            names += [field.name, field.attname]
    return names


def backup_write(path: Path, *, using: str = DEFAULT_DB_ALIAS) -> Summary:
    """Write every row of the database to `path` (replaced only once complete)."""
    connection = connections[using]
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    counts: dict[str, int] = {}
    try:
        with transaction.atomic(using=using):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            model_list = backed_up_models()
            for model in model_list:
                counts[model._meta.label_lower] = model._base_manager.using(using).count()
            header = {
                "format": FORMAT,
                "version": VERSION,
                "engine": connection.vendor,
                "created": dt.datetime.now(dt.UTC).isoformat(),
                "migrations": _applied_migrations(using),
                "tables": counts,
                # Read after the counts: a sequence only grows, so it covers every row.
                "sequences": _sequences(connection, model_list),
            }
            with _create_private(partial, compressed=path.suffix == ".gz") as out:
                out.write(json.dumps(header) + "\n")
                for model in model_list:
                    rows = model._base_manager.using(using).order_by("pk").iterator(BATCH)
                    fields = _field_names(model)
                    while batch := list(islice(rows, BATCH)):
                        for record in serializers.serialize("python", batch, fields=fields):
                            out.write(json.dumps(record, cls=_Encoder, ensure_ascii=False))
                            out.write("\n")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Summary(path=path, tables=len(counts), rows=sum(counts.values()))


def _read(path: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]], IO[str]]:
    source = _open(path, "r", compressed=path.suffix == ".gz")
    try:
        header = json.loads(source.readline() or "null")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        source.close()
        raise BackupError(_("%(path)s is not a backup of this platform.") % {"path": path})
    if header.get("version") != VERSION:
        source.close()
        raise BackupError(
            _("%(path)s is a backup of version %(theirs)s, not %(ours)s.")
            % {"path": path, "theirs": header.get("version"), "ours": VERSION}
        )

    def records() -> Iterator[dict[str, Any]]:
        for number, line in enumerate(source, start=2):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                raise BackupError(
                    _("%(path)s, line %(line)d: unreadable (truncated?).")
                    % {"path": path, "line": number}
                ) from None

    return header, records(), source  # the caller closes the source


def _holds_data(using: str) -> list[str]:
    """The tables holding rows that `migrate` did not create."""
    return [
        model._meta.label_lower
        for model in backed_up_models()
        if model._meta.label_lower not in MIGRATE_FILLS
        and model._base_manager.using(using).exists()
    ]


def _has_rows(connection: Any, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")  # noqa: S608
        return cursor.fetchone() is not None


def _insert(model: type[models.Model], rows: list[dict[str, Any]], using: str) -> None:
    """Insert rows exactly as saved: raw, so no `auto_now` field is touched and no signal sent."""
    objects = [item.object for item in serializers.deserialize("python", rows, using=using)]
    fields = model._meta.local_concrete_fields
    size = connections[using].ops.bulk_batch_size(fields, objects) or len(objects)
    for start in range(0, len(objects), size):
        model._base_manager._insert(  # type: ignore[attr-defined]
            objects[start : start + size], fields=fields, using=using, raw=True
        )


def backup_restore(path: Path, *, force: bool = False, using: str = DEFAULT_DB_ALIAS) -> Summary:
    """Replace the database's content by the backup's, all or nothing."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("%(path)s does not exist.") % {"path": path})
    header, records, source = _read(path)
    with source:
        connection = connections[using]
        if not connection.introspection.table_names():
            call_command("migrate", database=using, interactive=False, verbosity=0)
        here, theirs = _installed(_applied_migrations(using)), _installed(header["migrations"])
        if here != theirs:
            missing, extra = theirs - here, here - theirs
            raise BackupError(
                _(
                    "The database is not at the backup's migrations (%(missing)d missing "
                    "here, %(extra)d not in the backup, e.g. %(example)s): restore with the "
                    "code version that made the backup, then run migrate."
                )
                % {
                    "missing": len(missing),
                    "extra": len(extra),
                    "example": sorted(missing or extra)[0],
                }
            )
        by_label = {model._meta.label_lower: model for model in backed_up_models()}
        unknown = set(header["tables"]) - set(by_label)
        if unknown:
            raise BackupError(
                _("The backup has tables this code does not know: %(tables)s.")
                % {"tables": ", ".join(sorted(unknown))}
            )
        loaded = dict.fromkeys(header["tables"], 0)
        with transaction.atomic(using=using):
            holding = _holds_data(using)
            if holding and not force:
                raise BackupError(
                    _(
                        "The database is not empty (%(count)d tables hold data, e.g. "
                        "%(example)s): restore with --force to replace everything in it."
                    )
                    % {"count": len(holding), "example": holding[0]}
                )
            flushed = connection.introspection.django_table_names(
                only_existing=True, include_views=False
            )
            leftovers = _leftover_tables(connection, flushed)
            holding_rows = [table for table in leftovers if _has_rows(connection, table)]
            if holding_rows:
                raise BackupError(
                    _(
                        "The database holds tables that no installed app owns, pointing at "
                        "the tables to replace, with rows: %(tables)s. Their rows would point "
                        "at replaced rows: empty or drop them, then restore again."
                    )
                    % {"tables": ", ".join(holding_rows)}
                )
            with connection.cursor() as cursor:
                for statement in connection.ops.sql_flush(
                    no_style(), flushed + leftovers, reset_sequences=True
                ):
                    cursor.execute(statement)
            current: str | None = None
            pending: list[dict[str, Any]] = []
            for record in records:
                label = record.get("model")
                if label != current or len(pending) >= BATCH:
                    if pending and current is not None:
                        _insert(by_label[current], pending, using)
                    pending, current = [], label
                if label not in by_label:
                    raise BackupError(
                        _("%(path)s: a row of an unknown table, %(table)s.")
                        % {"path": path, "table": label}
                    )
                pending.append(record)
                loaded[label] += 1
            if pending and current is not None:
                _insert(by_label[current], pending, using)
            if loaded != header["tables"]:
                short = sorted(k for k in loaded if loaded[k] != header["tables"][k])
                raise BackupError(
                    _("%(path)s is incomplete (truncated?): rows missing in %(tables)s.")
                    % {"path": path, "tables": ", ".join(short)}
                )
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(
                    no_style(), list(by_label.values())
                ):
                    cursor.execute(statement)
            _restore_sequences(connection, header.get("sequences") or {}, by_label)
            connection.check_constraints()
    ContentType.objects.clear_cache()
    return Summary(path=path, tables=len(loaded), rows=sum(loaded.values()))

"""The SQL registry store (SQLite and PostgreSQL through SQLAlchemy Core), in the tracking database.

Each public method is one transaction; writes validate first, so a failed call writes nothing. A new
version's number comes from bumping ``registered_models.last_version`` inside the write transaction:
on SQLite the transaction holds the database write lock from its start (BEGIN IMMEDIATE), on PostgreSQL
the UPDATE row-locks the name until commit, so concurrent writers get consecutive numbers; the
(model_id, version) primary key is the backstop. Thread-safe; usable from forked processes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from heron.errors import HeronError
from heron.registry import search_sql, validation
from heron.registry.records import Kind, ModelVersion, PromptContent, RegisteredModel, Stage
from heron.registry.store import NewVersion
from heron.registry.uris import VersionRef
from heron.tracking import search
from heron.tracking import validation as tracking_validation
from heron.tracking.entities import PagedList
from heron.tracking.store.db import Database
from heron.tracking.store.schema import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_permissions,
    registered_model_tags,
    registered_models,
)

__all__ = ["SqlRegistryStore"]

MAX_NAMES_PER_PAGE = 1000  # as MLflow's search_registered_models
MAX_VERSIONS_PER_PAGE = 200_000
_IN_CHUNK = 500

rm, mv = registered_models, model_versions


def _move_permissions(conn: Connection, name: str, new_name: str | None) -> None:
    """Carry the roles users hold on ``name`` (``heron server --auth``) over to ``new_name`` (a rename), or
    drop them (``new_name`` None: a delete), in the caller's transaction: a later model of the same name
    must not inherit them. Stale rows already keyed on ``new_name`` go first."""
    perms = registered_model_permissions
    if new_name is None:
        conn.execute(sa.delete(perms).where(perms.c.name == name))
        return
    conn.execute(sa.delete(perms).where(perms.c.name == new_name))
    conn.execute(sa.update(perms).where(perms.c.name == name).values(name=new_name))


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlRegistryStore:
    """Registered models and prompts in a Heron SQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = sqlite.insert if db.is_sqlite else postgresql.insert

    # ------------------------------------------------------------------------------------------ names

    def create_registered_model(
        self, kind: Kind, name: str, tags: Sequence[tuple[str, str]] = (), description: str | None = None
    ) -> RegisteredModel:
        validation.name(name, kind)
        checked = _checked_tags(tags)
        validation.description(description)
        now = _now_ms()
        try:
            with self.db.write() as conn:
                existing = conn.execute(sa.select(rm.c.kind).where(rm.c.name == name)).first()
                if existing is not None:
                    raise _exists(kind, name, existing.kind)
                model_id = conn.execute(
                    sa.insert(rm)
                    .values(name=name, kind=kind, description=description, creation_time=now, last_updated_time=now)
                    .returning(rm.c.id)
                ).scalar_one()
                if checked:
                    conn.execute(
                        sa.insert(registered_model_tags),
                        [{"model_id": model_id, "key": k, "value": v} for k, v in checked],
                    )
        except IntegrityError:
            raise _exists(kind, name, kind) from None
        return RegisteredModel(
            name=name, creation_timestamp=now, last_updated_timestamp=now, description=description, tags=dict(checked)
        )

    def get_registered_model(self, kind: Kind, name: str) -> RegisteredModel:
        validation.name(name, kind)
        with self.db.read() as conn:
            return self._names(conn, [_name_row(conn, kind, name)])[0]

    def rename_registered_model(self, kind: Kind, name: str, new_name: str) -> RegisteredModel:
        validation.name(name, kind)
        validation.name(new_name, kind)
        try:
            with self.db.write() as conn:
                row = _name_row(conn, kind, name)
                if new_name != name:
                    clash = conn.execute(sa.select(rm.c.kind).where(rm.c.name == new_name)).first()
                    if clash is not None:
                        raise _exists(kind, new_name, clash.kind)
                    conn.execute(sa.update(rm).where(rm.c.id == row.id).values(name=new_name, last_updated_time=_now_ms()))
                    _move_permissions(conn, name, new_name)
                return self._names(conn, [_name_row(conn, kind, new_name)])[0]
        except IntegrityError:
            raise _exists(kind, new_name, kind) from None

    def update_registered_model(self, kind: Kind, name: str, description: str | None) -> RegisteredModel:
        validation.name(name, kind)
        validation.description(description)
        with self.db.write() as conn:
            row = _name_row(conn, kind, name)
            conn.execute(sa.update(rm).where(rm.c.id == row.id).values(description=description, last_updated_time=_now_ms()))
            return self._names(conn, [_name_row(conn, kind, name)])[0]

    def delete_registered_model(self, kind: Kind, name: str) -> None:
        """Delete the name with all its versions, tags and aliases."""
        validation.name(name, kind)
        with self.db.write() as conn:
            model_id = _name_row(conn, kind, name).id
            for table in (model_version_tags, registered_model_aliases, registered_model_tags, mv):
                conn.execute(sa.delete(table).where(table.c.model_id == model_id))
            conn.execute(sa.delete(rm).where(rm.c.id == model_id))
            _move_permissions(conn, name, None)

    def search_registered_models(
        self,
        kind: Kind,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        tracking_validation.max_results(max_results, MAX_NAMES_PER_PAGE)
        offset = search.decode_page_token(page_token)
        query = search_sql.names_query(kind, filter_string, order_by, self.db.is_sqlite)
        with self.db.read() as conn:
            ids = list(conn.execute(query.limit(max_results + 1).offset(offset)).scalars())
            ids, token = _page(ids, offset, max_results)
            rows = {r.id: r for r in _select_in(conn, sa.select(rm), rm.c.id, ids)}
            return PagedList(self._names(conn, [rows[i] for i in ids if i in rows]), token)

    def set_registered_model_tag(self, kind: Kind, name: str, key: str, value: str) -> None:
        validation.name(name, kind)
        key, value = validation.tag(key, value)
        with self.db.write() as conn:
            model_id = _name_row(conn, kind, name).id
            ins = self._insert(registered_model_tags).values(model_id=model_id, key=key, value=value)
            conn.execute(ins.on_conflict_do_update(index_elements=["model_id", "key"], set_={"value": value}))

    def delete_registered_model_tag(self, kind: Kind, name: str, key: str) -> None:
        validation.name(name, kind)
        with self.db.write() as conn:
            model_id = _name_row(conn, kind, name).id
            t = registered_model_tags
            conn.execute(sa.delete(t).where(t.c.model_id == model_id, t.c.key == key))

    # --------------------------------------------------------------------------------------- versions

    def create_model_version(
        self, kind: Kind, name: str, new: NewVersion, create_name: bool = False
    ) -> ModelVersion:
        """Add the next version of ``name``; with ``create_name`` the name is created when missing (in
        the same transaction, so concurrent first registrations agree)."""
        validation.name(name, kind)
        checked = _checked_tags(new.tags)
        validation.description(new.description)
        if new.run_id is not None:
            tracking_validation.run_id(new.run_id)
        now = _now_ms()
        with self.db.write() as conn:
            if create_name:
                conn.execute(
                    self._insert(rm)
                    .values(name=name, kind=kind, creation_time=now, last_updated_time=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                existing = conn.execute(sa.select(rm.c.kind).where(rm.c.name == name)).first()
                if existing is not None and existing.kind != kind:
                    raise _exists(kind, name, existing.kind)
            model_id = _name_row(conn, kind, name).id
            version = conn.execute(
                sa.update(rm)
                .where(rm.c.id == model_id)
                .values(last_version=rm.c.last_version + 1, last_updated_time=now)
                .returning(rm.c.last_version)
            ).scalar()
            if version is None:  # deleted by another writer since we read it
                raise _name_not_found(kind, name, None)
            prompt = new.prompt
            conn.execute(
                sa.insert(mv).values(
                    model_id=model_id,
                    version=version,
                    source=new.source,
                    run_id=new.run_id,
                    run_link=new.run_link,
                    description=new.description,
                    user_id=new.user_id,
                    status="READY",
                    stage=Stage.NONE,
                    template=None if prompt is None else prompt.text,
                    template_type=None if prompt is None else prompt.template_type,
                    template_format=None if prompt is None else prompt.template_format,
                    response_format=None if prompt is None else prompt.response_format,
                    model_config=None if prompt is None else prompt.model_config,
                    creation_time=now,
                    last_updated_time=now,
                )
            )
            if checked:
                conn.execute(
                    sa.insert(model_version_tags),
                    [{"model_id": model_id, "version": version, "key": k, "value": v} for k, v in checked],
                )
        return ModelVersion(
            name=name,
            version=version,
            creation_timestamp=now,
            last_updated_timestamp=now,
            description=new.description,
            user_id=new.user_id,
            source=new.source,
            run_id=new.run_id,
            tags=dict(checked),
            run_link=new.run_link,
            prompt=prompt,
        )

    def get_model_version(self, kind: Kind, name: str, version: int) -> ModelVersion:
        return self.resolve(kind, VersionRef(validation.name(name, kind), version=validation.version(version)))

    def resolve(self, kind: Kind, ref: VersionRef) -> ModelVersion:
        """The version ``ref`` names; raises RESOURCE_DOES_NOT_EXIST saying what is missing."""
        validation.name(ref.name, kind)
        query = sa.select(mv).join(rm, rm.c.id == mv.c.model_id).where(rm.c.name == ref.name, rm.c.kind == kind)
        if ref.version is not None:
            query = query.where(mv.c.version == ref.version)
        elif ref.alias is not None:
            a = registered_model_aliases
            query = query.join(a, sa.and_(a.c.model_id == mv.c.model_id, a.c.version == mv.c.version)).where(
                a.c.alias == ref.alias
            )
        else:
            if ref.stage is not None:
                query = query.where(mv.c.stage == ref.stage)
            query = query.order_by(mv.c.version.desc()).limit(1)
        with self.db.read() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise _version_not_found(conn, kind, ref)
            return self._versions(conn, [row], {row.model_id: ref.name})[0]

    def update_model_version(self, kind: Kind, name: str, version: int, description: str | None) -> ModelVersion:
        validation.name(name, kind)
        number = validation.version(version)
        validation.description(description)
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            conn.execute(
                sa.update(mv)
                .where(mv.c.model_id == model_id, mv.c.version == number)
                .values(description=description, last_updated_time=_now_ms())
            )
        return self.get_model_version(kind, name, number)

    def delete_model_version(self, kind: Kind, name: str, version: int) -> None:
        """Delete one version with its tags and the aliases pointing at it; its number is not reused."""
        validation.name(name, kind)
        number = validation.version(version)
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            for table in (model_version_tags, registered_model_aliases, mv):
                conn.execute(sa.delete(table).where(table.c.model_id == model_id, table.c.version == number))
            conn.execute(sa.update(rm).where(rm.c.id == model_id).values(last_updated_time=_now_ms()))

    def transition_model_version_stage(
        self, kind: Kind, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to ``stage``; with ``archive_existing_versions`` (Staging and Production only)
        the other versions in that stage move to Archived in the same transaction."""
        validation.name(name, kind)
        number = validation.version(version)
        target = validation.stage(stage)
        if archive_existing_versions and target not in (Stage.STAGING, Stage.PRODUCTION):
            raise HeronError.invalid(
                f"archive_existing_versions=True needs the stage Staging or Production, got {target!r}: "
                "only versions in those stages can be archived by a transition."
            )
        now = _now_ms()
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            if archive_existing_versions:
                conn.execute(
                    sa.update(mv)
                    .where(mv.c.model_id == model_id, mv.c.stage == target, mv.c.version != number)
                    .values(stage=Stage.ARCHIVED, last_updated_time=now)
                )
            conn.execute(
                sa.update(mv)
                .where(mv.c.model_id == model_id, mv.c.version == number)
                .values(stage=target, last_updated_time=now)
            )
        return self.get_model_version(kind, name, number)

    def get_latest_versions(self, kind: Kind, name: str, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage when None or empty), in stage order."""
        validation.name(name, kind)
        wanted = [validation.stage(s) for s in stages] if stages else list(Stage.ALL)
        with self.db.read() as conn:
            model_id = _name_row(conn, kind, name).id
            newest = (
                sa.select(mv.c.stage, sa.func.max(mv.c.version).label("version"))
                .where(mv.c.model_id == model_id, mv.c.stage.in_(wanted))
                .group_by(mv.c.stage)
                .subquery()
            )
            rows = conn.execute(
                sa.select(mv).join(newest, sa.and_(mv.c.stage == newest.c.stage, mv.c.version == newest.c.version))
                .where(mv.c.model_id == model_id)
            ).all()
            found = self._versions(conn, rows, {model_id: name})
        order = {s: i for i, s in enumerate(wanted)}
        return sorted(found, key=lambda v: order[v.current_stage])

    def search_model_versions(
        self,
        kind: Kind,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        tracking_validation.max_results(max_results, MAX_VERSIONS_PER_PAGE)
        offset = search.decode_page_token(page_token)
        query = search_sql.versions_query(kind, filter_string, order_by, self.db.is_sqlite)
        with self.db.read() as conn:
            keys = [(r.model_id, r.version) for r in conn.execute(query.limit(max_results + 1).offset(offset))]
            keys, token = _page(keys, offset, max_results)
            model_ids = sorted({m for m, _ in keys})
            names = {r.id: r.name for r in _select_in(conn, sa.select(rm.c.id, rm.c.name), rm.c.id, model_ids)}
            rows = {(r.model_id, r.version): r for r in _select_versions(conn, sa.select(mv), mv, keys)}
            ordered = [rows[k] for k in keys if k in rows]
            return PagedList(self._versions(conn, ordered, names), token)

    def set_model_version_tag(self, kind: Kind, name: str, version: int, key: str, value: str) -> None:
        validation.name(name, kind)
        number = validation.version(version)
        key, value = validation.tag(key, value)
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            ins = self._insert(model_version_tags).values(model_id=model_id, version=number, key=key, value=value)
            conn.execute(ins.on_conflict_do_update(index_elements=["model_id", "version", "key"], set_={"value": value}))

    def delete_model_version_tag(self, kind: Kind, name: str, version: int, key: str) -> None:
        validation.name(name, kind)
        number = validation.version(version)
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            t = model_version_tags
            conn.execute(sa.delete(t).where(t.c.model_id == model_id, t.c.version == number, t.c.key == key))

    # ---------------------------------------------------------------------------------------- aliases

    def set_registered_model_alias(self, kind: Kind, name: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` (one upsert: readers see the old or the new version, never none)."""
        validation.name(name, kind)
        validation.alias(alias)
        number = validation.version(version)
        with self.db.write() as conn:
            model_id = _version_key(conn, kind, name, number)
            a = registered_model_aliases
            ins = self._insert(a).values(model_id=model_id, alias=alias, version=number)
            conn.execute(ins.on_conflict_do_update(index_elements=["model_id", "alias"], set_={"version": number}))
            conn.execute(sa.update(rm).where(rm.c.id == model_id).values(last_updated_time=_now_ms()))

    def delete_registered_model_alias(self, kind: Kind, name: str, alias: str) -> None:
        validation.name(name, kind)
        validation.alias(alias)
        with self.db.write() as conn:
            model_id = _name_row(conn, kind, name).id
            a = registered_model_aliases
            conn.execute(sa.delete(a).where(a.c.model_id == model_id, a.c.alias == alias))

    # ---------------------------------------------------------------------------------------- records

    def _names(self, conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
        ids = [r.id for r in rows]
        tags = _key_values(_select_in(conn, sa.select(registered_model_tags), registered_model_tags.c.model_id, ids))
        aliases: dict[int, dict[str, int]] = defaultdict(dict)
        a = registered_model_aliases
        for r in _select_in(conn, sa.select(a), a.c.model_id, ids):
            aliases[r.model_id][r.alias] = r.version
        latest_rows: list[Row[Any]] = []
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = ids[i : i + _IN_CHUNK]
            newest = (
                sa.select(mv.c.model_id, sa.func.max(mv.c.version).label("version"))
                .where(mv.c.model_id.in_(chunk))
                .group_by(mv.c.model_id, mv.c.stage)
                .subquery()
            )
            latest_rows += conn.execute(
                sa.select(mv).join(
                    newest, sa.and_(mv.c.model_id == newest.c.model_id, mv.c.version == newest.c.version)
                )
            ).all()
        latest: dict[str, list[ModelVersion]] = defaultdict(list)
        for version in self._versions(conn, latest_rows, {r.id: r.name for r in rows}):
            latest[version.name].append(version)
        return [
            RegisteredModel(
                name=r.name,
                creation_timestamp=r.creation_time,
                last_updated_timestamp=r.last_updated_time,
                description=r.description,
                latest_versions=sorted(latest.get(r.name, []), key=lambda v: v.version),
                tags=tags.get(r.id, {}),
                aliases=dict(sorted(aliases.get(r.id, {}).items())),
            )
            for r in rows
        ]

    def _versions(self, conn: Connection, rows: Sequence[Row[Any]], names: dict[int, str]) -> list[ModelVersion]:
        keys = [(r.model_id, r.version) for r in rows]
        tags: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
        for t in _select_versions(conn, sa.select(model_version_tags), model_version_tags, keys):
            tags[(t.model_id, t.version)][t.key] = t.value
        aliases: dict[tuple[int, int], list[str]] = defaultdict(list)
        a = registered_model_aliases
        for r in _select_versions(conn, sa.select(a), a, keys):
            aliases[(r.model_id, r.version)].append(r.alias)
        return [
            _version_record(r, names[r.model_id], tags.get((r.model_id, r.version), {}),
                            sorted(aliases.get((r.model_id, r.version), [])))
            for r in rows
        ]


# -------------------------------------------------------------------------------------------- helpers


def _version_record(row: Row[Any], name: str, tags: dict[str, str], aliases: list[str]) -> ModelVersion:
    prompt = None
    if row.template is not None:
        prompt = PromptContent(
            text=row.template,
            template_type=row.template_type,
            template_format=row.template_format,
            response_format=row.response_format,
            model_config=row.model_config,
        )
    return ModelVersion(
        name=name,
        version=row.version,
        creation_timestamp=row.creation_time,
        last_updated_timestamp=row.last_updated_time,
        description=row.description,
        user_id=row.user_id,
        current_stage=row.stage,
        source=row.source,
        run_id=row.run_id,
        status=row.status,
        status_message=row.status_message,
        tags=dict(tags),
        run_link=row.run_link,
        aliases=aliases,
        prompt=prompt,
    )


def _checked_tags(tags: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    checked = dict(validation.tag(k, v) for k, v in tags)  # a later value for a key wins
    return list(checked.items())


def _key_values(rows: Iterable[Row[Any]]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for r in rows:
        found[r.model_id][r.key] = r.value
    return found


def _select_in(conn: Connection, query: Any, column: sa.Column[Any], values: Sequence[Any]) -> list[Row[Any]]:
    if len(values) == 1:  # the common case (one name): '=' keeps the statement in the compiled cache
        return list(conn.execute(query.where(column == values[0])).all())
    rows: list[Row[Any]] = []
    for i in range(0, len(values), _IN_CHUNK):
        rows += conn.execute(query.where(column.in_(values[i : i + _IN_CHUNK]))).all()
    return rows


def _select_versions(conn: Connection, query: Any, table: sa.Table, keys: Sequence[tuple[int, int]]) -> list[Row[Any]]:
    """Rows of ``table`` (keyed by model_id and version) for the given (model_id, version) pairs."""
    if len(keys) == 1:
        (model_id, version), = keys
        return list(conn.execute(query.where(table.c.model_id == model_id, table.c.version == version)).all())
    rows: list[Row[Any]] = []
    pair = sa.tuple_(table.c.model_id, table.c.version)
    for i in range(0, len(keys), _IN_CHUNK):
        rows += conn.execute(query.where(pair.in_(list(keys[i : i + _IN_CHUNK])))).all()
    return rows


def _page(items: list[Any], offset: int, max_results: int) -> tuple[list[Any], str | None]:
    if len(items) > max_results:
        return items[:max_results], search.encode_page_token(offset + max_results)
    return items, None


def _name_row(conn: Connection, kind: Kind, name: str) -> Row[Any]:
    row = conn.execute(sa.select(rm).where(rm.c.name == name)).first()
    if row is None or row.kind != kind:
        raise _name_not_found(kind, name, None if row is None else row.kind)
    return row


def _version_key(conn: Connection, kind: Kind, name: str, version: int) -> int:
    """The model id of ``name`` after checking it has ``version``; raises RESOURCE_DOES_NOT_EXIST."""
    model_id: int = _name_row(conn, kind, name).id
    found = conn.execute(sa.select(mv.c.version).where(mv.c.model_id == model_id, mv.c.version == version)).first()
    if found is None:
        raise _version_not_found(conn, kind, VersionRef(name, version=version))
    return model_id


def _name_not_found(kind: Kind, name: str, other_kind: str | None) -> HeronError:
    hint = f" ('{name}' is a {other_kind}, not a {kind})" if other_kind is not None else ""
    return HeronError.not_found(f"{validation.noun(kind)} '{name}' does not exist{hint}.")


def _exists(kind: Kind, name: str, existing_kind: str) -> HeronError:
    if existing_kind == kind:
        return HeronError.exists(f"{validation.noun(kind)} '{name}' already exists.")
    return HeronError.exists(
        f"The name '{name}' is already used by a {existing_kind}: models and prompts share one namespace, "
        "choose another name."
    )


def _version_not_found(conn: Connection, kind: Kind, ref: VersionRef) -> HeronError:
    """The error for a missing version, naming what does exist (read only on this error path)."""
    model_id = _name_row(conn, kind, ref.name).id
    what = validation.noun(kind)
    if ref.alias is not None:
        a = registered_model_aliases
        known = sorted(conn.execute(sa.select(a.c.alias).where(a.c.model_id == model_id)).scalars())
        have = f"its aliases are {', '.join(known)}" if known else "it has no aliases"
        return HeronError.not_found(f"{what} '{ref.name}' has no alias '{ref.alias}' ({have}).")
    versions = list(conn.execute(sa.select(mv.c.version).where(mv.c.model_id == model_id).order_by(mv.c.version)).scalars())
    have = f"its versions are {_ranges(versions)}" if versions else "it has no versions yet"
    if ref.stage is not None:
        return HeronError.not_found(f"{what} '{ref.name}' has no version in stage '{ref.stage}' ({have}).")
    if ref.version is None:
        return HeronError.not_found(f"{what} '{ref.name}' has no versions yet.")
    return HeronError.not_found(f"{what} '{ref.name}' has no version {ref.version} ({have}).")


def _ranges(numbers: list[int]) -> str:
    """'1-3, 5' for [1, 2, 3, 5]."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)

"""Dagster's SQLite event log, with its database connections kept open (dagster.yaml).

Dagster's own ``SqliteEventLogStorage`` makes a new SQLAlchemy engine and connection for every
event it writes and closes them after: SQLite reads the database's schema again on each
connection, and the last connection to close a database checkpoints its write-ahead log. A
weekly run writes about 700 events (some 300 of them only to plan the run's materializations
and checks), and on a 10M-row bench run that cost about 2.5 s of a 40 s run.

``ReusingSqliteEventLogStorage`` keeps one connection per database file: the index and the
run shards used most recently (the others are closed, oldest first). Dagster's UI follows a
running run by watching the run's ``.db`` file, which the closing connection's checkpoint used
to change after every event; with the connections kept open (in the UI's process too), a
transaction that wrote to a run shard touches the file's modification time instead, which
the file watcher sees as a change. SQLite checkpoints the log itself as it grows. Everything
else is Dagster's storage, unchanged.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

# run shards kept open besides the index (a run writes to one; the UI reads a few)
OPEN_RUN_SHARDS = 4


class ReusingSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that reuses one connection per database file."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)
        # reentrant, so that wipe can hold it while Dagster's wipe connects to the index
        self._db_lock = threading.RLock()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None,
                          config_value: dict[str, Any]) -> ReusingSqliteEventLogStorage:
        # Dagster's makes a SqliteEventLogStorage, whatever the class (its config_type serves)
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # every use of a connection holds the storage's lock, so one connection per file is
        # never shared by two threads at once
        with self._db_lock:
            engine = self._engine(shard)
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                before = raw.total_changes
                with conn.begin():
                    yield conn
            if shard != INDEX_SHARD_NAME and raw.total_changes != before:
                os.utime(self.path_for_shard(shard))  # wakes the UI's watcher of this run

    def _engine(self, shard: str) -> Engine:
        """The open engine of a shard (made and initialised on first use)."""
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard), poolclass=StaticPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        runs = [s for s in self._engines if s != INDEX_SHARD_NAME]
        for oldest in runs[:-OPEN_RUN_SHARDS]:
            self._engines.pop(oldest).dispose()
        return engine

    def _close_all(self) -> None:
        while self._engines:
            self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        # no connection may reopen a run shard between closing it and deleting its file
        with self._db_lock:
            self._close_all()
            super().wipe()

    def dispose(self) -> None:
        super().dispose()  # stops the file watchers first: they would reopen connections
        with self._db_lock:
            self._close_all()

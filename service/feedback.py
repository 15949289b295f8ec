"""Durable feedback store (SQLAlchemy; SQLite file by default).

Two tables: `issued_cards` remembers the topic of every card we returned (the
feedback body only names the card uuid), and `feedback` holds what clinicians
did with them. Feedback may arrive more than once for a card: a unique key
makes repeats harmless.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
from typing import Callable

from sqlalchemy import (
    Column, DateTime, Integer, String, Text, UniqueConstraint, create_engine, event, func, select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import DeclarativeBase, Session

from service.schemas import OVERRIDE_CODE_MAX_LENGTH, OVERRIDE_DISPLAY_MAX_LENGTH

log = logging.getLogger("mbc_cds.feedback")

# Issued cards are written in batches: after the first card arrives the writer
# waits this long for more, so a busy service makes one insert per batch
# instead of one per hook call (which competed with requests for the GIL).
ISSUED_BATCH_DELAY_SECONDS = 0.25
# Most cards per insert. A full batch already waiting is written at once, without
# the delay: otherwise the writer could store at most ISSUED_BATCH_MAX cards per
# delay (2,000 a second, about 220 nine-card calls a second per worker), and
# under more load its queue would fill and cards would go unrecorded.
ISSUED_BATCH_MAX = 500


class Base(DeclarativeBase):
    pass


class IssuedCard(Base):
    __tablename__ = "issued_cards"
    uuid = Column(String(64), primary_key=True)
    service_id = Column(String(64), nullable=False)
    topic = Column(String(64), nullable=False)
    issued_at = Column(DateTime, nullable=False)


class FeedbackRecord(Base):
    __tablename__ = "feedback"
    id = Column(Integer, primary_key=True, autoincrement=True)
    service_id = Column(String(64), nullable=False)
    card_uuid = Column(String(128), nullable=False)
    outcome = Column(String(16), nullable=False)
    accepted_suggestions = Column(Text, nullable=True)  # JSON list of suggestion uuids
    override_code = Column(String(OVERRIDE_CODE_MAX_LENGTH), nullable=True)
    override_display = Column(String(OVERRIDE_DISPLAY_MAX_LENGTH), nullable=True)
    user_comment = Column(Text, nullable=True)
    outcome_timestamp = Column(DateTime, nullable=False)
    received_at = Column(DateTime, nullable=False)
    __table_args__ = (
        UniqueConstraint("service_id", "card_uuid", "outcome", "outcome_timestamp", name="uq_feedback"),
    )


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class FeedbackStore:
    def __init__(self, url: str):
        sqlite = url.startswith("sqlite")
        connect_args = {"check_same_thread": False, "timeout": 15} if sqlite else {}
        self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        _create_tables(self.engine)
        self._sqlite_insert_issued = _sqlite_issued_insert(self.engine.dialect) if sqlite else None
        self._issued: queue.Queue = queue.Queue(maxsize=100_000)
        self._writer = threading.Thread(target=self._write_issued_forever, daemon=True)
        self._writer.start()

    # -- cards we issued (off the request path: a background writer) ---------

    def remember_cards(self, service_id: str, topics_by_uuid: dict[str, str]) -> None:
        now = _utcnow()
        for card_uuid, topic in topics_by_uuid.items():
            try:
                self._issued.put_nowait((card_uuid, service_id, topic, now))
            except queue.Full:
                log.warning("issued-card queue full; card topic not recorded")
                return

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every remembered card is written (tests, shutdown)."""
        done = threading.Event()
        self._issued.put(done)
        done.wait(timeout)

    def _write_issued_forever(self) -> None:
        while True:
            batch, markers = [], []
            item = self._issued.get()
            if not isinstance(item, threading.Event) and self._issued.qsize() < ISSUED_BATCH_MAX:
                time.sleep(ISSUED_BATCH_DELAY_SECONDS)
            while True:
                (markers if isinstance(item, threading.Event) else batch).append(item)
                if len(batch) >= ISSUED_BATCH_MAX:
                    break
                try:
                    item = self._issued.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    self._insert_issued(batch)
                except Exception:  # keep the writer alive whatever the database does
                    log.exception("could not record issued cards")
            for marker in markers:
                marker.set()

    def _insert_issued(self, batch: list[tuple]) -> None:
        if self._sqlite_insert_issued is not None:
            # One executemany of plain tuples, without an ORM session: this
            # thread shares the GIL with the requests (an 11-card batch: 390 ->
            # 170 us CPU, 500 cards: 4.5 -> 3.0 ms). Statement and timestamp
            # text are SQLAlchemy's own (_sqlite_issued_insert).
            sql, stored_time = self._sqlite_insert_issued
            rows = [(u, s, t, stored_time(at)) for u, s, t, at in batch]
            with self.engine.begin() as connection:
                connection.exec_driver_sql(sql, rows)
            return
        with Session(self.engine) as session, session.begin():
            for u, s, t, at in batch:
                if session.get(IssuedCard, u) is None:
                    session.add(IssuedCard(uuid=u, service_id=s, topic=t, issued_at=at))

    # -- feedback -----------------------------------------------------------

    def add_feedback(self, service_id: str, items: list) -> int:
        """Store feedback items (schemas.FeedbackItem); returns how many were new.

        Duplicates are tolerated (CDS Hooks: feedback may arrive several times,
        also at the same moment). A row already stored is skipped; when another
        call stores the same row between that check and the insert, the unique
        key refuses it, and the items are stored one at a time instead, a
        refused one counting as the duplicate it is.
        """
        received = _utcnow()
        rows = [self._feedback_row(service_id, item, received) for item in items]
        try:
            return self._insert_feedback(rows)
        except IntegrityError:
            pass  # lost a race with a concurrent call; nothing of this call was stored
        new = 0
        for row in rows:
            try:
                new += self._insert_feedback([row])
            except IntegrityError:
                with Session(self.engine) as session:
                    if not self._stored_already(session, row):
                        raise  # not a duplicate: a real error
        return new

    @staticmethod
    def _feedback_row(service_id: str, item, received: dt.datetime) -> dict:
        ts = item.outcomeTimestamp.replace(tzinfo=None)  # schemas.FeedbackItem made it UTC
        reason = item.overrideReason.reason if item.overrideReason else None
        return dict(
            service_id=service_id,
            card_uuid=item.card,
            outcome=item.outcome,
            accepted_suggestions=json.dumps([s.id for s in item.acceptedSuggestions or []]),
            override_code=reason.code if reason else None,
            override_display=reason.display if reason else None,
            user_comment=item.overrideReason.userComment if item.overrideReason else None,
            outcome_timestamp=ts,
            received_at=received,
        )

    def _insert_feedback(self, rows: list[dict]) -> int:
        """Insert the rows not stored yet, in one transaction; how many were new."""
        new = 0
        with Session(self.engine) as session, session.begin():
            for row in rows:
                if self._stored_already(session, row):
                    continue
                session.add(FeedbackRecord(**row))
                session.flush()  # a duplicate within this transaction is seen by the next check
                new += 1
        return new

    @staticmethod
    def _stored_already(session: Session, row: dict) -> bool:
        """Whether a row with the same unique key (uq_feedback) is stored."""
        return session.execute(
            select(FeedbackRecord.id).where(
                FeedbackRecord.service_id == row["service_id"],
                FeedbackRecord.card_uuid == row["card_uuid"],
                FeedbackRecord.outcome == row["outcome"],
                FeedbackRecord.outcome_timestamp == row["outcome_timestamp"],
            )
        ).first() is not None

    def stats_by_topic(self) -> list[dict]:
        """Per card topic: cards issued, accepted, overridden, and the rates."""
        with Session(self.engine) as session:
            issued = dict(session.execute(
                select(IssuedCard.topic, func.count()).group_by(IssuedCard.topic)
            ).all())
            outcomes = session.execute(
                select(
                    func.coalesce(IssuedCard.topic, "unknown"),
                    FeedbackRecord.outcome,
                    func.count(func.distinct(FeedbackRecord.card_uuid)),
                )
                .select_from(FeedbackRecord)
                .join(IssuedCard, IssuedCard.uuid == FeedbackRecord.card_uuid, isouter=True)
                .group_by(func.coalesce(IssuedCard.topic, "unknown"), FeedbackRecord.outcome)
            ).all()
        table: dict[str, dict] = {}
        for topic, count in issued.items():
            table.setdefault(topic, {"topic": topic, "issued": 0, "accepted": 0, "overridden": 0})
            table[topic]["issued"] = count
        for topic, outcome, count in outcomes:
            row = table.setdefault(topic, {"topic": topic, "issued": 0, "accepted": 0, "overridden": 0})
            row[outcome] = count
        for row in table.values():
            answered = row["accepted"] + row["overridden"]
            base = row["issued"] or answered
            row["acceptance_rate"] = row["accepted"] / base if base else None
            row["override_rate"] = row["overridden"] / base if base else None
        return sorted(table.values(), key=lambda r: r["topic"])


# Stores opened by threads of one process create tables one at a time; other
# processes (gunicorn workers) are handled by the retries below.
_CREATE_LOCK = threading.Lock()

# SQLite answers "database is locked" at once, without waiting out the busy
# timeout, when two connections on a fresh file would deadlock (both read the
# schema, both want to write it) or both switch it to WAL. Another try succeeds.
_RETRYABLE_SCHEMA_ERRORS = ("already exists", "database is locked")


def _sqlite_issued_insert(dialect) -> tuple[str, Callable[[dt.datetime], str]]:
    """The SQL text of the ORM's SQLite insert of an issued card, ignoring a card
    already stored (on_conflict_do_nothing), with its parameters in the order
    (uuid, service_id, topic, issued_at); and the function with which SQLite's
    DateTime type turns issued_at into the text it stores. Both come from
    SQLAlchemy, made once, so the fast path stores exactly what the ORM would."""
    columns = ["uuid", "service_id", "topic", "issued_at"]
    compiled = sqlite_insert(IssuedCard).on_conflict_do_nothing().compile(dialect=dialect, column_keys=columns)
    if list(compiled.positiontup or ()) != columns:
        raise RuntimeError(f"unexpected parameter order in the issued-card insert: {compiled.positiontup}")
    stored_time = IssuedCard.__table__.c.issued_at.type.dialect_impl(dialect).bind_processor(dialect)
    return str(compiled), stored_time


def _create_tables(engine, attempts: int = 8) -> None:
    """create_all that tolerates another worker creating the same tables.

    gunicorn workers start together: on a fresh database two of them can both
    see a table missing and both CREATE it; the loser gets "already exists"
    (or "database is locked"). Checking again then finds it, so retry rather
    than fail the worker's boot.
    """
    with _CREATE_LOCK:
        for attempt in range(attempts):
            try:
                Base.metadata.create_all(engine)
                return
            except (OperationalError, ProgrammingError) as exc:
                retryable = any(text in str(exc) for text in _RETRYABLE_SCHEMA_ERRORS)
                if not retryable or attempt == attempts - 1:
                    raise
                engine.dispose()  # drop the connection that lost the race
                time.sleep(0.05 * (attempt + 1))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

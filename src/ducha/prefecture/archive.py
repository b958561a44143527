"""The prefecture's archive: an embedded SQLite database plus the original files, kept unchanged and addressed
by their SHA-256.

Every submission is written in one transaction together with its findings, indicators, scores and flags, so an
intake killed at any moment leaves each submission either fully present or absent. The original file is stored
(atomically) before that transaction: a file without a row is harmless and is reused by the next intake.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ducha.adapters.files import atomic_path

DEFAULT_FOLDER = Path("督查档案")
DATABASE = "ducha.sqlite3"
ORIGINALS = "原件"
BUSY_TIMEOUT_S = 60

# Submission statuses and intake event kinds (stable English codes; Chinese for people in STATUS_NAMES).
CURRENT, SUPERSEDED, CONFLICT = "current", "superseded", "conflict"
ACCEPTED, DUPLICATE, REJECTED, IGNORED = "accepted", "duplicate", "rejected", "ignored"
RESOLVED = "resolved"  # event: the supervisor's ruling on a conflict (who in `source`, when in `at`)
STATUS_NAMES = {CURRENT: "现行", SUPERSEDED: "已被新版本取代", CONFLICT: "冲突待处理", ACCEPTED: "已接收",
                DUPLICATE: "重复提交", REJECTED: "拒收", IGNORED: "已忽略", RESOLVED: "已裁定"}

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        file_name TEXT NOT NULL,
        stored_path TEXT NOT NULL,
        county TEXT,
        county_code TEXT,
        month TEXT,
        inspection_group TEXT,
        received_at TEXT NOT NULL,
        sent_at TEXT,
        sender TEXT,
        subject TEXT,
        source TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        errors INTEGER NOT NULL,
        warnings INTEGER NOT NULL,
        total REAL,
        max_total REAL,
        key_item TEXT,
        rubric TEXT
    );
    CREATE INDEX submissions_county_month ON submissions (county_code, month);
    CREATE TABLE findings (
        submission_id INTEGER NOT NULL REFERENCES submissions (id),
        code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, cell TEXT, field TEXT, value TEXT, message TEXT NOT NULL
    );
    CREATE INDEX findings_submission ON findings (submission_id);
    CREATE TABLE indicators (
        submission_id INTEGER NOT NULL REFERENCES submissions (id),
        key TEXT NOT NULL, item TEXT NOT NULL, name TEXT NOT NULL, formula TEXT,
        numerator REAL, denominator REAL, value REAL, value_text TEXT, red_flag INTEGER NOT NULL
    );
    CREATE INDEX indicators_submission ON indicators (submission_id);
    CREATE TABLE scores (
        submission_id INTEGER NOT NULL REFERENCES submissions (id),
        item TEXT NOT NULL, name TEXT NOT NULL, max_points REAL NOT NULL, points REAL NOT NULL, deductions TEXT
    );
    CREATE INDEX scores_submission ON scores (submission_id);
    CREATE TABLE flags (
        submission_id INTEGER NOT NULL REFERENCES submissions (id),
        level TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, row INTEGER, cell TEXT, township TEXT,
        village TEXT, household TEXT, masked_id TEXT, problem TEXT NOT NULL, reasons TEXT, action TEXT
    );
    CREATE INDEX flags_submission ON flags (submission_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        file_name TEXT NOT NULL,
        source TEXT NOT NULL,
        sha256 TEXT,
        reason TEXT,
        submission_id INTEGER REFERENCES submissions (id)
    );
    """,
    # 2: sampling draws and the problem ledger
    """
    CREATE TABLE draws (
        id INTEGER PRIMARY KEY,
        month TEXT NOT NULL,
        county TEXT,
        county_code TEXT,
        seed INTEGER NOT NULL,
        roster_sha256 TEXT NOT NULL,
        drawn_at TEXT NOT NULL,
        drawn_by TEXT,
        parameters TEXT NOT NULL,
        sample TEXT NOT NULL
    );
    CREATE TABLE ledger (
        id TEXT PRIMARY KEY,
        county TEXT,
        county_code TEXT,
        month TEXT NOT NULL,
        origin TEXT NOT NULL,
        township TEXT,
        village TEXT,
        household TEXT,
        masked_id TEXT,
        problem TEXT NOT NULL,
        evidence TEXT,
        requirement TEXT,
        deadline TEXT,
        status TEXT NOT NULL,
        submission_id INTEGER REFERENCES submissions (id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX ledger_county ON ledger (county_code, status);
    CREATE TABLE ledger_history (
        entry_id TEXT NOT NULL REFERENCES ledger (id),
        at TEXT NOT NULL,
        old_status TEXT,
        new_status TEXT NOT NULL,
        note TEXT,
        actor TEXT
    );
    CREATE INDEX ledger_history_entry ON ledger_history (entry_id);
    """,
    # 3: the letters issued (发文字号 numbered per year, continuing across runs) and what set an entry's deadline
    """
    CREATE TABLE letters (
        year INTEGER NOT NULL,
        serial INTEGER NOT NULL,
        number TEXT NOT NULL,
        county TEXT,
        county_code TEXT,
        month TEXT NOT NULL,
        issued TEXT NOT NULL,
        entries TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (year, serial)
    );
    CREATE UNIQUE INDEX letters_identity ON letters (county_code, month, issued, entries);
    ALTER TABLE ledger ADD COLUMN deadline_source TEXT;
    """,
    # 4: mail messages taken in over IMAP (Message-ID plus the hash of the whole message), so each is taken once
    """
    CREATE TABLE mail_messages (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        uidvalidity INTEGER,
        uid INTEGER,
        sender TEXT,
        subject TEXT,
        processed_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX mail_messages_identity ON mail_messages (message_id, sha256);
    CREATE INDEX mail_messages_uid ON mail_messages (mailbox, uidvalidity, uid);
    """,
)


@dataclass
class Submission:
    """One workbook taken in, with everything the pipeline found in it."""

    sha256: str
    file_name: str
    source: str
    received_at: str
    county: str | None = None
    county_code: str | None = None
    month: str | None = None
    inspection_group: str | None = None
    sent_at: str | None = None
    sender: str | None = None
    subject: str | None = None
    errors: int = 0
    warnings: int = 0
    total: float | None = None
    max_total: float | None = None
    key_item: str | None = None
    rubric: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    """What the archive did with a submission: its id, version and status, and the id it superseded if any."""

    submission_id: int
    version: int
    status: str
    superseded: int | None = None
    conflicts_with: tuple[int, ...] = ()


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


CST = dt.timezone(dt.timedelta(hours=8), "CST")  # China Standard Time: how every time is shown to people


def now_text() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def shown_time(moment: str | dt.datetime | None) -> str:
    """A stored ISO time as people read it: China Standard Time in Chinese form, 2026年12月2日 14:30 (a time
    without a zone is taken as CST; text that is not a time is returned unchanged)."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return moment
    local = moment.replace(tzinfo=CST) if moment.tzinfo is None else moment.astimezone(CST)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def shown_date(day: dt.date | str | None) -> str:
    """A date in Chinese form with Arabic numerals: 2019年12月5日."""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return f"{day.year}年{day.month}月{day.day}日"


class Archive:
    """The archive folder: ducha.sqlite3 and 原件/<2 hex>/<sha256><suffix>."""

    def __init__(self, folder: Path = DEFAULT_FOLDER) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DATABASE
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._wal()
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _wal(self) -> None:
        """Switch to WAL. While another intake creates the archive, the switch answers "database is locked" at once
        (SQLite's busy timeout does not cover it): wait and try again, as long as the busy timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        with self.transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: one writer at a time, all or nothing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- originals ----------------------------------------------------------------------------------------------

    def original_path(self, sha256: str, suffix: str) -> Path:
        return self.folder / ORIGINALS / sha256[:2] / f"{sha256}{suffix.lower()}"

    def store_original(self, content: bytes, suffix: str) -> Path:
        """Keep the file exactly as received; written once, atomically, under its hash."""
        sha = sha256_of(content)
        target = self.original_path(sha, suffix)
        if not target.exists() or target.stat().st_size != len(content):
            with atomic_path(target) as tmp:
                tmp.write_bytes(content)
        return target

    # --- writing ------------------------------------------------------------------------------------------------

    def find_by_hash(self, sha256: str) -> sqlite3.Row | None:
        return self._db.execute("SELECT * FROM submissions WHERE sha256 = ?", (sha256,)).fetchone()

    def add_event(self, kind: str, file_name: str, source: str, *, sha256: str | None = None, reason: str = "",
                  submission_id: int | None = None, at: str | None = None) -> None:
        with self.transaction() as db:
            self._event(db, kind, file_name, source, sha256, reason, submission_id, at)

    @staticmethod
    def _event(db: sqlite3.Connection, kind: str, file_name: str, source: str, sha256: str | None, reason: str,
               submission_id: int | None, at: str | None) -> None:
        db.execute("INSERT INTO events (at, kind, file_name, source, sha256, reason, submission_id)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", (at or now_text(), kind, file_name, source, sha256, reason,
                                                     submission_id))

    def add_submission(self, sub: Submission, stored_path: Path) -> Stored:
        """Record a new submission and all its results in one transaction.

        The same county, month and inspection group as a current submission: the new one supersedes it (history
        kept). The same county and month from a different group: both are marked as a conflict to resolve.
        """
        with self.transaction() as db:
            same = db.execute("SELECT id, inspection_group, status FROM submissions WHERE county_code IS ? "
                              "AND month IS ? AND status != ? ORDER BY id", (sub.county_code, sub.month, SUPERSEDED)
                              ).fetchall() if sub.county_code and sub.month else []
            version = 1 + (db.execute("SELECT COUNT(*) FROM submissions WHERE county_code IS ? AND month IS ? "
                                      "AND inspection_group IS ?", (sub.county_code, sub.month,
                                                                    sub.inspection_group)).fetchone()[0]
                           if sub.county_code and sub.month else 0)
            previous = [r["id"] for r in same if r["inspection_group"] == sub.inspection_group]
            rivals = tuple(r["id"] for r in same if r["inspection_group"] != sub.inspection_group)
            status = CONFLICT if rivals else CURRENT
            relative = stored_path.relative_to(self.folder).as_posix()
            cursor = db.execute(
                "INSERT INTO submissions (sha256, file_name, stored_path, county, county_code, month, "
                "inspection_group, received_at, sent_at, sender, subject, source, version, status, errors, "
                "warnings, total, max_total, key_item, rubric) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sub.sha256, sub.file_name, relative, sub.county, sub.county_code, sub.month, sub.inspection_group,
                 sub.received_at, sub.sent_at, sub.sender, sub.subject, sub.source, version, status, sub.errors,
                 sub.warnings, sub.total, sub.max_total, sub.key_item, sub.rubric))
            new_id = int(cursor.lastrowid)
            for old in previous:
                db.execute("UPDATE submissions SET status = ? WHERE id = ?", (SUPERSEDED, old))
            for rival in rivals:
                db.execute("UPDATE submissions SET status = ? WHERE id = ?", (CONFLICT, rival))
            self._insert_results(db, new_id, sub)
            kind = CONFLICT if rivals else ACCEPTED
            reason = (f"与 {len(rivals)} 份其他督查组的同县同月工作簿冲突，需州督查办裁定" if rivals
                      else (f"第 {version} 版，取代之前的版本" if previous else ""))
            self._event(db, kind, sub.file_name, sub.source, sub.sha256, reason, new_id, sub.received_at)
        return Stored(new_id, version, status, previous[-1] if previous else None, rivals)

    @staticmethod
    def _insert_results(db: sqlite3.Connection, submission_id: int, sub: Submission) -> None:
        def rows(table: str, records: list[dict[str, Any]]) -> None:
            if not records:
                return
            columns = list(records[0])
            db.executemany(
                f"INSERT INTO {table} (submission_id, {', '.join(columns)}) "
                f"VALUES (?, {', '.join('?' for _ in columns)})",
                [(submission_id, *(r.get(c) for c in columns)) for r in records])

        rows("findings", sub.findings)
        rows("indicators", sub.indicators)
        rows("scores", sub.scores)
        rows("flags", sub.flags)

    def resolve_conflict(self, keep_id: int, *, actor: str = "", at: str | None = None) -> list[int]:
        """The supervisor's ruling: `keep_id` becomes current, its rivals for that county and month superseded;
        who decided and when is recorded as a `resolved` event. Returns the superseded rivals' ids."""
        with self.transaction() as db:
            row = db.execute("SELECT county_code, month, file_name, source, sha256 FROM submissions WHERE id = ?",
                             (keep_id,)).fetchone()
            if row is None:
                raise KeyError(keep_id)
            rivals = [r[0] for r in db.execute(
                "SELECT id FROM submissions WHERE county_code IS ? AND month IS ? AND id != ? AND status != ? "
                "ORDER BY id", (row["county_code"], row["month"], keep_id, SUPERSEDED))]
            db.execute("UPDATE submissions SET status = ? WHERE county_code IS ? AND month IS ? AND id != ? "
                       "AND status != ?", (SUPERSEDED, row["county_code"], row["month"], keep_id, SUPERSEDED))
            db.execute("UPDATE submissions SET status = ? WHERE id = ?", (CURRENT, keep_id))
            superseded = "、".join(str(r) for r in rivals) or "无"
            self._event(db, RESOLVED, row["file_name"], actor or "州督查办", row["sha256"],
                        f"裁定采用提交 {keep_id}，取代提交 {superseded}", keep_id, at)
        return rivals

    def open_conflicts(self, month: str | None = None) -> list[sqlite3.Row]:
        """The submissions waiting for the supervisor's ruling, by county, month and id."""
        where, parameters = ("AND month = ?", (CONFLICT, month)) if month else ("", (CONFLICT,))
        return self.query(f"SELECT * FROM submissions WHERE status = ? {where} ORDER BY month, county_code, id",
                          parameters)

    def rulings(self) -> list[sqlite3.Row]:
        """The rulings made so far: who (`source`), when (`at`), which submission stands (`submission_id`)."""
        return self.query("SELECT * FROM events WHERE kind = ? ORDER BY id", (RESOLVED,))

    # --- mail ---------------------------------------------------------------------------------------------------

    def mail_uids(self, mailbox: str, uidvalidity: int) -> set[int]:
        """The UIDs of `mailbox` (at this UIDVALIDITY) already taken in."""
        rows = self.query("SELECT uid FROM mail_messages WHERE mailbox = ? AND uidvalidity = ?", (mailbox, uidvalidity))
        return {r["uid"] for r in rows}

    def mail_seen(self, message_id: str, sha256: str) -> bool:
        return bool(self.query("SELECT 1 FROM mail_messages WHERE message_id = ? AND sha256 = ?",
                               (message_id, sha256)))

    def add_mail(self, message_id: str, sha256: str, mailbox: str, uidvalidity: int | None, uid: int | None,
                 sender: str | None, subject: str | None) -> None:
        """Record a message as taken in (after its workbooks are recorded; taking one in again is harmless)."""
        with self.transaction() as db:
            db.execute("INSERT INTO mail_messages (message_id, sha256, mailbox, uidvalidity, uid, sender, subject, "
                       "processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, sha256) DO UPDATE "
                       "SET mailbox = excluded.mailbox, uidvalidity = excluded.uidvalidity, uid = excluded.uid",
                       (message_id, sha256, mailbox, uidvalidity, uid, sender, subject, now_text()))

    # --- reading ------------------------------------------------------------------------------------------------

    def query(self, sql: str, parameters: tuple = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, parameters).fetchall()

    def submissions(self, month: str | None = None) -> list[sqlite3.Row]:
        if month is None:
            return self.query("SELECT * FROM submissions ORDER BY id")
        return self.query("SELECT * FROM submissions WHERE month = ? ORDER BY id", (month,))

    def counted(self, month: str) -> list[sqlite3.Row]:
        """The month's submissions that still count (in force or in conflict), each with a receipt."""
        return self.query("SELECT * FROM submissions WHERE month = ? AND status != ? ORDER BY id", (month, SUPERSEDED))

    def current(self, month: str) -> list[sqlite3.Row]:
        """The submission in force per county for the month (conflicts excluded until resolved)."""
        return self.query("SELECT * FROM submissions WHERE month = ? AND status = ? ORDER BY county_code, id",
                          (month, CURRENT))

    def events(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM events ORDER BY id")

    def results(self, table: str, submission_id: int) -> list[sqlite3.Row]:
        if table not in ("findings", "indicators", "scores", "flags"):
            raise ValueError(table)
        return self.query(f"SELECT * FROM {table} WHERE submission_id = ? ORDER BY rowid", (submission_id,))

    def integrity_check(self) -> str:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0]

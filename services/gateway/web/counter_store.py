"""What the console keeps: clerk and staff accounts, their sessions and the clerks' receipts.

One SQLite file in the gateway's data dir (mode 0600), shared by the gateway and by
`ventanilla clerk …`. Passwords are argon2id hashes; session cookies are random and only their
SHA-256 is stored, so a copy of the file opens no session. The file also holds the console's
secret key, from which CSRF tokens and the citizens' verification codes are derived.

Staff accounts (auditors, operators) work at no counter: they have a role instead of a channel
and delegations, and sessions of their own, so a staff session never opens a clerk's pages. One
login name belongs to one account only, clerk or staff, so the one login form finds it.

Over 300 lines because accounts, sessions, lockout and receipts share one file, one lock and
one schema migration; split, each part would reopen the same connection and repeat its rules.
"""

import functools
import hashlib
import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

SESSION_SECONDS = 8 * 3600  # one working day at the counter
_SCHEMA = """
create table if not exists clerks (
    user text primary key,
    password_hash text not null,
    channel text not null,
    delegations text not null,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists sessions (
    token_sha256 text primary key,
    user text not null references clerks(user),
    expires_at real not null
);
create table if not exists receipts (
    case_id text primary key,
    case_code text not null unique,
    clerk text not null,
    channel text not null,
    procedure text not null,
    submitted_at text not null
);
create index if not exists receipts_by_clerk on receipts(clerk, submitted_at);
create table if not exists staff (
    user text primary key,
    password_hash text not null,
    role text not null,
    disabled integer not null default 0,
    created_at text not null
);
create table if not exists staff_sessions (
    token_sha256 text primary key,
    user text not null references staff(user),
    expires_at real not null
);
create table if not exists console_key (id integer primary key check (id = 1), key blob not null);
"""

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying an unknown user's password against this keeps a wrong user as slow as a wrong
    password. Made at the first such login, not at import: every `ventanilla` process imports
    this module (the CLI does), and a hash costs each a quarter of a second of CPU."""
    return _hasher.hash(secrets.token_urlsafe(16))


Role = Literal["auditor", "operator"]
ROLES: tuple[Role, ...] = get_args(Role)
# Where a staff member lands after logging in, and where "/" sends them.
ROLE_HOMES: dict[Role, str] = {"auditor": "/auditoria", "operator": "/operaciones"}


class ClerkError(ValueError):
    """An account command that cannot be done (unknown or existing user)."""


@dataclass(frozen=True)
class Clerk:
    user: str
    channel: str
    delegations: tuple[str, ...]
    disabled: bool = False


@dataclass(frozen=True)
class StaffMember:
    """An auditor or an operator: reads the console's audit or operations pages."""

    user: str
    role: Role
    disabled: bool = False


@dataclass(frozen=True)
class _Accounts:
    """Where one kind of account lives: its table, its sessions' table, its name in messages."""

    table: str
    sessions: str
    noun: str


_CLERKS = _Accounts("clerks", "sessions", "clerk")
_STAFF = _Accounts("staff", "staff_sessions", "staff account")


@dataclass(frozen=True)
class Receipt:
    case_id: UUID
    case_code: str
    clerk: str
    channel: str
    procedure: str
    submitted_at: datetime


def new_password() -> str:
    return secrets.token_urlsafe(12)


def case_code_of(case_id: UUID) -> str:
    """A short code for the receipt: 10 characters of Crockford base32 from the case id."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    number = case_id.int >> 78  # the top 50 bits
    chars = [alphabet[(number >> (5 * i)) & 31] for i in reversed(range(10))]
    return "".join(chars[:5]) + "-" + "".join(chars[5:])


def normal_case_code(text: str) -> str:
    """What a citizen types, as stored: capitals, O read as 0, I and L as 1, one dash."""
    plain = "".join(c for c in text.upper() if c.isalnum())
    plain = plain.replace("O", "0").replace("I", "1").replace("L", "1")
    return plain[:5] + "-" + plain[5:] if len(plain) == 10 else plain


class CounterStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
        with self._db() as db:
            db.executescript(_SCHEMA)
            db.execute(
                "insert or ignore into console_key (id, key) values (1, ?)",
                (secrets.token_bytes(32),),
            )

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection (a connection is opened once a thread)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10)
            # WAL: the gateway reads sessions while `ventanilla clerk` writes. NORMAL sync: a
            # power cut may lose the last receipts or sessions, never the case, which the ledger
            # holds; a clerk logs in again, a receipt can be reprinted from the case.
            db.execute("pragma journal_mode=wal")
            db.execute("pragma synchronous=normal")
            self._local.db = db
        with db:
            yield db

    def console_key(self) -> bytes:
        with self._db() as db:
            (key,) = db.execute("select key from console_key where id = 1").fetchone()
        return bytes(key)

    # --- clerks ----------------------------------------------------------------------------

    def add(self, user: str, channel: str, delegations: tuple[str, ...], password: str) -> Clerk:
        self._add_account(
            _CLERKS,
            user,
            password,
            {"channel": channel, "delegations": json.dumps(list(delegations))},
        )
        return Clerk(user, channel, delegations)

    def reset(self, user: str, password: str) -> None:
        """A new password; the clerk's open sessions end, and a disabled account is enabled."""
        self._reset_account(_CLERKS, user, password)

    def disable(self, user: str) -> None:
        self._disable_account(_CLERKS, user)

    def clerk(self, user: str) -> Clerk | None:
        with self._db() as db:
            row = db.execute(
                "select user, channel, delegations, disabled from clerks where user = ?", (user,)
            ).fetchone()
        return _clerk(row) if row else None

    def clerks(self) -> list[Clerk]:
        with self._db() as db:
            rows = db.execute(
                "select user, channel, delegations, disabled from clerks order by user"
            ).fetchall()
        return [_clerk(row) for row in rows]

    def check_password(self, user: str, password: str) -> Clerk | None:
        """The clerk, when the password is theirs and the account is enabled."""
        return self.clerk(user) if self._password_matches(_CLERKS, user, password) else None

    # --- staff -----------------------------------------------------------------------------

    def add_staff(self, user: str, role: Role, password: str) -> StaffMember:
        self._add_account(_STAFF, user, password, {"role": role})
        return StaffMember(user, role)

    def reset_staff(self, user: str, password: str) -> None:
        """A new password; the member's open sessions end, and a disabled account is enabled."""
        self._reset_account(_STAFF, user, password)

    def disable_staff(self, user: str) -> None:
        self._disable_account(_STAFF, user)

    def staff_member(self, user: str) -> StaffMember | None:
        with self._db() as db:
            row = db.execute(
                "select user, role, disabled from staff where user = ?", (user,)
            ).fetchone()
        return _staff(row) if row else None

    def staff_members(self, role: Role | None = None) -> list[StaffMember]:
        with self._db() as db:
            rows = db.execute(
                "select user, role, disabled from staff where ? is null or role = ? order by user",
                (role, role),
            ).fetchall()
        return [_staff(row) for row in rows]

    def check_staff_password(self, user: str, password: str) -> StaffMember | None:
        """The member, when the password is theirs and the account is enabled."""
        return self.staff_member(user) if self._password_matches(_STAFF, user, password) else None

    def check_login(self, user: str, password: str) -> Clerk | StaffMember | None:
        """Whoever `user` names, clerk or staff, when the password is theirs (one hash check)."""
        with self._db() as db:
            is_staff = db.execute("select 1 from staff where user = ?", (user,)).fetchone()
        if is_staff:
            return self.check_staff_password(user, password)
        return self.check_password(user, password)

    # --- sessions --------------------------------------------------------------------------

    def open_session(self, user: str) -> str:
        return self._open_session(_CLERKS, user)

    def open_staff_session(self, user: str) -> str:
        return self._open_session(_STAFF, user)

    def session_clerk(self, token: str) -> Clerk | None:
        with self._db() as db:
            row = db.execute(
                "select c.user, c.channel, c.delegations, c.disabled from sessions s "
                "join clerks c on c.user = s.user where s.token_sha256 = ? and s.expires_at > ?",
                (_sha256(token), time.time()),
            ).fetchone()
        clerk = _clerk(row) if row else None
        return clerk if clerk and not clerk.disabled else None

    def session_staff(self, token: str) -> StaffMember | None:
        with self._db() as db:
            row = db.execute(
                "select m.user, m.role, m.disabled from staff_sessions s "
                "join staff m on m.user = s.user where s.token_sha256 = ? and s.expires_at > ?",
                (_sha256(token), time.time()),
            ).fetchone()
        member = _staff(row) if row else None
        return member if member and not member.disabled else None

    def close_session(self, token: str) -> None:
        with self._db() as db:
            for accounts in (_CLERKS, _STAFF):
                db.execute(
                    f"delete from {accounts.sessions} where token_sha256 = ?",  # noqa: S608
                    (_sha256(token),),
                )

    # --- what clerk and staff accounts share -----------------------------------------------

    def _add_account(
        self, accounts: _Accounts, user: str, password: str, extra: dict[str, str]
    ) -> None:
        columns = ["user", "password_hash", *extra, "created_at"]
        values = [user, _hasher.hash(password), *extra.values(), datetime.now(UTC).isoformat()]
        other = _STAFF if accounts is _CLERKS else _CLERKS
        try:
            with self._db() as db:
                taken = db.execute(
                    f"select 1 from {other.table} where user = ?",  # noqa: S608
                    (user,),
                ).fetchone()
                if taken:
                    raise ClerkError(f"{user!r} is already the name of a {other.noun}")
                db.execute(
                    f"insert into {accounts.table} ({', '.join(columns)}) "  # noqa: S608
                    f"values ({', '.join('?' for _ in columns)})",
                    values,
                )
        except sqlite3.IntegrityError:
            raise ClerkError(f"there is already a {accounts.noun} {user!r}") from None

    def _reset_account(self, accounts: _Accounts, user: str, password: str) -> None:
        with self._db() as db:
            changed = db.execute(
                f"update {accounts.table} set password_hash = ?, disabled = 0 "  # noqa: S608
                "where user = ?",
                (_hasher.hash(password), user),
            ).rowcount
            db.execute(f"delete from {accounts.sessions} where user = ?", (user,))  # noqa: S608
        if not changed:
            raise ClerkError(f"there is no {accounts.noun} {user!r}")

    def _disable_account(self, accounts: _Accounts, user: str) -> None:
        with self._db() as db:
            changed = db.execute(
                f"update {accounts.table} set disabled = 1 where user = ?",  # noqa: S608
                (user,),
            ).rowcount
            db.execute(f"delete from {accounts.sessions} where user = ?", (user,))  # noqa: S608
        if not changed:
            raise ClerkError(f"there is no {accounts.noun} {user!r}")

    def _password_matches(self, accounts: _Accounts, user: str, password: str) -> bool:
        """True for an enabled account's own password; an unknown user costs as much time."""
        with self._db() as db:
            row = db.execute(
                f"select password_hash, disabled from {accounts.table} where user = ?",  # noqa: S608
                (user,),
            ).fetchone()
        stored = row[0] if row else _dummy_hash()
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
        return row is not None and not row[1]

    def _open_session(self, accounts: _Accounts, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time()
        with self._db() as db:
            db.execute(
                f"delete from {accounts.sessions} where expires_at < ?",  # noqa: S608
                (now,),
            )
            db.execute(
                f"insert into {accounts.sessions} "  # noqa: S608
                "(token_sha256, user, expires_at) values (?, ?, ?)",
                (_sha256(token), user, now + SESSION_SECONDS),
            )
        return token

    # --- receipts --------------------------------------------------------------------------

    def keep_receipt(self, receipt: Receipt) -> Receipt:
        """Record the receipt of a case; a repeat of the same submission keeps the first one."""
        with self._db() as db:
            db.execute(
                "insert or ignore into receipts "
                "(case_id, case_code, clerk, channel, procedure, submitted_at) "
                "values (?, ?, ?, ?, ?, ?)",
                (
                    str(receipt.case_id),
                    receipt.case_code,
                    receipt.clerk,
                    receipt.channel,
                    receipt.procedure,
                    receipt.submitted_at.isoformat(),
                ),
            )
            row = db.execute(
                f"select {_RECEIPT_COLUMNS} from receipts where case_id = ?",  # noqa: S608
                (str(receipt.case_id),),
            ).fetchone()
        return _receipt(row)

    def receipt(self, case_id: UUID) -> Receipt | None:
        return self._one_receipt("case_id = ?", str(case_id))

    def receipt_by_code(self, case_code: str) -> Receipt | None:
        return self._one_receipt("case_code = ?", case_code)

    def receipts_of(
        self,
        clerk: str,
        *,
        procedure: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[Receipt]:
        """A clerk's cases, newest first, optionally of one procedure and within dates."""
        where, args = ["clerk = ?"], [clerk]
        if procedure:
            where.append("procedure = ?")
            args.append(procedure)
        if since:
            where.append("submitted_at >= ?")
            args.append(since.isoformat())
        if until:
            where.append("submitted_at < ?")
            args.append(until.isoformat())
        with self._db() as db:
            rows = db.execute(
                f"select {_RECEIPT_COLUMNS} from receipts where {' and '.join(where)} "  # noqa: S608
                "order by submitted_at desc limit ?",
                (*args, limit),
            ).fetchall()
        return [_receipt(row) for row in rows]

    def _one_receipt(self, where: str, value: str) -> Receipt | None:
        with self._db() as db:
            row = db.execute(
                f"select {_RECEIPT_COLUMNS} from receipts where {where}",  # noqa: S608
                (value,),
            ).fetchone()
        return _receipt(row) if row else None


_RECEIPT_COLUMNS = "case_id, case_code, clerk, channel, procedure, submitted_at"


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clerk(row: tuple[str, str, str, int]) -> Clerk:
    user, channel, delegations, disabled = row
    return Clerk(user, channel, tuple(json.loads(delegations)), bool(disabled))


def _staff(row: tuple[str, str, int]) -> StaffMember:
    user, role, disabled = row
    if role not in ROLES:
        raise ValueError(f"unknown staff role {role!r}")
    return StaffMember(user, role, bool(disabled))


def _receipt(row: tuple[str, str, str, str, str, str]) -> Receipt:
    case_id, code, clerk, channel, procedure, submitted_at = row
    return Receipt(
        UUID(case_id), code, clerk, channel, procedure, datetime.fromisoformat(submitted_at)
    )

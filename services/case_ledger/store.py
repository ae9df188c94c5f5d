"""Where the ledger keeps its events: a SQLite file by default, PostgreSQL at scale."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from services.datadir import MASTER_KEY_FILE

# The eventsourcing setting that tells the ledger application where its master key is.
MASTER_KEY_SETTING = "PERSONAL_DATA_MASTER_KEY"


@dataclass(frozen=True)
class LedgerStore:
    """Either `sqlite:///path/to/ledger.sqlite`, `postgresql://user@host:port/db` or `memory:`."""

    url: str
    # The master key of the citizens' data keys (see case_ledger.personal). A SQLite ledger
    # keeps it beside its file by default; a PostgreSQL ledger must be told where it is.
    master_key: Path | None = field(default=None, compare=False)

    @classmethod
    def sqlite(cls, path: Path, master_key: Path | None = None) -> "LedgerStore":
        return cls(f"sqlite:///{path.resolve()}", master_key)

    def environment(self) -> dict[str, str]:
        """The eventsourcing settings for this store, and where its master key is."""
        env = self._persistence()
        key = self.master_key
        if key is None and env.get("SQLITE_DBNAME"):
            key = Path(env["SQLITE_DBNAME"]).parent / MASTER_KEY_FILE
        if key is not None:
            env[MASTER_KEY_SETTING] = str(key.resolve())
        return env

    def _persistence(self) -> dict[str, str]:
        if self.url == "memory:":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        parsed = urlparse(self.url)
        if parsed.scheme == "sqlite":
            path = Path(unquote(parsed.path))
            path.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        if parsed.scheme in ("postgres", "postgresql"):
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": parsed.path.lstrip("/") or "postgres",
                "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": unquote(parsed.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            }
            query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
            if "schema" in query:
                env["POSTGRES_SCHEMA"] = query["schema"]
            return env
        raise ValueError(f"unsupported ledger store {self.url!r}: use sqlite:///…, postgresql://…")

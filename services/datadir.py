"""Where a local stack keeps its state: one folder, laid out the same for every process."""

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA_DIR = Path("var")
MASTER_KEY_FILE = "personal-data-master.key"  # beside the ledger's database, never inside it


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def nats_store(self) -> Path:
        return self.root / "nats"

    @property
    def catalog(self) -> Path:
        """Procedure files of newly incorporated entities, read with the shipped ones."""
        return self.root / "catalog"

    @property
    def ledger_sqlite(self) -> Path:
        return self.root / "ledger" / "ledger.sqlite"

    @property
    def ledger_url_file(self) -> Path:
        """Where the ledger lives when not in `ledger.sqlite`: one URL (e.g. PostgreSQL) that an
        operator writes; every process that opens the ledger reads it."""
        return self.root / "ledger" / "store-url"

    @property
    def audit_signing_key(self) -> Path:
        """The ledger's Ed25519 checkpoint signing key (PEM, mode 0600)."""
        return self.root / "ledger" / "audit-signing-key.pem"

    @property
    def audit_checkpoints(self) -> Path:
        """Signed checkpoints of the ledger, one JSON object a line."""
        return self.root / "ledger" / "checkpoints.jsonl"

    @property
    def audit_key_list(self) -> Path:
        """Every checkpoint public key the ledger has signed with, current and retired."""
        return self.root / "ledger" / "checkpoint-keys.json"

    @property
    def master_key(self) -> Path:
        """The master key that wraps citizens' data keys (mode 0600; never in the database)."""
        return self.root / "ledger" / MASTER_KEY_FILE

    @property
    def gateway_tokens(self) -> Path:
        """Hashes of the bearer tokens the gateway accepts, with their principals."""
        return self.root / "gateway" / "tokens.json"

    @property
    def counter_store(self) -> Path:
        """The counter console's clerks, sessions and receipts (SQLite, mode 0600)."""
        return self.root / "gateway" / "counter.sqlite"

    @property
    def dev_credentials(self) -> Path:
        return self.root / "dev-credentials.json"

    @property
    def backoffices(self) -> Path:
        """State of the fake back offices (what they charged and issued)."""
        return self.root / "backoffices"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def ledger_store_url(self) -> str:
        if self.ledger_url_file.exists():
            return self.ledger_url_file.read_text().strip()
        return f"sqlite:///{self.ledger_sqlite.resolve()}"

"""Settings from environment variables, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = PROJECT_ROOT / "sql"
POLICY_DIR = INCLUDE_DIR / "policies"
TEMPLATE_DIR = INCLUDE_DIR / "templates"
LOCAL_DIR = PROJECT_ROOT / ".local"

DEFAULT_POLICY_VERSION = "v1"
# The lender's business calendar: review dates are dates in this zone.
BUSINESS_TIMEZONE = "Asia/Shanghai"
DEFAULT_SHARDS = 4


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.strip().isdigit():
        raise ValueError(f"environment variable {name} must be a whole number, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str
    report_dir: Path
    policy_version: str
    pg_statement_timeout_ms: int
    pg_lock_timeout_ms: int
    shards: int


def settings() -> Settings:
    """Read the settings now (not at import), so tests and the CLI can point them elsewhere."""
    return Settings(
        database_url=os.environ.get("PLR_DATABASE_URL") or f"sqlite:///{LOCAL_DIR / 'warehouse.db'}",
        report_dir=Path(os.environ.get("PLR_REPORT_DIR") or LOCAL_DIR / "reports"),
        policy_version=os.environ.get("PLR_POLICY") or DEFAULT_POLICY_VERSION,
        pg_statement_timeout_ms=int(os.environ.get("PLR_PG_STATEMENT_TIMEOUT_MS") or 30 * 60 * 1000),
        pg_lock_timeout_ms=int(os.environ.get("PLR_PG_LOCK_TIMEOUT_MS") or 60 * 1000),
        # parts the heavy stages split the book into (shards.py); a run's `shards` param overrides it
        shards=_whole_number("PLR_SHARDS", DEFAULT_SHARDS),
    )

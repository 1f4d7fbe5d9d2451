"""Failpoints: named places where a test can make the process die, to prove that a crash at that
moment leaves nothing half-written and that a re-run completes the work.

Off unless ``PLR_FAILPOINT`` names a point (``apply:after_ledger``), optionally with the hit on
which to die (``apply:after_ledger:2``). Dying is ``os._exit``: no cleanup, no rollback by us,
exactly like a killed worker; the database's own transaction handling is what is being tested.
"""

from __future__ import annotations

import os
from collections import Counter

_hits: Counter[str] = Counter()
CRASH_EXIT_CODE = 137  # what a SIGKILLed process reports


def failpoint(name: str) -> None:
    """Die here if ``PLR_FAILPOINT`` asks for this point (and this hit of it)."""
    spec = os.environ.get("PLR_FAILPOINT")
    if not spec:
        return
    point, _, hit = spec.rpartition(":") if spec.rsplit(":", 1)[-1].isdigit() else (spec, "", "1")
    if point != name:
        return
    _hits[name] += 1
    if _hits[name] == int(hit):
        os._exit(CRASH_EXIT_CODE)

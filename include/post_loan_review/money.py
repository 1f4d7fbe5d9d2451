"""Money is integer fen (1 yuan = 100 fen); these turn it into text without going through float."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEN_PER_YUAN = 100


def yuan_column(fen) -> pd.Series:
    """Non-negative integer fen, column-wise, as yuan text with two decimals: 123456 -> '1234.56'."""
    fen = pd.Series(np.asarray(fen, dtype="int64"))
    return (fen // FEN_PER_YUAN).astype(str) + "." + (fen % FEN_PER_YUAN).astype(str).str.zfill(2)


def format_yuan(fen: int) -> str:
    """Fen as yuan with thousands separators, exact (no float): 123456789 -> '¥1,234,567.89'."""
    fen = int(fen)
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}¥{fen // FEN_PER_YUAN:,}.{fen % FEN_PER_YUAN:02d}"

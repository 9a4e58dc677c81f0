"""Text: the display value cleaned, and the key it is matched on.

Rules of :func:`clean_text` (stored display values):

- every run of whitespace (space, tab, line break, NBSP, ideographic space U+3000) becomes one space
  (rows holding one of those are rewritten, and then every Unicode space in them counts);
- leading and trailing whitespace is removed;
- nothing else changes: full-width brackets （）, ㎡ and full-width digits stay as written
  (NFKC would turn them into (), m2 and ASCII digits, which changes a registered name).

Rules of :func:`normalize_text` (the ``text`` transform): :func:`clean_text`, then an empty value is
null and a placeholder (incl. a meaningless '0') is null with the note ``placeholder.null``.

Rules of :func:`match_key` (keys for matching and joining, never stored as display values):
NFKC (full-width -> half-width, ㎡ -> m2, （） -> ()), brackets 【】〔〕[] -> (), all whitespace
removed, upper-cased.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

from quancheng.normalize.base import (
    WHITESPACE,
    Outcome,
    mark,
    nfkc,
    no_codes,
    null_where,
    placeholder_mask,
    with_nulls,
)

# the whitespace forms data carries: ASCII, NBSP and the ideographic space. An explicit class lets the regex
# engine skip ahead byte-wise (0.04 s per million names against 0.14 s for \s, which decodes every character)
_SPACES = "[\t\n\x0b\x0c\r \xa0\u3000]"


def clean_text(s: pl.Series) -> pl.Series:
    """Whitespace runs (incl. U+3000) -> one space, then trimmed; see the module rules.

    Only the rows holding whitespace are rewritten (one scan finds them; most rows have none).
    """
    return _clean(s)[0]


def _clean(s: pl.Series) -> tuple[pl.Series, bool]:
    """:func:`clean_text` and whether any row was rewritten."""
    s = s.cast(pl.String)
    suspect = s.str.contains(_SPACES).fill_null(False).to_numpy()
    if not suspect.any():
        return s, False
    idx = pl.Series(np.flatnonzero(suspect))
    fixed = s.gather(idx).str.replace_all(r"\s+", " ").str.strip_chars()
    return s.clone().scatter(idx, fixed), True  # scatter works in place: never on the caller's series


def normalize_text(s: pl.Series, zero_is_placeholder: bool = True,
                   source: pa.ChunkedArray | pa.Array | None = None) -> Outcome:
    """The ``text`` transform: clean, empty -> null, placeholder -> null with a note.

    With ``source`` (the Arrow column ``s`` came from) and nothing to rewrite, the outcome also carries
    the values as ``source``'s own buffers with the nulls added (no copy back out of polars).
    """
    t, rewritten = _clean(s)
    ph = placeholder_mask(t, zero_is_placeholder)
    empty = (t == "").fill_null(False)
    gone = ph | empty
    arrow = with_nulls(source, gone.to_numpy()) if source is not None and not rewritten else None
    return Outcome(null_where(t, gone), mark(no_codes(len(s)), ph, "placeholder.null"), arrow)


def match_key(s: pl.Series) -> pl.Series:
    """The key a value is matched on; see the module rules."""
    k = nfkc(s.cast(pl.String))
    k = k.str.replace_all(r"[【〔\[]", "(").str.replace_all(r"[】〕\]]", ")")
    return k.str.replace_all(r"\s+", "").str.to_uppercase()


__all__ = ["WHITESPACE", "clean_text", "match_key", "normalize_text"]

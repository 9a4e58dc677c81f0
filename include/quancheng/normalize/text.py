"""Text: the display value cleaned, and the key it is matched on.

Rules of :func:`clean_text` (stored display values):

- every run of whitespace (space, tab, line break, NBSP, ideographic space U+3000) becomes one space;
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

from quancheng.normalize.base import WHITESPACE, Outcome, mark, nfkc, no_codes, null_where, placeholder_mask


def clean_text(s: pl.Series) -> pl.Series:
    """Whitespace runs (incl. U+3000) -> one space, then trimmed; see the module rules.

    Only the rows holding whitespace are rewritten (one scan finds them; most rows have none).
    """
    s = s.cast(pl.String)
    suspect = s.str.contains(r"\s").fill_null(False).to_numpy()
    if not suspect.any():
        return s
    idx = pl.Series(np.flatnonzero(suspect))
    fixed = s.gather(idx).str.replace_all(r"\s+", " ").str.strip_chars()
    return s.clone().scatter(idx, fixed)  # scatter works in place: never on the caller's series


def normalize_text(s: pl.Series, zero_is_placeholder: bool = True) -> Outcome:
    """The ``text`` transform: clean, empty -> null, placeholder -> null with a note."""
    t = clean_text(s)
    ph = placeholder_mask(t, zero_is_placeholder)
    empty = (t == "").fill_null(False)
    return Outcome(null_where(t, ph | empty), mark(no_codes(len(s)), ph, "placeholder.null"))


def match_key(s: pl.Series) -> pl.Series:
    """The key a value is matched on; see the module rules."""
    k = nfkc(s.cast(pl.String))
    k = k.str.replace_all(r"[【〔\[]", "(").str.replace_all(r"[】〕\]]", ")")
    return k.str.replace_all(r"\s+", "").str.to_uppercase()


__all__ = ["WHITESPACE", "clean_text", "match_key", "normalize_text"]

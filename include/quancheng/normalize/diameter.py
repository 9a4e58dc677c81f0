"""Nominal pipe diameters: what a form writes in a 管径 field -> the designation ``DN<size>``.

A nominal diameter (公称尺寸, GB/T 1047-2019, ISO 6708) is a designation, not a measure: ``DN200`` names a
size class whose bore is only roughly 200 mm. Rules of :func:`parse_nominal_diameters`:

- placeholders ('/', '无', '--', a meaningless '0' ...) -> null with ``placeholder.null``; empty -> null;
- the text is read after NFKC (full-width ``ＤＮ２００`` -> ``DN200``), trimmed, spaces removed;
- ``DN200``, ``dn200``, ``Dn 200``, ``DN200mm``, ``200``, ``200.0`` (a native number), ``200mm`` and
  ``200毫米`` -> ``DN200``: a 管径 field in millimetres holds the nominal size (the forms label it
  ``管径(mm)``);
- ``Φ200`` / ``φ200`` / ``ø200`` -> ``DN200`` with the note ``nominal_diameter.phi``: Φ marks an outside
  diameter in pipe standards (steel ``Φ219×6``) but forms also write it for the nominal size, so it is read
  as DN only when the size is a DN size, and the reading is recorded;
- the size must be a nominal size of GB/T 1047-2019 (DN6 ... DN4000, :data:`DN_SIZES`), else the value is
  null with ``nominal_diameter.not_in_series``: ``DN225`` is no DN, and a lower-case ``dn110`` or a
  ``Φ219`` is an outside diameter (GB/T 13663 writes PE pipes' nominal outside diameter ``dn``), which
  no table turns into a DN honestly;
- ``De110`` (outside diameter of plastic pipe) and ``Φ219×6`` / ``D219×6`` (outside diameter × wall) ->
  null with ``nominal_diameter.outside_diameter``: the DN depends on the pipe's material and series;
- anything else (fractions ``200.5``, inches ``4寸``, ranges ``DN100-DN200``, several sizes, words) -> null with
  ``nominal_diameter.unreadable``.
"""

from __future__ import annotations

import polars as pl

from quancheng.normalize.base import Outcome, first_code, mark, nfkc, no_codes, null_where, placeholder_mask

# GB/T 1047-2019 管道元件 公称尺寸的定义和选用, table 1 (the ISO 6708 series with DN6 and DN8)
DN_SIZES: tuple[int, ...] = (
    6, 8, 10, 15, 20, 25, 32, 40, 50, 65, 80, 100, 125, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800,
    900, 1000, 1100, 1200, 1400, 1500, 1600, 1800, 2000, 2200, 2400, 2600, 2800, 3000, 3200, 3400, 3600, 3800,
    4000,
)
_SIZE = r"([0-9]{1,4})(?:\.0+)?(?:MM|毫米)?"
_DN = rf"^(?:DN)?{_SIZE}$"
_PHI = rf"^[ΦØ∅Ф]{_SIZE}$"  # upper-cased: φ -> Φ, ø -> Ø, ф -> Ф
_OUTSIDE = r"^(?:DE[0-9]|[ΦØ∅ФD][0-9.]+[×X*][0-9.]+(?:MM)?$)"


def parse_nominal_diameters(text: pl.Series) -> Outcome:
    """Each written nominal diameter -> ``DN<size>`` or null with its reason (rules in the module docstring)."""
    trimmed = text.str.strip_chars()
    ph = placeholder_mask(trimmed, zero=True)
    key = nfkc(trimmed).str.replace_all(r"\s", "").str.to_uppercase()
    dn = key.str.extract(_DN, 1)
    phi = key.str.extract(_PHI, 1)
    size = pl.select(pl.coalesce(dn, phi)).to_series().cast(pl.Int64, strict=False)
    in_series = size.is_in(DN_SIZES).fill_null(False)
    present = key.is_not_null() & (key != "") & ~ph
    read = size.is_not_null() & present
    outside = key.str.contains(_OUTSIDE).fill_null(False) & present & ~read
    values = null_where(pl.select(pl.format("DN{}", size)).to_series(), ~(read & in_series))
    codes = mark(no_codes(len(text)), ph, "placeholder.null")
    codes = mark(codes, read & ~in_series, "nominal_diameter.not_in_series")
    codes = mark(codes, outside, "nominal_diameter.outside_diameter")
    codes = mark(codes, present & ~read, "nominal_diameter.unreadable")
    codes = first_code(codes, mark(no_codes(len(text)), phi.is_not_null() & in_series, "nominal_diameter.phi"))
    return Outcome(values.cast(pl.String), codes)

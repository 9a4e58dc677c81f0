"""Nominal pipe diameters: one line per case (rules in quancheng.normalize.diameter)."""

from __future__ import annotations

import polars as pl
import pytest
from quancheng.normalize.diameter import parse_nominal_diameters
from quancheng.normalize.issues import severity

CASES = [
    ("DN200", "DN200", None),
    ("dn200", "DN200", None),                # lower case, a DN size: read as DN
    ("Dn 200", "DN200", None),
    ("ＤＮ２００", "DN200", None),              # full-width
    ("DN200mm", "DN200", None),
    ("200", "DN200", None),                  # a 管径(mm) field holds the nominal size
    ("200.0", "DN200", None),                # a native number, as text
    ("200mm", "DN200", None),
    ("200 MM", "DN200", None),
    ("200毫米", "DN200", None),
    ("DN15", "DN15", None),
    ("DN4000", "DN4000", None),
    ("Φ200", "DN200", "nominal_diameter.phi"),
    ("φ200", "DN200", "nominal_diameter.phi"),
    ("ø100", "DN100", "nominal_diameter.phi"),
    ("Φ219", None, "nominal_diameter.not_in_series"),   # a steel pipe's outside diameter
    ("dn110", None, "nominal_diameter.not_in_series"),  # GB/T 13663: PE pipe's nominal outside diameter
    ("DN225", None, "nominal_diameter.not_in_series"),
    ("200.5", None, "nominal_diameter.unreadable"),    # a DN size is a whole number
    ("De110", None, "nominal_diameter.outside_diameter"),
    ("de110", None, "nominal_diameter.outside_diameter"),
    ("Φ219×6", None, "nominal_diameter.outside_diameter"),
    ("D219x6", None, "nominal_diameter.outside_diameter"),
    ("4寸", None, "nominal_diameter.unreadable"),
    ("DN100-DN200", None, "nominal_diameter.unreadable"),
    ("DN100/DN150", None, "nominal_diameter.unreadable"),
    ("见图纸", None, "nominal_diameter.unreadable"),
    ("/", None, "placeholder.null"),
    ("无", None, "placeholder.null"),
    ("0", None, "placeholder.null"),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("text", "value", "code"), CASES)
def test_nominal_diameter(text: str | None, value: str | None, code: str | None) -> None:
    o = parse_nominal_diameters(pl.Series([text], dtype=pl.String))
    assert (o.values[0], o.codes[0]) == (value, code)


def test_an_unread_diameter_quarantines_and_a_phi_reading_is_a_note() -> None:
    assert severity("nominal_diameter.outside_diameter") == "error"
    assert severity("nominal_diameter.unreadable") == "error"
    assert severity("nominal_diameter.not_in_series") == "error"
    assert severity("nominal_diameter.phi") == "note"


def test_values_keep_their_rows() -> None:
    o = parse_nominal_diameters(pl.Series(["DN100", None, "De63", "150"], dtype=pl.String))
    assert o.values.to_list() == ["DN100", None, None, "DN150"]
    assert o.codes.to_list() == [None, None, "nominal_diameter.outside_diameter", None]

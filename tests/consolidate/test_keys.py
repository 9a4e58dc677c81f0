"""Matching keys: project codes, identifiers and enterprise names (table-driven)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from quancheng.consolidate.keys import NameKeyer, embedded_org_code, id_key, name_exact_key, project_key

PROJECT = "2019-370102-47-01-000001"


@pytest.mark.parametrize(("raw", "key"), [
    (PROJECT, PROJECT),
    ("２０１９－３７０１０２－４７－０１－０００００１", PROJECT),  # full-width digits and hyphens
    ("20193701024701000001", PROJECT),  # written without separators
    (" 2019-370102-47-01-000001\u3000", PROJECT),  # spaces incl. U+3000
    ("2019—370102—47—01—000001", PROJECT),  # em dashes
    ("2019_370102_47_01_000001", PROJECT),
    ("2019--370102-47-01-000001", PROJECT),
    ("2107-370102-04-01-12345a", "2107-370102-04-01-12345A"),  # new-generation code, lower-case letter
    ("", None),
    (None, None),
])
def test_project_key(raw: str | None, key: str | None) -> None:
    assert project_key(pa.array([raw], pa.string())).to_pylist() == [key]


@pytest.mark.parametrize(("raw", "key"), [
    ("91370100 MA3C4X5Y-0L", "91370100MA3C4X5Y0L"),
    ("９１３７０１００ＭＡ３Ｃ", "91370100MA3C"),  # full-width
    ("  ", None),
    (None, None),
])
def test_id_key(raw: str | None, key: str | None) -> None:
    assert id_key(raw) == key


def test_embedded_org_code_is_positions_9_to_17() -> None:
    assert embedded_org_code("91370100MA3C4X5Y0L") == "MA3C4X5Y0"
    assert embedded_org_code("MA3C4X5Y0") is None


@pytest.mark.parametrize(("a", "b"), [
    ("济南恒达建设有限公司（历下）", "济南恒达建设有限公司(历下)"),
    ("济南恒达 建设有限公司", "济南恒达建设有限公司"),
    ("ＡＢＣ建设有限公司", "abc建设有限公司"),
])
def test_exact_name_key_equal(a: str, b: str) -> None:
    assert name_exact_key(a) == name_exact_key(b)


KEYER = NameKeyer(["济南市", "历下区", "章丘市"])


@pytest.mark.parametrize(("a", "b", "same"), [
    ("济南恒达建设有限公司", "恒达建设有限责任公司", True),  # region prefix and suffix variant
    ("山东省恒达建设股份有限公司", "恒达建设有限公司", True),
    ("山东恒达建设有限公司", "济南市恒达建设有限公司", True),
    ("恒达建设(济南)有限公司", "恒达建设有限公司", True),  # parenthesised region
    ("章丘恒达建设有限公司", "恒达建设有限公司", True),  # a stem of a code-list name (章丘市 -> 章丘)
    ("恒达建设有限公司", "恒远建设有限公司", False),
    ("济南市政工程有限公司", "济南市政工程有限公司", True),
    ("济南恒达建设有限公司", "济南恒达置业有限公司", False),
])
def test_fuzzy_name_key(a: str, b: str, same: bool) -> None:
    assert (KEYER.fuzzy(a) == KEYER.fuzzy(b)) is same


def test_fuzzy_key_keeps_a_name_that_is_mostly_region() -> None:
    assert KEYER.fuzzy("济南市公司") == "济南市公司"  # stripping would leave almost nothing

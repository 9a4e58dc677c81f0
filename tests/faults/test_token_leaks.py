"""Fault injection: a token in the open area must never be matched to a clear value published beside it.

A demo world of the full catalog (35 systems, seeded small) is synced in-process through the real sources
and shared. Then every text value of the open area is looked at: the tokens (``tk_…``) on one side, the
clear values on the other. The token of every clear value is computed under each value normalization the
tokenizer knows (phone, identifier, text) with the world's own key, and a clear source key also under the
source-key domain: if one of them is among the tokens, a join through that value turns the token back into
the clear value. There must be none, neither among the open area's own tokens nor among the tokens of any
department's area (whoever reads a department area reads the open area too). Before the fix, the
enterprise's phone was published in clear in the open area while the same numbers were tokenized as
contact phones in the department areas.

The same check on a hand-made table shows the value guard at work: a column catalogued as not personal that
carries mobile and ID numbers reaches the open area tokenized, with the tokens the personal columns get.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from quancheng import pipeline
from quancheng.consolidate.run import (
    publish_cases,
    publish_enterprise_master,
    publish_materials,
    publish_stage_forms,
    share_system_datasets,
)
from quancheng.publish.store import SharedStore
from quancheng.sharing.areas import AreaStore
from quancheng.sharing.guard import GUARDED, ClearPersonalValue, classify, guard_open
from quancheng.sharing.publish import share_open, tokenizer_for
from quancheng.sharing.rules import OPEN_SCHEMA
from quancheng.sharing.tokenize import PREFIX, Normalization, Tokenizer
from quancheng.sources import Window

pytestmark = pytest.mark.xdist_group("demo_world")
SEED, SCALE = 5, 12
NORMALIZATIONS: tuple[Normalization, ...] = ("phone", "identifier", "text")
KEY_COLUMNS = ("_source_key", "source_key")


@pytest.fixture(scope="module")
def shared(tmp_path_factory, full_catalog):  # type: ignore[no-untyped-def]
    from quancheng.demo.run import _ceil_to_day, served_world
    from quancheng.demo.seed import seed_world

    home = tmp_path_factory.mktemp("token_world")
    seeded = seed_world(full_catalog, home / "world", scale=SCALE, seed=SEED)
    end = _ceil_to_day(datetime.fromisoformat(seeded.interval["end"]))
    with served_world(home / "world", seeded.to_dict()) as uris:
        for sid, info in seeded.systems.items():
            pipeline.run_system(sid, Window(None, end), catalog=full_catalog, home=home,
                                uri=uris.get(sid, info["uri"]))
    store = SharedStore(home)
    for step in (share_system_datasets, publish_stage_forms, publish_enterprise_master, publish_materials,
                 publish_cases):
        step(store, full_catalog)
    return store, tokenizer_for(store)


def area_values(home: Path, schema: str) -> tuple[set[str], dict[str, set[str]]]:
    """(every token, clear text values by dataset.column) of one area's Parquet copies."""
    tokens: set[str] = set()
    clear: dict[str, set[str]] = {}
    for path in sorted((home / "shared" / "areas" / schema).glob("*/data.parquet")):
        table = pq.read_table(path)
        for field in table.schema:
            if not pa.types.is_string(field.type):
                continue
            values = set(pc.unique(table[field.name]).drop_null().to_pylist())
            tokens |= {v for v in values if v.startswith(PREFIX)}
            clear[f"{path.parent.name}.{field.name}"] = {v for v in values if not v.startswith(PREFIX)}
    return tokens, clear


def leaks(tokens: set[str], clear: dict[str, set[str]], tokenizer: Tokenizer) -> dict[str, list[str]]:
    """Columns whose clear values tokenize to a token published in the open area, with those values."""
    out = {}
    for column, values in clear.items():
        ways = (*NORMALIZATIONS, "key") if column.rsplit(".", 1)[1] in KEY_COLUMNS else NORMALIZATIONS
        hits = sorted(v for v in values if any(tokenizer.token(v, how) in tokens for how in ways))
        if hits:
            out[column] = hits[:3]
    return out


def test_no_token_matches_a_clear_open_value(shared) -> None:  # type: ignore[no-untyped-def]
    store, tokenizer = shared
    areas = store.home / "shared" / "areas"
    tokens, clear = area_values(store.home, OPEN_SCHEMA)
    assert tokens, "the world has records keyed by personal values: the open area must carry tokens"
    assert any(c.endswith(".enterprise_phone") for c in clear)  # the column is there, its values tokenized
    assert leaks(tokens, clear, tokenizer) == {}
    departments = sorted(p.name for p in areas.iterdir() if p.is_dir() and p.name.startswith("dept_"))
    assert departments, "the world grants conditional data: department areas must exist"
    seen = 0
    for schema in departments:
        dept_tokens, _ = area_values(store.home, schema)
        seen += len(dept_tokens)
        assert leaks(dept_tokens, clear, tokenizer) == {}, schema
    assert seen, "granted personal data reaches the department areas as tokens"
    # the catalog classifies by what a value can be: the value guard finds nothing left to catch in the world
    guarded = {f"{p.parent.name}.{f.name}" for p in (areas / OPEN_SCHEMA).glob("*/data.parquet")
               for f in pq.read_schema(p) if f.metadata and GUARDED in f.metadata}
    assert guarded == set()
    assert not [v for values in clear.values() for v in values if classify(v, ids=False) == "phone"]


def test_the_guard_tokenizes_personal_values_in_a_column_catalogued_as_open(full_catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tokenizer = Tokenizer(b"guard-test-key-not-secret-0123")
    ric = "370102199001011231"  # a valid GB 11643 number (check character 1)
    table = pa.table({"_source_key": ["k1", "k2", "k3", "k4"],
                      "enterprise_name": ["138 0013 8000", "+86 139-0000-0000", ric, "济南某某有限公司"],
                      "construction_unit_uscc": ["91370100MA3C4Y8E2K", None, "91370100MA3C4Y8E2K", None]})
    assert full_catalog.element_by_key["enterprise_name"].pi_class == "none"
    out = guard_open(table, full_catalog, tokenizer, "t.example")
    assert out["enterprise_name"].to_pylist() == [tokenizer.token("13800138000", "phone"),
                                                  tokenizer.token("13900000000", "phone"),
                                                  tokenizer.token(ric, "identifier"), "济南某某有限公司"]
    assert out.schema.field("enterprise_name").metadata[GUARDED] == b"3"
    assert out["construction_unit_uscc"].equals(table["construction_unit_uscc"])  # a proved USCC is left alone
    assert out["_source_key"].equals(table["_source_key"])
    # a table published as holding nothing personal is refused, naming the column, never the value
    areas = AreaStore(SharedStore(tmp_path), full_catalog)
    with pytest.raises(ClearPersonalValue, match="column 'enterprise_name'") as err:
        share_open(areas, "t.example", table, kind="materials", batch_id="b1", sort_by=["_source_key"])
    assert "13800138000" not in str(err.value) and ric not in str(err.value)

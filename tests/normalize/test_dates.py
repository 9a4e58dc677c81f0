"""Date normalizers: one line per spelling (rules in quancheng.normalize.dates)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from quancheng.normalize.dates import chinese_numerals, parse_date_ranges, parse_dates, parse_datetimes

D = date(2019, 11, 21)
DATES = [
    ("2019年11月21日", D, None),
    ("20191121", D, None),
    ("2019/11/21", D, None),
    ("2019-11-21", D, None),
    ("2019.11.21", D, None),
    ("2019-3-1", date(2019, 3, 1), None),
    ("2019年11月21号", D, None),
    ("2019 年 11 月 21 日", D, None),
    ("2019-11-21 10:30:00", D, None),
    ("二〇一九年十一月二十一日", D, None),
    ("二〇二〇年一月十日", date(2020, 1, 10), None),
    ("二○一九年十月三十一日", date(2019, 10, 31), None),
    ("２０１９年１１月２１日", D, "fullwidth.normalized"),
    ("年 月 日", None, "date.blank"),
    ("    年   月   日", None, "date.blank"),
    ("/", None, "placeholder.null"),
    ("无", None, "placeholder.null"),
    ("--", None, "placeholder.null"),
    ("NA", None, "placeholder.null"),
    ("0", None, "placeholder.null"),
    ("0000-00-00", None, "placeholder.null"),
    ("2019-13-01", None, "date.invalid"),
    ("2019-02-29", None, "date.invalid"),
    ("2020-02-29", date(2020, 2, 29), None),
    ("1850-01-01", None, "date.out_of_range"),
    ("2019-03-01至2020-03-01", None, "date.range"),
    ("365天", None, "date.unparseable"),
    ("明年", None, "date.unparseable"),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("text", "value", "code"), DATES)
def test_parse_dates(text: str | None, value: date | None, code: str | None) -> None:
    o = parse_dates(pl.Series([text], dtype=pl.String))
    assert (o.values[0], o.codes[0]) == (value, code)


RANGES = [
    ("2019-03-01至2020-03-01", date(2019, 3, 1), date(2020, 3, 1), 366, "duration.derived"),
    ("2019年3月1日至2020年3月1日", date(2019, 3, 1), date(2020, 3, 1), 366, "duration.derived"),
    ("2019.03.01-2020.03.01", date(2019, 3, 1), date(2020, 3, 1), 366, "duration.derived"),
    ("20190301-20200301", date(2019, 3, 1), date(2020, 3, 1), 366, "duration.derived"),
    ("2019-03-01 ~ 2019-03-31", date(2019, 3, 1), date(2019, 3, 31), 30, "duration.derived"),
    ("365天", None, None, 365, None),
    ("365日历天", None, None, 365, None),
    ("12个月", None, None, None, "duration.unit"),
    ("2020-03-01至2019-03-01", None, None, None, "date_range.reversed"),
    ("2019-03-01", None, None, None, "date_range.unparseable"),
    ("/", None, None, None, "placeholder.null"),
]


@pytest.mark.parametrize(("text", "start", "end", "days", "days_code"), RANGES)
def test_parse_date_ranges(text: str, start: date | None, end: date | None, days: int | None,
                           days_code: str | None) -> None:
    parts = parse_date_ranges(pl.Series([text]))
    assert (parts[0].values[0], parts[1].values[0], parts[2].values[0]) == (start, end, days)
    assert parts[2].codes[0] == days_code


@pytest.mark.parametrize(("text", "value", "code"), [
    ("2019-11-21 10:30:00", datetime(2019, 11, 21, 10, 30), None),
    ("2019-11-21T10:30:00.250", datetime(2019, 11, 21, 10, 30, 0, 250000), None),
    ("2019/11/21 10:30", datetime(2019, 11, 21, 10, 30), None),
    ("2019年11月21日", datetime(2019, 11, 21), None),
    ("/", None, "placeholder.null"),
    ("soon", None, "datetime.unparseable"),
])
def test_parse_datetimes(text: str, value: datetime | None, code: str | None) -> None:
    o = parse_datetimes(pl.Series([text]))
    assert (o.values[0], o.codes[0]) == (value, code)


@pytest.mark.parametrize(("text", "digits"), [
    ("二〇一九", "2019"), ("十", "10"), ("十一", "11"), ("二十", "20"), ("二十一", "21"), ("三十", "30"),
    ("零五", "05"),
])
def test_chinese_numerals(text: str, digits: str) -> None:
    assert chinese_numerals(pl.Series([text]))[0] == digits


def test_many_rows_take_the_distinct_value_path() -> None:
    """Normalized once per distinct value and gathered back: same result as row by row."""
    from quancheng.normalize.base import on_distinct

    texts = [t for t, _, _ in DATES] * 50
    o = on_distinct(pl.Series(texts, dtype=pl.String), parse_dates)
    single = parse_dates(pl.Series(texts, dtype=pl.String))
    assert o.values.to_list() == single.values.to_list()
    assert o.codes.to_list() == single.codes.to_list()

"""Unit spellings with exact rational factors to their dimension's canonical unit.

亩 is 10000/15 m² exactly; water volumes in 吨 are taken as m³ (1 t of water = 1 m³), the
convention the water and drainage forms themselves use.
"""

from __future__ import annotations

# (spelling, dimension, canonical, numerator, denominator)
UNITS: list[tuple[str, str, str, int, int]] = [
    ("元", "money", "元", 1, 1), ("万元", "money", "元", 10000, 1), ("亿元", "money", "元", 100000000, 1),
    ("m²", "area", "m²", 1, 1), ("平方米", "area", "m²", 1, 1), ("m2", "area", "m²", 1, 1),
    ("M2", "area", "m²", 1, 1), ("㎡", "area", "m²", 1, 1), ("M²", "area", "m²", 1, 1),
    ("亩", "area", "m²", 10000, 15), ("公顷", "area", "m²", 10000, 1), ("平方公里", "area", "m²", 1000000, 1),
    ("m", "length", "m", 1, 1), ("米", "length", "m", 1, 1), ("km", "length", "m", 1000, 1),
    ("公里", "length", "m", 1000, 1), ("mm", "length", "m", 1, 1000), ("毫米", "length", "m", 1, 1000),
    ("m³", "volume", "m³", 1, 1), ("立方米", "volume", "m³", 1, 1), ("m3", "volume", "m³", 1, 1),
    ("万立方米", "volume", "m³", 10000, 1),
    ("m³/d", "flow", "m³/d", 1, 1), ("立方米/日", "flow", "m³/d", 1, 1), ("吨/日", "flow", "m³/d", 1, 1),
    ("m³/h", "flow", "m³/d", 24, 1), ("立方米/小时", "flow", "m³/d", 24, 1),
    ("t", "mass", "t", 1, 1), ("吨", "mass", "t", 1, 1), ("kg", "mass", "t", 1, 1000), ("公斤", "mass", "t", 1, 1000),
    ("kW·h", "energy", "kW·h", 1, 1), ("千瓦时", "energy", "kW·h", 1, 1), ("度", "energy", "kW·h", 1, 1),
    ("万千瓦时", "energy", "kW·h", 10000, 1),
    ("tce", "energy_tce", "tce", 1, 1), ("吨标准煤", "energy_tce", "tce", 1, 1),
    ("kV·A", "apparent_power", "kV·A", 1, 1), ("kVA", "apparent_power", "kV·A", 1, 1),
    ("千伏安", "apparent_power", "kV·A", 1, 1),
    ("%", "ratio", "%", 1, 1), ("Ω", "resistance", "Ω", 1, 1), ("欧姆", "resistance", "Ω", 1, 1),
    ("天", "days", "天", 1, 1), ("日历天", "days", "天", 1, 1), ("工作日", "workdays", "工作日", 1, 1),
    ("月", "months", "月", 1, 1), ("年", "years", "年", 1, 1),
    ("层", "floors", "层", 1, 1), ("栋", "buildings", "栋", 1, 1), ("幢", "buildings", "栋", 1, 1),
    ("个", "count", "个", 1, 1), ("户", "dwellings", "户", 1, 1), ("株", "trees", "株", 1, 1),
    ("部", "elevators", "部", 1, 1), ("块", "meters", "块", 1, 1), ("台", "machines", "台", 1, 1),
    ("人", "persons", "人", 1, 1), ("家", "firms", "家", 1, 1), ("次", "times", "次", 1, 1),
    ("卷", "volumes", "卷", 1, 1),
]

DIMENSION = {u: d for u, d, _, _, _ in UNITS}

# how file drops (Chinese-label systems) spell a canonical unit
CHINESE_SPELLING = {"m": "米", "m³": "立方米", "m³/d": "立方米/日", "t": "吨", "kW·h": "千瓦时", "mm": "毫米",
                    "m³/h": "立方米/小时", "kV·A": "千伏安", "tce": "吨标准煤", "Ω": "欧姆", "m²": "平方米"}

"""Sharing by the catalog's rules: who may see which element, tokenized personal information, and
PostgreSQL schemas, roles and grants that make the rules real.

- :mod:`quancheng.sharing.rules`: the areas (open, granted department, a system's own) and the pure
  split of a dataset into the copy each area gets;
- :mod:`quancheng.sharing.tokenize`: keyed-hash (HMAC-SHA256) tokens and where the key comes from;
- :mod:`quancheng.sharing.postgres`: roles, schemas, grants and comments generated from the catalog;
- :mod:`quancheng.sharing.areas`: publish each area's copy (Parquet + SQL), atomically and idempotently;
- :mod:`quancheng.sharing.metadata`: Chinese and English names and definitions of tables and columns;
- :mod:`quancheng.sharing.publish`: what the pipeline calls after a dataset is published.
"""

"""Consolidation: system datasets -> the four stage forms, the enterprise master and the materials.

- :mod:`quancheng.consolidate.keys`: how project codes, identifiers and names are matched;
- :mod:`quancheng.consolidate.stage_forms`: one row per project per stage, conflicts, provenance;
- :mod:`quancheng.consolidate.buckets`: the stage forms in bounded memory, projects built a key range at a time;
- :mod:`quancheng.consolidate.incremental`: which projects changed since the last consolidation;
- :mod:`quancheng.consolidate.mentions` and :mod:`quancheng.consolidate.enterprise`: the enterprise master;
- :mod:`quancheng.consolidate.master_days`: which entities a day's changed rows reach, matched again alone;
- :mod:`quancheng.consolidate.materials`: the application materials per stage form, waived or asked;
- :mod:`quancheng.consolidate.run`: read the shared store, build, publish and share (what the DAGs call).

Everything but ``run`` and the modules that read the store (``buckets``, ``incremental``, ``master_days``) is
pure: tables in, tables out.
"""

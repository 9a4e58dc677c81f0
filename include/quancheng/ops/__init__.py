"""Ops and analyst surfaces: what ran, what broke, and what the data means.

- :mod:`quancheng.ops.health`: pure verdicts per system and dataset (fresh, late, stale, failed, quarantine).
- :mod:`quancheng.ops.records`: reads run records, the dataset registry and quarantine counts.
- :mod:`quancheng.ops.overview`: both together, the one picture ``quancheng status`` and the Exchange view show.
- :mod:`quancheng.ops.alerts`: which conditions deserve a notification, each sent once.
- :mod:`quancheng.ops.browser`: the analysts' catalog browser (search, element detail).
- :mod:`quancheng.ops.lineage`: the input and output datasets of every sync task, for OpenLineage.
- :mod:`quancheng.ops.svg` and :mod:`quancheng.ops.pages`: charts and HTML pages, with no CDN.

Nothing here imports Airflow; the plugin in ``plugins/`` only wires these into Airflow's API server.
"""

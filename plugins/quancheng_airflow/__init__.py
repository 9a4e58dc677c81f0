"""The Airflow-facing side of the exchange's ops surfaces (the logic lives in ``quancheng.ops``).

- :mod:`quancheng_airflow.app`: the Exchange view, a FastAPI app served by Airflow's API server
- :mod:`quancheng_airflow.notifiers`: alerts through an SMTP or webhook connection, else the log
- :mod:`quancheng_airflow.lineage`: the OpenLineage extractor for the sync tasks

Importing this package is cheap: each module imports FastAPI, providers or OpenLineage only when used.
"""

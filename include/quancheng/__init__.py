"""Quancheng Exchange core: catalog, sources, normalizers, validation and publication.

This package never imports Airflow: everything here runs and is tested without a scheduler.
The DAG files in ``dags/`` are thin wrappers over :mod:`quancheng.pipeline`.
"""

__version__ = "0.1.0"

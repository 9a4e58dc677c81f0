"""The catalog: systems, forms, fields, mappings, data elements, code lists and materials.

``load_catalog()`` reads the CSV files under version control into typed models;
``check``, ``stats`` and ``docs`` explain and verify them.
"""

from quancheng.catalog.loader import Catalog, catalog_dir, current_catalog, load_catalog

__all__ = ["Catalog", "catalog_dir", "current_catalog", "load_catalog"]

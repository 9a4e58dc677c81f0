"""The exchange's data service: the shared datasets, the stage-form prefill and the enterprise master as a
JSON API, for the departments' window systems (``quancheng serve``).

- :mod:`~quancheng.serve.clients`: client credentials (one per calling department), stored hashed;
- :mod:`~quancheng.serve.access`: which area copy a department reads, from the same rules as the SQL roles;
- :mod:`~quancheng.serve.cache`: area copies held in memory per version, indexed by key;
- :mod:`~quancheng.serve.describe`, :mod:`~quancheng.serve.records`, :mod:`~quancheng.serve.prefill`,
  :mod:`~quancheng.serve.enterprise`: what each endpoint answers;
- :mod:`~quancheng.serve.audit`: every call recorded in the shared database;
- :mod:`~quancheng.serve.app`: the FastAPI application; :mod:`~quancheng.serve.commands`: the CLI.
"""

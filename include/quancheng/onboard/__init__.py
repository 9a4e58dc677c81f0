"""Onboarding a departmental system by data: introspect its schema, suggest mappings, accept the review.

- :mod:`quancheng.onboard.introspect` reads a new system's tables (SQL, file drops, JSON API) into drafts;
- :mod:`quancheng.onboard.drafts` writes those drafts as catalog rows and keeps samples out of the catalog;
- :mod:`quancheng.onboard.text` normalizes labels and column names (full width, brackets, units, pinyin);
- :mod:`quancheng.onboard.suggest` scores every element for every field from the evidence the catalog holds;
- :mod:`quancheng.onboard.review` writes the steward's review file and turns it into mappings and synonyms.
"""

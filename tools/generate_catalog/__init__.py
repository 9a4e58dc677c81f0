"""Generator of the canonical catalog (include/catalog): deterministic, readable, committed with its output.

Run ``python -m tools.generate_catalog`` from the repository root; ``--check`` verifies the committed
files are what the generator writes (a test does so). The content lives in small modules:

- ``spec``: the building blocks (ElementSpec, F for a form field, FormSpec, SystemSpec) and helpers;
- ``project``, ``reviews``, ``entities``, ``parties``: the canonical elements, grown from the real labels
  in shared/reference/form_fields.csv; ``parties`` repeats the same attributes per party role;
- ``systems``: the 35 departmental systems (shared/reference/departments.csv);
- ``forms_s1`` .. ``forms_s4``: the 81 source forms per stage, field by field; ``extras``: each form's
  case metadata and fuller party blocks; ``form_materials``: long-tail materials per form;
- ``codes``, ``units``, ``materials``, ``rules_grants``: code lists and crosswalks, unit spellings,
  application materials, cross-field rules and sharing grants;
- ``naming``: native column names per system style; ``build`` and ``write``: ids and CSV output.

The generator refuses to write when the headline counts miss the reform's figures (``write.TARGETS``).
"""

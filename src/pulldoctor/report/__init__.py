"""Reports: one data model, several renderers, one JSON Schema, redaction on the way out.

* ``model``: Report / Cause / Step / Finding / Outcome, the JSON contract (``to_dict``).
* ``view``: what every renderer shows, computed once from a report and already redacted.
* ``render``: ``emit(report, fmt, verbose=, html=, out=)``, the only way commands print.
* ``text`` (plain, pipes and ``NO_COLOR``), ``terminal`` (rich view and ``LiveProgress``),
  ``markdown`` (tickets), ``html_page`` (one self-contained file).
* ``schema`` + ``schema.json``: the versioned JSON Schema; ``options``: the shared CLI options.
"""

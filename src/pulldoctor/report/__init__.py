"""Reports: the data model (``model``), renderers (``render``), JSON schema, redaction."""

"""Kubernetes: read pull failures from the API (``k8s scan``) and re-walk pulls on nodes (``k8s probe``).

Only :mod:`.api` talks to the API server (lightkube, the optional ``pulldoctor[k8s]`` extra);
:mod:`.objects` are the typed values it returns; :mod:`.scan` and :mod:`.jobs` are pure;
:mod:`.probe` runs one short-lived Job per node and merges what they report with ``fleet merge``.
"""

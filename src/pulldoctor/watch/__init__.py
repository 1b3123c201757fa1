"""``pulldoctor watch``: catch each pull failure while it happens, keep the history, export metrics.

The pieces, one module each, in the order data flows: :mod:`.sources` (a thread per followed
source: :mod:`.journal`, :mod:`.files`, :mod:`.k8s`) recognise failures with :mod:`.recognise`
(the trigger prefilter and ``explain``) and hand :class:`~.model.Batch` values to the writer in
:mod:`.runner`, the only thread that touches the SQLite history (:mod:`.store`); it starts
captures (:mod:`.capture`, ``diagnose`` in the background, gated) and updates :mod:`.metrics`.
:mod:`.history` reads the history back for ``pulldoctor history`` and ``npd-check``.
"""

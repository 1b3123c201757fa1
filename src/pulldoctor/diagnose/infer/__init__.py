"""Classifiers: a step's typed observation -> outcome and cause. Pure: no sockets, files, clocks.

Every cause the walk proves is decided here, by one ``classify_*`` per kind of observation (the
stage that made the observation calls it; nothing else in the walk names a cause), so every rule
is unit-tested without a network. HTTP answers are classified by the catalogue's own table
(:func:`pulldoctor.causes.cause_for_registry_error`, as go-containerregistry's transport does)
plus the context the table cannot know: a ping's 401 is the expected challenge, a 404 for a blob
the manifest named is corruption, a 401 after accepted credentials is a denial.

Ranking the finished walk's causes is :mod:`pulldoctor.diagnose.rank`. The classifiers live in
``infer/net.py`` (DNS, TCP, proxy, TLS), ``infer/registry.py`` (HTTP and what it carries) and
``infer/common.py`` (the verdict, stalls, configuration, host checks), ``infer/credentials.py``
(the credential helpers the runtime asks), ``infer/policy.py`` (containers/image's trust policy);
all are named here.
"""

from __future__ import annotations

from pulldoctor.diagnose.infer.common import (
    OK,
    STALL_MIN_S,
    STALL_RTTS,
    Verdict,
    blocked,
    classify_config,
    classify_endpoints,
    classify_host_checks,
    classify_stall,
    config_problems,
    ruled_out,
)
from pulldoctor.diagnose.infer.credentials import anonymous_refused, classify_credential_helpers
from pulldoctor.diagnose.infer.net import classify_dns, classify_proxy, classify_tcp, classify_tls
from pulldoctor.diagnose.infer.policy import classify_policy
from pulldoctor.diagnose.infer.registry import (
    classify_blob,
    classify_digest,
    classify_http,
    classify_manifest,
    classify_ping,
    classify_platform,
    classify_token,
)

__all__ = [
    "OK", "STALL_MIN_S", "STALL_RTTS", "Verdict", "anonymous_refused", "blocked", "classify_blob",
    "classify_config", "classify_credential_helpers", "classify_digest", "classify_dns",
    "classify_endpoints", "classify_host_checks", "classify_http", "classify_manifest",
    "classify_ping", "classify_platform", "classify_policy", "classify_proxy", "classify_stall",
    "classify_tcp", "classify_tls", "classify_token", "config_problems", "ruled_out",
]

"""Where in a buffer the pull-failure trigger words are: the fast path of ``scan``.

Two engines find exactly the same positions: Hyperscan (all words in one SIMD pass, when the
package is installed) and one ``bytes.find`` pass per word (portable, several times slower). Either
way no regex runs over the bulk of a log; only the few lines holding a trigger are decoded.
``PULLDOCTOR_SCAN_ENGINE=python`` forces the portable engine (tests compare the two).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable
from typing import Any

MAX_LINE = 64 * 1024
"""Longer lines are looked at only in windows of ``WINDOW`` bytes around each trigger word."""
WINDOW = 2048

TRIGGERS: tuple[bytes, ...] = (
    # wrappers: the runtime says a pull failed
    b"ailed to pull", b"rror pulling", b"rror while pulling", b"ImagePull", b"pull access denied",
    b"unable to pull", b"returned error", b"from daemon", b"failed to resolve", b"failed to do request",
    b"failed to solve", b"initializing source", b"pinging ", b"eading manifest",
    b"failed commit", b"failed to copy", b"register layer", b"failed to extract", b"ownload failed",
    b"CannotPull", b"image from oci registry", b"Server Error", b"InternalServerError", b"API error (",
    b"failed to fetch", b"failed to authorize", b"Source image rejected", b"copying system image",
    b"image service failed", b"pulling image:", b"ull failed", b"pulling image failed", b"cancel pulling", b"no such image",
    b"image not known",
    # the core runtimes' own returns (rules_cri.py): 1.6's CRI progress timer, CRI-O's progress
    # warning, its CRI error names, kubelet's waiting reasons, CRI-O's pull child killed
    b"ancelled pulling", b"pull progress updates", b"RegistryUnavailable", b"ImageInspectError",
    b"InvalidImageName", b"ImageNeverPull", b"signal: killed", b"Failed to inspect image",
    b"too many requests to", b"no resolve hosts", b"no pull hosts", b"byte manifest for",
    b"stopped after 10 redirects", b"DecryptParameters", b"hosts.toml", b"in header not a valid",
    b"content range", b"Content-Encoding", b"decode token response", b"decoded auth",
    b"wrong diff id", b"layers and diffIDs",
    # transport and name resolution (Go's net and net/http wording)
    b"lookup ", b"dial tcp", b"dial udp", b"read tcp", b"read udp", b"write tcp", b"x509:", b"tls: ",
    b"proxyconnect", b"HTTP response to HTTPS", b"TLS handshake timeout", b"Client.Timeout",
    b"Network timed out", b"i/o timeout", b"connection reset", b"connection refused",
    b"no such host", b"Temporary failure in name resolution", b"broken pipe", b"stream error",
    b"GOAWAY", b"HTTP2", b"use of closed network connection", b"malformed HTTP", b": EOF",
    b"unexpected EOF", b"Could not reach any registry", b"Request Time", b"arsing HTTP",
    b"forcibly closed", b"aborted by the software", b"attempted to an unreachable",
    b"temporary error during hostname", b"Server error:", b"V1 container registry", b"http2: ",
    b"kic base image",
    # updaters, local clusters, CI runners (rules_apps.py)
    b"Unable to update container", b"head request", b"not present locally",
    b"llowed_pull_policies", b"llowedPullPolicies", b"Docker login for", b"content digest sha256",
    b"challenge type", b"challenge header", b"could not fetch token", b"pinned image", b"has no tag",
    b"idle connection",
    # registry answers (distribution's errcodes, go-containerregistry's upper-case ones, statuses)
    b"toomanyrequests", b"TOOMANYREQUESTS", b"manifest unknown", b"MANIFEST_UNKNOWN", b"NAME_UNKNOWN",
    b"BLOB_UNKNOWN", b"blob unknown", b"unknown blob", b"name unknown", b"DENIED", b"UNAUTHORIZED", b"unauthorized",
    b"denied:", b": denied", b"authentication required", b"no basic auth", b"matching manifest",
    b"no match for platform", b"manifest for ", b"unexpected status", b"status code", b"HTTP code",
    b"Status 5", b"StatusCode:", b"but got ", b"[HTTP ", b"Not Found", b"not found in repository",
    b"AccessDenied", b"not authorized", b"ing blob", b"verification failed", b"did not match",
    b"does not match", b"have permission", b"Error: image ", b"cannot authenticate with",
    b"redential", b"uthorization",
    # the image, the host, the configuration
    b"media type", b"mediaType", b"media-type", b"MediaType", b"schema1",
    b"Media type", b"MIME type", b"manifest list instead", b"required platforms", b"upported",
    b"invalid payload", b"XPC connection", b"invalid container ref", b"missing required header",
    b"cannot be used on this platform", b"is incompatible with",
    b"ImportLayer", b"invalid tar header", b"gzip: invalid", b"flate: corrupt", b"unpigz", b"corrupted",
    b"rejected by policy", b"signature", b"Signature", b"quota exceeded",
    b"input/output error", b"Killed", b"out of memory", b"cannot allocate memory",
    b"invalid reference", b"Invalid image name", b"parse image", b"must be lowercase", b"short-name",
    b"failed to load plugin", b"cannot be set when", b"invalid policy", b"invalid mirror",
    b"registries.conf",
    b"StoreError", b"pass not initialized", b"did not include a token", b"Cannot connect to the Docker daemon", b".sock: connect:",
    b"not present with pull policy", b"pull QPS exceeded", b"OCI index", b"no image found",
    b"mismatched image rootfs", b"failed to unpack", b"unknown type", b"schema version",
    b"no registries configured", b"Client Error", b"Too Many Requests", b"Not continuing with",
    b"trust data", b"not support", b"unexpected HTTP status", b"policy.json", b"enough IDs",
    b"o space left", b"O SPACE LEFT", b"ENOSPC", b"enough space on the disk", b"The disk is full",
    b"free data blocks", b"rocessing tar file", b"adding layer with", b"happened during read",
    b"failed to get converter", b"chema 1", b"logon session", b"D-Bus", b"keychain",
    b"nteraction is not allowed", b"password store", b"decryption failed", b"_proxy", b"_PROXY",
    b"due to configured policy", b"not signed in", b"POLICYVIOLATION", b"412 Precondition",
    b"don't match", b"ailed to download image", b" trying to pull", b"Unauthorized",
    b"uthentication is required", b"may require 'docker login'", b"Cannot pull",
    b"manifest list entries", b"load config with mediatype", b"a layer with mediatype",
    b"is not allowed, found in descriptor", b"' not found", b"no pull access", b"endpoint unresponsive",
    b"short name mode", b"imgadm import: error", b"/Files/Windows/", b"Bad Gateway", b"Service Unavailable", b"Gateway Time",
    # the non-Go stacks of the tools around the runtimes (explain/rules_stacks.py): curl, Java,
    # Python (requests/urllib3/ssl), Node -- strerror texts capitalised, exception names, errno codes
    b"curl: (", b"Could not resolve", b"UnknownHost", b"Unknown host", b"UnresolvedAddress",
    b"Connection refused", b"Connection timed out", b"onnect timed out", b"Read timed out",
    b"Operation timed out", b"ConnectTimeout", b"ReadTimeout", b"Connection reset", b"ConnectionReset",
    b"Connection aborted", b"RemoteDisconnected", b"IncompleteRead", b"transfer closed with",
    b"ECONNREFUSED", b"ECONNRESET", b"TIMEDOUT", b"ENOTFOUND", b"EAI_AGAIN", b"UNREACH",
    b"socket hang up", b"No route to host", b"NoRouteToHost", b"Network is unreachable",
    b"PKIX path", b"certification path", b"certificate verify failed", b"SSL certificate problem",
    b"elf-signed", b"elf signed", b"SELF_SIGNED", b"UNABLE_TO_", b"CERT_HAS_EXPIRED",
    b"CERT_NOT_YET", b"CertificateExpired", b"validity check failed", b"certificate has expired",
    b"subject alternative", b"Hostname mismatch", b"ALTNAME", b"altnames", b"WRONG_VERSION",
    b"wrong version number", b"unrecognized SSL message", b"Remote host", b"SSL_ERROR_SYSCALL",
    b"SSLEOFError", b"NameResolution", b"Failed to resolve", b"ProxyError", b"Max retries exceeded",
    b"Tunnel connection failed", b"tunnel through proxy", b"CONNECT tunnel", b"from proxy after CONNECT",
    # the tools' own sentences (explain/rules_tools.py) and their status carriers
    b"perhaps you should", b"InsecureRegistry", b"failed to get manifest", b"failed to get blob",
    b"failed to determine artifact", b"Unable to fetch image",
    b"failed to perform \"", b"Tried to pull", b"Error downloading [",
    b"only secure connections", b"were not sent because", b"has nothing for server URL",
    b"Could not parse", b"Could not retrieve digest", b"Checksum", b"Unable to retrieve the image",
    b"schemaVersion=1", b"[http 4", b"[http 5", b" returned 4", b" returned 5",
    # schedulers and builders (explain/rules_platforms.py): the ECS agent, Nomad, kaniko, CNB, Apptainer
    b"inactivity", b"auth data", b"docker auth for",
    b"auth config file", b"filesystem from image", b"mapped registries", b"registry read",
    b"fetching image to cache", b"fetching library image", b"ownload Image", b"nable to download",
    b"in the library", b"protocol to oras", b"and expected hash(", b"and expected size(",
    b"pull the image",
    # a pasted command line: the output after it is a pull's (scan reads it with the next line)
    b"docker pull ", b"podman pull ", b"buildah from ", b"crictl pull ", b"nerdctl pull ",
    b"images pull ", b"skopeo copy ", b"crane pull ",
)
"""Failure wording: at least one is in every failure text explain recognises (the recall test,
tests/explain/test_scan_recall.py, holds every corpus text to it).

Chosen to be rare in healthy chatter ("Pulling image", "Successfully pulled" do not match), so the
slow path (decode + explain) runs on few lines. Case-sensitive on purpose: both engines below must
find exactly the same positions.
"""

_Finder = Callable[[bytes, int, int], list[int]]
"""``finder(buf, lo, hi)``: start offsets of trigger words lying in ``buf[lo:hi]`` (unsorted)."""


def _python_positions(buf: bytes, lo: int = 0, hi: int | None = None) -> list[int]:
    """Every trigger position, one ``bytes.find`` pass per word (the portable engine)."""
    hi = len(buf) if hi is None else hi
    out: list[int] = []
    find = buf.find
    for word in TRIGGERS:
        i = find(word, lo, hi)
        while i != -1:
            out.append(i)
            i = find(word, i + len(word), hi)
    return out


def _hyperscan_engine() -> _Finder | None:
    """All triggers in one pass with Hyperscan (SIMD multi-literal matching), when installed."""
    if os.environ.get("PULLDOCTOR_SCAN_ENGINE") == "python":
        return None
    try:
        hs: Any = importlib.import_module("hyperscan")
    except ImportError:
        return None
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(expressions=[re.escape(w) for w in TRIGGERS], ids=list(range(len(TRIGGERS))),
               elements=len(TRIGGERS), flags=[0] * len(TRIGGERS))
    lengths = [len(w) for w in TRIGGERS]

    def positions(buf: bytes, lo: int = 0, hi: int | None = None) -> list[int]:
        hi = len(buf) if hi is None else hi
        out: list[int] = []
        add = out.append

        def on_match(i: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            start = end - lengths[i]
            if lo <= start and end <= hi:
                add(start)

        if buf:
            # Hyperscan cannot take offsets; scanning the whole buffer costs only the small tail
            # beyond ``hi`` (a partial line), far less than copying ``buf[lo:hi]``.
            db.scan(buf, match_event_handler=on_match)
        return out

    return positions


_ENGINE: _Finder | None = None
_ENGINE_NAME = ""


def engine() -> tuple[str, _Finder]:
    """The trigger finder in use: ``("hyperscan", fn)`` or ``("python", fn)``."""
    global _ENGINE, _ENGINE_NAME
    if _ENGINE is None:
        hs = _hyperscan_engine()
        _ENGINE, _ENGINE_NAME = (hs, "hyperscan") if hs else (_python_positions, "python")
    return _ENGINE_NAME, _ENGINE


def _spans_from_positions(buf: bytes, positions: list[int], lo: int = 0,
                         hi: int | None = None) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) spans of the lines (or long-line windows) to look at."""
    hi = len(buf) if hi is None else hi
    out: list[tuple[int, int]] = []
    rfind, find = buf.rfind, buf.find
    for i in sorted(positions):
        if out and i < out[-1][1]:
            continue  # the same line, found by another word or a second occurrence
        s = rfind(b"\n", lo, i) + 1 or lo
        e = find(b"\n", i, hi)
        if e == -1:
            e = hi
        if e - s > MAX_LINE:
            s, e = max(s, i - WINDOW, out[-1][1] if out else lo), min(e, i + WINDOW)
        out.append((s, e))
    return out


def candidate_spans(buf: bytes, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """The spans of ``buf[lo:hi]`` that hold a trigger word, found with the fastest engine."""
    return _spans_from_positions(buf, engine()[1](buf, lo, len(buf) if hi is None else hi), lo, hi)

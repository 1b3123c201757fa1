"""``diagnose --layers`` vs the plain tools, like for like: the same blob from the same lab registry.

Why this shape (issue 14): hashing a local file with ``sha256sum`` against fetching and hashing
over HTTP compares hash implementations, not tools. Here every tool runs as the lab's client and
reads the same blob from the same plain-HTTP ``docker-registry`` over the same lab link (client ->
router -> registry veths), ``--reps`` times, alternating:

* ``curl -o /dev/null``: the line rate of the link for that blob (nothing verified) — the ceiling;
* ``curl | sha256sum``: download and hash (the digest is compared with the manifest's);
* ``skopeo copy docker://... dir:DIR``: containers/image's pull, which verifies every digest (and
  writes the blob to disk);
* ``pulldoctor diagnose --layers``: the walk, then every layer downloaded, sized and hashed.

Each tool is timed inside the client's namespaces by a tiny wrapper around it (wall time and the
peak RSS of the tool's process tree), and reported as MB/s and as a fraction of the line rate.
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

from results import Run, spread

PY = sys.executable
REPO, TAG = "big/blob", "v1"

_PUSH = r"""
import hashlib, json, sys, httpx
base, path = sys.argv[1], sys.argv[2]
h = hashlib.sha256()
with open(path, "rb") as f:
    while b := f.read(1 << 20): h.update(b)
ld = "sha256:" + h.hexdigest()
import os; size = os.path.getsize(path)
cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
cd = "sha256:" + hashlib.sha256(cfg).hexdigest()
c = httpx.Client(trust_env=False, timeout=600)
def put(dig, body):
    r = c.post(f"{base}/v2/big/blob/blobs/uploads/"); loc = httpx.URL(base).join(r.headers["location"])
    r = c.put(loc.copy_merge_params({"digest": dig}), content=body); assert r.status_code == 201, r.text
def chunks():
    with open(path, "rb") as f:
        while b := f.read(1 << 20): yield b
put(cd, cfg); put(ld, chunks())
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": size}]}
r = c.put(f"{base}/v2/big/blob/manifests/v1", content=json.dumps(m),
          headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
assert r.status_code == 201, r.text
print(ld)
"""

_MEASURE = r"""
import json, resource, subprocess, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
p = subprocess.run(argv, stdout=subprocess.PIPE)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"rc": p.returncode, "wall_s": wall, "maxrss_kb": ru.ru_maxrss}, f)
sys.stdout.buffer.write(p.stdout)
"""


def _scenario() -> Any:
    from pulldoctor.lab.client_files import REGISTRY
    from pulldoctor.lab.scenario import INSECURE_PORT, Scenario, Services

    return Scenario("bench-layers", None, "A plain-HTTP registry serving one big blob directly "
                    "(no CDN redirect), for the layer-verification benchmark.",
                    image=f"{REGISTRY}:{INSECURE_PORT}/{REPO}:{TAG}",
                    services=Services(insecure_http=True, cdn_redirect=False))


def _measured(lab: Any, argv: list[str], timeout: float) -> tuple[dict[str, Any], str]:
    out = lab.workdir / "measure.json"
    out.unlink(missing_ok=True)
    r = lab.client_exec([PY, "-c", _MEASURE, str(out), *argv], timeout=timeout)
    try:
        m: dict[str, Any] = json.loads(out.read_text())
    except (OSError, ValueError):
        m = {"rc": r.returncode, "wall_s": None, "maxrss_kb": None}
    if r.returncode != 0 and m.get("rc") == 0:
        m["rc"] = r.returncode
    m["stderr"] = (r.stderr or "")[-300:]
    return m, r.stdout or ""


def part_layers(run: Run, blob_mb: int, reps: int) -> list[dict[str, Any]]:
    import shutil

    from pulldoctor.lab.topology import Lab

    sc = _scenario()
    host_port = sc.image.split("/", 1)[0]
    base = f"http://{host_port}"
    with Lab(prefix="b") as lab:
        sc.build(lab)
        blob = lab.workdir / "blob"
        with open(blob, "wb") as f:
            import os

            for _ in range(blob_mb):
                f.write(os.urandom(1 << 20))
        push = lab.client_exec([PY, "-c", _PUSH, base, str(blob)], timeout=900)
        if push.returncode != 0:
            raise SystemExit(f"pushing the blob failed: {push.stderr[-500:]}")
        digest = push.stdout.strip()
        blob.unlink()
        url = f"{base}/v2/{REPO}/blobs/{digest}"
        dest = lab.data_dir / "skopeo-dir"
        tools: dict[str, list[str]] = {
            "curl -o /dev/null (line rate)": ["curl", "-sf", "-o", "/dev/null", url],
            "curl | sha256sum": ["bash", "-c", 'set -o pipefail; curl -sf "$0" | sha256sum', url],
            "skopeo copy … dir: (verifies digests)": ["skopeo", "copy", f"docker://{sc.image}",
                                                      f"dir:{dest}"],
            "pulldoctor diagnose --layers": [PY, "-m", "pulldoctor", "diagnose", sc.image,
                                             "--layers", "--json", "--runtime", "docker",
                                             "--timeout", "600"],
        }
        _measured(lab, tools["curl -o /dev/null (line rate)"], 600)  # warm the registry's cache
        got: dict[str, list[dict[str, Any]]] = {k: [] for k in tools}
        for _ in range(reps):
            for name, argv in tools.items():
                shutil.rmtree(dest, ignore_errors=True)
                m, stdout = _measured(lab, argv, 900)
                m["ok"], m["why"] = _verified(name, m, stdout, digest)
                if name.startswith("pulldoctor"):
                    m.update(_layer_step(stdout))
                got[name].append(m)
        shutil.rmtree(dest, ignore_errors=True)
    return _rows(run, got, blob_mb, digest)


def _verified(name: str, m: dict[str, Any], stdout: str, digest: str) -> tuple[bool, str]:
    """Whether this run of a tool got and (where it does) verified the blob."""
    if m.get("rc") != 0 or m.get("wall_s") is None:
        return False, f"exit {m.get('rc')}: {m.get('stderr', '')}"
    if name == "curl | sha256sum":
        got = stdout.split()[0] if stdout.split() else ""
        return ("sha256:" + got == digest, f"sha256sum printed {got[:16]}…")
    if name.startswith("pulldoctor"):
        try:
            rep = json.loads(stdout)
        except ValueError:
            return False, "no JSON report"
        layer = [s for s in rep.get("steps", []) if s["name"].startswith("layer")]
        if rep.get("causes") or not layer or any(s["outcome"] != "ok" for s in layer):
            return False, f"causes {[c['code'] for c in rep.get('causes', [])]}, layer {layer[:1]}"
    return True, ""


def _layer_step(stdout: str) -> dict[str, Any]:
    try:
        rep = json.loads(stdout)
        layer = next(s for s in rep["steps"] if s["name"].startswith("layer"))
    except (ValueError, KeyError, StopIteration):
        return {}
    return {"layer_step_s": layer.get("duration_s"), "report_s": rep.get("duration_s")}


def _rows(run: Run, got: dict[str, list[dict[str, Any]]], blob_mb: int, digest: str
          ) -> list[dict[str, Any]]:
    mb = blob_mb * 2**20 / 1e6
    line_name = "curl -o /dev/null (line rate)"
    line_ok = [m for m in got[line_name] if m["ok"]]
    line_mbps = statistics.median(mb / m["wall_s"] for m in line_ok) if line_ok else None
    rows = []
    for name, ms in got.items():
        bad = [m["why"] for m in ms if not m["ok"]]
        walls = [m["wall_s"] for m in ms if m["ok"]]
        row: dict[str, Any] = {
            "what": f"layer verification, {blob_mb} MiB blob: {name}",
            "compared": ("throughput of the same blob from the same plain-HTTP lab registry over "
                         "the lab link, relative to that link's line rate (curl -o /dev/null of "
                         "the blob, same run); process wall time measured inside the client"),
            "tool": name, "blob_mb": blob_mb, "digest": digest,
            "wall_s": [m["wall_s"] for m in ms], "peak_rss_mib": [
                round(m["maxrss_kb"] / 1024, 1) if m.get("maxrss_kb") else None for m in ms],
            "correct": (not bad) if name != line_name else None,
            "ratio_means": "throughput / line rate"}
        if name.startswith("pulldoctor"):
            row["layer_step_s"] = [m.get("layer_step_s") for m in ms]
        if bad or not walls or line_mbps is None:
            row.update(ratio=None, figure=f"FAILED: {'; '.join(bad) or 'no line rate'}")
        else:
            s = spread(mb / w for w in walls)
            row.update(mbps=s, ratio=round(s["median"] / line_mbps, 3),
                       figure=(f"{s['median']:.0f} MB/s ({s['min']:.0f}–{s['max']:.0f}, "
                               f"n={s['n']}) = {s['median'] / line_mbps:.2f}× the line rate; "
                               f"peak RSS {max(r for r in row['peak_rss_mib'] if r):.0f} MiB"))
            if name.startswith("pulldoctor") and all(row["layer_step_s"]):
                step = spread(mb / float(x) for x in row["layer_step_s"])
                row["layer_step_mbps"] = step
                row["figure"] += (f"; its layer step alone {step['median']:.0f} MB/s = "
                                  f"{step['median'] / line_mbps:.2f}× the line rate")
        run.add(row)
        rows.append(row)
    run.extra["line_rate_MBps"] = round(line_mbps, 1) if line_mbps else None
    return rows


if __name__ == "__main__":
    raise SystemExit("run through bench_diagnose.py --part layers")

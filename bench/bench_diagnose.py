"""Benchmark ``pulldoctor diagnose`` against the real tools, in the same run, as ratios.

Why ratios: absolute seconds depend on the machine; "diagnose names the cause in 0.3x the time
docker takes to fail" does not. Three parts (root needed, everything inside namespaces):

(a) per lab scenario: time for ``diagnose`` to name its root cause vs the time ``skopeo inspect``
    and (``--docker``) ``docker pull`` take to fail (or hit their bound, for the ones that hang);
(b) healthy: ``diagnose`` vs ``skopeo inspect --config`` on the same image (median of ``--reps``),
    and start-up: ``python -X importtime`` of the diagnose command;
(c) ``diagnose --layers`` digest throughput vs ``sha256sum`` on the same blob (``--blob-mb``, read
    from a real docker-registry in a namespace pair), with the walk's peak RSS (must stay under
    ~100 MB however large the layer).

    sudo python bench/bench_diagnose.py                      # (a) every scenario, (b), (c)
    sudo python bench/bench_diagnose.py --scenario healthy --scenario net-tcp-drop --docker
    sudo python bench/bench_diagnose.py --part c --blob-mb 512
    sudo python bench/bench_diagnose.py --part b --baseline-src /tmp/base/src   # before/after

``--baseline-src`` runs a second copy of pulldoctor (e.g. ``git archive HEAD src | tar -x -C
/tmp/base``) beside this one in the same lab and the same run, so a change is measured against
the code it replaces under the same machine load, not against a number from another day.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PY = sys.executable
TOOL_BOUND_S = 60.0


def _diagnose_in_lab(lab: Any, image: str, runtime: str = "docker",
                     extra: tuple[str, ...] = (), src: str | None = None
                     ) -> tuple[float, dict[str, Any]]:
    """Run diagnose as the lab's client; ``src`` puts another source tree first on the path."""
    env = {"PYTHONPATH": src} if src else None
    t0 = time.monotonic()
    r = lab.client_exec([PY, "-m", "pulldoctor", "diagnose", image, "--json", "--runtime",
                         runtime, *extra], timeout=60, env=env)
    took = time.monotonic() - t0
    try:
        return took, json.loads(r.stdout)
    except ValueError:
        return took, {"error": r.stderr[-300:]}


def _timed(lab: Any, argv: list[str], bound: float) -> tuple[float, int]:
    t0 = time.monotonic()
    r = lab.client_exec(argv, timeout=bound)
    return time.monotonic() - t0, r.returncode


def part_a(names: list[str], with_docker: bool, baseline: str | None = None
           ) -> list[dict[str, Any]]:
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    rows = []
    for name in names:
        sc = SCENARIOS[name]
        with Lab(prefix="b") as lab:
            sc.build(lab)
            runtime = "podman" if sc.services.proxy != "none" else "docker"
            d_s, rep = _diagnose_in_lab(lab, sc.image, runtime)
            top = (rep.get("causes") or [{}])[0].get("code")
            s_s, s_rc = _timed(lab, ["skopeo", "inspect", "--retry-times", "0",
                                     f"docker://{sc.image}"], TOOL_BOUND_S)
            row: dict[str, Any] = {"scenario": name, "code": sc.code, "diagnose_top": top,
                                   "correct": top == sc.code, "diagnose_s": round(d_s, 2),
                                   "skopeo_s": round(s_s, 2), "skopeo_rc": s_rc,
                                   "ratio_vs_skopeo": round(d_s / s_s, 2) if s_s else None}
            if baseline:
                b_s, b_rep = _diagnose_in_lab(lab, sc.image, runtime, src=baseline)
                row.update({"baseline_s": round(b_s, 2),
                            "baseline_top": (b_rep.get("causes") or [{}])[0].get("code"),
                            "speedup_vs_baseline": round(b_s / d_s, 2) if d_s else None})
            if with_docker and "docker" in sc.clients:
                from pulldoctor.lab.clients import make_client

                dc = make_client("docker")
                try:
                    dc.start(lab)
                    res = dc.pull(sc.image, timeout=TOOL_BOUND_S)
                    row.update({"docker_s": res.duration_s, "docker_timed_out": res.timed_out,
                                "ratio_vs_docker": round(d_s / res.duration_s, 2)})
                finally:
                    dc.stop()
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def part_b(reps: int, baseline: str | None = None) -> dict[str, Any]:
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS["healthy"]
    d_times, s_times, b_times = [], [], []
    with Lab(prefix="b") as lab:
        sc.build(lab)
        for _ in range(reps):
            d_times.append(_diagnose_in_lab(lab, sc.image)[0])
            if baseline:
                b_times.append(_diagnose_in_lab(lab, sc.image, src=baseline)[0])
            s_times.append(_timed(lab, ["skopeo", "inspect", "--config", f"docker://{sc.image}"],
                                  TOOL_BOUND_S)[0])
    imp = subprocess.run([PY, "-X", "importtime", "-c", "import pulldoctor.cli.diagnose_cmd"],
                         capture_output=True, text=True, timeout=60)
    # "import time: self [us] | cumulative | name"; top-level imports have no indent in name
    top = [(int(m.group(1)), m.group(2)) for m in
           re.finditer(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)", imp.stderr)]
    total_us = sum(us for us, _ in top)
    top_level = [name for _, name in top]
    t0 = time.monotonic()
    subprocess.run([PY, "-m", "pulldoctor", "diagnose", "--help"], capture_output=True, timeout=60)
    help_s = time.monotonic() - t0
    out = {"diagnose_median_s": round(statistics.median(d_times), 3),
           "skopeo_inspect_config_median_s": round(statistics.median(s_times), 3),
           "ratio": round(statistics.median(d_times) / statistics.median(s_times), 2),
           "import_diagnose_cmd_ms": round(total_us / 1000, 1),
           "top_level_imports": len(top_level), "diagnose_help_s": round(help_s, 3)}
    if b_times:
        out.update({"baseline_median_s": round(statistics.median(b_times), 3),
                    "baseline_ratio": round(statistics.median(b_times)
                                            / statistics.median(s_times), 2)})
    print(json.dumps(out), flush=True)
    return out


_PUSH = r"""
import hashlib, json, os, sys, httpx
base, size_mb, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
h = hashlib.sha256()
with open(path, "wb") as f:
    for _ in range(size_mb):
        b = os.urandom(1 << 20); h.update(b); f.write(b)
ld = "sha256:" + h.hexdigest(); size = size_mb << 20
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


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def part_c(blob_mb: int) -> dict[str, Any]:
    tag = secrets.token_hex(3)
    cns, sns = f"pdb-{tag}-c", f"pdb-{tag}-s"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="pd-bench-") as tmp:
        work = Path(tmp)
        try:
            _ip("netns", "add", cns)
            _ip("netns", "add", sns)
            _ip("link", "add", f"pbc{tag}", "netns", cns, "type", "veth", "peer", "name",
                f"pbs{tag}", "netns", sns)
            for ns, dev, addr in ((cns, f"pbc{tag}", "198.19.0.1"), (sns, f"pbs{tag}", "198.19.0.2")):
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
            (work / "store").mkdir()
            (work / "reg.yml").write_text(
                f"version: 0.1\nlog: {{level: error}}\nstorage:\n  filesystem: {{rootdirectory: "
                f"{work / 'store'}}}\nhttp:\n  addr: 198.19.0.2:5000\n")
            procs.append(subprocess.Popen(["ip", "netns", "exec", sns, "docker-registry", "serve",
                                           str(work / "reg.yml")], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
            time.sleep(1.0)
            push = subprocess.run(["ip", "netns", "exec", cns, PY, "-c", _PUSH,
                                   "http://198.19.0.2:5000", str(blob_mb), str(work / "blob")],
                                  capture_output=True, text=True, timeout=900)
            if push.returncode != 0:
                raise RuntimeError(push.stderr[-500:])
            root = work / "root"
            (root / "etc/docker").mkdir(parents=True)
            (root / "etc/resolv.conf").write_text("nameserver 198.19.0.2\n")
            (root / "etc/hosts").write_text("198.19.0.2 registry.bench.test\n")
            (root / "etc/docker/daemon.json").write_text(
                json.dumps({"insecure-registries": ["registry.bench.test:5000"]}))
            t0 = time.monotonic()
            with open(work / "out.json", "wb") as fo, open(work / "err.txt", "wb") as fe:
                p = subprocess.Popen(["ip", "netns", "exec", cns, PY, "-m", "pulldoctor",
                                      "diagnose", "registry.bench.test:5000/big/blob:v1",
                                      "--layers", "--json", "--runtime", "docker", "--root",
                                      str(root), "--timeout", "600"], stdout=fo, stderr=fe)
                # wait4 gives this child's own peak RSS (`ip netns exec` execs python in place)
                _pid, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
            d_s = time.monotonic() - t0
            rss_kb = int(usage.ru_maxrss)
            out, err = (work / "out.json").read_bytes(), (work / "err.txt").read_bytes()
            rep = json.loads(out)
            layer = next(s for s in rep["steps"] if s["name"].startswith("layer"))
            t0 = time.monotonic()
            subprocess.run(["sha256sum", str(work / "blob")], check=True, capture_output=True)
            s_s = time.monotonic() - t0
        finally:
            for pr in procs:
                try:
                    os.killpg(pr.pid, 15)
                    pr.wait(10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            for ns in (cns, sns):
                subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
    mb = blob_mb
    out_d = {"blob_mb": mb, "diagnose_layers_s": round(d_s, 2),
             "layer_step_s": layer["duration_s"],
             "layer_mbps": layer["data"].get("throughput_mbps"),
             "diagnose_MBps": round(mb / d_s, 1), "sha256sum_s": round(s_s, 2),
             "sha256sum_MBps": round(mb / s_s, 1), "ratio_time": round(d_s / s_s, 2),
             "peak_rss_mb": round(rss_kb / 1024, 1), "causes": [c["code"] for c in rep["causes"]],
             "stderr_tail": err.decode(errors="replace")[-200:]}
    print(json.dumps(out_d), flush=True)
    return out_d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", action="append", choices=["a", "b", "c"])
    ap.add_argument("--scenario", action="append", help="(a) only these scenarios")
    ap.add_argument("--docker", action="store_true", help="(a) also time a real docker pull")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--blob-mb", type=int, default=256)
    ap.add_argument("--out", type=Path, help="write all results as JSON here")
    ap.add_argument("--baseline-src", metavar="DIR",
                    help="(a, b) also time diagnose from this source tree, same lab, same run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench_diagnose: needs root (network namespaces)", file=sys.stderr)
        return 2
    parts = args.part or ["a", "b", "c"]
    results: dict[str, Any] = {}
    if "c" in parts:
        results["c"] = part_c(args.blob_mb)
    if "a" in parts:
        from pulldoctor.lab.scenarios import SCENARIOS

        results["a"] = part_a(args.scenario or sorted(SCENARIOS), args.docker, args.baseline_src)
    if "b" in parts:
        results["b"] = part_b(args.reps, args.baseline_src)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

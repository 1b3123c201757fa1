"""Benchmark ``pulldoctor scan`` against grep on the same generated log, in the same run.

Why a ratio: absolute MB/s depends on the machine; what matters is how close scan comes to the
cheapest possible pass over the file (grep counting a fixed string), measured back to back on the
same warm page cache. The log is journalctl-style kubelet/dockerd/containerd chatter (including
normal "Pulling image" lines, so the fast path really has to skip them) with a few thousand real
pull-failure messages sprinkled in; the script checks scan found every one of them.

    python bench/bench_scan.py               # 1 GiB
    python bench/bench_scan.py --size-mb 64  # quicker
    python bench/bench_scan.py --repeat 3    # 3 runs each, interleaved: median and spread

Peak RSS of the scan child comes from ``os.wait4`` (that child only), to show memory stays flat.
Every run's time is kept; the ratios are of medians (the machine is shared: the best run of each
would flatter whichever command happened to run while the other core was idle). The result goes
to ``bench/out/scan.json`` (``--out``) for ``bench/readme_table.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from results import Run, spread

HOSTS = ["node-a1", "node-b7", "worker-03", "ci-runner-12"]
IMAGES = ["nginx:1.25", "redis:7", "quay.io/prometheus/node-exporter:v1.7.0", "ghcr.io/acme/api:2.3.1",
          "registry.corp.example:5000/team/app:bench", "postgres:16", "busybox:1.36"]

NOISE = [
    'kubelet[{pid}]: I1129 {t}.{us}    {pid} kubelet.go:2457] "SyncLoop (PLEG): event for pod" pod="default/web-{n}" event={{"ID":"{hex}","Type":"ContainerStarted"}}',
    'kubelet[{pid}]: I1129 {t}.{us}    {pid} kuberuntime_image.go:53] "Pulling image" image="{img}"',
    'kubelet[{pid}]: I1129 {t}.{us}    {pid} event.go:294] "Event occurred" object="default/web-{n}" kind="Pod" reason="Pulled" message="Successfully pulled image \\"{img}\\" in 1.{us}s"',
    'kubelet[{pid}]: I1129 {t}.{us}    {pid} reconciler_common.go:258] "operationExecutor.VerifyControllerAttachedVolume started" volume="kube-api-access-{hex}"',
    'kubelet[{pid}]: I1129 {t}.{us}    {pid} prober.go:107] "Probe failed" probeType="Readiness" pod="default/web-{n}" output="HTTP probe failed with statuscode: 503"',
    'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=info msg="ImageCreate event name:\\"{img}\\" labels:{{key:\\"io.cri-containerd.image\\" value:\\"managed\\"}}"',
    'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=info msg="StartContainer for \\"{hex}\\" returns successfully"',
    'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=info msg="PullImage \\"{img}\\" returns image reference \\"sha256:{hex}{hex}\\""',
    'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=info msg="shim disconnected" id={hex} namespace=k8s.io',
    'dockerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=info msg="ignoring event" container={hex} module=libcontainerd namespace=moby topic=/tasks/delete type="*events.TaskDelete"',
    'dockerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=warning msg="Health check for container {hex} error: context deadline exceeded"',
    'systemd[1]: Started cri-containerd-{hex}.scope - libcontainer container {hex}.',
    'kernel: IPv6: ADDRCONF(NETDEV_CHANGE): veth{n}: link becomes ready',
    'sshd[{pid}]: Accepted publickey for deploy from 10.1.{n}.{n} port 5{n}2 ssh2: ED25519 SHA256:{hex}',
]

FAILURES: list[tuple[str, str]] = [
    ("dns.udp_timeout", 'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=error msg="PullImage \\"{img}\\" failed" error="failed to pull and unpack image \\"{img}\\": failed to resolve reference \\"{img}\\": failed to do request: Head \\"https://registry-1.docker.io/v2/library/nginx/manifests/1.25\\": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: read udp 127.0.0.1:4{n}1->127.0.0.53:53: i/o timeout"'),
    ("registry.rate_limited", 'kubelet[{pid}]: E1129 {t}.{us}    {pid} pod_workers.go:1298] "Error syncing pod" err="failed to \\"StartContainer\\" with ErrImagePull: \\"Failed to pull image \\\\\\"{img}\\\\\\": rpc error: code = Unknown desc = toomanyrequests: You have reached your pull rate limit.\\""'),
    ("dns.udp_timeout", 'dockerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=error msg="Handler for POST /v1.43/images/create returned error: error pulling image configuration: download failed after attempts=6: dial tcp: lookup production.cloudflare.docker.com on 10.0.0.2:53: read udp 10.0.0.5:4{n}4->10.0.0.2:53: i/o timeout"'),
    ("tls.unknown_authority", 'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=error msg="PullImage \\"{img}\\" failed" error="failed to pull and unpack image \\"{img}\\": failed to resolve reference \\"{img}\\": failed to do request: Head \\"https://registry.corp.example:5000/v2/team/app/manifests/bench\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"'),
    ("registry.not_found", 'kubelet[{pid}]: E1129 {t}.{us}    {pid} kuberuntime_image.go:55] "Failed to pull image" err="rpc error: code = NotFound desc = failed to pull and unpack image \\"{img}\\": failed to resolve reference \\"{img}\\": {img}: not found" image="{img}"'),
    ("net.tcp_timeout", 'containerd[{pid}]: time="2026-11-29T{t}.{us}Z" level=error msg="PullImage \\"{img}\\" failed" error="failed to pull and unpack image \\"{img}\\": failed to resolve reference \\"{img}\\": failed to do request: Head \\"https://quay.io/v2/prometheus/node-exporter/manifests/v1.7.0\\": dial tcp 198.18.0.{n}:443: i/o timeout"'),
]


def _fill(template: str, rnd: random.Random, t: str) -> str:
    n = rnd.randint(1, 99)
    return template.format(pid=rnd.randint(300, 9000), t=t, us=rnd.randint(100000, 999999),
                           n=n, hex=f"{rnd.getrandbits(64):016x}", img=rnd.choice(IMAGES))


def generate(path: Path, size: int, failures: int, seed: int = 7) -> dict[str, int]:
    """Write ~``size`` bytes of journal-style noise with ``failures`` failure lines spread evenly."""
    rnd = random.Random(seed)
    pool = []
    # pull-related chatter ("Pulling image", "Successfully pulled", "PullImage ... returns") is
    # about 6% of lines: frequent enough that a scan keyed on the word "pull" would suffer.
    weights = [6 if "ull" not in tmpl else 2 for tmpl in NOISE]
    for i in range(20000):  # a pool of distinct noise lines, sampled per block (fast to generate)
        t = f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        host = rnd.choice(HOSTS)
        pool.append(f"Nov 29 {t} {host} " + _fill(rnd.choices(NOISE, weights)[0], rnd, t) + "\n")
    avg = sum(len(x) for x in pool) / len(pool)
    total_lines = int(size / avg)
    every = max(1, total_lines // max(1, failures))
    expected: dict[str, int] = {}
    written = 0
    block = 5000
    with open(path, "w", encoding="utf-8") as f:
        lines_done = 0
        while written < size:
            chunk = rnd.choices(pool, k=block)
            for j in range(0, block, every) if every < block else ([0] if lines_done % every < block else []):
                code, tmpl = rnd.choice(FAILURES)
                chunk[j] = f"Nov 29 10:00:00 {rnd.choice(HOSTS)} " + _fill(tmpl, rnd, "10:00:00") + "\n"
                expected[code] = expected.get(code, 0) + 1
            text = "".join(chunk)
            f.write(text)
            written += len(text)
            lines_done += block
    return expected


def _run(cmd: list[str]) -> tuple[float, int, bytes]:
    """Wall time, peak RSS (KiB) of this child only, and its stdout."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        return elapsed, usage.ru_maxrss, out.read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--failures", type=int, default=3000)
    ap.add_argument("--keep", action="store_true", help="keep the generated log (prints its path)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every command N times, interleaved; figures are medians with "
                         "their spread (use on a shared machine)")
    ap.add_argument("--out", type=Path, help="result file (default bench/out/scan.json)")
    ap.add_argument("--generate-into", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate_into:  # child mode: the parent stays small, so its RSS does not leak into
        # the children's ru_maxrss (Linux carries the forking process's peak across exec)
        exp = generate(Path(args.generate_into), args.size_mb * 1024 * 1024, args.failures)
        print(json.dumps(exp))
        return 0
    if shutil.which("grep") is None:
        print("grep not found", file=sys.stderr)
        return 2
    from pulldoctor.explain.triggers import TRIGGERS

    run = Run("scan")
    tmp = Path(tempfile.mkdtemp(prefix="pulldoctor-bench-"))
    try:
        log = tmp / "journal.log"
        t0 = time.perf_counter()
        expected = json.loads(subprocess.run(
            [sys.executable, __file__, "--generate-into", str(log), "--size-mb", str(args.size_mb),
             "--failures", str(args.failures)], check=True, capture_output=True).stdout)
        size = log.stat().st_size
        print(f"generated {size / 1e6:.0f} MB with {sum(expected.values())} failures "
              f"in {time.perf_counter() - t0:.1f}s")
        patterns = tmp / "triggers.txt"
        patterns.write_bytes(b"\n".join(TRIGGERS) + b"\n")
        with open(log, "rb") as warm:  # warm the page cache for everyone alike, in small reads
            while warm.read(1 << 20):
                pass

        runs = {
            "grep -c pull": ["grep", "-c", "pull", str(log)],
            "grep -c -F -f triggers": ["grep", "-c", "-F", "-f", str(patterns), str(log)],
            "pulldoctor scan --json": [sys.executable, "-m", "pulldoctor", "scan", str(log), "--json"],
            "scan, python engine": [sys.executable, "-m", "pulldoctor", "scan", str(log), "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        results: dict[str, tuple[float, int, bytes]] = {}
        for _ in range(max(1, args.repeat)):
            for name, cmd in runs.items():
                if name == "scan, python engine":
                    os.environ["PULLDOCTOR_SCAN_ENGINE"] = "python"
                res = _run(cmd)
                os.environ.pop("PULLDOCTOR_SCAN_ENGINE", None)
                times[name].append(res[0])
                rss = max(res[1], results[name][1]) if name in results else res[1]
                results[name] = (0.0, rss, res[2])
        med = {name: spread(t)["median"] for name, t in times.items()}
        mb = size / 1e6
        print(f"median of {max(1, args.repeat)} run(s) each; {os.cpu_count()} CPUs; "
              f"load average {os.getloadavg()[0]:.1f}")
        for name, (_, rss, _) in results.items():
            t = times[name]
            print(f"{name:<26} {med[name]:8.2f} s ({min(t):.2f}–{max(t):.2f})  "
                  f"{mb / med[name]:8.1f} MB/s  peak RSS {rss / 1024:7.1f} MiB")
        scan_s = med["pulldoctor scan --json"]
        for base in ("grep -c pull", "grep -c -F -f triggers"):
            print(f"scan throughput / {base} throughput = {med[base] / scan_s:.2f}")
        print("python-engine scan / grep -c pull = "
              f"{med['grep -c pull'] / med['scan, python engine']:.2f}")
        report = json.loads(results["pulldoctor scan --json"][2])
        print("engine:", report["facts"].get("engine"), " lines:",
              report["facts"].get("lines", "not counted (timestamped log, parallel segments)"))
        found: dict[str, int] = {}
        for g in report.get("groups", []):
            found[g["code"]] = found.get(g["code"], 0) + g["count"]
        print("expected failures by cause:", dict(sorted(expected.items())))
        print("scan found by cause:       ", dict(sorted(found.items())))
        _save(run, args, times, results, size, expected, found, report)
        return 0 if found == expected else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _save(run: Run, args: argparse.Namespace, times: dict[str, list[float]],
          results: dict[str, tuple[float, int, bytes]], size: int, expected: dict[str, int],
          found: dict[str, int], report: dict[str, object]) -> None:
    """One row per comparison: scan's throughput over grep's on the same file, same run."""
    mb = size / 1e6
    n = sum(expected.values())
    right = found == expected
    log = (f"{mb:.0f} MB generated journal-style log with {n} pull failures "
           f"({'all found, by cause' if right else 'NOT all found'})")
    rss = {name: round(r[1] / 1024, 1) for name, r in results.items()}
    for scan, base in (("pulldoctor scan --json", "grep -c pull"),
                       ("pulldoctor scan --json", "grep -c -F -f triggers"),
                       ("scan, python engine", "grep -c pull")):
        s, g = spread(times[scan]), spread(times[base])
        ratio = g["median"] / s["median"]
        facts = report.get("facts")
        engine = ("Python engine (PULLDOCTOR_SCAN_ENGINE=python)" if "python" in scan
                  else f"engine {facts.get('engine') if isinstance(facts, dict) else '?'}")
        run.add({"what": f"scan throughput vs `{base}` ({engine})",
                 "compared": (f"`{scan.replace('scan, python engine', 'PULLDOCTOR_SCAN_ENGINE=python pulldoctor scan --json')}`"
                              f" vs `{base}` on the same {log}, page cache warm, interleaved runs"),
                 "ratio": round(ratio, 3), "ratio_means": "scan throughput / grep throughput",
                 "correct": right, "scan_s": times[scan], "grep_s": times[base],
                 "scan_peak_rss_mib": rss[scan],
                 "figure": (f"{mb / s['median']:.0f} MB/s ({mb / s['max']:.0f}–"
                            f"{mb / s['min']:.0f}, n={s['n']}) vs {mb / g['median']:.0f} MB/s: "
                            f"{ratio:.2f}× grep's throughput; scan peak RSS {rss[scan]:.0f} MiB")})
    run.extra = {"size_mb": round(mb), "failures": n, "expected": expected, "found": found}
    print(f"saved {run.save(args.out)}")


if __name__ == "__main__":
    sys.exit(main())

"""Host checks get what the walk learnt (issue 9, defect 4).

``inspect_host`` can compare the clock with the registry's ``Date``, check firewall rules and
routes against the registry's real addresses, read the kernel's UDP counters' change across the
probe and weigh free space against the image's size; diagnose passed none of that, so in a
diagnosis the clock check never ran and the others never looked at the registry. Now the checks
that need the walk run after it, with its data, and the report says what they were given.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

from pulldoctor.lab.scenarios import SCENARIOS
from pulldoctor.lab.topology import ADDRESSES


def _lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root"
    missing = [t for t in ("ip", "nft", "nsenter", "unshare", "mount") if shutil.which(t) is None]
    return f"lab tests need {', '.join(missing)}" if missing else None


@pytest.mark.lab
def test_walk_data_reaches_the_host_checks() -> None:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    from pulldoctor.lab.topology import Lab

    sc = SCENARIOS["healthy"]
    with Lab(prefix="k") as lab:
        sc.build(lab)
        r = lab.client_exec([sys.executable, "-m", "pulldoctor", "diagnose", sc.image, "--json",
                             "--runtime", "docker", "--timeout", "12"], timeout=40)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    rep = json.loads(r.stdout)
    host = next(s for s in rep["steps"] if s["name"] == "host checks")["data"]
    given = host["given"]
    # the registry's and the CDN's real addresses, as the walk dialled them
    assert {ADDRESSES["registry"], ADDRESSES["cdn"]} <= set(given["registry_addresses"])
    assert given["registry_date"] and given["registry_date"].endswith("GMT")
    assert given["needed_bytes"] and given["needed_bytes"] > 0  # config + layers, from the manifest
    checks = host["checks"]
    assert checks["clock"] == "ok"  # it had a Date to compare with (it was always "skipped")
    for name in ("firewall", "routes_mtu", "kernel_udp", "disk", "daemon_config", "resolver"):
        assert name in checks, checks

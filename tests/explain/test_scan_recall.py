"""scan finds every failure explain would: each corpus text, inside a log of ordinary node chatter,
must come out of scan as a group whose cause is explain's first cause for that text.

The noise is the chatter of a healthy node (kubelet, containerd, dockerd, systemd, the kernel),
including the pull wording that is *not* a failure ("Pulling image", "Successfully pulled"), so a
scan that keyed on "pull" would drown and one that missed a family of wording would show here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pulldoctor.explain import explain
from pulldoctor.explain.scan import scan_streams

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

NOISE = """\
Nov 29 09:14:01 node-a1 kubelet[812]: I1129 09:14:01.100212     812 kuberuntime_image.go:53] "Pulling image" image="nginx:1.25"
Nov 29 09:14:02 node-a1 kubelet[812]: I1129 09:14:02.312000     812 event.go:294] "Event occurred" object="default/web-1" kind="Pod" reason="Pulled" message="Successfully pulled image \\"redis:7\\" in 1.2s"
Nov 29 09:14:02 node-a1 containerd[700]: time="2026-11-29T09:14:02.401Z" level=info msg="PullImage \\"redis:7\\" returns image reference \\"sha256:7f1d\\""
Nov 29 09:14:03 node-a1 containerd[700]: time="2026-11-29T09:14:03.000Z" level=info msg="StartContainer for \\"4a1b2c\\" returns successfully"
Nov 29 09:14:03 node-a1 systemd[1]: Started cri-containerd-4a1b2c.scope - libcontainer container 4a1b2c.
Nov 29 09:14:04 node-a1 kernel: IPv6: ADDRCONF(NETDEV_CHANGE): veth12ab: link becomes ready
Nov 29 09:14:05 node-a1 dockerd[640]: time="2026-11-29T09:14:05.000Z" level=info msg="ignoring event" container=9f8e module=libcontainerd namespace=moby topic=/tasks/delete
"""


def _texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append((f"{path.name}:{n}", json.loads(line)["text"]))
    return out


def _codes_found(text: str) -> set[str]:
    log = (NOISE + text.rstrip("\n") + "\n" + NOISE).encode()
    report = scan_streams([("log", [log])])
    groups = report.extra.get("groups") or []
    return {g["code"] for g in groups}


def test_scan_reports_explains_first_cause_for_every_corpus_text() -> None:
    texts = _texts()
    assert len(texts) > 500
    missed = []
    recognised = 0
    for where, text in texts:
        causes = explain(text).causes
        if not causes:
            continue
        recognised += 1
        found = _codes_found(text)
        if causes[0].code not in found:
            missed.append(f"{where}: explain {causes[0].code}, scan {sorted(found) or 'nothing'}")
    assert recognised > 500
    assert not missed, f"{len(missed)} of {recognised} missed:\n" + "\n".join(missed)


def test_noise_alone_is_quiet() -> None:
    report = scan_streams([("log", [(NOISE * 50).encode()])])
    assert report.extra["groups"] == []


@pytest.mark.parametrize("chunk", [1, 97, 4096])
def test_recall_does_not_depend_on_chunking(chunk: int) -> None:
    text = ("no matching manifest for linux/arm64/v8 in the manifest list entries")
    data = (NOISE + text + "\n" + NOISE).encode()
    parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    groups = scan_streams([("log", parts)]).extra["groups"]
    assert [g["code"] for g in groups] == ["image.platform_mismatch"]

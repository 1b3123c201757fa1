"""Recognising pull failures in raw log bytes: the same verdicts as explain, plus image context."""

from __future__ import annotations

from pulldoctor.causes import Code
from pulldoctor.watch.k8s import read_event
from pulldoctor.watch.recognise import Recogniser, canonical_image

DOCKERD_DEBUG = b'''time="2026-12-05T15:45:53.044441017Z" level=debug msg="Calling HEAD /_ping"
time="2026-12-05T15:45:53.047163353Z" level=debug msg="Calling POST /v1.41/images/create?fromImage=registry.lab.test%2Flab%2Fhello&tag=latest"
time="2026-12-05T15:45:53.064224225Z" level=debug msg="Trying to pull registry.lab.test/lab/hello from https://registry.lab.test v2"
time="2026-12-05T15:45:53.065812735Z" level=warning msg="Error getting v2 registry: Get \\"https://registry.lab.test/v2/\\": dial tcp 198.18.2.2:443: connect: connection refused"
time="2026-12-05T15:45:53.067400357Z" level=error msg="Handler for POST /v1.41/images/create returned error: Get \\"https://registry.lab.test/v2/\\": dial tcp 198.18.2.2:443: connect: connection refused"
'''

KUBELET = (b'E1129 09:59:02.123456    1234 kuberuntime_manager.go:1234] "Failed to pull image" '
           b'err="rpc error: code = NotFound desc = failed to pull and unpack image '
           b'\\"docker.io/library/nginx:bad\\": failed to resolve reference '
           b'\\"docker.io/library/nginx:bad\\": docker.io/library/nginx:bad: not found" '
           b'image="nginx:bad"\n')


def test_dockerd_failure_takes_the_image_from_the_preceding_debug_line() -> None:
    rec = Recogniser(origin="dockerd.log")
    sightings, pulled, errors = rec.scan(DOCKERD_DEBUG, base=1000)
    assert errors == 0 and pulled == []
    # dockerd logs one failed pull more than once; every line reads the same (the writer folds)
    assert {(s.cause, s.image) for s in sightings} == \
        {(Code.NET_REFUSED, "registry.lab.test/lab/hello:latest")}
    sg = sightings[-1]
    assert sg.cause == Code.NET_REFUSED
    assert sg.image == "registry.lab.test/lab/hello:latest" and sg.image_inferred
    assert sg.registry == "registry.lab.test"
    assert sg.key == str(1000 + DOCKERD_DEBUG.index(b'time="2026-12-05T15:45:53.067'))
    assert sg.runtime == "docker" and not sg.kubernetes


def test_without_debug_lines_the_registry_host_is_kept_and_no_image_is_invented() -> None:
    last = DOCKERD_DEBUG.splitlines(keepends=True)[-1]
    (sg,), _, _ = Recogniser().scan(last)
    assert sg.cause == Code.NET_REFUSED
    assert sg.image is None and sg.registry == "registry.lab.test"


def test_image_context_expires() -> None:
    rec = Recogniser()
    head = b"".join(DOCKERD_DEBUG.splitlines(keepends=True)[:2])
    rec.scan(head, now=1000.0)
    (sg,), _, _ = rec.scan(DOCKERD_DEBUG.splitlines(keepends=True)[-1], now=1000.0 + 600)
    assert sg.image is None


def test_kubelet_failure_is_kubernetes_and_names_its_image() -> None:
    (sg,), _, _ = Recogniser().scan(KUBELET)
    assert sg.cause == Code.REGISTRY_NOT_FOUND
    assert sg.image == "nginx:bad" and not sg.image_inferred
    assert sg.kubernetes and sg.runtime == "containerd"


def test_a_pull_failure_whose_text_names_no_cause_is_unrecognised() -> None:
    text = b'E1129 kubelet.go:1] "Failed to pull image" err="rpc error: code = Unknown desc = the frobnicator is unhappy" image="nginx:1"\n'
    (sg,), _, _ = Recogniser().scan(text)
    assert sg.cause is None and sg.cause_label == "unrecognised" and sg.image == "nginx:1"


def test_healthy_chatter_and_echoes_are_not_failures() -> None:
    text = (b'level=info msg="Pulling image nginx"\n'
            b'I1129 kubelet.go:1] "Back-off pulling image \\"nginx:bad\\""\n'
            b'Error: ImagePullBackOff\n'
            b'lookup of the week: nothing failed here\n')
    sightings, pulled, _ = Recogniser().scan(text)
    assert sightings == [] and pulled == []


def test_success_line_reports_the_image_pulled() -> None:
    text = b'kubelet[1]: Successfully pulled image "registry.lab.test/lab/hello:1" in 1.2s\n'
    sightings, pulled, _ = Recogniser().scan(text)
    assert sightings == [] and pulled == ["registry.lab.test/lab/hello:1"]


def test_binary_junk_and_nul_bytes_do_not_break_recognition() -> None:
    junk = bytes(range(256)) * 64 + b"\n\x00\xff\xfe" + KUBELET + b"\x00" * 100 + b"\n"
    sightings, _, _ = Recogniser().scan(junk)
    assert [s.cause for s in sightings] == [Code.REGISTRY_NOT_FOUND]


def test_a_ten_megabyte_line_is_read_in_windows() -> None:
    line = b"x" * (5 * 1024 * 1024) + KUBELET.rstrip(b"\n") + b"y" * (5 * 1024 * 1024) + b"\n"
    sightings, _, _ = Recogniser().scan(line)
    assert [s.cause for s in sightings] == [Code.REGISTRY_NOT_FOUND]
    assert len(sightings[0].text) <= 4096


def test_secrets_never_reach_a_sighting() -> None:
    text = (b'level=error msg="Handler for POST /v1.41/images/create returned error: Get '
            b'\\"https://bob:hunter2secret@registry.lab.test/v2/\\": dial tcp 198.18.2.2:443: '
            b'connect: connection refused"\n')
    (sg,), _, _ = Recogniser().scan(text)
    assert "hunter2secret" not in sg.text


def test_canonical_image() -> None:
    assert canonical_image("docker.io/library/nginx:1") == ("nginx:1", "docker.io")
    assert canonical_image("not a ref!") == (None, None)


def _event(**over: object) -> dict[str, object]:
    ev: dict[str, object] = {
        "metadata": {"name": "web.1", "namespace": "default", "uid": "u-1",
                     "resourceVersion": "42"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web"},
        "reason": "Failed", "type": "Warning", "count": 2,
        "message": 'Failed to pull image "registry.lab.test/lab/hello:latest": rpc error: code = '
                   'Unknown desc = failed to pull and unpack image "registry.lab.test/lab/hello:'
                   'latest": failed to resolve reference "registry.lab.test/lab/hello:latest": '
                   'failed to do request: Head "https://registry.lab.test/v2/lab/hello/manifests/'
                   'latest": dial tcp: lookup registry.lab.test on 10.0.0.2:53: no such host',
        "source": {"component": "kubelet", "host": "node-a"},
        "lastTimestamp": "2026-12-05T10:00:00Z",
    }
    ev.update(over)
    return ev


def test_kubelet_event_for_this_node() -> None:
    sg, pulled = read_event(Recogniser(kubernetes=True), _event(), "node-a", 0.0)
    assert pulled is None and sg is not None
    assert sg.cause == Code.DNS_NXDOMAIN and sg.image == "registry.lab.test/lab/hello:latest"
    assert sg.key == "u-1:2" and sg.origin == "default/web" and sg.kubernetes
    assert sg.at == 1796464800.0


def test_events_of_other_nodes_and_other_reasons_are_ignored() -> None:
    rec = Recogniser(kubernetes=True)
    assert read_event(rec, _event(), "node-b", 0.0) == (None, None)
    assert read_event(rec, _event(reason="Scheduled"), "node-a", 0.0) == (None, None)
    assert read_event(rec, _event(message="Error: ErrImagePull"), "node-a", 0.0) == (None, None)
    pulled = _event(reason="Pulled", type="Normal",
                    message='Successfully pulled image "nginx:1" in 2.1s (2.1s including waiting)')
    assert read_event(rec, pulled, "node-a", 0.0) == (None, "nginx:1")

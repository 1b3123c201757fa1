"""The shipped Ansible playbook, run for real: ansible-core over real sshd to three lab nodes.

Three nodes (network namespaces with their own resolv.conf, firewall rules, runtime config and
an OpenSSH sshd on their lab address) pull the lab registry's image. node-a and node-b use a
resolver that drops UDP queries (the lab's second DNS server, 198.18.4.3); node-c uses the good
one. The controller (ansible-playbook) runs in the lab's client namespace, so everything it
reaches is inside the lab. The merged verdict must name dns.udp_timeout, node-a and node-b, and
the resolver they share.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pulldoctor.lab.topology import ADDRESSES

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "contrib/ansible/pulldoctor.yml"
IMAGE = "registry.lab.test/lab/hello:latest"
BAD_RESOLVER = "198.18.4.3"


def _ansible_playbook() -> str:
    near = Path(sys.executable).parent / "ansible-playbook"
    found = str(near) if near.exists() else shutil.which("ansible-playbook")
    if not found:
        pytest.fail("ansible-playbook is not installed (pip install -e '.[dev]')")
    return found


@pytest.mark.lab
@pytest.mark.slow
def test_playbook_merges_and_names_the_shared_resolver(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root")
    from pulldoctor.lab.faults.dns.drop_udp import DropUdp
    from pulldoctor.lab.nodes import add_node, start_resolver, start_sshd
    from pulldoctor.lab.scenarios import SCENARIOS
    from pulldoctor.lab.topology import Lab

    playbook = _ansible_playbook()
    with Lab(prefix="an") as lab:
        SCENARIOS["healthy"].build(lab)
        start_resolver(lab, BAD_RESOLVER, [DropUdp(host="*")])
        key = lab.workdir / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True, timeout=20)
        allow_ssh = ("table inet node {\n chain input { type filter hook input priority 0; "
                     "policy accept; tcp dport 22 counter accept; }\n}\n")
        hosts_toml = {"registry.lab.test": 'server = "https://registry.lab.test"\n'
                      '[host."https://registry.lab.test"]\n  capabilities = ["pull", "resolve"]\n'
                      '  ca = "/etc/containerd/certs.d/registry.lab.test/ca.crt"\n'}
        specs = [("node-a", [BAD_RESOLVER], "docker", None),
                 ("node-b", [BAD_RESOLVER], "containerd", hosts_toml),
                 ("node-c", [ADDRESSES["dns"]], "docker", None)]
        nodes = []
        for i, (name, resolvers, _rt, toml) in enumerate(specs, 1):
            node = add_node(lab, name, i, resolvers=resolvers, hosts_toml=toml,
                            daemon_json={"data-root": str(lab.data_dir / f"docker-{name}")},
                            nft_rules=allow_ssh)
            start_sshd(lab, node, (key.with_suffix(".pub")).read_text())
            nodes.append(node)
        inv = lab.workdir / "inventory.ini"
        inv.write_text("[lab]\n" + "".join(
            f"{n.name} ansible_host={n.addr} pulldoctor_runtime={rt}\n"
            for n, (_nm, _r, rt, _t) in zip(nodes, specs, strict=True)) + (
            "[lab:vars]\nansible_user=root\n"
            f"ansible_ssh_private_key_file={key}\n"
            f"ansible_python_interpreter={sys.executable}\n"
            "ansible_remote_tmp=/run/tmp/ansible\n"
            "ansible_ssh_common_args='-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no'\n"))
        reports = lab.workdir / "reports"
        extra = json.dumps({"pulldoctor_image": IMAGE, "pulldoctor_timeout": 10,
                            "pulldoctor_reports_dir": str(reports),
                            "pulldoctor_command": [sys.executable, "-m", "pulldoctor"]})
        env = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_LOCAL_TEMP": str(lab.workdir / "at"),
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORKS": "3", "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
               "ANSIBLE_SSH_CONTROL_PATH_DIR": str(lab.workdir / "cp")}
        r = lab.client_exec([playbook, "-i", str(inv), str(PLAYBOOK), "-e", extra],
                            env=env, timeout=240)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
        merged = json.loads((reports.parent / "pulldoctor-merged.json").read_text())
        per_node = {p.stem: json.loads(p.read_text()) for p in reports.glob("*.json")}
        # --root, as a hostNetwork pod runs it: the node's network namespace, the pod's own
        # resolv.conf (the lab's good resolver), the node's files mounted elsewhere (/host)
        rooted = {}
        for n in (nodes[0], nodes[2]):
            rr = lab.procs.run([sys.executable, "-m", "pulldoctor", "diagnose", IMAGE, "--root",
                                str(n.root()), "--json", "--timeout", "10", "--runtime", "docker"],
                               netns=n.host.netns, mounts=lab.server_mounts(),
                               env={"PATH": "/usr/bin:/bin", "NODE_NAME": n.name}, timeout=40)
            rooted[n.name] = json.loads(rr.stdout)
        keep = os.environ.get("PULLDOCTOR_KEEP_OUTPUT")  # for the README's worked example
        if keep:
            out = Path(keep)
            out.mkdir(parents=True, exist_ok=True)
            (out / "ansible.txt").write_text(r.stdout)
            shutil.copytree(reports, out / "reports", dirs_exist_ok=True)
            (out / "inventory.ini").write_text(inv.read_text())
            for n in (nodes[0],):
                rt = lab.procs.run([sys.executable, "-m", "pulldoctor", "diagnose", IMAGE,
                                    "--root", str(n.root()), "--timeout", "10", "--runtime",
                                    "docker", "-v"], netns=n.host.netns, mounts=lab.server_mounts(),
                                   env={"PATH": "/usr/bin:/bin", "NODE_NAME": n.name,
                                        "COLUMNS": "100"}, timeout=40)
                (out / f"root-{n.name}.txt").write_text(rt.stdout)
    assert sorted(per_node) == ["node-a", "node-b", "node-c"]
    assert per_node["node-c"]["causes"] == [], per_node["node-c"]["causes"]
    assert merged["facts"]["nodes_total"] == 3 and merged["facts"]["nodes_failing"] == 2
    top = merged["causes"][0]
    assert top["code"] == "dns.udp_timeout", top
    assert top["nodes"] == ["node-a", "node-b"]
    assert f"resolver: {BAD_RESOLVER}" in top["distinguish"], top["evidence"]
    assert any(f"share resolver = {BAD_RESOLVER}" in e for e in top["evidence"])
    assert any("do not share" in e and "runtime" in e for e in top["evidence"])
    assert "node-a" in r.stdout and BAD_RESOLVER in r.stdout  # the Markdown verdict was shown
    a, c = rooted["node-a"], rooted["node-c"]
    assert a["facts"]["node"] == "node-a" and a["causes"][0]["code"] == "dns.udp_timeout"
    src = a["facts"]["node_attrs"]["resolver_source"]
    assert "(the node's)" in src and "not used" in src and ADDRESSES["dns"] in src
    assert c["causes"] == [] and c["facts"]["node_attrs"]["resolver"] == ADDRESSES["dns"]

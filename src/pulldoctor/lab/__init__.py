"""The lab: real pull failures, reproduced on one machine with real parts (needs root).

A lab is seven network namespaces (client, router, registry, cdn, dns, proxy, auth) joined by
veth links (:mod:`.topology`), processes recorded by PID so even a killed run is cleaned up
(:mod:`.procs`), an authoritative DNS server whose misbehaviour is data (:mod:`.dnsserver`),
faults applied with nftables, routes, MTUs and sysctls (:mod:`.faults`), the real servers
(:mod:`.services`, :mod:`.images`) and the real clients (:mod:`.clients`). :mod:`.scenarios`
names one reproducible failure per cause code. Nothing here is imported by the diagnosis code:
the lab only exists to prove it right.
"""

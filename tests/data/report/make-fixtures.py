#!/usr/bin/env python3
"""make-fixtures.py - writes the report tests' inputs in this directory (run it from anywhere;
the files are checked in, this says how they were made).  Hand-modelled, NOT measured: times
follow alpha + size x 2(p-1)/p / busbw per algorithm on 100 Mbit/s links (the emulated lab's
rates), with a seeded jitter, so that tests can recompute every median and winner themselves.

  results.json   arbench -J file: 8 ranks on 4 nodes, ring/tree/hier/rhd/mpi, 8 B - 32 MiB
  links.json     arbench links file (no "results" list): 4 ranks, all 12 ordered pairs at
                 64 KiB and 8 MiB; r1n02 <-> r1n03 slow and flagged
  hostile.json   both in one file, with host, CPU, NIC, algorithm and command strings that try
                 to break out of HTML, Markdown and CSV (and a results list with one row)
  bad-*.json     links.json's header with one thing wrong each (tests/sh/planner_badinput.sh):
                 an empty results list and no links, a bandwidth that is not a number, a rank
                 out of range, links not a list, nodes_info not a list
"""
import copy, json, os, random

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTS = ["r1n01.cluster.example.org", "r1n02.cluster.example.org",
         "r1n03.cluster.example.org", "r1n04.cluster.example.org"]
# per algorithm: latency at 8 B (us), asymptotic busbw (GB/s)
ALGOS = {"ring": (630, 0.0112), "tree": (360, 0.0101), "hier": (310, 0.0119),
         "rhd": (270, 0.0094), "mpi": (300, 0.0108)}


def node_info(name, i):
    speed = 25e9 if i == 3 else 1e8  # one node with another NIC: a second inventory group
    return {"name": name, "cores": 32, "pus": 64, "numa_nodes": 2,
            "cpu_model": "AMD EPYC 7543 32-Core Processor",
            "nics": [{"name": "eth0", "numa_node": 0, "speed_bps": speed, "rdma": False}],
            "gpus": []}


def header(hosts, ranks_per_node, command, library):
    nodes = len(hosts)
    node_of_rank = [n for n in range(nodes) for _ in range(ranks_per_node)]
    return {
        "version": 1, "arbench_version": "0.1.0", "command": command, "mpi_library": library,
        "ranks": nodes * ranks_per_node, "nodes": nodes,
        "ranks_per_node": [ranks_per_node] * nodes, "node_of_rank": node_of_rank,
        "local_rank": [r % ranks_per_node for r in range(nodes * ranks_per_node)],
        "hosts": hosts, "nodes_info": [node_info(h, i) for i, h in enumerate(hosts)],
        "transport": "mpi",
        "settings": {"minbytes": 8, "maxbytes": 33554432, "stepfactor": 4.0, "stepbytes": 0,
                     "iters": 20, "warmup": 5, "check": True, "agg": "avg",
                     "timeout_sec": 0.0, "segment_bytes": 0, "shared_buffers": False}}


def row(rng, size, algo, inplace, ranks):
    lat, bw = ALGOS[algo]
    t = lat + size * 2 * (ranks - 1) / ranks / (bw * 1e9) * 1e6
    p50 = round(t * rng.uniform(0.97, 1.03), 3)
    avg = round(p50 * rng.uniform(1.0, 1.02), 3)
    p99 = round(p50 * rng.uniform(1.05, 1.6), 3)
    algbw = size / (avg * 1e-6) / 1e9
    return {"size": size, "count": size // 4, "type": "float", "op": "sum", "algo": algo,
            "transport": "mpi", "inplace": inplace,
            "time_us": {"min": round(p50 * 0.95, 3), "p50": p50, "avg": avg, "p99": p99,
                        "max": round(p99 * 1.1, 3)},
            "algbw": round(algbw, 6), "busbw": round(algbw * 2 * (ranks - 1) / ranks, 6),
            "wrong": 0, "slowest_rank": 1}


def links(rng, hosts, slow, sizes):
    out = []
    for size in sizes:
        for s in range(len(hosts)):
            for d in range(len(hosts)):
                if s == d:
                    continue
                bw = 0.0118 * rng.uniform(0.97, 1.02)
                if (s, d) in slow:
                    bw *= 0.52
                out.append({"src": s, "dst": d, "src_host": hosts[s], "dst_host": hosts[d],
                            "size": size, "bw_gbps": round(bw, 6),
                            "lat_us": round(48 * rng.uniform(0.95, 1.1), 3),
                            "flagged": (s, d) in slow})
    return out


def write(name, doc):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    rng = random.Random(12)
    doc = header(HOSTS, 2, "/home/fabric-eng/arbench/build/arbench -b 8 -e 32M -f 4 -A all "
                 "-J /home/fabric-eng/runs/rack1.json",
                 "Open MPI v4.1.4, package: Open MPI fabric-eng@r1n01.cluster.example.org "
                 "Distribution, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022")
    doc["results"] = [row(rng, 8 * 4 ** k, a, ip, 8)
                      for k in range(12) for a in ALGOS for ip in (False, True)]
    write("results.json", doc)

    doc = header(HOSTS, 1, "/home/fabric-eng/arbench/build/arbench links -b 64K -e 8M -f 128 "
                 "-J /home/fabric-eng/runs/links.json", "Open MPI v4.1.4")
    doc["links"] = links(rng, HOSTS, {(1, 2), (2, 1)}, [65536, 8388608])
    write("links.json", doc)

    evil = ['<img src=x onerror=console.error("xss")>.evil.example', 'a&b"c\'d<!--',
            '=HYPERLINK("http://x")', 'rev\u202eevil.example', 'ctl\u0007bell\u0085x',
            'pipe|star*_md_[x](y)']
    doc = header(evil, 1, '</code><script>console.error("cmd")</script>',
                 '<b>MPI</b> & co, package: <i>x</i>')
    doc["nodes_info"][0]["cpu_model"] = '</td></tr><script>console.error(1)</script>'
    doc["nodes_info"][1]["nics"][0]["name"] = ']]><!-- <svg onload=alert(1)>'
    doc["nodes_info"][2]["gpus"] = [{"name": "GPU\"><script>", "numa_node": 0}]
    doc["results"] = [row(rng, 1 << 20, "ring", False, 6),
                      dict(row(rng, 1 << 20, "mpi", False, 6), algo='<b>x</b>"&'),
                      dict(row(rng, 4096, "ring", False, 6), op='=1+2')]
    doc["links"] = links(rng, evil, {(0, 5)}, [1 << 20])
    write("hostile.json", doc)

    base = json.load(open(os.path.join(HERE, "links.json")))
    hdr = {k: v for k, v in base.items() if k != "links"}
    bad = copy.deepcopy(hdr)
    bad["results"] = []
    write("bad-empty.json", bad)
    for name, edit in (("bad-links-bw.json", lambda l: l[1].update(bw_gbps="fast")),
                       ("bad-links-rank.json", lambda l: l[2].update(dst=7))):
        bad = copy.deepcopy(hdr)
        bad["links"] = copy.deepcopy(base["links"][:3])
        edit(bad["links"])
        write(name, bad)
    bad = copy.deepcopy(hdr)
    bad["links"] = {"src": 0}
    write("bad-links-type.json", bad)
    bad = copy.deepcopy(hdr)
    bad["links"] = copy.deepcopy(base["links"][:2])
    bad["nodes_info"] = "r1n01"
    write("bad-nodes-info.json", bad)


main()

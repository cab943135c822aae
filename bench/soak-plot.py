#!/usr/bin/env python3
"""soak-plot.py <samples.tsv> <out.png>: the soak's samples (bench/soak.sh) as one figure, a panel per
series against minutes, so that growth shows at a glance. Needs matplotlib (python3-matplotlib)."""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

PANELS = [
    ("rss_kib", "RSS (MiB)", 1 / 1024),
    ("rss_less_heap_kib", "RSS outside the Java heap (MiB)", 1 / 1024),
    ("heap_used_kib", "Java heap used (MiB)", 1 / 1024),
    ("heap_live_kib", "Java heap live, after a full GC (MiB)", 1 / 1024),
    ("buffer_direct_bytes", "network buffers, direct (MiB)", 1 / 1048576),
    ("fds", "open file descriptors", 1),
    ("threads", "threads", 1),
    ("client_connections", "client connections", 1),
]


def main(samples, out):
    rows = list(csv.DictReader(open(samples), delimiter="\t"))
    for r in rows:   # as soak.sh's summary derives it
        rss, heap = r.get("rss_kib", "NA"), r.get("heap_resident_kib", "NA")
        r["rss_less_heap_kib"] = "NA" if "NA" in (rss, heap) or "" in (rss, heap) else str(float(rss) - float(heap))
    panels = [p for p in PANELS if any(r.get(p[0], "NA") not in ("", "NA") for r in rows)]
    minutes = [float(r["seconds"]) / 60 for r in rows]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.1 * len(panels)), sharex=True)
    for ax, (column, label, scale) in zip(axes, panels):
        points = [(m, float(r[column]) * scale) for m, r in zip(minutes, rows) if r.get(column, "NA") not in ("", "NA")]
        if points:
            # A sparse series (the live heap, measured every few minutes) gets markers.
            marker = "o" if len(points) < len(rows) / 4 else None
            ax.plot([p[0] for p in points], [p[1] for p in points], linewidth=1, marker=marker, markersize=3)
        ax.set_ylabel(label, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("minutes")
    fig.suptitle("Relay soak: mixed traffic, slow clients, aborts, origin faults, reloads", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Draw the charts of BENCHMARKS.md from the CSV files the benches and the crash test write.

    cargo bench --bench pager && python3 benches/chart.py
    IMAGEDESK_CRASH_POINTS=20 IMAGEDESK_CRASH_CSV=$PWD/target/bench-results/crash.csv \
        cargo test --release --test import_job random -- --nocapture && python3 benches/chart.py

Reads $CARGO_TARGET_DIR/bench-results/ (else target/bench-results/): pager.csv draws
assets/benchmark-pager.png, crash.csv draws assets/benchmark-crash.png; a missing CSV is skipped.
Needs matplotlib; without it, says how to get it (a venv: python3 -m venv v && v/bin/pip install matplotlib).
"""
import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    results = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "bench-results"
    sources = [(results / "pager.csv", pager_chart), (results / "crash.csv", crash_chart)]
    present = [(source, draw) for source, draw in sources if source.exists()]
    if not present:
        print(f"no CSV in {results}: run `cargo bench --bench pager` (or the crash test) first", file=sys.stderr)
        return 1
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: python3 -m venv v && v/bin/pip install matplotlib", file=sys.stderr)
        return 1
    for source, draw in present:
        out = draw(plt, source)
        print(f"wrote {out}")
    return 0


def crash_chart(plt, source: Path) -> Path:
    with source.open() as f:
        rows = list(csv.DictReader(f))
    kills = [int(r["kill"]) for r in rows]
    resent = [int(r["resent_bytes"]) / 1024 for r in rows]
    bound = int(rows[0]["bound_bytes"]) / 1024
    stages = [r["killed_in"] for r in rows]
    palette = {"Upload": "#1f6feb", "Verify": "#8250df", "Import": "#d29922", "Watch": "#2da44e", "Done": "#8b949e"}
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=110)
    ax.bar(kills, resent, color=[palette.get(s, "#57606a") for s in stages])
    ax.axhline(bound, color="#cf222e", linestyle=":", label=f"bound: concurrency x part size = {bound:.0f} KiB")
    for stage, colour in palette.items():
        if stage in stages:
            ax.bar([], [], color=colour, label=f"killed in {stage} ({stages.count(stage)})")
    ax.set_xlabel("kill (SIGKILL at a random point; each resumed to one Available image, CRC-64 equal)")
    ax.set_ylabel("bytes re-sent after the kill, KiB")
    ax.set_title(f"{len(rows)} random kills of an upload -> import job")
    ax.set_xticks(kills)
    ax.set_ylim(0, bound * 1.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out = ROOT / "assets" / "benchmark-crash.png"
    fig.savefig(out)
    return out


def pager_chart(plt, source: Path) -> Path:
    with source.open() as f:
        rows = [(int(r["page_concurrency"]), float(r["median_ms"]), float(r["ideal_ms"])) for r in csv.DictReader(f)]
    concurrency = [r[0] for r in rows]
    measured = [r[1] for r in rows]
    ideal = [r[2] for r in rows]
    sequential = measured[0]

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    left.plot(concurrency, measured, "o-", color="#1f6feb", label="measured (median)")
    left.plot(concurrency, ideal, "--", color="#8b949e", label="ideal: page 1, then waves of N")
    left.set_xlabel("pages in flight (page_concurrency)")
    left.set_ylabel("listing time, ms")
    left.set_title("Listing 5 000 images, 50 ms per request")
    left.set_xticks(concurrency)
    left.grid(alpha=0.3)
    left.legend()

    speedups = [sequential / m for m in measured]
    bars = right.bar([str(c) for c in concurrency], speedups, color=["#8b949e"] + ["#1f6feb"] * (len(rows) - 1))
    right.axhline(6, color="#d29922", linestyle=":", label="target 6x")
    for bar, value in zip(bars, speedups):
        right.annotate(f"{value:.1f}x", (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom")
    right.set_xlabel("pages in flight (16 = ImageDesk's default)")
    right.set_ylabel("speed-up over one page at a time")
    right.set_title("Concurrent vs sequential pager (same run)")
    right.legend(loc="upper left")
    fig.tight_layout()
    out = ROOT / "assets" / "benchmark-pager.png"
    fig.savefig(out)
    return out


if __name__ == "__main__":
    sys.exit(main())

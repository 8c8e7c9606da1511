#!/usr/bin/env python3
"""Draw BENCHMARKS.md's pager chart from the CSV the pager bench writes.

    cargo bench --bench pager && python3 benches/chart.py

Reads $CARGO_TARGET_DIR/bench-results/pager.csv (else target/bench-results/pager.csv) and
writes assets/benchmark-pager.png.
Needs matplotlib; without it, says how to get it (a venv: python3 -m venv v && v/bin/pip install matplotlib).
"""
import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    source = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "bench-results" / "pager.csv"
    if not source.exists():
        print(f"no {source}: run `cargo bench --bench pager` first", file=sys.stderr)
        return 1
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: python3 -m venv v && v/bin/pip install matplotlib", file=sys.stderr)
        return 1
    print(f"wrote {pager_chart(plt, source)}")
    return 0


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

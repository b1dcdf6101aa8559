#!/usr/bin/env python3
"""Plots a run's metrics.jsonl: loss (and validation loss) against steps, and throughput.

  scripts/plot_metrics.py runs/quickstart/metrics.jsonl [OUT.png]

OUT.png defaults to the metrics file's folder (loss.png). Needs matplotlib (Debian:
apt-get install python3-matplotlib).
"""
import json
import math
import sys
from pathlib import Path


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else path.parent / "loss.png"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if not rows:
        sys.exit(f"{path}: no metrics yet")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib is missing: apt-get install python3-matplotlib")
    steps = [r["step"] for r in rows]
    fig, (ax_loss, ax_speed) = plt.subplots(1, 2, figsize=(11, 4))
    ax_loss.plot(steps, [r["loss"] if r["loss"] is not None else math.nan for r in rows],
                 label="train loss", linewidth=1)
    val = [(r["step"], r["val_loss"]) for r in rows if r.get("val_loss") is not None]
    if val:
        ax_loss.plot(*zip(*val), "o-", label="validation loss")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss (nats per token)")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_speed.plot(steps, [r["tokens_per_s"] for r in rows], linewidth=1, color="#54A24B")
    ax_speed.set_xlabel("step")
    ax_speed.set_ylabel("tokens / s")
    ax_speed.grid(alpha=0.3)
    mfu = sorted(r["mfu"] for r in rows)[len(rows) // 2]
    ax_speed.set_title(f"median MFU {100 * mfu:.0f}%", fontsize=10)
    fig.suptitle(str(path), fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The table of bench/pipeline/results.md (and docs/benchmarks.md's "Pipeline schedules") from the
records run_pipeline_bench.sh collects, one JSON object per line per run.

    bench/pipeline/summarize_pipeline.py RECORDS.jsonl [--json results.json]

Measured figures are medians over the run's steps from step 2 on (step 1 is warm-up). Standard
library only.
"""
import argparse
import json
import statistics
from fractions import Fraction

MiB = 1 << 20


def closed_form(schedule, p, m, v):
    if schedule in ("gpipe", "1f1b"):
        value, text = Fraction(p - 1, m), f"(p-1)/m = {p - 1}/{m}"
    elif schedule == "interleaved":
        value, text = Fraction(p - 1, v * m), f"(p-1)/(vm) = {p - 1}/{v * m}"
    elif schedule == "zbh1":
        value, text = Fraction(p - 1, 3 * m), f"(p-1)/(3m) = {p - 1}/{3 * m}"
    else:
        return None, "-"
    return float(value), f"{text} = {100 * float(value):.1f}%"


def summarize(record):
    steps = {int(n): s for n, s in record["trace"]["steps"].items()}
    later = [s for n, s in sorted(steps.items()) if n >= 2] or list(steps.values())
    ranks = sorted(int(r) for r in later[0]["ranks"])
    idle = [statistics.median(s["ranks"][str(r)]["idle_fraction"] for s in later) for r in ranks]
    bubbles = [s["bubble_ratio"] for s in later]
    drawn = steps[record["drawn_step"]]["ranks"]
    peaks = [drawn[str(r)].get("peak_activation_bytes") for r in ranks]
    units = [drawn[str(r)].get("peak_in_first_forwards") for r in ranks]
    # Mean duration of each kind of action, over the ranks and steps from 2 on.
    kinds = {}
    for s in later:
        for r in ranks:
            for kind, ms in s["ranks"][str(r)]["mean_ms"].items():
                kinds.setdefault(kind, []).append(ms)
    mean_ms = {kind: statistics.mean(values) for kind, values in kinds.items()}
    p, m, v = record["pipeline"], record["microbatches"], record["virtual_stages"]
    closed, closed_text = closed_form(record["schedule"], p, m, v)
    return {
        "schedule": record["schedule"], "pipeline": p, "microbatches": m, "virtual_stages": v,
        "load_at_start": record["load_at_start"],
        "step_ms_median": statistics.median(record["step_ms"][1:] or record["step_ms"]),
        "pipeline_ms_median": statistics.median(s["pipeline_ms"] for s in later),
        "measured_bubble_ratio_median": statistics.median(bubbles),
        "measured_bubble_ratio_range": [min(bubbles), max(bubbles)],
        "measured_idle_fraction_per_rank": idle,
        "simulated_bubble_ratio": record["simulated_bubble_ratio"],
        "simulated_idle_fraction": record["simulated_idle_fraction"],
        "closed_form_bubble_ratio": closed, "closed_form": closed_text,
        "peak_activation_bytes_per_rank": peaks,
        "peak_in_first_forwards_per_rank": units,
        "simulated_activations_per_rank": record["simulated_activations"],
        "mean_action_ms": mean_ms,
        "image": record["image"], "drawn_step": record["drawn_step"],
    }


def pct(x):
    return f"{100 * x:.1f}%"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("--json", help="also write the summarized rows here")
    args = parser.parse_args()
    rows = [summarize(json.loads(line)) for line in open(args.records) if line.strip()]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
            f.write("\n")
    print("| schedule | pipeline | measured bubble (median; range over steps) | measured idle "
          "fraction per rank | simulated bubble | closed form | peak activations per rank, MiB "
          "(in first forwards) | simulated activations alive per rank | mean F / B (or F / I / W), ms | "
          "ms/step | load at start |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        peaks = " / ".join(
            f"{b / MiB:.1f} ({u:.1f})" if b is not None and u else "-"
            for b, u in zip(r["peak_activation_bytes_per_rank"], r["peak_in_first_forwards_per_rank"]))
        low, high = r["measured_bubble_ratio_range"]
        print(f"| {r['schedule']}{' (v=2)' if r['virtual_stages'] > 1 else ''} | {r['pipeline']} | "
              f"{pct(r['measured_bubble_ratio_median'])} ({pct(low)}-{pct(high)}) | "
              f"{' / '.join(pct(x) for x in r['measured_idle_fraction_per_rank'])} | "
              f"{pct(r['simulated_bubble_ratio'])} | {r['closed_form']} | {peaks} | "
              f"{' / '.join(map(str, r['simulated_activations_per_rank']))} | "
              f"{' / '.join(f'{ms:.0f}' for ms in r['mean_action_ms'].values())} | "
              f"{r['step_ms_median']:.0f} | {' '.join(r['load_at_start'])} |")
    print()
    print("Bubble: idle over compute time summed over the ranks, between the step's first and last "
          "compute action (Megatron's ratio; the simulator's bubble_ratio). Idle fraction: a "
          "rank's idle time over that span. Medians over steps 2 on; m = 8 microbatches.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""trellis-plan against trellis-train on this machine: trains bench/plan/cpu/model.toml in
several layouts (tensor, pipeline, data, schedules, zero), a few times each, and compares the
measured step time (median over the steps after the first, then the median of the runs) and
peak_mem_bytes with what trellis-plan predicts on configs/clusters/cpu-dev-vm.toml.

  bench/plan/cpu_validation.py [--runs 3] [--json bench/plan/results/cpu-validation.json]
                               [--md bench/plan/results/cpu-validation.md] [--lock FILE]
  bench/plan/cpu_validation.py --predict-only      # reuse the measurements in the JSON
  bench/plan/cpu_validation.py --only "tensor 2"   # measure again the layouts named so

Run from the repository root after the build, on a quiet machine. The script prints and keeps
the load average before each run (rerun what a busy moment spoiled); with --lock each run holds
`flock FILE` while it trains (a shared machine's measurements one at a time)."""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MODEL = os.path.join(ROOT, "bench/plan/cpu/model.toml")

LAYOUTS = [
    ("1 rank, 2 threads", ["device.threads=2"]),
    ("data 2", ["launch.nproc=2"]),
    ("tensor 2", ["launch.nproc=2", "parallel.tensor=2"]),
    ("pipeline 2, 1f1b", ["launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=1f1b"]),
    ("pipeline 2, gpipe", ["launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=gpipe"]),
    ("pipeline 2, interleaved x2", ["launch.nproc=2", "parallel.pipeline=2",
                                    "parallel.schedule=interleaved", "parallel.virtual_stages=2"]),
    ("pipeline 2, zbh1", ["launch.nproc=2", "parallel.pipeline=2", "parallel.schedule=zbh1"]),
    ("tensor 2 x pipeline 2 (4 ranks)", ["launch.nproc=4", "parallel.tensor=2",
                                         "parallel.pipeline=2"]),
    ("pipeline 2 x data 2, zero 1 (4 ranks)", ["launch.nproc=4", "parallel.pipeline=2",
                                               "optim.zero=1"]),
    ("seq tensor 2", ["launch.nproc=2", "parallel.tensor=2", "parallel.tensor_mode=seq"]),
    ("2d tensor 4 (4 ranks)", ["launch.nproc=4", "parallel.tensor=4", "parallel.tensor_mode=2d"]),
]


def sets(overrides):
    out = []
    for o in overrides:
        out += ["--set", o]
    return out


def machine():
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {model}"


def measure(name, overrides, runs, lock):
    times, peaks, loads = [], [], []
    for k in range(runs):
        out_dir = os.path.join(ROOT, "runs", "plan-cpu", f"{name.replace(' ', '_')}-{k}")
        load = os.getloadavg()[0]
        command = [os.path.join(ROOT, "build/bin/trellis-train"), MODEL,
                   *sets(overrides + [f"run.out_dir={out_dir}"])]
        if lock:
            command = ["flock", lock] + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        steps = [json.loads(line) for line in open(os.path.join(out_dir, "metrics.jsonl"))]
        ms = statistics.median(s["step_ms"] for s in steps[1:])
        peak = max(s["peak_mem_bytes"] for s in steps)
        print(f"  {name} run {k + 1}: {ms:.1f} ms, peak {peak} B (load {load:.2f})",
              file=sys.stderr)
        times.append(ms)
        peaks.append(peak)
        loads.append(round(load, 2))
    return {"step_ms": statistics.median(times), "step_ms_runs": times, "peak_mem_bytes": max(peaks),
            "load_before_runs": loads, "machine": machine()}


def predict(overrides, cluster):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([os.path.join(ROOT, "build/bin/trellis-plan"), MODEL, "--cluster", cluster,
                        *sets(overrides), "--json", out.name], check=True,
                       stdout=subprocess.DEVNULL)
        p = json.load(open(out.name))
    return {"step_ms": p["time"]["step"] * 1e3, "peak_mem_bytes": p["peak_memory"]["total"],
            "bubble_ms": p["time"]["bubble"] * 1e3, "tensor_comm_ms": p["time"]["tensor_comm"] * 1e3,
            "data_comm_exposed_ms": p["time"]["data_comm_exposed"] * 1e3,
            "shared_devices_ms": p["time"]["shared_devices"] * 1e3}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cluster", default=os.path.join(ROOT, "configs/clusters/cpu-dev-vm.toml"))
    parser.add_argument("--json", default=os.path.join(ROOT, "bench/plan/results/cpu-validation.json"))
    parser.add_argument("--md", default=os.path.join(ROOT, "bench/plan/results/cpu-validation.md"))
    parser.add_argument("--lock", help="run each training under flock LOCK")
    parser.add_argument("--predict-only", action="store_true")
    parser.add_argument("--only", help="measure only the layouts whose name contains this")
    args = parser.parse_args()
    previous = {}
    if os.path.exists(args.json):
        previous = {r["layout"]: r for r in json.load(open(args.json))}
    rows = []
    for name, overrides in LAYOUTS:
        if args.predict_only or (args.only and args.only not in name):
            if name not in previous:
                continue
            measured = previous[name]["measured"]
        else:
            measured = measure(name, overrides, args.runs, args.lock)
        rows.append({"layout": name, "overrides": overrides, "measured": measured,
                     "predicted": predict(overrides, args.cluster)})
    with open(args.json, "w") as f:
        json.dump(rows, f, indent=2)
    lines = ["| layout | schedule | measured ms/step | predicted | error | measured peak MiB | "
             "predicted | error | load before the runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        m, p = r["measured"], r["predicted"]
        et = p["step_ms"] / m["step_ms"] - 1
        em = p["peak_mem_bytes"] / m["peak_mem_bytes"] - 1
        schedule = next((o.split("=")[1] for o in r["overrides"]
                         if o.startswith("parallel.schedule=")),
                        "1f1b" if "parallel.pipeline=2" in r["overrides"] else "-")
        runs = ", ".join(f"{t:.0f}" for t in m.get("step_ms_runs", []))
        loads = ", ".join(f"{x:.2f}" for x in m.get("load_before_runs", []))
        lines.append(f"| {r['layout']} | {schedule} | {m['step_ms']:.0f} ({runs}) | "
                     f"{p['step_ms']:.0f} | {100 * et:+.1f}% | {m['peak_mem_bytes'] / 2**20:.2f} | "
                     f"{p['peak_mem_bytes'] / 2**20:.2f} | {100 * em:+.1f}% | {loads} |")
    print("\n".join(lines))
    if args.md:
        with open(args.md, "w") as f:
            f.write("trellis-plan against trellis-train (bench/plan/cpu_validation.py) on "
                    f"{machine()}: bench/plan/cpu/model.toml; measured: median step_ms after the "
                    "first step, median of the runs (each run's in brackets); peak: "
                    "peak_mem_bytes, max over ranks.\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

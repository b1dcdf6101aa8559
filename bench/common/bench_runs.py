"""What the bench/*/run_*_bench.py scripts share: trellis-train under the machine-wide measurement
lock, the machine's description, and a Chrome trace's events."""
import json
import os
import pathlib
import platform
import re
import subprocess

LOCK = "/tmp/trellis-bench.lock"


def train_locked(build, out):
    """trellis-train on out/run.toml under the measurement lock (flock LOCK), one OpenBLAS thread
    and passive OpenMP waits; the load average is read once the lock is held. Returns the
    finished process, the rows of out/metrics.jsonl (none when it failed early) and the load."""
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", OPENBLAS_NUM_THREADS="1")
    cmd = ["flock", LOCK, "sh", "-c", 'cat /proc/loadavg > "$0/load.txt" && exec "$@"', str(out),
           str(build / "bin/trellis-train"), str(out / "run.toml")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    metrics = out / "metrics.jsonl"
    rows = [json.loads(line) for line in metrics.read_text().splitlines()] if metrics.exists() else []
    return done, rows, (out / "load.txt").read_text().split()[0]


def machine():
    """The CPU's model name, the cores and OPENBLAS_CORETYPE, for a results file."""
    cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    return {"cpu": model.group(1) if model else platform.processor(), "cores": os.cpu_count(),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE")}


def trace_events(trace_file):
    """A run's trace (logging.trace) as its list of events."""
    events = json.loads(pathlib.Path(trace_file).read_text())
    return events["traceEvents"] if isinstance(events, dict) else events

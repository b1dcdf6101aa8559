#!/usr/bin/env bash
# The ucx backend's all_reduce next to raw MPI_Allreduce on this machine, 2 ranks by default.
#   bench/comm_ucx_quick/run.sh [BUILD_DIR] [RANKS]
# Placement is the same for both: left to the kernel by default (mpirun --bind-to none; trellis-run
# does not bind), or one core per rank with BIND=1 (mpirun's own default for a few ranks; the ucx
# ranks then bind themselves, --bind).
# Extra [comm.ucx] options: UCX_QUICK_SET="chunk_bytes=131072 spin_polls=100000".
set -euo pipefail
build=${1:-build}
ranks=${2:-2}
sets=()
for kv in ${UCX_QUICK_SET:-}; do sets+=(--set "$kv"); done
if [[ ${BIND:-0} == 1 ]]; then
  mpi_bind=(--bind-to core)
  ucx_bind=(--bind)
else
  mpi_bind=(--bind-to none)
  ucx_bind=()
fi
if [[ -x $build/bin/mpi_allreduce_quick ]]; then
  mpirun --allow-run-as-root --oversubscribe "${mpi_bind[@]}" -n "$ranks" \
    "$build/bin/mpi_allreduce_quick"
fi
"$build/bin/trellis-run" -n "$ranks" -- "$build/bin/ucx_allreduce_quick" "${ucx_bind[@]}" "${sets[@]}"

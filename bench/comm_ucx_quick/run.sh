#!/usr/bin/env bash
# The ucx backend's all_reduce next to raw MPI_Allreduce on this machine, 2 ranks by default.
#   bench/comm_ucx_quick/run.sh [BUILD_DIR] [RANKS]
# Extra [comm.ucx] options: UCX_QUICK_SET="chunk_bytes=131072 chunks_in_flight=4".
set -euo pipefail
build=${1:-build}
ranks=${2:-2}
sets=()
for kv in ${UCX_QUICK_SET:-}; do sets+=(--set "$kv"); done
if [[ -x $build/bin/mpi_allreduce_quick ]]; then
  mpirun --allow-run-as-root --oversubscribe -n "$ranks" "$build/bin/mpi_allreduce_quick"
fi
"$build/bin/ucx_allreduce_quick" -n "$ranks" "${sets[@]}"

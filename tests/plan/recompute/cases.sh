# memory_test.sh's cases for recomputation: every recomputation ([train] recompute none,
# selective, full uniform 1 and 2, full block 2) in five layouts (one rank; pipeline 2 under
# 1f1b and zbh1; seq tensor 2; ring context 2).
model=$src/tests/plan/recompute/model.toml

# The bound, in bytes: the walk (core/src/plan/activation_timeline.cpp) is exact to the
# allocator's buffer where the order of actions fixes a tensor's life; a tensor being sent lives
# until the receiver takes it, which timing decides: at most one hidden-state buffer (4 b s h =
# 4 x 2 x 64 x 64 bytes) for each of the step's 4 microbatches. One more buffer covers the
# families' and the context plugin's own offsets, which the runs without recomputation show too
# (docs/planner.md, "Trellis's recomputation").
buffer=$((4 * 2 * 64 * 64))
bound=$((5 * buffer))

layouts=(
  "1 rank|"
  "pipeline 2, 1f1b|launch.nproc=2 parallel.pipeline=2 parallel.schedule=1f1b"
  "pipeline 2, zbh1|launch.nproc=2 parallel.pipeline=2 parallel.schedule=zbh1"
  "seq tensor 2|launch.nproc=2 parallel.tensor=2 parallel.tensor_mode=seq"
  "ring context 2|launch.nproc=2 parallel.context=2 parallel.context_mode=ring"
)
modes=(
  "none|train.recompute=none"
  "selective|train.recompute=selective"
  "full uniform 1|train.recompute=full"
  "full uniform 2|train.recompute=full train.recompute_num_layers=2"
  "full block 2|train.recompute=full train.recompute_method=block train.recompute_num_layers=2"
)

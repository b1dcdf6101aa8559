# memory_test.sh's cases for mixture of experts: the MoE model (moe/model.toml: 4 experts, top 2)
# in eight layouts — one rank dropless, with every second block dense, and with a capacity; a
# pipeline of 2; seq tensor 2; expert 2 under each dispatcher, and with ZeRO-1 — without
# recomputation and under full recomputation.
model=$src/tests/plan/moe/model.toml

# The bound, in bytes. The planner takes routing as balanced: each expert gets N k / E of a
# microbatch's N tokens' k choices. Without expert parallelism a rank's rows are all its tokens'
# choices whatever the balance (under a capacity, the dropped ones vary); with it, the rows a rank
# receives are its experts' share of the group's, which the router decides: the runs here see up
# to an eighth of the routed rows' stash (2 h + 8 h / t values a row) more or less on a rank. On
# top, recompute/cases.sh's bound for the sends: a hidden-state buffer (4 b s h bytes) for each
# of the step's 4 microbatches and one for the families' offsets.
buffer=$((4 * 2 * 64 * 64))
routed_stash=$((4 * 2 * 64 * 2 * (2 * 64 + 8 * 64)))  # bytes, one block, one microbatch
bound=$((5 * buffer + 4 * routed_stash / 8))

layouts=(
  "1 rank|"
  "1 rank, moe_every 2|model.moe_every=2"
  "1 rank, capacity 1.0|model.capacity_factor=1.0"
  "pipeline 2, 1f1b|launch.nproc=2 parallel.pipeline=2 parallel.schedule=1f1b"
  "seq tensor 2|launch.nproc=2 parallel.tensor=2 parallel.tensor_mode=seq"
  "expert 2, alltoall|launch.nproc=2 parallel.data=2 parallel.expert=2"
  "expert 2, allgather|launch.nproc=2 parallel.data=2 parallel.expert=2 parallel.expert_dispatcher=allgather"
  "expert 2, zero 1|launch.nproc=2 parallel.data=2 parallel.expert=2 optim.zero=1"
)
modes=(
  "none|train.recompute=none"
  "full uniform 1|train.recompute=full"
)

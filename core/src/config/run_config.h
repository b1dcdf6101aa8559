// The run configuration as read from TOML: one struct per section, one field per key.
//
// The values here are what the user wrote (or the defaults below), with relative paths already
// resolved (see config_reader.h). Values that follow from several keys — the world size, the data
// size when it is -1, microbatches, the padded vocabulary, default output paths — are computed by
// the loader into ResolvedRun (resolved_run.h).
//
// The defaults are part of the user contract: docs/configuration.md lists each one and a unit test
// checks the two agree.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace trellis {

struct RunSection {
  std::string name = "trellis";
  std::int64_t seed = 1234;
  std::int64_t steps = 100;
  std::string out_dir;  // empty: runs/<name>
};

struct LaunchSection {
  std::int64_t nproc = 1;
};

// [comm.groups]: the backend of each parallel dimension's groups; empty means [comm] backend.
struct CommGroupBackends {
  std::string tensor;
  std::string context;
  std::string data;
  std::string pipeline;
  std::string expert;
};

struct CommSection {
  std::string backend = "mpi";
  double timeout_s = 300.0;
  CommGroupBackends groups;
};

struct ParallelSection {
  std::int64_t tensor = 1;
  std::string tensor_mode = "1d";  // a layers plugin
  std::int64_t pipeline = 1;
  std::string schedule = "1f1b";  // a schedule plugin
  std::int64_t virtual_stages = 1;
  std::int64_t context = 1;
  std::string context_mode = "ring";  // a context plugin (used when context > 1)
  // Expert parallelism: each MoE block's experts split over `expert` data ranks, tokens moved to
  // them by a dispatcher plugin (trellis/token_dispatcher.h).
  std::int64_t expert = 1;
  std::string expert_dispatcher = "alltoall";
  std::int64_t data = -1;  // -1: world / (tensor * context * pipeline)
  std::string order = "tp-cp-dp-pp";
  double dp_bucket_mb = 25.0;  // MiB of gradients per data-parallel reduction; 0: one parameter
  bool dp_overlap = true;      // start each bucket's reduction as backward completes it
};

struct ModelSection {
  std::int64_t vocab_size = 50257;
  std::int64_t seq_len = 1024;
  std::int64_t layers = 12;
  std::int64_t heads = 12;
  std::int64_t hidden = 768;
  // What a block computes (trellis/config.h's ModelArchitecture): arch presets the keys below
  // that the config leaves out (config/model_architecture.h). The defaults are GPT-2's;
  // ffn_hidden and kv_heads -1 stand for the preset's (4 x hidden and heads for GPT-2) until
  // the loader fills them in.
  std::string arch = "gpt2";       // "gpt2" | "llama"
  std::string norm = "layernorm";  // "layernorm" | "rmsnorm"
  double norm_eps = 1e-5;
  std::string mlp = "gelu";  // "gelu" | "swiglu"
  std::int64_t ffn_hidden = -1;
  std::string positions = "learned";  // "learned" | "rope"
  double rope_theta = 10000.0;
  std::int64_t kv_heads = -1;
  bool bias = true;
  bool tie_embeddings = true;
  std::string init = "random";  // "random" | "llmc:PATH" | "checkpoint:DIR"
  std::string export_to;        // "" | "llmc:PATH": the trained model, written at the end
  // Mixture of experts (trellis/config.h's MoeSettings): 0 experts is the dense GPT.
  std::int64_t experts = 0;
  std::int64_t top_k = 2;
  std::int64_t moe_every = 1;
  double moe_aux_loss_coeff = 0.01;
  double capacity_factor = 0.0;  // 0: dropless
};

struct TrainSection {
  std::int64_t micro_batch = 4;    // sequences per microbatch
  std::int64_t global_batch = 32;  // sequences per optimizer step, over all data ranks
  // Activation recomputation, Megatron-LM's (model/recompute_plan.h): "none" | "selective" |
  // "full"; for full, "uniform" | "block" and the blocks a group holds (uniform) or the blocks
  // of each chunk recomputed (block).
  std::string recompute = "none";
  std::string recompute_method = "uniform";
  std::int64_t recompute_num_layers = 1;
};

struct OptimSection {
  double lr = 3e-4;
  std::string schedule = "cosine";  // "constant" | "cosine"
  std::int64_t warmup_steps = 0;
  double min_lr = 0.0;  // where the cosine ends
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  double grad_clip = 1.0;  // 0: off
  std::int64_t zero = 0;   // 1: shard the optimizer state over data ranks
};

struct DataSection {
  std::string train;  // required
  std::string val;    // empty: no validation
  // How text files become tokens: "bytes" (one token a byte) | "gpt2:DIR" (GPT-2's BPE from
  // DIR/vocab.json and DIR/merges.txt).
  std::string tokenizer = "bytes";
  bool shuffle = false;
  std::int64_t val_every = 0;    // steps between validations; 0: at the end only
  std::int64_t val_batches = 8;  // global batches of the validation file per validation
};

struct CheckpointSection {
  std::string dir;         // empty: <out_dir>/checkpoints
  std::int64_t every = 0;  // steps between checkpoints; 0: off
  std::int64_t keep = 3;   // most recent checkpoints kept; 0: all
  bool resume = false;
};

struct LoggingSection {
  std::int64_t every = 1;
  std::string metrics;  // empty: <out_dir>/metrics.jsonl
  std::string trace;    // empty: no trace
  bool progress = true;
  // A short text the model writes every sample_every steps (0: never), on world rank 0's
  // console: sample_tokens tokens after sample_prompt ("": the training data's first tokens).
  std::int64_t sample_every = 0;
  std::int64_t sample_tokens = 32;
  std::string sample_prompt;
};

struct DeviceSection {
  std::string kind = "cpu";        // "cpu" | "cuda"
  std::int64_t threads = 0;        // 0: the runtime decides
  std::string precision = "fp32";  // "fp32" | "bf16" (mixed precision, cuda only)
  // OpenBLAS's kernels: "auto" | "keep" | a core's name (device/openblas_core_choice.h).
  std::string blas_core = "auto";
  // The MFU reference, FLOP/s of one rank in GFLOP/s; 0: a calibration or a probe
  // (train/mfu_peak.h).
  double peak_gflops = 0.0;
  // The most memory the rank's tensors may hold, in MiB (2^20 bytes); 0: no limit. An
  // allocation over it is an error naming the limit and the tensor.
  std::int64_t memory_limit_mb = 0;
};

struct PluginsSection {
  std::vector<std::string> paths;
};

struct RunConfig {
  RunSection run;
  LaunchSection launch;
  CommSection comm;
  ParallelSection parallel;
  ModelSection model;
  TrainSection train;
  OptimSection optim;
  DataSection data;
  CheckpointSection checkpoint;
  LoggingSection logging;
  DeviceSection device;
  PluginsSection plugins;
};

}  // namespace trellis

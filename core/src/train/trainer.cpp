#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>

#include "data_parallel/all_reduce_scalar.h"
#include "data_parallel/optimizer.h"
#include "dataset/token_dataset.h"
#include "device/openblas_core_choice.h"
#include "kernels/compute_device.h"
#include "kernels/host_transfer.h"
#include "launch/rank_environment.h"
#include "launch/world.h"
#include "model/llmc_checkpoint.h"
#include "model/model_chunk.h"
#include "model/param_init.h"
#include "pipeline/executor.h"
#include "trace/trace.h"
#include "train/lr_schedule.h"
#include "train/mfu_peak.h"
#include "train/model_flops.h"
#include "train/step_metrics.h"
#include "train/test_faults.h"
#include "train/training_checkpoints.h"
#include "trellis/error.h"
#include "trellis/rank_groups.h"

namespace trellis {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string millions(std::int64_t n) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2fM", static_cast<double>(n) / 1e6);
  return buffer;
}

// A plan that runs only forwards, one microbatch at a time through every stage (validation).
PipelinePlan forward_only_plan(const PipelinePlan& training) {
  std::vector<std::vector<Action>> per_rank(training.per_rank.size());
  for (int m = 0; m < training.microbatches; ++m)
    for (int s = 0; s < training.stages(); ++s)
      per_rank[training.stage_rank[s]].push_back({s, ActionType::F, m});
  PipelinePlan plan;
  plan.pipeline_size = training.pipeline_size;
  plan.microbatches = training.microbatches;
  plan.virtual_stages = training.virtual_stages;
  plan.stage_rank = training.stage_rank;
  plan.per_rank = lower_communication(per_rank, plan.stage_rank);
  return plan;
}

// Where rank 0's MFU peak comes from (train/mfu_peak.h); a probe measures this rank's products.
MfuPeakRequest mfu_peak_request(const ResolvedRun& run, const ComputeDevice& device) {
  MfuPeakRequest request;
  request.config_gflops = run.config.device.peak_gflops;
  request.config_where = run.origins.at("device.peak_gflops").describe();
  if (run.device == DeviceKind::cpu) {
    request.calibration =
        PeakKey{CpuFeatures::of_this_cpu().model, LoadedOpenBlas::of_this_process().core,
                device.kernels->threads()};
  }
  request.probe = [&device](double seconds) {
    return measure_sgemm_peak(*device.kernels, device.allocator, seconds, device.sgemm_probe_size);
  };
  return request;
}

// The "blas:" line, with whether every rank runs the kernels rank 0 runs (a rank started apart
// from the others, or on another kind of node, may not) and how many restarted for them (none
// where a launcher gave them their environment).
std::string openblas_line(const ResolvedRun& run, const RankGroups& groups,
                          const ComputeDevice& device) {
  const OpenBlasInEffect blas = OpenBlasInEffect::of_this_process(
      BlasCoreSetting::parse(run.config.device.blas_core, "[device] blas_core"));
  // The ranks compare their cores by place in openblas_cores(); -1 for one OpenBLAS does not name.
  const auto cores = openblas_cores();
  const OpenBlasCore* loaded = find_openblas_core(blas.state.openblas.core);
  const double index = loaded ? static_cast<double>(loaded - cores.data()) : -1.0;
  auto reduce = [&](double value, ReduceOp op) {
    return all_reduce_scalar(*groups.world, value, op, device.allocator, *device.kernels);
  };
  const double highest = reduce(index, ReduceOp::max);
  const double lowest = -reduce(-index, ReduceOp::max);
  const bool restarted_here = blas.state.reexecuted && environment_matches(blas.choice, blas.state);
  const auto restarted = static_cast<long long>(reduce(restarted_here ? 1.0 : 0.0, ReduceOp::sum));
  const int ranks = run.world_size;
  std::string where;
  if (ranks > 1 && highest == lowest) where = "on all " + std::to_string(ranks) + " ranks";
  if (highest != lowest) {
    auto name = [&](double i) {
      return i < 0 ? std::string("kernels OpenBLAS does not name")
                   : std::string(cores[static_cast<std::size_t>(i)].name);
    };
    where = "on rank 0; the ranks differ, from " + name(lowest) + " to " + name(highest) +
            ": start them alike";
  }
  std::string line = blas.line(where);
  if (restarted > 0) {
    line += ranks == 1 ? "; the process restarted for them"
                       : "; " + std::to_string(restarted) + " of " + std::to_string(ranks) +
                             " ranks restarted for them";
  }
  return line;
}

}  // namespace

struct Trainer::State {
  const ResolvedRun& run;
  std::FILE* console;
  RankEnvironment env;
  ModelDims dims;
  std::int64_t B = 1, T = 1, G = 1, M = 1;
  int rank = 0;
  RankCoords coords;
  bool reports = false;  // this rank prints and writes the metrics (world rank 0)
  ComputeDevice device;  // its allocator and kernels: everything this rank computes with
  RankGroups groups;
  std::shared_ptr<LayerFamily> family;
  // Chunks are declared after the family: plugin objects must go before the family that made them.
  std::map<int, std::unique_ptr<ModelChunk>> chunks;  // by stage
  std::vector<Parameter*> params;
  // Parameters whose values another rank also holds outside the tensor group (the LM head's copy
  // of the token table on the last pipeline stage): written once by the export (the optimizer
  // likewise counts it once in the gradient norm and saves it once in checkpoints).
  std::vector<Parameter*> norm_excluded;
  Parameter* tied_table = nullptr;  // this rank's token table when it sits on a pipeline end
  // Gradient reduction, norm, clipping and AdamW: replicated, or distributed with [optim] zero = 1.
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<TrainingCheckpoints> checkpoints;
  TestFaults faults;
  std::int64_t start_step = 0;  // steps done before this run (a resumed run's checkpoint)
  std::optional<TokenDataset> train_data, val_data;
  PipelinePlan plan, eval_plan;
  std::unique_ptr<PipelineExecutor> executor, eval_executor;
  std::unique_ptr<TraceRecorder> trace;
  LrScheduleSpec lr;
  std::optional<MfuPeak> mfu_peak;  // world rank 0's, the only one that reports MFU
  std::string blas_line;            // on the cpu device: the OpenBLAS kernels the ranks run
  std::vector<std::int32_t> host_tokens, host_targets;  // a microbatch on its way to the device

  State(const ResolvedRun& r, std::FILE* out) : run(r), console(out) {}

  bool holds_stage(int stage) const { return chunks.count(stage) != 0; }
  bool first_stage_here() const { return holds_stage(0); }
  bool last_stage_here() const { return holds_stage(plan.stages() - 1); }

  // The microbatches of step `step` for this rank: its data rank's share of the global batch.
  // Only the pipeline's ends read data (tokens at the first stage, targets at the last); the
  // stages between get microbatches with ids and the loss scale only.
  std::vector<Microbatch> microbatches(std::int64_t step, bool training, const TokenDataset* data) {
    const std::int64_t per_data_rank = G / run.layout.sizes().data;
    std::vector<Microbatch> out;
    for (std::int64_t m = 0; m < M; ++m) {
      Microbatch mb;
      mb.id = static_cast<int>(m);
      mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(G * T));
      mb.training = training;
      if (data != nullptr) {
        // Read on the host, then copied to the device the model runs on.
        const auto count = static_cast<std::size_t>(B * T);
        host_tokens.resize(count);
        host_targets.resize(count);
        data->read(step, G, T, coords.data * per_data_rank + m * B, B,
                   run.config.data.shuffle && training,
                   static_cast<std::uint64_t>(run.config.run.seed), host_tokens.data(),
                   host_targets.data());
        mb.tokens = Tensor::empty({B, T}, DType::i32, device.allocator);
        mb.targets = Tensor::empty({B, T}, DType::i32, device.allocator);
        copy_from_host(*device.kernels, host_tokens, mb.tokens);
        copy_from_host(*device.kernels, host_targets, mb.targets);
      }
      out.push_back(std::move(mb));
    }
    return out;
  }

  // The summed token loss of the global batch, on every rank: the last stage's tensor rank 0
  // of each data rank contributes its sum.
  double global_loss_sum(double local) {
    const bool contributes = last_stage_here() && coords.tensor == 0;
    return all_reduce_scalar(*groups.world, contributes ? local : 0.0, ReduceOp::sum,
                             device.allocator, *device.kernels);
  }

  // The trained model as an llm.c checkpoint, written from every layout: rank 0 makes the file,
  // each shard is written in place by one rank — data rank 0, tensor rank 0 for the tensor-
  // replicated parameters, the first stage for the tied token table — then rank 0 renames it.
  void export_llmc(const std::filesystem::path& file) {
    std::filesystem::path partial = file;
    partial += ".partial";
    if (reports) {
      std::error_code ec;
      if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
      create_llmc_file(partial, dims);
    }
    groups.world->barrier()->wait();
    if (coords.data == 0) {
      std::vector<Parameter*> mine;
      for (Parameter* p : params) {
        const bool replica = p->tensor_replicas > 1 && coords.tensor != 0;
        const bool tied_copy =
            std::find(norm_excluded.begin(), norm_excluded.end(), p) != norm_excluded.end();
        if (!replica && !tied_copy) mine.push_back(p);
      }
      write_llmc_shards(partial, dims, mine, *device.kernels);
    }
    groups.world->barrier()->wait();
    if (reports) {
      std::filesystem::rename(partial, file);
      std::fprintf(console, "exported: %s (llm.c checkpoint)\n", file.c_str());
    }
  }

  // Mean loss over the first [data] val_batches global batches of the validation file. Every
  // rank knows the count from the file's header (the middle stages do not open it).
  double evaluate() {
    const std::int64_t in_file = (run.val->tokens - 1) / (G * T);
    const std::int64_t batches = std::min<std::int64_t>(in_file, run.config.data.val_batches);
    double sum = 0.0;
    for (std::int64_t b = 0; b < batches; ++b) {
      sum += global_loss_sum(
          eval_executor->run_step(microbatches(b, false, val_data ? &*val_data : nullptr)));
    }
    return sum / static_cast<double>(batches * G * T);
  }
};

Trainer::Trainer(const ResolvedRun& run, std::FILE* console)
    : s_(std::make_unique<State>(run, console)) {
  State& s = *s_;
  const RunConfig& cfg = run.config;
  s.env = RankEnvironment::from_process();
  if (s.env.world_size != run.world_size) {
    throw InputError("the run is for " + std::to_string(run.world_size) +
                     " ranks but this process " + "is one of " + std::to_string(s.env.world_size) +
                     "; start it with trellis-run -n " + std::to_string(run.world_size) +
                     " or let trellis-train launch itself");
  }
  s.rank = s.env.rank;
  s.coords = run.layout.coords(s.rank);
  s.reports = s.rank == 0;
  s.dims = run.dims;
  s.B = cfg.train.micro_batch;
  s.T = run.dims.seq_len;
  s.G = cfg.train.global_batch;
  s.M = run.microbatches;

  DeviceChoice choice;
  choice.kind = run.device;
  choice.bf16 = cfg.device.precision == "bf16";
  choice.threads = static_cast<int>(cfg.device.threads);
  choice.local_rank = s.env.local_rank;
  choice.local_world_size = s.env.local_world_size;
  choice.world_size = run.world_size;
  s.device = open_compute_device(choice);
  // Rank 0 finds the MFU peak before the world exists: a probe then runs while the other ranks
  // wait for it in the rendezvous, not while they compute.
  if (s.reports) s.mfu_peak = choose_mfu_peak(mfu_peak_request(run, s.device));

  auto world = create_world(*run.registry, cfg.comm.backend, run.backend_options(), s.env,
                            run.comm_timeout, s.device.device);
  world->set_timeout(run.comm_timeout);
  s.groups = make_rank_groups(std::move(world), run.layout);
  if (run.device == DeviceKind::cpu) s.blas_line = openblas_line(run, s.groups, s.device);

  // The pipeline plan: the schedule's (already simulated by the config check) or one stage.
  s.plan = run.pipeline_plan ? *run.pipeline_plan : single_stage_plan(static_cast<int>(s.M));
  s.eval_plan = forward_only_plan(s.plan);

  LayerFamilyInit init;
  init.dims = s.dims;
  init.groups.tensor = s.groups.tensor.get();
  init.groups.row = s.groups.tensor_row.get();
  init.groups.col = s.groups.tensor_col.get();
  init.allocator = s.device.allocator;
  init.kernels = s.device.kernels.get();
  init.micro_batch = static_cast<int>(s.B);
  init.seed = static_cast<std::uint64_t>(cfg.run.seed);
  init.options = &run.layers_options();
  s.family = run.registry->make_layers(cfg.parallel.tensor_mode, init);

  const int stages = s.plan.stages();
  Layer* embedding = nullptr;
  for (int stage = 0; stage < stages; ++stage) {
    if (s.plan.stage_rank[stage] != s.coords.pipeline) continue;
    auto chunk = std::make_unique<ModelChunk>(
        *s.family, chunk_spec(static_cast<int>(s.dims.layers), stages, stage), embedding);
    if (chunk->embedding()) embedding = chunk->embedding();
    s.chunks[stage] = std::move(chunk);
  }
  for (auto& [stage, chunk] : s.chunks)
    for (Parameter* p : chunk->parameters()) s.params.push_back(p);
  // The token table lives on the first stage and, as the LM head's copy, on the last one.
  if (s.groups.embedding) {
    for (Parameter* p : s.params) {
      if (p->name != "wte") continue;
      s.tied_table = p;
      if (!s.first_stage_here()) s.norm_excluded.push_back(p);
    }
  }

  // A resumed run takes everything from its checkpoint, and "checkpoint:DIR" the parameters:
  // both are read below, once the optimizer has laid the parameters out.
  if (!run.resume_from) {
    switch (run.init.kind) {
      case ModelInit::Kind::random:
        initialize_parameters(s.params, static_cast<std::uint64_t>(cfg.run.seed),
                              *s.device.kernels);
        break;
      case ModelInit::Kind::llmc:
        load_llmc_checkpoint(run.init.path, s.dims, s.params, *s.device.kernels);
        break;
      case ModelInit::Kind::checkpoint:
        break;
    }
  }
  if (!cfg.logging.trace.empty()) {
    s.trace = std::make_unique<TraceRecorder>(
        s.rank, "rank " + std::to_string(s.rank) + " (tp " + std::to_string(s.coords.tensor) +
                    ", pp " + std::to_string(s.coords.pipeline) + ", dp " +
                    std::to_string(s.coords.data) + ")");
  }
  OptimizerSetup optimizer;
  for (auto& [stage, chunk] : s.chunks)
    for (const auto& layer : chunk->layers())
      optimizer.stage_layers[stage].push_back(layer->parameters());
  optimizer.tied_table = s.tied_table;
  optimizer.tied_table_is_copy = s.tied_table && !s.first_stage_here();
  optimizer.groups = &s.groups;
  optimizer.coords = s.coords;
  optimizer.settings = {static_cast<float>(cfg.optim.beta1), static_cast<float>(cfg.optim.beta2),
                        static_cast<float>(cfg.optim.eps),
                        static_cast<float>(cfg.optim.weight_decay)};
  optimizer.kernels = s.device.kernels.get();
  optimizer.allocator = s.device.allocator;
  optimizer.bucket_bytes = static_cast<std::size_t>(cfg.parallel.dp_bucket_mb * 1024 * 1024);
  optimizer.trace = s.trace.get();
  s.optimizer = make_optimizer(static_cast<int>(cfg.optim.zero), std::move(optimizer));
  s.faults = TestFaults::from_environment(s.rank);
  s.checkpoints =
      std::make_unique<TrainingCheckpoints>(run, *s.groups.world, *s.device.kernels, s.faults);

  ExecutorSetup setup;
  setup.plan = &s.plan;
  setup.pipeline_rank = s.coords.pipeline;
  for (auto& [stage, chunk] : s.chunks) setup.chunks[stage] = chunk.get();
  setup.pipeline = s.groups.pipeline.get();
  setup.activation_shape = s.family->activation_shape();
  setup.allocator = s.device.allocator;
  setup.kernels = s.device.kernels.get();
  setup.trace = s.trace.get();
  setup.wait_for_compute = s.device.wait_for_compute;
  s.executor = std::make_unique<PipelineExecutor>(setup);
  setup.plan = &s.eval_plan;
  setup.trace = nullptr;
  s.eval_executor = std::make_unique<PipelineExecutor>(setup);

  if (s.first_stage_here() || s.last_stage_here()) {
    s.train_data.emplace(TokenDataset::open(run.train.path, s.dims.vocab_size));
    if (run.val) s.val_data.emplace(TokenDataset::open(run.val->path, s.dims.vocab_size));
  }
  s.lr = {run.lr_schedule == LrSchedule::cosine, cfg.optim.lr, cfg.optim.min_lr,
          cfg.optim.warmup_steps, cfg.run.steps};

  if (s.reports) {
    const ParallelSizes& z = run.layout.sizes();
    std::fprintf(console,
                 "trellis: run '%s': %lld steps on %d rank%s (tensor %d x pipeline %d x data %d, "
                 "%s), %s\n",
                 cfg.run.name.c_str(), static_cast<long long>(cfg.run.steps), run.world_size,
                 run.world_size == 1 ? "" : "s", z.tensor, z.pipeline, z.data,
                 run.world_size == 1 ? "no communication" : cfg.comm.backend.c_str(),
                 s.device.description.c_str());
    std::fprintf(console,
                 "model: %lld layers, %lld heads, hidden %lld, vocab %lld (padded %lld), seq %lld: "
                 "%s parameters (%s)\n",
                 static_cast<long long>(s.dims.layers), static_cast<long long>(s.dims.heads),
                 static_cast<long long>(s.dims.hidden), static_cast<long long>(s.dims.vocab_size),
                 static_cast<long long>(s.dims.padded_vocab), static_cast<long long>(s.T),
                 millions(parameter_count(s.dims)).c_str(),
                 run.resume_from                            ? "resumed from a checkpoint"
                 : run.init.kind == ModelInit::Kind::random ? "random init"
                                                            : run.init.path.c_str());
    if (s.train_data) {
      std::fprintf(console, "data: %s (%s, %lld tokens): %lld steps per epoch\n",
                   run.train.path.c_str(),
                   s.train_data->is_text() ? "text, byte tokens" : "llm.c tokens",
                   static_cast<long long>(s.train_data->tokens()),
                   static_cast<long long>(s.train_data->batches_per_epoch(s.G, s.T)));
    }
    std::fprintf(console, "batch: %lld sequences = %lld microbatches of %lld per data rank x %d\n",
                 static_cast<long long>(s.G), static_cast<long long>(s.M),
                 static_cast<long long>(s.B), run.layout.sizes().data);
    if (!s.blas_line.empty()) std::fprintf(console, "%s\n", s.blas_line.c_str());
    std::fprintf(console, "%s\n", s.mfu_peak->line().c_str());
  }
  s.start_step = s.checkpoints->load(*s.optimizer, console, s.reports);
}

Trainer::~Trainer() = default;

TrainSummary Trainer::train() {
  State& s = *s_;
  const RunConfig& cfg = s.run.config;
  std::optional<MetricsWriter> metrics;
  if (s.reports) {
    // A resumed run continues the metrics of the steps its checkpoint holds; lines of later
    // steps (trained after the checkpoint, then lost) are dropped and trained again.
    const bool resumed = s.start_step > 0;
    if (resumed) keep_metrics_through(cfg.logging.metrics, s.start_step);
    metrics.emplace(cfg.logging.metrics, resumed);
    std::fprintf(s.console, "metrics: %s\n", metrics->file().c_str());
  }
  ProgressView progress(cfg.run.steps, cfg.logging.every, cfg.logging.progress && s.reports,
                        s.console);
  const double tokens_per_step = static_cast<double>(s.G * s.T);
  const double step_flops = flops_per_token(s.dims) * tokens_per_step;
  std::optional<MfuMeter> mfu;
  if (s.mfu_peak) mfu.emplace(*s.mfu_peak, s.run.world_size);
  s.device.allocator->reset_peak();

  TrainSummary summary;
  auto start = Clock::now();
  for (std::int64_t step = s.start_step; step < cfg.run.steps; ++step) {
    auto t0 = Clock::now();
    const double trace_start = TraceRecorder::now_us();
    for (Parameter* p : s.params) s.device.kernels->fill(p->grad, 0.0f);
    std::vector<Microbatch> mbs =
        s.microbatches(step, true, s.train_data ? &*s.train_data : nullptr);
    const std::size_t live_before = s.device.allocator->current_bytes();
    // With dp_overlap, each gradient bucket's reduction starts as backward completes it;
    // without, finish_gradient_reduction starts them all after backward.
    std::function<void(int, int)> layer_done;
    if (cfg.parallel.dp_overlap) {
      layer_done = [&](int stage, int layer) { s.optimizer->layer_gradients_done(stage, layer); };
    }
    double local_loss = s.executor->run_step(mbs, layer_done);
    s.faults.at_step(step + 1);
    const double reduction_start = TraceRecorder::now_us();
    s.optimizer->finish_gradient_reduction();
    if (s.trace) {
      s.trace->slice("gradient reduction", TraceRecorder::Track::communication, reduction_start,
                     TraceRecorder::now_us());
    }
    double loss_sum = s.global_loss_sum(local_loss);
    double norm = s.optimizer->grad_norm();
    if (cfg.optim.grad_clip > 0.0) {
      // As torch.nn.utils.clip_grad_norm_.
      double coef = cfg.optim.grad_clip / (norm + 1e-6);
      if (coef < 1.0) s.optimizer->scale_gradients(static_cast<float>(coef));
    }
    double lr = learning_rate(s.lr, step);
    s.optimizer->step(static_cast<float>(lr));
    if (s.trace) {
      if (s.device.wait_for_compute) s.device.wait_for_compute();  // the update's kernels too
      // live_bytes: held when the pipeline started (parameters, gradients, optimizer state, the
      // step's tokens), against which the compute slices' live_bytes measure activations.
      s.trace->slice("step " + std::to_string(step + 1), TraceRecorder::Track::step, trace_start,
                     TraceRecorder::now_us(), {{"live_bytes", static_cast<long>(live_before)}});
    }
    double seconds = seconds_since(t0);

    StepMetrics m;
    m.step = step + 1;
    m.loss = loss_sum / tokens_per_step;
    m.lr = lr;
    m.grad_norm = norm;
    m.step_ms = seconds * 1e3;
    m.tokens_per_s = tokens_per_step / seconds;
    if (mfu) {
      m.mfu = mfu->utilization(step_flops, seconds, m.step);
      m.peak_gflops = mfu->peak().flops_per_s / 1e9;
      m.peak_source = mfu->peak().source_name();
      if (auto notice = mfu->take_notice()) progress.message(*notice);
    }
    m.peak_mem_bytes = static_cast<std::uint64_t>(
        all_reduce_scalar(*s.groups.world, static_cast<double>(s.device.allocator->peak_bytes()),
                          ReduceOp::max, s.device.allocator, *s.device.kernels));
    const bool last = step + 1 == cfg.run.steps;
    const std::int64_t val_every = cfg.data.val_every;
    if (s.run.val && (last || (val_every > 0 && (step + 1) % val_every == 0))) {
      m.val_loss = s.evaluate();
    }
    if (metrics) metrics->write(m);
    progress.update(m);
    if (step == s.start_step) summary.first_loss = m.loss;
    summary.final_loss = m.loss;
    summary.val_loss = m.val_loss;
    if (!std::isfinite(m.loss)) {
      progress.finish();
      throw Error("the loss became " + std::to_string(m.loss) + " at step " +
                  std::to_string(m.step) + "; lower [optim] lr or enable [optim] grad_clip");
    }
    const std::string saved = s.checkpoints->after_step(step + 1, *s.optimizer);
    if (s.reports && !saved.empty()) progress.message(saved);
  }
  progress.finish();
  if (s.run.export_llmc) s.export_llmc(*s.run.export_llmc);
  if (s.trace) {
    // Each rank writes its part; rank 0 merges them once everyone has written.
    const std::filesystem::path file = cfg.logging.trace;
    const std::filesystem::path part = file.string() + ".rank" + std::to_string(s.rank);
    {
      std::ofstream out(part, std::ios::trunc);
      out << s.trace->events_json();
    }
    s.groups.world->barrier()->wait();
    if (s.reports) {
      std::vector<std::string> parts;
      for (int r = 0; r < s.run.world_size; ++r) {
        const std::filesystem::path p = file.string() + ".rank" + std::to_string(r);
        std::ifstream in(p);
        std::ostringstream text;
        text << in.rdbuf();
        parts.push_back(text.str());
        std::error_code ec;
        std::filesystem::remove(p, ec);
      }
      TraceRecorder::write_file(file, parts);
      std::fprintf(s.console, "trace: %s (open it in ui.perfetto.dev)\n", file.c_str());
    }
  }
  summary.steps = cfg.run.steps - std::min(s.start_step, cfg.run.steps);
  summary.seconds = seconds_since(start);
  summary.reports = s.reports;
  return summary;
}

}  // namespace trellis

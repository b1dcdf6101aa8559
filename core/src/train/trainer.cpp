#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <optional>

#include "comm/flight_log.h"
#include "comm/flight_signal_dump.h"
#include "data_parallel/all_reduce_scalar.h"
#include "data_parallel/optimizer.h"
#include "dataset/token_dataset.h"
#include "device/cpu_features.h"
#include "device/loaded_openblas.h"
#include "kernels/compute_device.h"
#include "kernels/host_transfer.h"
#include "launch/flight_gathering.h"
#include "launch/rank_environment.h"
#include "launch/run_groups.h"
#include "pipeline/executor.h"
#include "trace/trace.h"
#include "train/context_tokens.h"
#include "train/lr_schedule.h"
#include "train/mfu_peak.h"
#include "train/model_export.h"
#include "train/model_flops.h"
#include "train/openblas_line.h"
#include "train/rank_model.h"
#include "train/run_banner.h"
#include "train/step_metrics.h"
#include "train/test_faults.h"
#include "train/trace_merge.h"
#include "train/training_checkpoints.h"
#include "train/training_sample.h"
#include "trellis/error.h"
#include "trellis/rank_groups.h"

namespace trellis {

namespace {

// Operations kept per group in the flight record: a few steps of a small model's, the last
// microbatches of a large one's.
constexpr std::size_t kFlightRecordOperations = 256;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
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

DeviceChoice device_choice(const ResolvedRun& run, const RankEnvironment& rank_env) {
  DeviceChoice choice;
  choice.kind = run.device;
  choice.bf16 = run.config.device.precision == "bf16";
  choice.threads = static_cast<int>(run.config.device.threads);
  choice.local_rank = rank_env.local_rank;
  choice.local_world_size = rank_env.local_world_size;
  choice.world_size = run.world_size;
  return choice;
}

// What one optimizer step computed, before its figures are put together.
struct StepOutcome {
  double loss_sum = 0.0;              // summed token loss of the global batch
  std::optional<MoeStepMetrics> moe;  // over every rank; with [model] experts > 0
  double grad_norm = 0.0;
  double lr = 0.0;
};

}  // namespace

struct Trainer::State {
  const ResolvedRun& run;
  const RunEnvironment environment;  // the process's, as the run was loaded with it
  std::FILE* console;
  RankEnvironment rank_env;  // the rank's place in the world, read from `environment`
  std::int64_t B = 1, T = 1, G = 1, M = 1;
  int rank = 0;
  RankCoords coords;
  bool reports = false;  // this rank prints and writes the metrics (world rank 0)
  ComputeDevice device;  // its allocator and kernels: everything this rank computes with
  // With more than one rank: the flight record of the groups' operations, written to flight_dir
  // when the rank fails or is signalled (comm/flight_log.h). Declared before the groups, which
  // record into it.
  std::shared_ptr<FlightLog> flight;
  std::filesystem::path flight_dir;
  std::unique_ptr<FlightSignalDump> flight_dump;
  // Without a trellis launcher (a user's own mpirun or srun): the ranks gather the records
  // themselves when one fails (launch/flight_gathering.h).
  std::optional<FlightGathering> flight_gathering;
  RankGroups groups;
  PipelinePlan plan, eval_plan;
  std::optional<RankModel> model;
  // Gradient reduction, norm, clipping and AdamW: replicated, or distributed with [optim] zero = 1.
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<TrainingCheckpoints> checkpoints;
  TestFaults faults;
  std::int64_t start_step = 0;  // steps done before this run (a resumed run's checkpoint)
  std::optional<TokenDataset> train_data, val_data;
  std::unique_ptr<TrainingSampler> sampler;  // [logging] sample_every
  std::unique_ptr<PipelineExecutor> executor, eval_executor;
  std::unique_ptr<TraceRecorder> trace;
  LrScheduleSpec lr;
  std::optional<MfuPeak> mfu_peak;  // world rank 0's, the only one that reports MFU
  std::vector<std::int32_t> host_tokens, host_targets;  // a microbatch on its way to the device
  std::vector<std::int32_t> kept_tokens, kept_targets;  // this context rank's chunks of them

  State(const ResolvedRun& r, const RunEnvironment& e, std::FILE* out)
      : run(r), environment(e), console(out) {}

  void set_up_optimizer();
  // The steps of train(), from start_step on.
  void train_steps(std::optional<MetricsWriter>& metrics, ProgressView& progress,
                   std::optional<MfuMeter>& mfu, TrainSummary& summary);
  // Writes the flight record (when there is one), saying where; `reason`: why.
  void write_flight_record(const std::string& reason);
  void set_up_executors();
  std::vector<Microbatch> microbatches(std::int64_t step, bool training, const TokenDataset* data);
  StepOutcome run_step(std::int64_t step);
  StepMetrics step_metrics(std::int64_t step, const StepOutcome& outcome, double seconds,
                           std::optional<MfuMeter>& mfu, ProgressView& progress);
  bool validation_due(std::int64_t step) const;
  // The loss summed over the world; TRELLIS_TEST_FAULT's skip and mismatch act here, at training
  // step `step` (0-based; -1: validation, never).
  double global_loss_sum(double local, std::int64_t step);
  MoeStepMetrics global_moe_metrics(const MoeStatistics& local);
  double evaluate();
  void finish();
};

Trainer::Trainer(const ResolvedRun& run, const RunEnvironment& environment, std::FILE* console,
                 const DeviceWrapper& wrap_device)
    : s_(std::make_unique<State>(run, environment, console)) {
  State& s = *s_;
  const RunConfig& cfg = run.config;
  s.rank_env = RankEnvironment::detect(environment.lookup());
  if (s.rank_env.world_size != run.world_size) {
    throw InputError("the run is for " + std::to_string(run.world_size) +
                     " ranks but this process " + "is one of " +
                     std::to_string(s.rank_env.world_size) + "; start it with trellis-run -n " +
                     std::to_string(run.world_size) + " or let trellis-train launch itself");
  }
  s.rank = s.rank_env.rank;
  s.coords = run.layout.coords(s.rank);
  s.reports = s.rank == 0;
  s.B = cfg.train.micro_batch;
  s.T = run.dims.seq_len;
  s.G = cfg.train.global_batch;
  s.M = run.microbatches;

  s.device = open_compute_device(device_choice(run, s.rank_env), wrap_device);
  // Rank 0 finds the MFU peak before the world exists: a probe then runs while the other ranks
  // wait for it in the rendezvous, not while they compute.
  if (s.reports) s.mfu_peak = choose_mfu_peak(mfu_peak_request(run, s.device));
  if (run.world_size > 1) {
    s.flight = std::make_shared<FlightLog>(s.rank, run.world_size, kFlightRecordOperations);
    s.flight_dir = environment.flight_dir ? std::filesystem::path(*environment.flight_dir)
                                          : std::filesystem::path(cfg.run.out_dir) / "flight";
    s.flight_dump = std::make_unique<FlightSignalDump>(s.flight, s.flight_dir);
    if (!environment.flight_dir) FlightGathering::clear_earlier_run(s.flight_dir, s.rank);
  }
  s.groups = make_run_groups(run, s.rank_env, s.device.device, s.flight);
  if (s.flight && !environment.flight_dir)
    s.flight_gathering.emplace(s.flight_dir, s.rank, run.world_size);
  std::string blas_line;  // collective: every rank takes part
  if (run.device == DeviceKind::cpu) blas_line = ranks_openblas_line(run, s.groups, s.device);

  // The pipeline plan: the schedule's (already simulated by the config check) or one stage.
  s.plan = run.pipeline_plan ? *run.pipeline_plan : single_stage_plan(static_cast<int>(s.M));
  s.eval_plan = forward_only_plan(s.plan);
  // The trace before the model: a context plugin's attention records into it.
  if (!cfg.logging.trace.empty()) {
    s.trace = std::make_unique<TraceRecorder>(
        s.rank, "rank " + std::to_string(s.rank) + " (tp " + std::to_string(s.coords.tensor) +
                    ", cp " + std::to_string(s.coords.context) + ", pp " +
                    std::to_string(s.coords.pipeline) + ", dp " + std::to_string(s.coords.data) +
                    ")");
  }
  // [device] memory_limit_mb: the rank trains as if on a device of that size (every tensor of
  // the model counts, parameters and optimizer state included; the MFU probe before it does not).
  s.device.allocator->set_limit(static_cast<std::size_t>(cfg.device.memory_limit_mb) << 20);
  s.model.emplace(run, s.plan, s.coords.pipeline, s.groups, s.device.allocator,
                  s.device.kernels.get(), s.trace.get());
  s.model->initialize(run, *s.device.kernels);
  s.set_up_optimizer();
  s.faults = TestFaults::from_setting(environment.test_fault, s.rank);
  s.checkpoints =
      std::make_unique<TrainingCheckpoints>(run, *s.groups.world, *s.device.kernels, s.faults);
  s.set_up_executors();
  if (s.model->holds_first_stage() || s.model->holds_last_stage()) {
    // Text is encoded with [data] tokenizer (bytes by default) here, once, on each reading rank.
    s.train_data.emplace(TokenDataset::open(run.train.path, run.dims.vocab_size, *run.tokenizer));
    if (run.val) {
      s.val_data.emplace(TokenDataset::open(run.val->path, run.dims.vocab_size, *run.tokenizer));
    }
  }
  s.sampler = std::make_unique<TrainingSampler>(run, s.train_data ? &*s.train_data : nullptr);
  s.lr = {run.lr_schedule == LrSchedule::cosine, cfg.optim.lr, cfg.optim.min_lr,
          cfg.optim.warmup_steps, cfg.run.steps};
  if (s.reports) {
    print_run_banner(console, run,
                     {s.device.description, group_backends_text(s.groups),
                      s.train_data ? &*s.train_data : nullptr, blas_line, &*s.mfu_peak});
  }
  // A resumed run takes everything from its checkpoint, and "checkpoint:DIR" the parameters:
  // both are read now that the optimizer has laid the parameters out.
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
                        s.console, s.environment.output_terminal);
  std::optional<MfuMeter> mfu;
  if (s.mfu_peak) mfu.emplace(*s.mfu_peak, s.run.world_size);
  s.device.allocator->reset_peak();

  TrainSummary summary;
  auto start = Clock::now();
  try {
    s.train_steps(metrics, progress, mfu, summary);
  } catch (const Error& e) {
    s.write_flight_record(e.what());
    throw;
  }
  progress.finish();
  s.finish();
  summary.steps = cfg.run.steps - std::min(s.start_step, cfg.run.steps);
  summary.seconds = seconds_since(start);
  summary.reports = s.reports;
  return summary;
}

void Trainer::State::train_steps(std::optional<MetricsWriter>& metrics, ProgressView& progress,
                                 std::optional<MfuMeter>& mfu, TrainSummary& summary) {
  State& s = *this;
  const RunConfig& cfg = s.run.config;
  for (std::int64_t step = s.start_step; step < cfg.run.steps; ++step) {
    if (s.flight) s.flight->set_step(step + 1);
    auto t0 = Clock::now();
    const StepOutcome outcome = s.run_step(step);
    StepMetrics m = s.step_metrics(step, outcome, seconds_since(t0), mfu, progress);
    if (s.validation_due(step)) m.val_loss = s.evaluate();
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
    if (s.sampler->due(step)) {
      const std::string sample = s.sampler->sample(step, *s.model, s.coords, *s.groups.world,
                                                   *s.device.kernels, s.device.allocator);
      if (s.reports) progress.message(sample);
    }
  }
}

void Trainer::State::write_flight_record(const std::string& reason) {
  if (!flight) return;
  try {
    const std::filesystem::path file = flight->write(flight_dir, reason);
    std::fprintf(stderr, "trellis: rank %d: flight record written to %s\n", rank, file.c_str());
    if (!flight_gathering) return;
    const std::optional<std::string> report = flight_gathering->after_failure();
    if (report) {
      std::fprintf(stderr, "trellis: rank %d: the ranks' flight records (%s):\n%s", rank,
                   flight_dir.c_str(), report->c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "trellis: rank %d: %s\n", rank, e.what());
  }
}

void Trainer::State::set_up_optimizer() {
  const RunConfig& cfg = run.config;
  OptimizerSetup setup;
  for (auto& [stage, chunk] : model->chunks())
    for (const auto& layer : chunk->layers())
      setup.stage_layers[stage].push_back(layer->parameters());
  setup.tied_table = model->tied_table();
  setup.tied_table_is_copy = model->tied_table_is_copy();
  setup.groups = &groups;
  setup.coords = coords;
  setup.settings = {static_cast<float>(cfg.optim.beta1), static_cast<float>(cfg.optim.beta2),
                    static_cast<float>(cfg.optim.eps), static_cast<float>(cfg.optim.weight_decay)};
  setup.kernels = device.kernels.get();
  setup.allocator = device.allocator;
  setup.bucket_bytes = static_cast<std::size_t>(cfg.parallel.dp_bucket_mb * 1024 * 1024);
  setup.trace = trace.get();
  optimizer = make_optimizer(static_cast<int>(cfg.optim.zero), std::move(setup));
}

// The training step's executor, and validation's (forwards only, never traced).
void Trainer::State::set_up_executors() {
  ExecutorSetup setup;
  setup.plan = &plan;
  setup.pipeline_rank = coords.pipeline;
  for (auto& [stage, chunk] : model->chunks()) setup.chunks[stage] = chunk.get();
  setup.pipeline = groups.pipeline.get();
  setup.activation_shape = model->family().activation_shape();
  setup.allocator = device.allocator;
  setup.kernels = device.kernels.get();
  setup.trace = trace.get();
  setup.flight = flight.get();
  setup.wait_for_compute = device.wait_for_compute;
  executor = std::make_unique<PipelineExecutor>(setup);
  setup.plan = &eval_plan;
  setup.trace = nullptr;
  eval_executor = std::make_unique<PipelineExecutor>(setup);
}

// The microbatches of step `step` for this rank: its data rank's share of the global batch, the
// tokens of each sequence its context rank holds.
// Only the pipeline's ends read data (tokens at the first stage, targets at the last); the
// stages between get microbatches with ids and the loss scale only.
std::vector<Microbatch> Trainer::State::microbatches(std::int64_t step, bool training,
                                                     const TokenDataset* data) {
  const std::int64_t per_data_rank = G / run.layout.sizes().data;
  std::vector<Microbatch> out;
  for (std::int64_t m = 0; m < M; ++m) {
    Microbatch mb;
    mb.id = static_cast<int>(m);
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(G * T));
    mb.aux_loss_scale = static_cast<float>(static_cast<double>(B) / static_cast<double>(G));
    mb.training = training;
    if (data != nullptr) {
      // Read on the host, then copied to the device the model runs on. The B sequences are read
      // whole; a context rank keeps its chunks of each.
      const auto count = static_cast<std::size_t>(B * T);
      host_tokens.resize(count);
      host_targets.resize(count);
      data->read(
          step, G, T, coords.data * per_data_rank + m * B, B, run.config.data.shuffle && training,
          static_cast<std::uint64_t>(run.config.run.seed), host_tokens.data(), host_targets.data());
      const ContextChunks& chunks = model->context_chunks();
      const std::int64_t Tl = chunks.local_len();
      if (chunks.size > 1) {
        kept_tokens.resize(static_cast<std::size_t>(B * Tl));
        kept_targets.resize(static_cast<std::size_t>(B * Tl));
        keep_context_chunks(host_tokens, B, chunks, kept_tokens);
        keep_context_chunks(host_targets, B, chunks, kept_targets);
      }
      mb.tokens = Tensor::empty({B, Tl}, DType::i32, device.allocator);
      mb.targets = Tensor::empty({B, Tl}, DType::i32, device.allocator);
      copy_from_host(*device.kernels, chunks.size > 1 ? kept_tokens : host_tokens, mb.tokens);
      copy_from_host(*device.kernels, chunks.size > 1 ? kept_targets : host_targets, mb.targets);
    }
    out.push_back(std::move(mb));
  }
  return out;
}

// One optimizer step: the pipeline's forwards and backwards over this rank's microbatches, the
// gradients completed over the data replicas and the tied table, the norm, clipping and AdamW.
StepOutcome Trainer::State::run_step(std::int64_t step) {
  const RunConfig& cfg = run.config;
  const double trace_start = TraceRecorder::now_us();
  for (Parameter* p : model->parameters()) device.kernels->fill(p->grad, 0.0f);
  std::vector<Microbatch> mbs = microbatches(step, true, train_data ? &*train_data : nullptr);
  const std::size_t live_before = device.allocator->current_bytes();
  // With dp_overlap, each gradient bucket's reduction starts as backward completes it;
  // without, finish_gradient_reduction starts them all after backward.
  std::function<void(int, int)> layer_done;
  if (cfg.parallel.dp_overlap) {
    layer_done = [&](int stage, int layer) { optimizer->layer_gradients_done(stage, layer); };
  }
  const double local_loss = executor->run_step(mbs, layer_done);
  faults.at_step(step + 1);
  const double reduction_start = TraceRecorder::now_us();
  if (flight) flight->set_activity("gradient reduction");
  optimizer->finish_gradient_reduction();
  if (trace) {
    trace->slice("gradient reduction", TraceRecorder::Track::communication, reduction_start,
                 TraceRecorder::now_us());
  }
  StepOutcome outcome;
  if (flight) flight->set_activity("loss all-reduce");
  outcome.loss_sum = global_loss_sum(local_loss, step);
  if (run.moe.experts > 0) outcome.moe = global_moe_metrics(model->family().take_moe_statistics());
  if (flight) flight->set_activity("gradient norm");
  outcome.grad_norm = optimizer->grad_norm();
  if (cfg.optim.grad_clip > 0.0) {
    // As torch.nn.utils.clip_grad_norm_.
    double coef = cfg.optim.grad_clip / (outcome.grad_norm + 1e-6);
    if (coef < 1.0) optimizer->scale_gradients(static_cast<float>(coef));
  }
  outcome.lr = learning_rate(lr, step);
  if (flight) flight->set_activity("optimizer update");
  optimizer->step(static_cast<float>(outcome.lr));
  if (flight) flight->set_activity("after the step (metrics, validation, checkpoints)");
  if (trace) {
    if (device.wait_for_compute) device.wait_for_compute();  // the update's kernels too
    // live_bytes: held when the pipeline started (parameters, gradients, optimizer state, the
    // step's tokens), against which the compute slices' live_bytes measure activations.
    trace->slice("step " + std::to_string(step + 1), TraceRecorder::Track::step, trace_start,
                 TraceRecorder::now_us(), {{"live_bytes", static_cast<long>(live_before)}});
  }
  return outcome;
}

// The step's metrics line. Collective: the peak memory is the largest over the ranks.
StepMetrics Trainer::State::step_metrics(std::int64_t step, const StepOutcome& outcome,
                                         double seconds, std::optional<MfuMeter>& mfu,
                                         ProgressView& progress) {
  const double tokens_per_step = static_cast<double>(G * T);
  StepMetrics m;
  m.step = step + 1;
  m.loss = outcome.loss_sum / tokens_per_step;
  m.lr = outcome.lr;
  m.grad_norm = outcome.grad_norm;
  m.moe = outcome.moe;
  m.step_ms = seconds * 1e3;
  m.tokens_per_s = tokens_per_step / seconds;
  if (mfu) {
    m.mfu = mfu->utilization(flops_per_token(run.dims, run.moe, run.arch) * tokens_per_step,
                             seconds, m.step);
    m.peak_gflops = mfu->peak().flops_per_s / 1e9;
    m.peak_source = mfu->peak().source_name();
    if (auto notice = mfu->take_notice()) progress.message(*notice);
  }
  // Each rank's peak in its pipeline rank's slot, the largest of each slot over the world (a
  // pipeline's stages hold different activations: the first holds the most).
  std::vector<double> peaks(static_cast<std::size_t>(run.layout.sizes().pipeline), 0.0);
  peaks[static_cast<std::size_t>(coords.pipeline)] =
      static_cast<double>(device.allocator->peak_bytes());
  peaks = all_reduce_values(*groups.world, peaks, ReduceOp::max, device.allocator, *device.kernels);
  for (double p : peaks) {
    m.peak_mem_bytes_by_pipeline_rank.push_back(static_cast<std::uint64_t>(p));
    m.peak_mem_bytes = std::max(m.peak_mem_bytes, m.peak_mem_bytes_by_pipeline_rank.back());
  }
  return m;
}

// Validation runs every [data] val_every steps and after the last, when there is a val file.
bool Trainer::State::validation_due(std::int64_t step) const {
  const bool last = step + 1 == run.config.run.steps;
  const std::int64_t val_every = run.config.data.val_every;
  return run.val && (last || (val_every > 0 && (step + 1) % val_every == 0));
}

// The summed token loss of the global batch, on every rank: the last stage's tensor rank 0
// of each data and context rank contributes its sum (context ranks hold disjoint tokens).
double Trainer::State::global_loss_sum(double local, std::int64_t step) {
  const bool contributes = model->holds_last_stage() && coords.tensor == 0;
  if (faults.skips_loss_reduction(step + 1)) return local;
  if (faults.mismatches_loss_reduction(step + 1)) {
    return all_reduce_values(*groups.world, {contributes ? local : 0.0, 0.0}, ReduceOp::sum,
                             device.allocator, *device.kernels)
        .front();
  }
  return all_reduce_scalar(*groups.world, contributes ? local : 0.0, ReduceOp::sum,
                           device.allocator, *device.kernels);
}

// The step's routing over the world: every pipeline and data rank's MoE blocks, from tensor rank
// 0 (every tensor rank routes the same tokens). The counts travel as f32 (all_reduce_values):
// exact up to 2^24 token choices a step.
MoeStepMetrics Trainer::State::global_moe_metrics(const MoeStatistics& local) {
  const bool contributes = coords.tensor == 0 && local.routed_count > 0;
  std::vector<double> sums = {0.0, 0.0, 0.0, 0.0};
  // Negated minimum and maximum, so that one max-reduction finds both; ranks without routing
  // send less than any count's negation (f32 holds -1e30).
  std::vector<double> extremes = {-1e30, -1e30};
  if (contributes) {
    sums = {local.aux_loss, static_cast<double>(local.dropped),
            static_cast<double>(local.routed_sum), static_cast<double>(local.routed_count)};
    extremes = {-static_cast<double>(local.routed_min), static_cast<double>(local.routed_max)};
  }
  sums = all_reduce_values(*groups.world, sums, ReduceOp::sum, device.allocator, *device.kernels);
  extremes =
      all_reduce_values(*groups.world, extremes, ReduceOp::max, device.allocator, *device.kernels);
  MoeStepMetrics m;
  m.aux_loss = sums[0] / static_cast<double>(G / B);  // the mean over the global microbatches
  m.dropped_tokens = static_cast<std::int64_t>(std::llround(sums[1]));
  m.tokens_per_expert_mean = sums[3] > 0.0 ? sums[2] / sums[3] : 0.0;
  m.tokens_per_expert_min = -extremes[0];
  m.tokens_per_expert_max = extremes[1];
  return m;
}

// Mean loss over the first [data] val_batches global batches of the validation file. Every
// rank knows the count from the file's header (the middle stages do not open it).
double Trainer::State::evaluate() {
  const std::int64_t in_file = (run.val->tokens - 1) / (G * T);
  const std::int64_t batches = std::min<std::int64_t>(in_file, run.config.data.val_batches);
  double sum = 0.0;
  if (flight) flight->set_activity("validation");
  for (std::int64_t b = 0; b < batches; ++b) {
    sum += global_loss_sum(
        eval_executor->run_step(microbatches(b, false, val_data ? &*val_data : nullptr)), -1);
  }
  return sum / static_cast<double>(batches * G * T);
}

// After the last step: the exports and the merged trace, when the run asks for them.
void Trainer::State::finish() {
  export_trained_model(run, *model, coords, *groups.world, *device.kernels, console);
  if (trace) {
    const std::filesystem::path file = run.config.logging.trace;
    if (write_merged_trace(*trace, file, *groups.world))
      std::fprintf(console, "trace: %s (open it in ui.perfetto.dev)\n", file.c_str());
  }
}

}  // namespace trellis

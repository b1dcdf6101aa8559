#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "data/token_dataset.h"
#include "device/cuda_probe.h"
#include "kernels/cpu/cpu_kernels.h"
#include "model/llmc_checkpoint.h"
#include "model/model_chunk.h"
#include "model/param_init.h"
#include "train/adamw_optimizer.h"
#include "train/lr_schedule.h"
#include "train/model_flops.h"
#include "train/step_metrics.h"
#include "trellis/error.h"

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

}  // namespace

struct Trainer::State {
  const ResolvedRun& run;
  std::FILE* console;
  ModelDims dims;
  std::int64_t B = 1, T = 1, G = 1, M = 1;
  std::shared_ptr<Allocator> allocator;
  std::shared_ptr<Kernels> kernels;
  std::shared_ptr<LayerFamily> family;
  std::unique_ptr<ModelChunk> chunk;
  std::vector<Parameter*> params;
  std::unique_ptr<AdamWOptimizer> optimizer;
  std::optional<TokenDataset> train_data;
  std::optional<TokenDataset> val_data;
  LrScheduleSpec lr;
  double peak_flops = 0.0;

  State(const ResolvedRun& r, std::FILE* out) : run(r), console(out) {}

  // Forward and backward of one microbatch of step `step`; returns its summed token losses.
  double microbatch(std::int64_t step, std::int64_t m, bool training, const TokenDataset& data) {
    Tensor tokens = Tensor::empty({B, T}, DType::i32, allocator);
    Tensor targets = Tensor::empty({B, T}, DType::i32, allocator);
    data.read(step, G, T, m * B, B, run.config.data.shuffle && training,
              static_cast<std::uint64_t>(run.config.run.seed), tokens.data<std::int32_t>(),
              targets.data<std::int32_t>());
    Microbatch mb;
    mb.id = static_cast<int>(m);
    mb.tokens = tokens;
    mb.targets = targets;
    mb.loss_scale = static_cast<float>(1.0 / static_cast<double>(G * T));
    mb.training = training;
    Tensor loss = chunk->forward(mb, tokens);
    double sum = loss.data<float>()[0];
    if (training) chunk->backward(mb, Tensor());
    return sum;
  }

  double grad_norm() {
    double total = 0.0;
    for (Parameter* p : params) {
      total += kernels->sum_squares(p->grad) / static_cast<double>(p->tensor_replicas);
    }
    return std::sqrt(total);
  }

  // Mean loss over the first [data] val_batches global batches of the validation file.
  double evaluate() {
    std::int64_t batches =
        std::min<std::int64_t>(val_data->batches_per_epoch(G, T), run.config.data.val_batches);
    double sum = 0.0;
    for (std::int64_t b = 0; b < batches; ++b) {
      for (std::int64_t m = 0; m < M; ++m) sum += microbatch(b, m, false, *val_data);
    }
    return sum / static_cast<double>(batches * G * T);
  }
};

Trainer::Trainer(const ResolvedRun& run, std::FILE* console)
    : s_(std::make_unique<State>(run, console)) {
  State& s = *s_;
  const RunConfig& cfg = run.config;
  if (run.world_size != 1) {
    throw InputError("this build trains on one rank; [launch] nproc = " +
                     std::to_string(run.world_size) + " needs a communication backend");
  }
  if (run.device == DeviceKind::cuda) {
    CudaProbe probe = probe_cuda();
    if (probe.device_count == 0) {
      throw InputError("[device] kind = \"cuda\", but " + probe.problem +
                       "; use kind = \"cpu\" on this machine");
    }
    throw InputError("[device] kind = \"cuda\": this build has no CUDA kernels yet; use \"cpu\"");
  }
  s.dims = run.dims;
  s.B = cfg.train.micro_batch;
  s.T = run.dims.seq_len;
  s.G = cfg.train.global_batch;
  s.M = run.microbatches;

  s.allocator = make_cpu_allocator();
  s.kernels = make_cpu_kernels(static_cast<int>(cfg.device.threads));
  s.peak_flops = measure_sgemm_peak(*s.kernels, s.allocator);

  LayerFamilyInit init;
  init.dims = s.dims;
  init.allocator = s.allocator;
  init.kernels = s.kernels.get();
  init.micro_batch = static_cast<int>(s.B);
  init.seed = static_cast<std::uint64_t>(cfg.run.seed);
  s.family = run.registry->make_layers(cfg.parallel.tensor_mode, init);
  s.chunk = std::make_unique<ModelChunk>(
      *s.family, chunk_spec(static_cast<int>(s.dims.layers), 1, 0), nullptr);
  s.params = s.chunk->parameters();

  switch (run.init.kind) {
    case ModelInit::Kind::random:
      initialize_parameters(s.params, static_cast<std::uint64_t>(cfg.run.seed));
      break;
    case ModelInit::Kind::llmc:
      load_llmc_checkpoint(run.init.path, s.dims, s.params);
      break;
    case ModelInit::Kind::checkpoint:
      throw InputError(
          "[model] init = \"checkpoint:...\": this build cannot read Trellis "
          "checkpoints yet; use \"random\" or \"llmc:PATH\"");
  }
  AdamWSettings adamw{static_cast<float>(cfg.optim.beta1), static_cast<float>(cfg.optim.beta2),
                      static_cast<float>(cfg.optim.eps),
                      static_cast<float>(cfg.optim.weight_decay)};
  s.optimizer = std::make_unique<AdamWOptimizer>(s.params, adamw, *s.kernels, s.allocator);

  s.train_data.emplace(TokenDataset::open(run.train.path, s.dims.vocab_size));
  std::int64_t epoch_steps = s.train_data->batches_per_epoch(s.G, s.T);
  if (run.val) {
    s.val_data.emplace(TokenDataset::open(run.val->path, s.dims.vocab_size));
    s.val_data->batches_per_epoch(s.G, s.T);
  }

  s.lr = {run.lr_schedule == LrSchedule::cosine, cfg.optim.lr, cfg.optim.min_lr,
          cfg.optim.warmup_steps, cfg.run.steps};

  std::fprintf(console, "trellis: run '%s': %lld steps on 1 rank, cpu, %d threads\n",
               cfg.run.name.c_str(), static_cast<long long>(cfg.run.steps), s.kernels->threads());
  std::fprintf(console,
               "model: %lld layers, %lld heads, hidden %lld, vocab %lld (padded %lld), seq %lld: "
               "%s parameters (%s)\n",
               static_cast<long long>(s.dims.layers), static_cast<long long>(s.dims.heads),
               static_cast<long long>(s.dims.hidden), static_cast<long long>(s.dims.vocab_size),
               static_cast<long long>(s.dims.padded_vocab), static_cast<long long>(s.T),
               millions(parameter_count(s.dims)).c_str(),
               run.init.kind == ModelInit::Kind::llmc ? run.init.path.c_str() : "random init");
  std::fprintf(console, "data: %s (%s, %lld tokens): %lld steps per epoch\n",
               run.train.path.c_str(),
               s.train_data->is_text() ? "text, byte tokens" : "llm.c tokens",
               static_cast<long long>(s.train_data->tokens()), static_cast<long long>(epoch_steps));
  std::fprintf(console, "batch: %lld sequences = %lld microbatches of %lld\n",
               static_cast<long long>(s.G), static_cast<long long>(s.M),
               static_cast<long long>(s.B));
  std::fprintf(console, "peak: sgemm 1024^3 at %.1f GFLOP/s (the MFU reference)\n",
               s.peak_flops / 1e9);
}

Trainer::~Trainer() = default;

TrainSummary Trainer::train() {
  State& s = *s_;
  const RunConfig& cfg = s.run.config;
  MetricsWriter metrics(cfg.logging.metrics, false);
  std::fprintf(s.console, "metrics: %s\n", metrics.file().c_str());
  ProgressView progress(cfg.run.steps, cfg.logging.every, cfg.logging.progress, s.console);
  const double tokens_per_step = static_cast<double>(s.G * s.T);
  const double step_flops = flops_per_token(s.dims) * tokens_per_step;
  s.allocator->reset_peak();

  TrainSummary summary;
  auto start = Clock::now();
  for (std::int64_t step = 0; step < cfg.run.steps; ++step) {
    auto t0 = Clock::now();
    for (Parameter* p : s.params) s.kernels->fill(p->grad, 0.0f);
    double loss_sum = 0.0;
    for (std::int64_t m = 0; m < s.M; ++m) loss_sum += s.microbatch(step, m, true, *s.train_data);
    double norm = s.grad_norm();
    if (cfg.optim.grad_clip > 0.0) {
      // As torch.nn.utils.clip_grad_norm_.
      double coef = cfg.optim.grad_clip / (norm + 1e-6);
      if (coef < 1.0) {
        for (Parameter* p : s.params) s.kernels->scale(p->grad, static_cast<float>(coef));
      }
    }
    double lr = learning_rate(s.lr, step);
    s.optimizer->step(static_cast<float>(lr));
    double seconds = seconds_since(t0);

    StepMetrics m;
    m.step = step + 1;
    m.loss = loss_sum / tokens_per_step;
    m.lr = lr;
    m.grad_norm = norm;
    m.step_ms = seconds * 1e3;
    m.tokens_per_s = tokens_per_step / seconds;
    m.mfu = step_flops / seconds / s.peak_flops;
    m.peak_mem_bytes = s.allocator->peak_bytes();
    const bool last = step + 1 == cfg.run.steps;
    const std::int64_t val_every = cfg.data.val_every;
    if (s.val_data && (last || (val_every > 0 && (step + 1) % val_every == 0))) {
      m.val_loss = s.evaluate();
    }
    metrics.write(m);
    progress.update(m);
    if (step == 0) summary.first_loss = m.loss;
    summary.final_loss = m.loss;
    summary.val_loss = m.val_loss;
    if (!std::isfinite(m.loss)) {
      progress.finish();
      throw Error("the loss became " + std::to_string(m.loss) + " at step " +
                  std::to_string(m.step) + "; lower [optim] lr or enable [optim] grad_clip");
    }
  }
  progress.finish();
  if (s.run.export_llmc) {
    std::error_code ec;
    if (s.run.export_llmc->has_parent_path()) {
      std::filesystem::create_directories(s.run.export_llmc->parent_path(), ec);
    }
    save_llmc_checkpoint(*s.run.export_llmc, s.dims, s.params);
    std::fprintf(s.console, "exported: %s (llm.c checkpoint)\n", s.run.export_llmc->c_str());
  }
  summary.steps = cfg.run.steps;
  summary.seconds = seconds_since(start);
  return summary;
}

}  // namespace trellis

// The figures of one optimizer step, and where they go: one JSON object per line in the
// metrics file (DESIGN.md's fields), and the console.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace trellis {

// The routing of a mixture-of-experts model's step (trellis/layer.h's MoeStatistics, over every
// rank): absent for a dense model.
struct MoeStepMetrics {
  double aux_loss = 0.0;  // the MoE blocks' aux losses summed, mean over the step's microbatches
  // Token choices routed to one expert by one MoE block in one microbatch, before capacity drops:
  // the least, the most and the mean over every (block, microbatch, expert) of the step.
  double tokens_per_expert_min = 0.0;
  double tokens_per_expert_max = 0.0;
  double tokens_per_expert_mean = 0.0;
  std::int64_t dropped_tokens = 0;  // token choices over capacity, the step's sum
};

struct StepMetrics {
  std::int64_t step = 0;  // 1-based
  double loss = 0.0;
  double lr = 0.0;
  double grad_norm = 0.0;
  double step_ms = 0.0;
  double tokens_per_s = 0.0;
  double mfu = 0.0;          // fraction of the peak (train/mfu_peak.h), at most 1
  double peak_gflops = 0.0;  // the peak of one rank it is measured against
  std::string peak_source;   // where that peak came from: config, calibration, probe, achieved
  std::uint64_t peak_mem_bytes = 0;
  // The largest peak among the ranks of each pipeline rank (stage), pipeline rank 0 first.
  std::vector<std::uint64_t> peak_mem_bytes_by_pipeline_rank;
  std::optional<double> val_loss;
  std::optional<MoeStepMetrics> moe;  // with [model] experts > 0
};

std::string to_json(const StepMetrics& m);

// Appends one line per step, flushed, so a run that dies keeps every finished step.
class MetricsWriter {
 public:
  // Creates the parent directory; truncates an existing file unless `append` (resumed runs).
  MetricsWriter(const std::filesystem::path& file, bool append);
  void write(const StepMetrics& m);
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  std::filesystem::path file_;
  std::ofstream out_;
};

// Keeps the lines of `file` whose step is at most `step` and drops the rest (a resumed run
// trains the later ones again). Nothing happens when the file does not exist.
void keep_metrics_through(const std::filesystem::path& file, std::int64_t step);

// The console view of training: a bar redrawn in place on a terminal, or a line every `every`
// steps when the output is a file or a pipe; both end with the time elapsed since the view was
// made and the estimate of the time left (train/progress_time.h).
class ProgressView {
 public:
  // `launcher_says_terminal`: TRELLIS_OUTPUT_TERMINAL (RunEnvironment::output_terminal), which
  // wins over isatty(out) when set.
  ProgressView(std::int64_t total_steps, std::int64_t every, bool enabled, std::FILE* out,
               std::optional<bool> launcher_says_terminal);
  void update(const StepMetrics& m);
  // A line of its own between steps (a checkpoint written), printed whether or not the view is
  // enabled.
  void message(const std::string& line);
  void finish();

 private:
  std::int64_t total_;
  std::int64_t every_;
  bool enabled_;
  bool terminal_;
  std::FILE* out_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::int64_t first_step_ = -1;  // the step before the first update (a resumed run's start)
};

}  // namespace trellis

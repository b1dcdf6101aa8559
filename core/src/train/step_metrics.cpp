#include "train/step_metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include "json/json_fields.h"
#include "json/readable_json.h"
#include "train/progress_time.h"
#include "trellis/error.h"

namespace trellis {

namespace {

std::string human_count(double v) {
  char buffer[32];
  if (v >= 1e6)
    std::snprintf(buffer, sizeof(buffer), "%.2fM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(buffer, sizeof(buffer), "%.1fk", v / 1e3);
  else
    std::snprintf(buffer, sizeof(buffer), "%.0f", v);
  return buffer;
}

}  // namespace

std::string to_json(const StepMetrics& m) {
  // JSON has no inf or nan: the library writes a diverged loss as null rather than breaking the
  // file.
  json::Document line = {{"step", m.step},
                         {"loss", m.loss},
                         {"lr", m.lr},
                         {"grad_norm", m.grad_norm},
                         {"step_ms", m.step_ms},
                         {"tokens_per_s", m.tokens_per_s},
                         {"mfu", m.mfu},
                         {"peak_gflops", m.peak_gflops},
                         {"peak_source", m.peak_source},
                         {"peak_mem_bytes", m.peak_mem_bytes}};
  if (m.peak_mem_bytes_by_pipeline_rank.size() > 1)
    line["peak_mem_bytes_by_pipeline_rank"] = m.peak_mem_bytes_by_pipeline_rank;
  if (m.val_loss) line["val_loss"] = *m.val_loss;
  if (m.moe) {
    line["aux_loss"] = m.moe->aux_loss;
    line["tokens_per_expert_min"] = m.moe->tokens_per_expert_min;
    line["tokens_per_expert_max"] = m.moe->tokens_per_expert_max;
    line["tokens_per_expert_mean"] = m.moe->tokens_per_expert_mean;
    line["dropped_tokens"] = m.moe->dropped_tokens;
  }
  return json::line_text(line);
}

MetricsWriter::MetricsWriter(const std::filesystem::path& file, bool append) : file_(file) {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  out_.open(file, append ? std::ios::app : std::ios::trunc);
  if (!out_) {
    throw InputError("cannot write the metrics file " + file.string() +
                     (ec ? ": " + ec.message() : std::string()) +
                     "; check [logging] metrics and [run] out_dir");
  }
}

void keep_metrics_through(const std::filesystem::path& file, std::int64_t step) {
  std::ifstream in(file);
  if (!in) return;
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    // A line cut short by a crash is no JSON and goes too.
    const json::Value record = json::Value::parse(line, nullptr, false);
    const json::Value* line_step = json::find(record, "step");
    if (line_step && line_step->is_number_integer() && line_step->get<std::int64_t>() <= step) {
      kept += line + "\n";
    }
  }
  in.close();
  std::ofstream(file, std::ios::trunc) << kept;
}

void MetricsWriter::write(const StepMetrics& m) {
  out_ << to_json(m) << '\n';
  out_.flush();
}

ProgressView::ProgressView(std::int64_t total_steps, std::int64_t every, bool enabled,
                           std::FILE* out, std::optional<bool> launcher_says_terminal)
    : total_(total_steps), every_(every < 1 ? 1 : every), enabled_(enabled), out_(out) {
  // A launcher's word wins: under mpirun the output is a pseudo-terminal even into a log file.
  terminal_ = launcher_says_terminal ? *launcher_says_terminal : isatty(fileno(out)) != 0;
}

void ProgressView::update(const StepMetrics& m) {
  if (!enabled_) return;
  char figures[256];
  std::snprintf(
      figures, sizeof(figures),
      "step %lld/%lld | loss %.4f | lr %.2e | norm %.3f | %.1f ms | %s tok/s | MFU %.1f%%",
      static_cast<long long>(m.step), static_cast<long long>(total_), m.loss, m.lr, m.grad_norm,
      m.step_ms, human_count(m.tokens_per_s).c_str(), 100.0 * m.mfu);
  // After the figures: the routing of an MoE model, the validation loss when there is one, then
  // the time taken and left.
  std::string tail;
  if (m.moe) {
    char routing[160];
    std::snprintf(routing, sizeof(routing), " | aux %.4f | experts %.0f-%.0f tok | dropped %lld",
                  m.moe->aux_loss, m.moe->tokens_per_expert_min, m.moe->tokens_per_expert_max,
                  static_cast<long long>(m.moe->dropped_tokens));
    tail += routing;
  }
  if (m.val_loss) tail += " | val " + std::to_string(*m.val_loss);
  if (first_step_ < 0) first_step_ = m.step - 1;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  tail += " | " + progress_time_text(elapsed, m.step - first_step_, total_ - m.step);
  if (terminal_) {
    constexpr int kWidth = 24;
    int filled = static_cast<int>(kWidth * m.step / (total_ > 0 ? total_ : 1));
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::fprintf(out_, "\r[%s] %s%s\x1b[K", bar.c_str(), figures, tail.c_str());
    drawn_ = true;
    if (m.step == total_) finish();
  } else if (m.step % every_ == 0 || m.step == total_ || m.step == 1) {
    std::fprintf(out_, "%s%s\n", figures, tail.c_str());
  }
  std::fflush(out_);
}

void ProgressView::message(const std::string& line) {
  // Over the bar, which the next update draws again below it.
  if (drawn_) std::fprintf(out_, "\r\x1b[K");
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
  drawn_ = false;
}

void ProgressView::finish() {
  if (drawn_) std::fprintf(out_, "\n");
  drawn_ = false;
}

}  // namespace trellis

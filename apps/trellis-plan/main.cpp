// trellis-plan: predicts the memory and the step time of a run's layout on a cluster, ranks
// every layout (--search), and fits a cluster description to measurements (--calibrate).
// The model is core/src/plan/ (docs/planner.md). Exit codes: 0 success, 2 bad input (config,
// cluster file, measurements, arguments), 1 any other failure.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "config/config_loader.h"
#include "config/model_architecture.h"
#include "launch/openblas_reexec.h"
#include "plan/bench_results.h"
#include "plan/calibration.h"
#include "plan/cluster_file.h"
#include "plan/layout_search.h"
#include "plan/local_machine.h"
#include "plan/megatron_flops.h"
#include "plan/plan_json.h"
#include "plan/plan_report.h"
#include "plan/run_request.h"
#include "plan_arguments.h"
#include "train/model_flops.h"
#include "trellis/error.h"

namespace {

using namespace trellis;
using namespace trellis::plan;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitBadInput = 2;

// The planner plans the config's own world ([launch] nproc), whatever launcher it runs under.
RunEnvironment planning_environment() {
  RunEnvironment env = RunEnvironment::from_process();
  env.launcher_world.reset();
  return env;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw Error("cannot write " + path);
}

std::string model_line(const ResolvedRun& run) {
  const ModelDims& d = run.dims;
  const MoeSettings& moe = run.moe;
  char text[256];
  std::string experts;
  if (moe.experts > 0) {
    std::snprintf(text, sizeof text, "; %lld experts, top_k %lld, moe_every %lld",
                  static_cast<long long>(moe.experts), static_cast<long long>(moe.top_k),
                  static_cast<long long>(moe.every));
    experts = text;
  }
  std::string parameters;
  std::snprintf(text, sizeof text, "%.4g M parameters",
                static_cast<double>(parameter_count(d, moe, run.arch)) / 1e6);
  parameters = text;
  if (moe.experts > 0) {
    std::snprintf(text, sizeof text, " (%.4g M active a token)",
                  static_cast<double>(active_parameter_count(d, moe, run.arch)) / 1e6);
    parameters += text;
  }
  std::snprintf(text, sizeof text,
                "%lld layers, hidden %lld, %lld heads, vocab %lld (padded %lld), seq %lld",
                static_cast<long long>(d.layers), static_cast<long long>(d.hidden),
                static_cast<long long>(d.heads), static_cast<long long>(d.vocab_size),
                static_cast<long long>(d.padded_vocab), static_cast<long long>(d.seq_len));
  std::string line = "model: " + architecture_text(run.config.model.arch, run.arch, d) + ", " +
                     text + experts + ": " + parameters;
  std::snprintf(text, sizeof text, "; global batch %lld sequences = %lld tokens a step\n",
                static_cast<long long>(run.config.train.global_batch),
                static_cast<long long>(run.config.train.global_batch * d.seq_len));
  return line + text;
}

// The run's recomputation, or the command line's. A search checks the group size against each
// layout's chunks (it leaves out those where it does not fit), a prediction against the run's.
RecomputeSettings plan_recompute(const PlanArguments& args, const ResolvedRun& run) {
  const int chunks =
      args.search ? 1 : static_cast<int>(run.layout.sizes().pipeline) * run.virtual_stages;
  return recompute_with_overrides(args, run.recompute, static_cast<int>(run.dims.layers) / chunks);
}

int plan_run(const PlanArguments& args, ClusterSpec cluster) {
  const ResolvedRun run =
      load_run(args.config, args.overrides, planning_environment(), LoadPurpose::plan);
  PlanRequest request = request_from_run(run, args.activations, plan_recompute(args, run));
  // A run on cuda trains in its own [device] precision (fp32 tensors either way; bf16 products
  // at the bf16 peak), unless --dtype asks how it would go in another system's precision.
  if (run.device == DeviceKind::cuda && args.dtype.empty()) {
    const bool bf16 = run.config.device.precision == "bf16";
    cluster.accelerator.train_dtype = bf16 ? "bf16" : "fp32";
    cluster.train_peak_flops();  // an InputError when the cluster has no peak for it
    request.precision = trellis_device_precision(bf16);
  }
  std::cout << "trellis-plan: " << args.config << " on cluster " << describe_cluster(cluster)
            << "\n"
            << model_line(run);
  if (args.search) {
    SearchSpace space;
    // The config's world ([launch] nproc), as trellis-train would run it, unless --world.
    space.world = args.world ? *args.world : run.world_size;
    if (run.llmc) space.checkpoint_padded_vocab = run.llmc->padded_vocab;
    std::cout << "search: every layout of " << space.world
              << (space.world == 1 ? " rank" : " ranks")
              << (args.world ? " (--world)" : " (the config's world size; --world N for another)")
              << ", zero " << request.layout.zero << ", recompute "
              << describe_recompute_settings(request.layout.recompute)
              << ", ranked by predicted tokens/s\n\n";
    const SearchResult result = search_layouts(request, cluster, run.registry.get(), space);
    std::cout << format_search(result, cluster, args.top);
    if (!args.json.empty()) write_file(args.json, json::readable_text(search_json(result)));
    return kExitOk;
  }
  const Prediction prediction = predict(request, cluster);
  std::cout << "\n" << format_prediction(prediction, cluster, args.tokens);
  // The count assumes every block recomputed: full recomputation's uniform method.
  if (request.layout.recompute.granularity == Recompute::full &&
      request.layout.recompute.method == RecomputeMethod::uniform) {
    const double flops =
        megatron_iteration_flops(run.config.train.global_batch, run.dims.seq_len, run.dims.layers,
                                 run.dims.hidden, run.dims.padded_vocab);
    std::printf(
        "Narayanan et al.'s count (recomputation included, 96 B s l h^2 (...)): %.4g "
        "TFLOP/s per device\n",
        flops / prediction.time.step / prediction.layout.world() / 1e12);
  }
  if (!args.json.empty()) write_file(args.json, json::readable_text(prediction_json(prediction)));
  return kExitOk;
}

// The comment lines a description file starts with (where its figures came from), without those
// of an earlier calibration: they are kept at the top of the fitted file.
std::string base_comments(const std::string& file) {
  std::string kept;
  if (file.empty()) return kept;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("#")) break;
    if (line.starts_with("# Calibrated by trellis-plan")) break;
    kept += line.size() > 2 ? line.substr(2) + "\n" : "\n";
  }
  return kept;
}

int calibrate(const PlanArguments& args, ClusterSpec cluster, const std::string& base_dtype) {
  std::vector<CommMeasurement> rows;
  std::vector<std::string> sources;
  std::vector<std::pair<std::string, std::string>> run_files;  // (config, metrics)
  for (const std::string& file : args.calibrate) {
    if (file.ends_with(".jsonl")) {
      if (args.config.empty()) {
        throw InputError("--calibrate " + file +
                         ": a metrics file needs the CONFIG of its run "
                         "(trellis-plan CONFIG --calibrate METRICS), or --calibrate-run "
                         "CONFIG=METRICS");
      }
      run_files.push_back({args.config, file});
    } else {
      std::vector<CommMeasurement> more = read_comm_bench(file);
      rows.insert(rows.end(), more.begin(), more.end());
      sources.push_back(file);
    }
  }
  for (const std::string& pair : args.calibrate_runs) {
    run_files.push_back({pair.substr(0, pair.find('=')), pair.substr(pair.find('=') + 1)});
  }
  std::string report;
  if (!rows.empty()) {
    const LinkFit fit = fit_link(rows);
    LinkSpec& link = args.link == "inter_node" ? cluster.inter_node : cluster.intra_node;
    link = {fit.bandwidth, fit.latency, 1.0};
    report += format_link_fit(fit, args.link);
  }
  if (!run_files.empty()) {
    std::vector<std::unique_ptr<ResolvedRun>> loaded;
    std::vector<MeasuredRun> runs;
    for (const auto& [config, metrics] : run_files) {
      const std::vector<std::string> overrides =
          config == args.config ? args.overrides : std::vector<std::string>{};
      loaded.push_back(std::make_unique<ResolvedRun>(
          load_run(config, overrides, planning_environment(), LoadPurpose::plan)));
      const std::vector<StepMeasurement> steps = read_metrics(metrics);
      MeasuredRun m;
      m.label = config;
      m.request =
          request_from_run(*loaded.back(), args.activations, plan_recompute(args, *loaded.back()));
      m.step_seconds = median_step_seconds(steps);
      m.peak_mem_bytes = peak_memory(steps);
      runs.push_back(std::move(m));
      sources.push_back(config + " (" + metrics + ")");
    }
    const ComputeFit fit = fit_compute(runs, cluster);
    cluster.accelerator.compute_efficiency = fit.compute_efficiency;
    cluster.accelerator.memory_efficiency = fit.memory_efficiency;
    report += format_compute_fit(fit, runs);
    for (const MeasuredRun& r : runs) {
      if (r.peak_mem_bytes <= 0.0) continue;  // a metrics file without memory figures
      const double predicted = predict(r.request, cluster).peak.total();
      char line[256];
      std::snprintf(
          line, sizeof line,
          "  %s: peak memory %s measured, %s predicted (%+.1f%% predicted over measured)\n",
          r.label.c_str(), format_bytes(r.peak_mem_bytes).c_str(), format_bytes(predicted).c_str(),
          100.0 * (predicted / r.peak_mem_bytes - 1.0));
      report += line;
    }
  }
  // --dtype said what the measured runs trained in; the description keeps its own default.
  cluster.accelerator.train_dtype = base_dtype;
  std::string header = base_comments(args.cluster);
  header += "Calibrated by trellis-plan --calibrate from:\n";
  for (const std::string& s : sources) header += "  " + s + "\n";
  header += "Base description: " +
            (args.cluster.empty() ? std::string("this machine, probed") : args.cluster);
  const std::string toml = cluster_to_toml(cluster, header);
  std::cerr << report;
  if (args.output.empty()) {
    std::cout << toml;
  } else {
    write_file(args.output, toml);
    std::cerr << "wrote " << args.output << "\n";
  }
  return kExitOk;
}

int run(int argc, char** argv) {
  const PlanArguments args = parse_plan_arguments(argc, argv);
  if (args.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  // This machine's probe measures the OpenBLAS kernels trellis-train's ranks would run.
  if (args.cluster.empty()) use_openblas_core({}, argv);
  ClusterSpec cluster =
      args.cluster.empty() ? probe_local_machine() : read_cluster_file(args.cluster);
  const std::string base_dtype = cluster.accelerator.train_dtype;
  if (!args.dtype.empty()) {
    cluster.accelerator.train_dtype = args.dtype;
    cluster.train_peak_flops();  // an InputError when the cluster has no peak for it
  }
  if (!args.calibrate.empty() || !args.calibrate_runs.empty())
    return calibrate(args, cluster, base_dtype);
  return plan_run(args, cluster);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const trellis::InputError& e) {
    std::cerr << "trellis-plan: " << e.what() << "\n";
    return kExitBadInput;
  } catch (const trellis::Error& e) {
    std::cerr << "trellis-plan: " << e.what() << "\n";
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "trellis-plan: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
}

#include "plan_arguments.h"

#include <cstdlib>

#include "config/did_you_mean.h"
#include "trellis/error.h"

namespace trellis::plan {

const char* const kUsage =
    "usage: trellis-plan CONFIG [--cluster CLUSTER.toml] [--set section.key=value]...\n"
    "                    [--search [--top K] [--world N]] [--tokens N]\n"
    "                    [--recompute none|selective|full] [--recompute-method uniform|block]\n"
    "                    [--recompute-num-layers N] [--activations trellis|korthikanti]\n"
    "                    [--dtype fp32|bf16|fp16] [--json FILE]\n"
    "       trellis-plan [CONFIG] --calibrate FILE... [--calibrate-run CONFIG=METRICS]...\n"
    "                    [--cluster BASE.toml] [--link intra|inter] [--output FILE]\n"
    "\n"
    "Predicts the memory per device and the step time of the run CONFIG describes, on the\n"
    "cluster CLUSTER.toml (configs/clusters/; without --cluster, this machine, probed), and\n"
    "with --search ranks every layout of the model on the cluster (docs/planner.md). CONFIG's\n"
    "data files are not read: a config needs no [data] train to be planned.\n"
    "\n"
    "  --cluster FILE       the cluster description\n"
    "  --set k=v            override a config key, as trellis-train does (repeatable)\n"
    "  --search             enumerate every valid layout (tensor, pipeline, data, virtual\n"
    "                       stages, schedule, tensor mode, micro batch), drop those that do\n"
    "                       not fit, rank the rest by predicted tokens/s\n"
    "  --top K              layouts shown by --search (default 5)\n"
    "  --world N            ranks --search lays out (default: the config's world size,\n"
    "                       [launch] nproc)\n"
    "  --tokens N           also print the time to train N tokens (1e9 and 300e9 work)\n"
    "  --recompute R        activation recomputation to predict instead of the config's\n"
    "                       [train] recompute (none, selective, full), as trellis-train\n"
    "                       runs it\n"
    "  --recompute-method M full recomputation's groups: uniform (every block, in groups of\n"
    "                       N) or block (the first N blocks of each chunk); default the\n"
    "                       config's [train] recompute_method\n"
    "  --recompute-num-layers N\n"
    "                       N of the method (default the config's recompute_num_layers)\n"
    "  --dtype D            train in D (fp32, bf16, fp16) instead of the cluster's\n"
    "                       train_dtype\n"
    "  --activations M      activation memory of Trellis's layers (default) or Korthikanti\n"
    "                       et al.'s published formulas (16-bit, with dropout)\n"
    "  --json FILE          write the prediction (or the search's ranking) as JSON\n"
    "  --calibrate FILE     fit the cluster to measurements: a trellis-bench comm JSON\n"
    "                       (latency and bandwidth of --link), or CONFIG's trellis-train\n"
    "                       metrics.jsonl (compute and memory efficiency); repeatable\n"
    "  --calibrate-run C=M  another run: its config C and its metrics.jsonl M\n"
    "  --link intra|inter   the link the comm rows measured (default intra: one node)\n"
    "  --output FILE        where the fitted cluster TOML goes (default: printed)\n"
    "  --help, -h           show this help\n"
    "\n"
    "Exit codes: 0 success, 2 bad input (config, cluster file, measurements, arguments),\n"
    "1 other failure.\n";

namespace {

InputError usage_error(const std::string& what) {
  return InputError(what + "\n" + kUsage);
}

double parse_number(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !(v > 0.0)) {
    throw usage_error(flag + " " + text + ": expected a number > 0");
  }
  return v;
}

int parse_count(const std::string& flag, const std::string& text) {
  const double v = parse_number(flag, text);
  if (v != static_cast<double>(static_cast<int>(v)) || v > 1e8) {
    throw usage_error(flag + " " + text + ": expected a whole number >= 1");
  }
  return static_cast<int>(v);
}

}  // namespace

PlanArguments parse_plan_arguments(int argc, char** argv) {
  PlanArguments a;
  const std::vector<std::string> flags = {"--cluster",
                                          "--set",
                                          "--search",
                                          "--top",
                                          "--world",
                                          "--tokens",
                                          "--recompute",
                                          "--recompute-method",
                                          "--recompute-num-layers",
                                          "--activations",
                                          "--dtype",
                                          "--json",
                                          "--calibrate",
                                          "--calibrate-run",
                                          "--link",
                                          "--output",
                                          "--help"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (arg.starts_with("--") && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw usage_error(arg + " needs a value after it");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg == "--search") {
      a.search = true;
    } else if (arg == "--cluster") {
      a.cluster = next();
    } else if (arg == "--set") {
      a.overrides.push_back(next());
    } else if (arg == "--top") {
      a.top = parse_count(arg, next());
    } else if (arg == "--world") {
      a.world = parse_count(arg, next());
    } else if (arg == "--tokens") {
      a.tokens = parse_number(arg, next());
    } else if (arg == "--recompute") {
      const std::string v = next();
      Recompute r{};
      if (!parse_recompute(v, r))
        throw usage_error("--recompute " + v + ": valid: none, selective, full");
      a.recompute = r;
    } else if (arg == "--recompute-method") {
      const std::string v = next();
      RecomputeMethod m{};
      if (!parse_recompute_method(v, m))
        throw usage_error("--recompute-method " + v + ": valid: uniform, block");
      a.recompute_method = m;
    } else if (arg == "--recompute-num-layers") {
      a.recompute_num_layers = parse_count(arg, next());
    } else if (arg == "--dtype") {
      a.dtype = next();
      if (a.dtype != "fp32" && a.dtype != "bf16" && a.dtype != "fp16")
        throw usage_error("--dtype " + a.dtype + ": valid: fp32, bf16, fp16");
    } else if (arg == "--activations") {
      const std::string v = next();
      if (v == "trellis") {
        a.activations = ActivationModel::trellis;
      } else if (v == "korthikanti") {
        a.activations = ActivationModel::korthikanti;
      } else {
        throw usage_error("--activations " + v + ": valid: trellis, korthikanti");
      }
    } else if (arg == "--json") {
      a.json = next();
    } else if (arg == "--calibrate") {
      a.calibrate.push_back(next());
    } else if (arg == "--calibrate-run") {
      const std::string v = next();
      if (v.find('=') == std::string::npos)
        throw usage_error("--calibrate-run " + v + ": expected CONFIG=METRICS");
      a.calibrate_runs.push_back(v);
    } else if (arg == "--link") {
      const std::string v = next();
      if (v != "intra" && v != "inter") throw usage_error("--link " + v + ": valid: intra, inter");
      a.link = v + "_node";
    } else if (arg == "--output") {
      a.output = next();
    } else if (arg.starts_with("-") && arg != "-") {
      throw usage_error("unknown option '" + arg + "'" + did_you_mean(arg, flags));
    } else if (a.config.empty()) {
      a.config = arg;
    } else {
      throw usage_error("one CONFIG file only; got '" + a.config + "' and '" + arg + "'");
    }
  }
  if (a.help) return a;
  const bool calibrating = !a.calibrate.empty() || !a.calibrate_runs.empty();
  if (!calibrating && a.config.empty()) throw usage_error("no CONFIG file given");
  if (calibrating && a.search) throw usage_error("--calibrate and --search go in separate runs");
  if (!calibrating && !a.output.empty())
    throw usage_error("--output is where --calibrate writes the fitted cluster; nothing to write");
  return a;
}

RecomputeSettings recompute_with_overrides(const PlanArguments& args, const RecomputeSettings& run,
                                           int blocks_per_chunk) {
  RecomputeSettings r = run;
  if (args.recompute && *args.recompute != r.granularity) {
    r = RecomputeSettings{};  // the run's method and group size were for its own granularity
    r.granularity = *args.recompute;
    if (r.granularity == Recompute::full) {
      r.method = run.method;
      r.num_layers = run.num_layers;
    }
  }
  if (r.granularity != Recompute::full && (args.recompute_method || args.recompute_num_layers)) {
    throw usage_error(
        std::string(args.recompute_method ? "--recompute-method" : "--recompute-num-layers") +
        " applies to full recomputation only, and the recomputation is " +
        recompute_name(r.granularity) + "; valid: add --recompute full");
  }
  if (args.recompute_method) r.method = *args.recompute_method;
  if (args.recompute_num_layers) r.num_layers = *args.recompute_num_layers;
  if (r.granularity == Recompute::full && r.num_layers > blocks_per_chunk) {
    throw usage_error("--recompute-num-layers " + std::to_string(r.num_layers) +
                      " is more than the " + std::to_string(blocks_per_chunk) +
                      " blocks of each model chunk; valid: 1 to " +
                      std::to_string(blocks_per_chunk));
  }
  return r;
}

}  // namespace trellis::plan

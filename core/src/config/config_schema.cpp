#include "config/config_schema.h"

#include <cmath>
#include <limits>

#include "config/config_value.h"
#include "device/openblas_core.h"
#include "text/quoted_string.h"
#include "trellis/error.h"
#include "trellis/parallel.h"

namespace trellis {

namespace {

template <auto Section, auto Member>
auto& field(RunConfig& config) {
  return (config.*Section).*Member;
}

template <auto Member>
std::string& group_backend(RunConfig& config) {
  return config.comm.groups.*Member;
}

constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// Parallel sizes are bounded so that products of them never overflow.
constexpr std::int64_t kMaxParallel = 65536;
constexpr std::int64_t kMaxRanks = 1 << 20;

ValueRule ints(std::int64_t min, std::int64_t max) {
  return {.kind = ValueRule::Kind::int_range, .min_int = min, .max_int = max};
}
ValueRule ints_or_minus_one(std::int64_t min, std::int64_t max, std::string_view minus_one) {
  return {.kind = ValueRule::Kind::int_range_or_minus_one,
          .min_int = min,
          .max_int = max,
          .minus_one = minus_one};
}
ValueRule numbers(double min, bool min_open, double max = std::numeric_limits<double>::infinity(),
                  bool max_open = true) {
  return {.kind = ValueRule::Kind::number_range,
          .min_number = min,
          .max_number = max,
          .min_open = min_open,
          .max_open = max_open};
}
ValueRule one_of(std::vector<std::string_view> choices) {
  return {.kind = ValueRule::Kind::choices, .choices = std::move(choices)};
}
ValueRule non_empty() {
  return {.kind = ValueRule::Kind::non_empty};
}
ValueRule any() {
  return {};
}

// "auto", "keep", or a core [device] blas_core may name.
ValueRule blas_core_choices() {
  std::vector<std::string_view> choices = {"auto", "keep"};
  for (const OpenBlasCore& core : openblas_cores())
    if (core.selectable) choices.push_back(core.name);
  return one_of(std::move(choices));
}

std::vector<KeySpec> make_keys() {
  using R = RunConfig;
  auto path = [](KeySpec spec) {
    spec.path_role = PathRole::input;
    return spec;
  };
  auto output_path = [](KeySpec spec) {
    spec.path_role = PathRole::output;
    return spec;
  };
  return {
      {"run", "name", &field<&R::run, &RunSection::name>, non_empty()},
      {"run", "seed", &field<&R::run, &RunSection::seed>, ints(0, kInt64Max)},
      {"run", "steps", &field<&R::run, &RunSection::steps>, ints(1, kInt64Max)},
      path({"run", "out_dir", &field<&R::run, &RunSection::out_dir>, any()}),

      {"launch", "nproc", &field<&R::launch, &LaunchSection::nproc>, ints(1, kMaxRanks)},

      {"comm", "backend", &field<&R::comm, &CommSection::backend>, non_empty()},
      {"comm", "timeout_s", &field<&R::comm, &CommSection::timeout_s>, numbers(0, true)},
      // [comm.groups]: read as dotted keys of [comm] (config_reader.cpp), written so by --dry-run.
      {"comm", "groups.tensor", &group_backend<&CommGroupBackends::tensor>, any()},
      {"comm", "groups.context", &group_backend<&CommGroupBackends::context>, any()},
      {"comm", "groups.data", &group_backend<&CommGroupBackends::data>, any()},
      {"comm", "groups.pipeline", &group_backend<&CommGroupBackends::pipeline>, any()},
      {"comm", "groups.expert", &group_backend<&CommGroupBackends::expert>, any()},

      {"parallel", "tensor", &field<&R::parallel, &ParallelSection::tensor>, ints(1, kMaxParallel)},
      {"parallel", "tensor_mode", &field<&R::parallel, &ParallelSection::tensor_mode>, non_empty()},
      {"parallel", "pipeline", &field<&R::parallel, &ParallelSection::pipeline>,
       ints(1, kMaxParallel)},
      {"parallel", "schedule", &field<&R::parallel, &ParallelSection::schedule>, non_empty()},
      {"parallel", "virtual_stages", &field<&R::parallel, &ParallelSection::virtual_stages>,
       ints(1, kMaxParallel)},
      {"parallel", "context", &field<&R::parallel, &ParallelSection::context>,
       ints(1, kMaxParallel)},
      {"parallel", "context_mode", &field<&R::parallel, &ParallelSection::context_mode>,
       non_empty()},
      {"parallel", "expert", &field<&R::parallel, &ParallelSection::expert>, ints(1, kMaxParallel)},
      {"parallel", "expert_dispatcher", &field<&R::parallel, &ParallelSection::expert_dispatcher>,
       non_empty()},
      {"parallel", "data", &field<&R::parallel, &ParallelSection::data>,
       ints_or_minus_one(1, kMaxRanks, "the rest of the ranks")},
      {"parallel",
       "order",
       &field<&R::parallel, &ParallelSection::order>,
       {.kind = ValueRule::Kind::rank_order}},
      {"parallel", "dp_bucket_mb", &field<&R::parallel, &ParallelSection::dp_bucket_mb>,
       numbers(0, false, 1 << 20, false)},
      {"parallel", "dp_overlap", &field<&R::parallel, &ParallelSection::dp_overlap>, any()},

      {"model", "vocab_size", &field<&R::model, &ModelSection::vocab_size>, ints(1, kInt32Max)},
      {"model", "seq_len", &field<&R::model, &ModelSection::seq_len>, ints(1, kInt32Max)},
      {"model", "layers", &field<&R::model, &ModelSection::layers>, ints(1, kInt32Max)},
      {"model", "heads", &field<&R::model, &ModelSection::heads>, ints(1, kInt32Max)},
      {"model", "hidden", &field<&R::model, &ModelSection::hidden>, ints(1, kInt32Max)},
      // The architecture (config/model_architecture.h): a preset, and the keys it presets.
      {"model", "arch", &field<&R::model, &ModelSection::arch>, one_of({"gpt2", "llama"})},
      {"model", "norm", &field<&R::model, &ModelSection::norm>, one_of({"layernorm", "rmsnorm"})},
      {"model", "norm_eps", &field<&R::model, &ModelSection::norm_eps>, numbers(0, true)},
      {"model", "mlp", &field<&R::model, &ModelSection::mlp>, one_of({"gelu", "swiglu"})},
      {"model", "ffn_hidden", &field<&R::model, &ModelSection::ffn_hidden>,
       ints_or_minus_one(1, kInt32Max, "the preset's")},
      {"model", "positions", &field<&R::model, &ModelSection::positions>,
       one_of({"learned", "rope"})},
      {"model", "rope_theta", &field<&R::model, &ModelSection::rope_theta>, numbers(0, true)},
      {"model", "kv_heads", &field<&R::model, &ModelSection::kv_heads>,
       ints_or_minus_one(1, kInt32Max, "the preset's")},
      {"model", "bias", &field<&R::model, &ModelSection::bias>, any()},
      {"model", "tie_embeddings", &field<&R::model, &ModelSection::tie_embeddings>, any()},
      // The path after "llmc:" / "checkpoint:" is an input path; the forms are checked with
      // the input files.
      path({"model", "init", &field<&R::model, &ModelSection::init>, non_empty()}),
      // "llmc:PATH" carries an output path (inside [run] out_dir when relative).
      output_path({"model", "export", &field<&R::model, &ModelSection::export_to>, any()}),
      {"model", "experts", &field<&R::model, &ModelSection::experts>, ints(0, kInt32Max)},
      {"model", "top_k", &field<&R::model, &ModelSection::top_k>, ints(1, kInt32Max)},
      {"model", "moe_every", &field<&R::model, &ModelSection::moe_every>, ints(1, kInt32Max)},
      {"model", "moe_aux_loss_coeff", &field<&R::model, &ModelSection::moe_aux_loss_coeff>,
       numbers(0, false)},
      {"model", "capacity_factor", &field<&R::model, &ModelSection::capacity_factor>,
       numbers(0, false)},

      {"train", "micro_batch", &field<&R::train, &TrainSection::micro_batch>, ints(1, kInt32Max)},
      {"train", "global_batch", &field<&R::train, &TrainSection::global_batch>, ints(1, kInt32Max)},
      {"train", "recompute", &field<&R::train, &TrainSection::recompute>,
       one_of({"none", "selective", "full"})},
      {"train", "recompute_method", &field<&R::train, &TrainSection::recompute_method>,
       one_of({"uniform", "block"})},
      {"train", "recompute_num_layers", &field<&R::train, &TrainSection::recompute_num_layers>,
       ints(1, kInt32Max)},

      {"optim", "lr", &field<&R::optim, &OptimSection::lr>, numbers(0, false)},
      {"optim", "schedule", &field<&R::optim, &OptimSection::schedule>,
       one_of({"constant", "cosine"})},
      {"optim", "warmup_steps", &field<&R::optim, &OptimSection::warmup_steps>, ints(0, kInt64Max)},
      {"optim", "min_lr", &field<&R::optim, &OptimSection::min_lr>, numbers(0, false)},
      {"optim", "beta1", &field<&R::optim, &OptimSection::beta1>, numbers(0, false, 1, true)},
      {"optim", "beta2", &field<&R::optim, &OptimSection::beta2>, numbers(0, false, 1, true)},
      {"optim", "eps", &field<&R::optim, &OptimSection::eps>, numbers(0, true)},
      {"optim", "weight_decay", &field<&R::optim, &OptimSection::weight_decay>, numbers(0, false)},
      {"optim", "grad_clip", &field<&R::optim, &OptimSection::grad_clip>, numbers(0, false)},
      {"optim", "zero", &field<&R::optim, &OptimSection::zero>, ints(0, 1)},

      path({"data", "train", &field<&R::data, &DataSection::train>, any()}),
      path({"data", "val", &field<&R::data, &DataSection::val>, any()}),
      // The directory after "gpt2:" is an input path; the forms are checked with the tokenizer.
      path({"data", "tokenizer", &field<&R::data, &DataSection::tokenizer>, non_empty()}),
      {"data", "shuffle", &field<&R::data, &DataSection::shuffle>, any()},
      {"data", "val_every", &field<&R::data, &DataSection::val_every>, ints(0, kInt64Max)},
      {"data", "val_batches", &field<&R::data, &DataSection::val_batches>, ints(1, kInt32Max)},

      output_path({"checkpoint", "dir", &field<&R::checkpoint, &CheckpointSection::dir>, any()}),
      {"checkpoint", "every", &field<&R::checkpoint, &CheckpointSection::every>,
       ints(0, kInt64Max)},
      {"checkpoint", "keep", &field<&R::checkpoint, &CheckpointSection::keep>, ints(0, kInt32Max)},
      {"checkpoint", "resume", &field<&R::checkpoint, &CheckpointSection::resume>, any()},

      {"logging", "every", &field<&R::logging, &LoggingSection::every>, ints(1, kInt64Max)},
      output_path({"logging", "metrics", &field<&R::logging, &LoggingSection::metrics>, any()}),
      output_path({"logging", "trace", &field<&R::logging, &LoggingSection::trace>, any()}),
      {"logging", "progress", &field<&R::logging, &LoggingSection::progress>, any()},
      {"logging", "sample_every", &field<&R::logging, &LoggingSection::sample_every>,
       ints(0, kInt64Max)},
      {"logging", "sample_tokens", &field<&R::logging, &LoggingSection::sample_tokens>,
       ints(1, kInt32Max)},
      {"logging", "sample_prompt", &field<&R::logging, &LoggingSection::sample_prompt>, any()},

      {"device", "kind", &field<&R::device, &DeviceSection::kind>, one_of({"cpu", "cuda"})},
      {"device", "threads", &field<&R::device, &DeviceSection::threads>, ints(0, 4096)},
      {"device", "precision", &field<&R::device, &DeviceSection::precision>,
       one_of({"fp32", "bf16"})},
      {"device", "blas_core", &field<&R::device, &DeviceSection::blas_core>, blas_core_choices()},
      {"device", "peak_gflops", &field<&R::device, &DeviceSection::peak_gflops>, numbers(0, false)},
      {"device", "memory_limit_mb", &field<&R::device, &DeviceSection::memory_limit_mb>,
       ints(0, kInt32Max)},

      path({"plugins", "paths", &field<&R::plugins, &PluginsSection::paths>, any()}),
  };
}

std::string int_text(std::int64_t v) {
  return std::to_string(v);
}

std::string int_range_text(std::int64_t min, std::int64_t max) {
  if (max == kInt64Max || (max == kInt32Max && min >= 0)) {
    return "an integer >= " + int_text(min);
  }
  if (max == min + 1) return int_text(min) + " or " + int_text(max);
  return "an integer from " + int_text(min) + " to " + int_text(max);
}

std::string number_range_text(const ValueRule& r) {
  const bool no_max = std::isinf(r.max_number);
  std::string low = toml_float_text(r.min_number);
  if (no_max) return std::string("a number ") + (r.min_open ? "> " : ">= ") + low;
  return "a number in " + std::string(r.min_open ? "(" : "[") + low + ", " +
         toml_float_text(r.max_number) + (r.max_open ? ")" : "]");
}

}  // namespace

const std::vector<KeySpec>& config_keys() {
  static const std::vector<KeySpec> keys = make_keys();
  return keys;
}

const std::vector<std::string>& config_sections() {
  static const std::vector<std::string> sections = [] {
    std::vector<std::string> out;
    for (const KeySpec& key : config_keys()) {
      if (out.empty() || out.back() != key.section) out.emplace_back(key.section);
    }
    // Sections of plugin option tables only: [schedule.<name>], [layers.<name>].
    out.emplace_back("schedule");
    out.emplace_back("layers");
    out.emplace_back("dispatcher");
    return out;
  }();
  return sections;
}

std::optional<PluginKind> plugin_table_kind(std::string_view section) {
  if (section == "comm") return PluginKind::comm;
  if (section == "schedule") return PluginKind::schedule;
  if (section == "layers") return PluginKind::layers;
  if (section == "context") return PluginKind::context;
  if (section == "dispatcher") return PluginKind::dispatcher;
  return std::nullopt;
}

std::vector<std::string> section_keys(std::string_view section) {
  std::vector<std::string> out;
  for (const KeySpec& key : config_keys())
    if (key.section == section) out.emplace_back(key.name);
  return out;
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
  for (const KeySpec& key : config_keys())
    if (key.section == section && key.name == name) return &key;
  return nullptr;
}

const KeySpec* find_key(std::string_view dotted) {
  const std::size_t dot = dotted.find('.');
  if (dot == std::string_view::npos) return nullptr;
  return find_key(dotted.substr(0, dot), dotted.substr(dot + 1));
}

const char* KeySpec::type_phrase() const {
  switch (field.index()) {
    case 0:
      return "a boolean";
    case 1:
      return "an integer";
    case 2:
      return "a number";
    case 3:
      return "a string";
    case 4:
      return "an array of strings";
  }
  return "?";
}

std::string KeySpec::valid_text() const {
  switch (rule.kind) {
    case ValueRule::Kind::any:
      return field.index() == 0 ? "true or false" : type_phrase();
    case ValueRule::Kind::int_range:
      return int_range_text(rule.min_int, rule.max_int);
    case ValueRule::Kind::int_range_or_minus_one:
      return "-1 (" + std::string(rule.minus_one) + ") or " +
             int_range_text(rule.min_int, rule.max_int);
    case ValueRule::Kind::number_range:
      return number_range_text(rule);
    case ValueRule::Kind::choices: {
      std::string out;
      for (std::size_t i = 0; i < rule.choices.size(); ++i) {
        if (i > 0) out += i + 1 == rule.choices.size() ? " or " : ", ";
        out += quoted_string(rule.choices[i]);
      }
      return out;
    }
    case ValueRule::Kind::non_empty:
      return "a non-empty string";
    case ValueRule::Kind::rank_order:
      return "the four dimensions tp, cp, dp, pp in any order, fastest first, e.g. "
             "\"tp-cp-dp-pp\"";
  }
  return type_phrase();
}

std::string KeySpec::violation(const FieldValue& value) const {
  switch (rule.kind) {
    case ValueRule::Kind::any:
      return {};
    case ValueRule::Kind::int_range:
    case ValueRule::Kind::int_range_or_minus_one: {
      const std::int64_t v = std::get<std::int64_t>(value);
      if (rule.kind == ValueRule::Kind::int_range_or_minus_one && v == -1) return {};
      if (v >= rule.min_int && v <= rule.max_int) return {};
      const bool too_small = v < rule.min_int;
      std::string what = too_small ? (v < 0    ? "negative"
                                      : v == 0 ? "zero"
                                               : "too small")
                                   : "too large";
      return "out of range (" + what + "); valid: " + valid_text();
    }
    case ValueRule::Kind::number_range: {
      const double v = std::get<double>(value);
      if (!std::isfinite(v)) return "not a finite number; valid: " + valid_text();
      const bool above_min = rule.min_open ? v > rule.min_number : v >= rule.min_number;
      const bool below_max = rule.max_open ? v < rule.max_number : v <= rule.max_number;
      if (above_min && below_max) return {};
      return "out of range; valid: " + valid_text();
    }
    case ValueRule::Kind::choices: {
      const std::string& v = std::get<std::string>(value);
      for (std::string_view choice : rule.choices)
        if (v == choice) return {};
      return "not a known choice; valid: " + valid_text();
    }
    case ValueRule::Kind::non_empty:
      if (!std::get<std::string>(value).empty()) return {};
      return "empty; valid: " + valid_text();
    case ValueRule::Kind::rank_order:
      try {
        parse_rank_order(std::get<std::string>(value));
        return {};
      } catch (const InputError& e) {
        return e.what();
      }
  }
  return {};
}

FieldValue KeySpec::get(const RunConfig& config) const {
  // The accessors take a mutable config so that one table serves reading and writing; reading
  // through them does not modify it.
  RunConfig& c = const_cast<RunConfig&>(config);
  return std::visit([&](auto accessor) -> FieldValue { return accessor(c); }, field);
}

void KeySpec::set(RunConfig& config, FieldValue value) const {
  std::visit(
      [&](auto accessor) {
        using T = std::remove_reference_t<decltype(accessor(config))>;
        accessor(config) = std::get<T>(std::move(value));
      },
      field);
}

std::string field_value_text(const FieldValue& value) {
  struct Visitor {
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const { return toml_float_text(v); }
    std::string operator()(const std::string& v) const { return quoted_string(v); }
    std::string operator()(const std::vector<std::string>& v) const {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + quoted_string(v[i]);
      return out + "]";
    }
  };
  return std::visit(Visitor{}, value);
}

}  // namespace trellis

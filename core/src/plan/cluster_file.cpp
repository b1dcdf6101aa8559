#include "plan/cluster_file.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include <toml++/toml.h>

#include "config/did_you_mean.h"
#include "os/absolute_path.h"
#include "trellis/error.h"

namespace trellis::plan {

namespace {

// One key of the file: where it lives, whether it must be there, and how its value is checked
// and stored. Values are converted to SI units when stored.
struct KeySpec {
  const char* section;
  const char* key;
  bool required;
  const char* valid;  // what the message says is valid
  // Returns false when the value is out of range (the message then quotes `valid`).
  std::function<bool(const toml::node&, ClusterSpec&)> store;
  const char* expected_type;
};

bool positive_number(const toml::node& n, double& out) {
  auto v = n.value<double>();
  if (!v || !std::isfinite(*v) || *v <= 0.0) return false;
  out = *v;
  return true;
}

bool fraction(const toml::node& n, double& out) {
  auto v = n.value<double>();
  if (!v || !(*v > 0.0) || *v > 1.0) return false;
  out = *v;
  return true;
}

bool non_negative(const toml::node& n, double& out) {
  auto v = n.value<double>();
  if (!v || !std::isfinite(*v) || *v < 0.0) return false;
  out = *v;
  return true;
}

bool positive_int(const toml::node& n, int& out) {
  auto v = n.value<std::int64_t>();
  if (!v || *v < 1 || *v > (1 << 24)) return false;
  out = static_cast<int>(*v);
  return true;
}

bool is_number(const toml::node& n) {
  return n.is_floating_point() || n.is_integer();
}

std::vector<KeySpec> key_specs() {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  auto link = [](const char* section, LinkSpec ClusterSpec::*member) {
    return std::vector<KeySpec>{
        {section, "bandwidth_gbs", true, "a number > 0 (GB/s, 1e9 bytes/s)",
         [member](const toml::node& n, ClusterSpec& c) {
           double v = 0;
           if (!positive_number(n, v)) return false;
           (c.*member).bandwidth = v * 1e9;
           return true;
         },
         "number"},
        {section, "latency_us", true, "a number >= 0 (microseconds)",
         [member](const toml::node& n, ClusterSpec& c) {
           double v = 0;
           if (!non_negative(n, v)) return false;
           (c.*member).latency = v * 1e-6;
           return true;
         },
         "number"},
        {section, "efficiency", false, "a number in (0, 1]",
         [member](const toml::node& n, ClusterSpec& c) {
           return fraction(n, (c.*member).efficiency);
         },
         "number"},
    };
  };
  std::vector<KeySpec> specs = {
      {"cluster", "name", true, "a non-empty string",
       [](const toml::node& n, ClusterSpec& c) {
         c.name = n.value<std::string>().value_or("");
         return !c.name.empty();
       },
       "string"},
      {"cluster", "nodes", true, "an integer >= 1",
       [](const toml::node& n, ClusterSpec& c) { return positive_int(n, c.nodes); }, "integer"},
      {"cluster", "devices_per_node", true, "an integer >= 1",
       [](const toml::node& n, ClusterSpec& c) { return positive_int(n, c.devices_per_node); },
       "integer"},
      {"accelerator", "kind", true, "\"gpu\" or \"cpu\"",
       [](const toml::node& n, ClusterSpec& c) {
         const std::string v = n.value<std::string>().value_or("");
         if (v != "gpu" && v != "cpu") return false;
         c.accelerator.kind = v == "gpu" ? AcceleratorKind::gpu : AcceleratorKind::cpu;
         return true;
       },
       "string"},
      {"accelerator", "name", false, "a string",
       [](const toml::node& n, ClusterSpec& c) {
         c.accelerator.name = n.value<std::string>().value_or("");
         return true;
       },
       "string"},
      {"accelerator", "memory_gib", true, "a number > 0 (GiB per device)",
       [](const toml::node& n, ClusterSpec& c) {
         double v = 0;
         if (!positive_number(n, v)) return false;
         c.accelerator.memory_bytes = v * kGiB;
         return true;
       },
       "number"},
      {"accelerator", "memory_bandwidth_gbs", true, "a number > 0 (GB/s per device)",
       [](const toml::node& n, ClusterSpec& c) {
         double v = 0;
         if (!positive_number(n, v)) return false;
         c.accelerator.memory_bandwidth = v * 1e9;
         return true;
       },
       "number"},
      {"accelerator", "train_dtype", true, "\"fp32\", \"bf16\" or \"fp16\"",
       [](const toml::node& n, ClusterSpec& c) {
         const std::string v = n.value<std::string>().value_or("");
         if (v != "fp32" && v != "bf16" && v != "fp16") return false;
         c.accelerator.train_dtype = v;
         return true;
       },
       "string"},
      {"accelerator", "compute_efficiency", false, "a number in (0, 1]",
       [](const toml::node& n, ClusterSpec& c) {
         return fraction(n, c.accelerator.compute_efficiency);
       },
       "number"},
      {"accelerator", "memory_efficiency", false, "a number in (0, 1]",
       [](const toml::node& n, ClusterSpec& c) {
         return fraction(n, c.accelerator.memory_efficiency);
       },
       "number"},
  };
  for (auto& s : link("intra_node", &ClusterSpec::intra_node)) specs.push_back(std::move(s));
  for (auto& s : link("inter_node", &ClusterSpec::inter_node)) specs.push_back(std::move(s));
  return specs;
}

const char* kSections[] = {"cluster", "accelerator", "intra_node", "inter_node"};
const char* kDtypes[] = {"fp32", "tf32", "bf16", "fp16", "fp8"};

class ClusterReader {
 public:
  explicit ClusterReader(std::string file) : file_(std::move(file)) {}

  ClusterSpec read(const toml::table& root) {
    ClusterSpec cluster;
    const std::vector<KeySpec> specs = key_specs();
    for (auto&& [section_key, section_node] : root) {
      const std::string section(section_key.str());
      const toml::table* table = section_node.as_table();
      if (!is_section(section)) {
        std::vector<std::string> names(std::begin(kSections), std::end(kSections));
        problem(line(section_key, section_node),
                "unknown section [" + section + "]" + did_you_mean(section, names) +
                    "; valid sections: cluster, accelerator, intra_node, inter_node");
        continue;
      }
      if (table == nullptr) {
        problem(line(section_key, section_node),
                section + " must be a section ([" + section + "]), not a value");
        continue;
      }
      for (auto&& [key_node, value] : *table) {
        const std::string key(key_node.str());
        const int at = line(key_node, value);
        if (section == "accelerator" && key == "peak_tflops") {
          read_peaks(value, at, cluster);
          continue;
        }
        const KeySpec* spec = find(specs, section, key);
        if (spec == nullptr) {
          std::vector<std::string> names;
          for (const KeySpec& s : specs)
            if (section == s.section) names.emplace_back(s.key);
          if (section == "accelerator") names.emplace_back("peak_tflops");
          std::string list;
          for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
          problem(at, section + "." + key + ": unknown key in [" + section + "]" +
                          did_you_mean(key, names) + "; valid keys: " + list);
          continue;
        }
        seen_.push_back(section + "." + key);
        const bool type_ok = std::string(spec->expected_type) == "number"    ? is_number(value)
                             : std::string(spec->expected_type) == "integer" ? value.is_integer()
                                                                             : value.is_string();
        if (!type_ok) {
          problem(at, section + "." + key + " = " + text(value) + ": expected " +
                          article(spec->expected_type) + "; valid: " + spec->valid);
          continue;
        }
        if (!spec->store(value, cluster)) {
          problem(at, section + "." + key + " = " + text(value) +
                          ": out of range; valid: " + spec->valid);
        }
      }
    }
    for (const KeySpec& spec : specs) {
      const std::string name = std::string(spec.section) + "." + spec.key;
      if (!spec.required) continue;
      if (std::find(seen_.begin(), seen_.end(), name) != seen_.end()) continue;
      problem(0, name + " is missing; it is required (" + spec.valid + ")");
    }
    if (!has_peaks_) {
      problem(0,
              "accelerator.peak_tflops is missing; it is required (a table such as "
              "{ fp32 = 19.5, bf16 = 312 })");
    } else if (cluster.accelerator.peak_flops.count(cluster.accelerator.train_dtype) == 0 &&
               std::find(seen_.begin(), seen_.end(), "accelerator.train_dtype") != seen_.end()) {
      problem(0, "accelerator.train_dtype = \"" + cluster.accelerator.train_dtype +
                     "\" has no entry in [accelerator.peak_tflops]; add " +
                     cluster.accelerator.train_dtype + " = <TFLOP/s> there");
    }
    if (!problems_.empty()) {
      // Top to bottom as the file reads; problems of the file as a whole (line 0) last.
      std::stable_sort(problems_.begin(), problems_.end(), [](const auto& a, const auto& b) {
        return (a.first == 0 ? 1 << 30 : a.first) < (b.first == 0 ? 1 << 30 : b.first);
      });
      std::string message = std::to_string(problems_.size()) + " problem" +
                            (problems_.size() == 1 ? "" : "s") + " in the cluster description " +
                            file_ + ":";
      for (const auto& [line, text] : problems_) message += "\n  " + text;
      throw InputError(message);
    }
    return cluster;
  }

 private:
  static bool is_section(const std::string& s) {
    for (const char* name : kSections)
      if (s == name) return true;
    return false;
  }

  static const KeySpec* find(const std::vector<KeySpec>& specs, const std::string& section,
                             const std::string& key) {
    for (const KeySpec& s : specs)
      if (section == s.section && key == s.key) return &s;
    return nullptr;
  }

  static int line(const toml::key& key, const toml::node& node) {
    const auto& at = key.source().begin.line > 0 ? key.source().begin : node.source().begin;
    return static_cast<int>(at.line);
  }

  static std::string text(const toml::node& node) {
    if (auto str = node.value<std::string>()) return "\"" + *str + "\"";  // as the user wrote it
    std::ostringstream out;
    node.visit([&](auto&& v) { out << toml::toml_formatter(v); });
    return out.str();
  }

  static std::string article(const std::string& type) {
    return (type == "integer" ? "an " : "a ") + type;
  }

  void read_peaks(const toml::node& node, int at, ClusterSpec& cluster) {
    const toml::table* peaks = node.as_table();
    if (peaks == nullptr) {
      problem(at,
              "accelerator.peak_tflops must be a table of dtype = TFLOP/s, e.g. "
              "{ fp32 = 19.5, bf16 = 312 }");
      return;
    }
    has_peaks_ = true;
    std::vector<std::string> names(std::begin(kDtypes), std::end(kDtypes));
    for (auto&& [key_node, value] : *peaks) {
      const std::string dtype(key_node.str());
      const int where = line(key_node, value);
      if (std::find(names.begin(), names.end(), dtype) == names.end()) {
        problem(where, "accelerator.peak_tflops." + dtype + ": unknown dtype" +
                           did_you_mean(dtype, names) + "; valid: fp32, tf32, bf16, fp16, fp8");
        continue;
      }
      double v = 0;
      if (!is_number(value) || !positive_number(value, v)) {
        problem(where, "accelerator.peak_tflops." + dtype + " = " + text(value) +
                           ": expected a number > 0 (TFLOP/s)");
        continue;
      }
      cluster.accelerator.peak_flops[dtype] = v * 1e12;
    }
  }

  void problem(int at, const std::string& message) {
    problems_.push_back({at, (at > 0 ? file_ + ":" + std::to_string(at) : file_) + ": " + message});
  }

  std::string file_;
  std::vector<std::pair<int, std::string>> problems_;  // (line, message)
  std::vector<std::string> seen_;
  bool has_peaks_ = false;
};

std::string number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;  // "%g" forms ("312", "0.73", "1e-05") are all TOML numbers
}

}  // namespace

ClusterSpec parse_cluster_text(std::string_view toml_text, const std::string& file) {
  toml::table root;
  try {
    root = toml::parse(toml_text, file);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw InputError("the cluster description " + file + ":" + std::to_string(at.line) + ":" +
                     std::to_string(at.column) +
                     ": TOML syntax error: " + std::string(e.description()));
  }
  return ClusterReader(file).read(root);
}

ClusterSpec read_cluster_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError("cannot read the cluster description " + absolute_path_text(file) +
                     ": it is a directory; give a .toml file such as "
                     "configs/clusters/a100-80gb.toml");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw InputError("cannot read the cluster description " + absolute_path_text(file) + ": " +
                     (std::filesystem::exists(file, ec) ? std::strerror(err) : "no such file"));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_cluster_text(text.str(), file.string());
}

std::string cluster_to_toml(const ClusterSpec& c, const std::string& header) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
  if (!header.empty()) out << "\n";
  const AcceleratorSpec& a = c.accelerator;
  out << "[cluster]\n"
      << "name = \"" << c.name << "\"\n"
      << "nodes = " << c.nodes << "\n"
      << "devices_per_node = " << c.devices_per_node << "\n\n"
      << "[accelerator]\n"
      << "kind = \"" << (a.kind == AcceleratorKind::gpu ? "gpu" : "cpu") << "\"\n"
      << "name = \"" << a.name << "\"\n"
      << "memory_gib = " << number(a.memory_bytes / kGiB) << "\n"
      << "memory_bandwidth_gbs = " << number(a.memory_bandwidth / 1e9) << "\n"
      << "train_dtype = \"" << a.train_dtype << "\"\n"
      << "compute_efficiency = " << number(a.compute_efficiency) << "\n"
      << "memory_efficiency = " << number(a.memory_efficiency) << "\n\n"
      << "[accelerator.peak_tflops]\n";
  for (const auto& [dtype, flops] : a.peak_flops)
    out << dtype << " = " << number(flops / 1e12) << "\n";
  auto link = [&](const char* name, const LinkSpec& l) {
    out << "\n[" << name << "]\n"
        << "bandwidth_gbs = " << number(l.bandwidth / 1e9) << "\n"
        << "latency_us = " << number(l.latency * 1e6) << "\n"
        << "efficiency = " << number(l.efficiency) << "\n";
  };
  link("intra_node", c.intra_node);
  link("inter_node", c.inter_node);
  return out.str();
}

}  // namespace trellis::plan

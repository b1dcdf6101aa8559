// What a plugin sees of a run's configuration.
//
// The full run configuration (every TOML section) is private to core. Plugins receive:
//  - Options: the values of their own table, e.g. [comm.ucx] for the ucx backend, checked against
//    the OptionSpec list the plugin declares in its descriptor (unknown keys and wrong types are
//    config errors before any rank starts);
//  - ModelDims and RunQuery: the model's sizes and the parallel layout, so a plugin can reject a
//    run it cannot serve (RunQuery goes to the descriptor's `check`, which returns ConfigProblems
//    that core reports with the file and line of the key concerned).
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "trellis/parallel.h"
#include "trellis/tensor.h"

namespace trellis {

// `path` is a string naming a file: the config resolves a relative one against the config file's
// directory (or, from --set, the working directory), as it does its own paths.
enum class OptionType : std::uint8_t { boolean, integer, number, string, path };
const char* option_type_name(OptionType type) noexcept;

// One option a plugin accepts in its config table.
struct OptionSpec {
  const char* key;            // "tls"
  OptionType type;            // integer values are accepted where a number is expected
  const char* default_value;  // as TOML would write it: "true", "4", "\"shm\""; for documentation
  const char* help;           // one line
};

using OptionValue = std::variant<bool, std::int64_t, double, std::string>;

// A plugin's option values, already checked against its OptionSpecs.
class Options {
 public:
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  void set(const std::string& key, OptionValue value) { values_[key] = std::move(value); }
  const std::map<std::string, OptionValue>& values() const noexcept { return values_; }

  bool get_bool(const std::string& key, bool fallback) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback) const;
  double get_number(const std::string& key, double fallback) const;  // accepts integers
  std::string get_string(const std::string& key, const std::string& fallback) const;

 private:
  std::map<std::string, OptionValue> values_;
};

// The model's sizes.
struct ModelDims {
  std::int64_t vocab_size = 0;    // V, the real tokens
  std::int64_t padded_vocab = 0;  // token embedding rows (>= V); padding never changes the loss
  std::int64_t seq_len = 0;       // T, the length of the training sequences
  std::int64_t max_seq_len = 0;   // position embedding rows (>= T; llm.c's maxT)
  std::int64_t layers = 0;
  std::int64_t heads = 0;
  std::int64_t hidden = 0;  // C
};

// What each block computes ([model] arch and the keys it presets; ABI 2.6). GPT-2 (the
// defaults): LayerNorm, a GELU MLP of 4C, learned positions, multi-head attention, biases in
// every linear layer, the head tied to the token table. LLaMA: RMSNorm, a SwiGLU MLP, rotary
// positions, grouped-query attention (kv_heads heads of keys and values, each shared by
// heads / kv_heads query heads), no biases, its own head weight. tests/golden/make_golden.py's
// reference model is the contract for both.
struct ModelArchitecture {
  enum class Norm : std::uint8_t { layernorm, rmsnorm };
  enum class Mlp : std::uint8_t { gelu, swiglu };
  enum class Positions : std::uint8_t { learned, rope };

  Norm norm = Norm::layernorm;
  double norm_eps = 1e-5;          // LayerNorm's is fixed at 1e-5 (Kernels::layernorm_forward)
  Mlp mlp = Mlp::gelu;             // swiglu: silu(x W_gate^T) * (x W_up^T), then W_down
  std::int64_t ffn_hidden = 0;     // the MLP's inner width F; 0 in a plugin's view never happens
  Positions positions = Positions::learned;
  double rope_theta = 10000.0;     // rope: channel pair i of a head turns at theta^(-2i/head size)
  std::int64_t kv_heads = 0;       // = heads: multi-head attention
  bool bias = true;                // the linear layers have biases (norms always keep theirs)
  bool tie_embeddings = true;      // the head's weight is the token table

  // GPT-2's block for a model of `hidden` channels and `heads` heads.
  static ModelArchitecture gpt2(std::int64_t hidden, std::int64_t heads) {
    ModelArchitecture a;
    a.ffn_hidden = 4 * hidden;
    a.kv_heads = heads;
    return a;
  }
  bool is_gpt2(std::int64_t hidden, std::int64_t heads) const {
    return norm == Norm::layernorm && mlp == Mlp::gelu && positions == Positions::learned &&
           ffn_hidden == 4 * hidden && kv_heads == heads && bias && tie_embeddings;
  }
};

// Mixture of experts ([model] experts, top_k, moe_every, moe_aux_loss_coeff, capacity_factor;
// ABI 2.4). Block i has an MoE MLP in place of the dense one when experts > 0 and
// i % every == 0. Its router sends each token to its top_k experts by softmax probability, with
// the chosen probabilities renormalised to sum to 1 as the gates; with capacity_factor > 0 each
// expert takes at most ceil(capacity_factor x N x top_k / experts) of a microbatch's N tokens'
// choices, in token order, and drops the rest. The load-balancing loss of a block and
// microbatch is aux_loss_coeff x experts x sum_i f_i P_i (f_i: the fraction of choices routed to
// expert i, P_i: the mean probability of expert i); tests/golden/moe_reference.py is the contract.
struct MoeSettings {
  std::int64_t experts = 0;  // 0: every block is dense
  std::int64_t top_k = 2;    // 1 to experts
  std::int64_t every = 1;
  double aux_loss_coeff = 0.01;
  double capacity_factor = 0.0;  // 0: dropless
  // [parallel] expert: the ranks each block's experts are split over (the expert group, inside
  // the data dimension); 1: every rank holds every expert.
  std::int64_t expert_parallel = 1;

  bool is_moe_block(std::int64_t index) const { return experts > 0 && index % every == 0; }
  // Token choices each expert keeps of a microbatch's `tokens`; -1 when dropless.
  std::int64_t capacity(std::int64_t tokens) const {
    if (capacity_factor == 0.0) return -1;
    return static_cast<std::int64_t>(
        std::ceil(capacity_factor * static_cast<double>(tokens) * static_cast<double>(top_k) /
                  static_cast<double>(experts)));
  }
};

// A run as a plugin's `check` sees it, before any rank starts.
struct RunQuery {
  ModelDims dims;
  ParallelSizes sizes;
  int virtual_stages = 1;
  int microbatches = 1;  // per optimizer step, per data-parallel rank
  int micro_batch = 1;   // sequences per microbatch
  DeviceKind device = DeviceKind::cpu;
  const Options* options = nullptr;  // the plugin's own table; never null when passed to check
  // ---- ABI 2.4 ----
  MoeSettings moe;
  // ---- ABI 2.6 ----
  ModelArchitecture arch;  // GPT-2's unless the family's descriptor says builds_architectures
};

// Something wrong with a run, found by a plugin's check.
struct ConfigProblem {
  std::string key;      // the config key at fault, "section.key", e.g. "parallel.tensor"
  std::string message;  // what is wrong and what would be valid
};

}  // namespace trellis

// Decoding with the KV cache against recomputing the whole text for every token, for the tiny
// GPT-2 and both tiny LLaMAs (grouped-query and multi-head attention): the logits of
// every step within twice the float32 bound (each run is within one bound of the exact logits;
// the two add up their rounding in different orders: one token's products against the whole
// text's), and the same tokens, greedy and sampled. A sampled token could differ only where the
// draw falls within the logits' difference of a boundary between two tokens' shares: at the
// differences the bound allows, a few in ten thousand a step; at those the runs show (near
// float32's roundoff), never in practice.
#include <doctest/doctest.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "generate/generation.h"
#include "generate/token_sampler.h"
#include "tiny_generator.h"

using namespace trellis;
using trellis::test::TinyGenerator;
namespace numerics = trellis::test::numerics;

namespace {

// The models the cache is checked with: the tiny GPT-2 (llm.c file) and both tiny LLaMAs.
std::unique_ptr<TinyGenerator> tiny_model(const std::string& which) {
  if (which == "gpt2") return std::make_unique<TinyGenerator>();
  return std::make_unique<TinyGenerator>(trellis::test::TinyLlama{which});
}

}  // namespace

TEST_CASE("each cached step's logits are those of the whole text run again") {
  for (const std::string which : {"gpt2", "gqa.", "mha."}) {
    CAPTURE(which);
    const std::unique_ptr<TinyGenerator> cached_model = tiny_model(which);
    const std::unique_ptr<TinyGenerator> fresh_model = tiny_model(which);
    TinyGenerator& cached = *cached_model;
    TinyGenerator& fresh = *fresh_model;
    const std::vector<std::int32_t> prompt = {3, 41, 96, 0, 17};
    TokenSampler sampler({.temperature = 1.0, .seed = 11});
    std::vector<std::int32_t> text = prompt;
    std::span<const float> step = cached.decoder->append(prompt);
    while (text.size() < static_cast<std::size_t>(cached.arch().max_positions)) {
      CAPTURE(text.size());
      fresh.decoder->reset();
      const std::span<const float> whole = fresh.decoder->append(text);
      REQUIRE(cached.decoder->length() == fresh.decoder->length());
      const std::vector<double> want(whole.begin(), whole.end());
      const double bound = 2 * cached.logits_bound(static_cast<std::int64_t>(text.size()),
                                                   trellis::test::max_abs(want));
      const numerics::Comparison cmp = numerics::compare(step, want, bound);
      numerics::report("test_kv_cache", which + " cached against recomputed logits", cmp);
      INFO(cmp.describe());
      CHECK(cmp.ok());
      const std::int32_t token = sampler.next(step);
      text.push_back(token);
      if (text.size() < static_cast<std::size_t>(cached.arch().max_positions))
        step = cached.decoder->append(std::span(&token, 1));
    }
  }
}

TEST_CASE("generation with the KV cache gives the tokens recomputation gives") {
  for (const std::string which : {"gpt2", "gqa.", "mha."}) {
    CAPTURE(which);
    const std::unique_ptr<TinyGenerator> t = tiny_model(which);
    for (const trellis::test::GoldenContinuation& c : trellis::test::golden_continuations()) {
      for (const SamplingSettings& s :
           {SamplingSettings{.temperature = 0.0}, SamplingSettings{.temperature = 0.8, .seed = 3},
            SamplingSettings{.temperature = 1.0, .top_k = 5, .top_p = 0.9, .seed = 4}}) {
        CAPTURE(s.temperature);
        GenerationSettings settings;
        settings.max_new_tokens = 100;
        TokenSampler with_cache(s);
        const GenerationResult a = generate_tokens(*t->decoder, with_cache, c.prompt, settings);
        settings.use_cache = false;
        TokenSampler without(s);
        const GenerationResult b = generate_tokens(*t->decoder, without, c.prompt, settings);
        CHECK(a.tokens == b.tokens);
        CHECK(a.stop == b.stop);
      }
    }
  }
}

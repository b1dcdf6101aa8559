// The sampler: greedy's tie rule, the settings it refuses, determinism for a seed, and the
// filters' limits (top-k 1 and a tiny top-p are greedy), on hand-made logits and on the tiny GPT-2.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <vector>

#include "generate/generation.h"
#include "generate/token_sampler.h"
#include "tiny_generator.h"
#include "trellis/error.h"

using namespace trellis;
using trellis::test::GoldenContinuation;
using trellis::test::TinyGenerator;

namespace {

std::vector<std::int32_t> generate(TinyGenerator& t, const GoldenContinuation& c,
                                   const SamplingSettings& s) {
  TokenSampler sampler(s);
  GenerationSettings settings;
  settings.max_new_tokens = 100;
  return generate_tokens(*t.decoder, sampler, c.prompt, settings).tokens;
}

}  // namespace

TEST_CASE("greedy takes the lowest id among equal largest logits") {
  CHECK(greedy_token(std::vector<float>{1.0f, 3.0f, 3.0f, 0.0f}) == 1);
  CHECK(greedy_token(std::vector<float>{-2.0f}) == 0);
  TokenSampler top1({.temperature = 2.0, .top_k = 1, .seed = 5});
  CHECK(top1.next(std::vector<float>{1.0f, 3.0f, 3.0f, 0.0f}) == 1);
}

TEST_CASE("the sampler refuses settings outside their ranges, naming them") {
  CHECK_THROWS_WITH_AS(TokenSampler({.temperature = -0.5}),
                       "temperature -0.500000: valid: 0 (greedy) or a positive number", InputError);
  CHECK_THROWS_AS(TokenSampler({.top_k = -1}), InputError);
  CHECK_THROWS_AS(TokenSampler({.top_p = 0.0}), InputError);
  CHECK_THROWS_AS(TokenSampler({.top_p = 1.5}), InputError);
  CHECK_NOTHROW(TokenSampler({.temperature = 0.0, .top_k = 0, .top_p = 1.0}));
}

TEST_CASE("samples follow the softmax of logits / temperature over what top-k and top-p keep") {
  // Probabilities 0.5, 0.25, 0.125, 0.125 at temperature 1.
  const float l2 = static_cast<float>(std::log(2.0));
  const std::vector<float> logits = {3 * l2, 2 * l2, l2, l2};
  auto counts = [&](const SamplingSettings& s) {
    TokenSampler sampler(s);
    std::map<std::int32_t, int> n;
    for (int i = 0; i < 20000; ++i) ++n[sampler.next(logits)];
    return n;
  };
  std::map<std::int32_t, int> all = counts({.seed = 1});
  // Each count within 5 standard deviations of its binomial mean.
  CHECK(std::abs(all[0] - 10000) < 360);
  CHECK(std::abs(all[1] - 5000) < 310);
  CHECK(std::abs(all[2] - 2500) < 240);
  // top-k 2: 2/3 and 1/3 of the draws, ids 2 and 3 never.
  std::map<std::int32_t, int> k2 = counts({.top_k = 2, .seed = 2});
  CHECK(k2.count(2) == 0);
  CHECK(k2.count(3) == 0);
  CHECK(std::abs(k2[0] - 13333) < 340);
  // top-p 0.7: 0.5 alone is short of it, 0.75 reaches it: ids 0 and 1.
  std::map<std::int32_t, int> p7 = counts({.top_p = 0.7, .seed = 3});
  CHECK(p7.size() == 2);
  // A high temperature flattens: id 3 comes up about as often as id 2.
  std::map<std::int32_t, int> hot = counts({.temperature = 1000.0, .seed = 4});
  CHECK(std::abs(hot[3] - 5000) < 310);
}

TEST_CASE("the same seed gives the same tokens, another seed others") {
  TinyGenerator t;
  const GoldenContinuation c = trellis::test::golden_continuations().at(1);
  const SamplingSettings s{.temperature = 1.0, .seed = 1234};
  const std::vector<std::int32_t> a = generate(t, c, s);
  CHECK(a.size() == c.tokens.size());
  CHECK(generate(t, c, s) == a);
  // The tiny model's logits are nearly flat: 11 draws from ~97 tokens repeat with probability
  // about 97^-11.
  CHECK(generate(t, c, {.temperature = 1.0, .seed = 1235}) != a);
}

TEST_CASE("top-k 1 and a top-p below every probability are greedy") {
  TinyGenerator t;
  for (const GoldenContinuation& c : trellis::test::golden_continuations()) {
    CHECK(generate(t, c, {.temperature = 1.0, .top_k = 1, .seed = 9}) == c.tokens);
    CHECK(generate(t, c, {.temperature = 1.0, .top_p = 1e-9, .seed = 9}) == c.tokens);
    CHECK(generate(t, c, {.temperature = 0.0, .seed = 9}) == c.tokens);
  }
}

// Greedy generation of the tiny GPT-2 against PyTorch's (tests/golden/make_golden.py,
// make_tiny_gpt2_generate: float64, the whole text again for each token), from the llm.c file
// and from the Hugging Face directory: the same tokens, and every step's logits within the
// float32 bound. The golden prompts were chosen so that every step's top-2 gap exceeds twice that
// bound, which is what lets the tokens be compared exactly. The same for the tiny LLaMA
// (make_llama_generate: the "gqa." model's initial weights), and both LLaMA models' logits at
// every position of tiny_llama.golden's batch.
#include <doctest/doctest.h>

#include <span>

#include "generate/generation.h"
#include "generate/token_sampler.h"
#include "tiny_generator.h"
#include "trellis/error.h"

using namespace trellis;
using trellis::test::GoldenContinuation;
using trellis::test::TinyGenerator;
namespace numerics = trellis::test::numerics;

namespace {

// Feeds PyTorch's tokens one at a time (the KV cache's path) and holds each step's logits to the
// bound; checks first that the step's gap leaves the greedy choice clear of rounding.
void check_logits_along(TinyGenerator& t, const GoldenContinuation& c, const std::string& what) {
  const std::int64_t V = t.arch().vocab_size;
  t.decoder->reset();
  std::span<const float> logits = t.decoder->append(c.prompt);
  for (std::size_t s = 0; s < c.tokens.size(); ++s) {
    CAPTURE(s);
    const std::span<const double> want(c.logits.data() + s * V, static_cast<std::size_t>(V));
    const double scale = trellis::test::max_abs(want);
    const double bound = t.logits_bound(t.decoder->length(), scale);
    REQUIRE(c.gap[s] * scale > 2 * bound);
    const numerics::Comparison cmp = numerics::compare(logits, want, bound);
    numerics::report("test_generate_golden", what + " logits", cmp);
    INFO(what << ": " << cmp.describe());
    CHECK(cmp.ok());
    if (s + 1 < c.tokens.size()) logits = t.decoder->append(std::span(&c.tokens[s], 1));
  }
}

void check_greedy(TinyGenerator& t, const std::string& what,
                  const std::string& file = "tiny_gpt2_generate.golden") {
  const std::vector<GoldenContinuation> golden = trellis::test::golden_continuations(file);
  REQUIRE(golden.size() == 3);
  for (std::size_t i = 0; i < golden.size(); ++i) {
    CAPTURE(i);
    const GoldenContinuation& c = golden[i];
    check_logits_along(t, c, what);
    TokenSampler greedy({.temperature = 0.0});
    GenerationSettings settings;
    settings.max_new_tokens = static_cast<std::int64_t>(c.tokens.size());
    const GenerationResult r = generate_tokens(*t.decoder, greedy, c.prompt, settings);
    CHECK(r.tokens == c.tokens);
    // PyTorch's run filled the model's positions: so does the decoder, exactly then.
    CHECK(c.prompt.size() + c.tokens.size() == static_cast<std::size_t>(t.arch().max_positions));
  }
}

}  // namespace

TEST_CASE("greedy generation from the llm.c checkpoint equals PyTorch's token for token") {
  TinyGenerator t;
  check_greedy(t, "llmc");
}

TEST_CASE("greedy generation from the Hugging Face directory equals PyTorch's token for token") {
  TinyGenerator t(golden::golden_path("tiny_gpt2.hf"));
  // Hugging Face's table holds the real vocabulary only: no padding rows.
  CHECK(t.arch().padded_vocab == t.arch().vocab_size);
  check_greedy(t, "hf");
}

TEST_CASE("greedy generation of the tiny LLaMA (grouped-query) equals PyTorch's token for token") {
  TinyGenerator t(trellis::test::TinyLlama{"gqa."});
  CHECK(t.arch().grouped());
  check_greedy(t, "llama gqa.", "tiny_llama_generate.golden");
}

TEST_CASE("the tiny LLaMA's logits at every position of the golden batch are PyTorch's") {
  // Each sequence of the batch as a prompt of 3 tokens (one pass), then a token at a time: the
  // logits of every position from the third on, against the float64 reference's.
  const golden::GoldenFile& g = trellis::test::tiny_llama_golden();
  const std::vector<std::int32_t> tokens = g.tensor("tokens").i32();
  const std::int64_t B = static_cast<std::int64_t>(g.scalar("B"));
  const std::int64_t T = static_cast<std::int64_t>(g.scalar("T"));
  const std::int64_t V = static_cast<std::int64_t>(g.scalar("V"));
  constexpr std::int64_t kPrompt = 3;
  for (const char* prefix : {"gqa.", "mha."}) {
    CAPTURE(prefix);
    TinyGenerator t(trellis::test::TinyLlama{prefix});
    CHECK(t.arch().grouped() == (std::string(prefix) == "gqa."));
    const std::vector<double> want_all = g.tensor(std::string(prefix) + "logits").f64();
    REQUIRE(want_all.size() == static_cast<std::size_t>(B * T * V));
    for (std::int64_t b = 0; b < B; ++b) {
      const std::span<const std::int32_t> seq(tokens.data() + b * T, static_cast<std::size_t>(T));
      t.decoder->reset();
      std::span<const float> logits = t.decoder->append(seq.first(kPrompt));
      for (std::int64_t pos = kPrompt - 1; pos < T; ++pos) {
        CAPTURE(b);
        CAPTURE(pos);
        if (pos >= kPrompt)
          logits = t.decoder->append(seq.subspan(static_cast<std::size_t>(pos), 1));
        const std::span<const double> want(want_all.data() + (b * T + pos) * V,
                                           static_cast<std::size_t>(V));
        const double bound = t.logits_bound(pos + 1, trellis::test::max_abs(want));
        const numerics::Comparison cmp = numerics::compare(logits, want, bound);
        numerics::report("test_generate_golden", std::string(prefix) + " batch logits", cmp);
        INFO(cmp.describe());
        CHECK(cmp.ok());
      }
    }
  }
}

TEST_CASE("generation stops at the model's positions, at end of text, and at max-new-tokens") {
  TinyGenerator t;
  const GoldenContinuation c = trellis::test::golden_continuations().at(0);
  TokenSampler greedy({.temperature = 0.0});
  GenerationSettings settings;
  settings.max_new_tokens = 1000;
  GenerationResult r = generate_tokens(*t.decoder, greedy, c.prompt, settings);
  CHECK(r.stop == StopReason::max_positions);
  CHECK(r.tokens == c.tokens);
  CHECK(describe_stop(r.stop, 1000, 16) == "the model's 16 positions (max_seq_len) are full");

  settings.max_new_tokens = 3;
  r = generate_tokens(*t.decoder, greedy, c.prompt, settings);
  CHECK(r.stop == StopReason::max_new_tokens);
  CHECK(r.tokens == std::vector<std::int32_t>(c.tokens.begin(), c.tokens.begin() + 3));

  settings.max_new_tokens = 1000;
  settings.end_of_text = c.tokens[0];
  r = generate_tokens(*t.decoder, greedy, c.prompt, settings);
  CHECK(r.stop == StopReason::end_of_text);
  CHECK(r.tokens == std::vector<std::int32_t>{c.tokens[0]});
  CHECK(r.first_token_seconds <= r.seconds);
}

TEST_CASE("a prompt the model cannot take is bad input, named") {
  TinyGenerator t;
  TokenSampler greedy({.temperature = 0.0});
  const GenerationSettings settings;
  const std::vector<std::int32_t> outside = {5, 97};
  CHECK_THROWS_WITH_AS(generate_tokens(*t.decoder, greedy, outside, settings),
                       "token id 97 at position 1 is outside the model's vocabulary (ids 0..96)",
                       InputError);
  const std::vector<std::int32_t> too_long(17, 3);
  CHECK_THROWS_WITH_AS(generate_tokens(*t.decoder, greedy, too_long, settings),
                       "the prompt is 17 tokens, more than the model's 16 positions (max_seq_len)",
                       InputError);
  CHECK_THROWS_AS(generate_tokens(*t.decoder, greedy, std::vector<std::int32_t>{}, settings),
                  InputError);
  // A prompt that fills the positions leaves no room for a token.
  const std::vector<std::int32_t> full(16, 3);
  const GenerationResult r = generate_tokens(*t.decoder, greedy, full, settings);
  CHECK(r.tokens.empty());
  CHECK(r.stop == StopReason::max_positions);
}

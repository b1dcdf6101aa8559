// A text corpus opened with a tokenizer (dataset/token_dataset.h): GPT-2's BPE encodes the file
// once, the windows read its ids; the byte-level tokenizer still reads the bytes themselves.
#include <doctest/doctest.h>

#include "dataset/token_dataset.h"
#include "tokenizer/byte_tokenizer.h"
#include "tokenizer/gpt2_tokenizer.h"
#include "tokenizer_test_files.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

TEST_CASE("a text file opened with GPT-2's BPE holds the ids the tokenizer gives its bytes") {
  const auto tokenizer = Gpt2Tokenizer::open(test::tokenizer_data());
  std::string text;
  for (int i = 0; i < 20; ++i) text += "The trellis holds the vine; it's 2024. Naïve café!\n";
  const fs::path file = test::fresh_tokenizer_dir("dataset") / "corpus.txt";
  test::write_bytes(file, text);

  const TokenDataset data = TokenDataset::open(file, 512, *tokenizer);
  const std::vector<std::int32_t> ids = tokenizer->encode(text);
  CHECK(data.is_text());
  CHECK(data.text_tokenizer() == tokenizer->describe());
  REQUIRE(data.tokens() == static_cast<std::int64_t>(ids.size()));
  CHECK(data.tokens() < static_cast<std::int64_t>(text.size()));  // merges shorten it
  for (std::int64_t i = 0; i < data.tokens(); ++i) CHECK(data.token(i) == ids[i]);

  // Step 1's first window: llm.c's layout, over the ids.
  const std::int64_t T = 8, B = 2;
  std::vector<std::int32_t> inputs(B * T), targets(B * T);
  data.read(1, B, T, 0, B, false, 0, inputs.data(), targets.data());
  for (std::int64_t t = 0; t < B * T; ++t) {
    CHECK(inputs[t] == ids[B * T + t]);
    CHECK(targets[t] == ids[B * T + t + 1]);
  }
}

TEST_CASE("a model vocabulary smaller than the tokenizer's is an InputError naming both") {
  const auto tokenizer = Gpt2Tokenizer::open(test::tokenizer_data());
  const fs::path file = test::fresh_tokenizer_dir("dataset-small") / "corpus.txt";
  test::write_bytes(file, "some text");
  CHECK_THROWS_WITH_AS(TokenDataset::open(file, 300, *tokenizer),
                       doctest::Contains("[model] vocab_size is 300; use vocab_size >= 341"),
                       InputError);
}

TEST_CASE("with the byte-level tokenizer text is still its bytes") {
  const fs::path file = test::fresh_tokenizer_dir("dataset-bytes") / "corpus.txt";
  test::write_bytes(file, "caf\xc3\xa9");
  const TokenDataset data = TokenDataset::open(file, 256, ByteTokenizer());
  CHECK(data.tokens() == 5);
  CHECK(data.token(4) == 0xa9);
  CHECK(data.text_tokenizer() == "bytes");
  const TokenDataset same = TokenDataset::open(file, 256);
  CHECK(same.tokens() == 5);
}

#include <doctest/doctest.h>

#include <fstream>

#include "dataset/token_file_header.h"
#include "model/llmc_checkpoint_header.h"
#include "support/fixtures.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using trellis::InputError;

namespace {

const fs::path& fixtures() {
  static const fs::path dir = [] {
    fs::path d = trellis::test::fresh_work_dir("headers");
    trellis::test::make_fixtures(d);
    return d;
  }();
  return dir;
}

}  // namespace

TEST_CASE("a good token file's header gives its token count") {
  CHECK(trellis::has_token_file_magic(fixtures() / "tokens.bin"));
  const trellis::TokenFileHeader h = trellis::read_token_file_header(fixtures() / "tokens.bin");
  CHECK(h.version == 1);
  CHECK(h.tokens == 2000);
  CHECK(h.file_bytes == 1024 + 4000);
}

TEST_CASE("broken token files are named with what is wrong") {
  CHECK_FALSE(trellis::has_token_file_magic(fixtures() / "tiny.txt"));
  CHECK_FALSE(trellis::has_token_file_magic(fixtures() / "absent.bin"));
  CHECK_THROWS_WITH_AS(trellis::read_token_file_header(fixtures() / "tokens_bad_magic.bin"),
                       doctest::Contains("bad magic 12345 (expected 20240520)"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_token_file_header(fixtures() / "tokens_v2.bin"),
                       doctest::Contains("unsupported version 2"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_token_file_header(fixtures() / "tokens_truncated.bin"),
                       doctest::Contains("expected 1024 + 2 x 2000 = 5024 bytes); truncated?"),
                       InputError);
  CHECK_THROWS_WITH_AS(trellis::read_token_file_header(fixtures() / "plain.bin"),
                       doctest::Contains("shorter than the 1024-byte header"), InputError);
}

TEST_CASE("a good llm.c checkpoint's header gives the model's dimensions") {
  const trellis::LlmcCheckpointHeader h =
      trellis::read_llmc_checkpoint_header(fixtures() / "gpt2_tiny.bin");
  CHECK(h.version == 3);
  CHECK(h.max_seq_len == 64);
  CHECK(h.vocab_size == 300);
  CHECK(h.layers == 2);
  CHECK(h.heads == 2);
  CHECK(h.channels == 16);
  CHECK(h.padded_vocab == 384);
  CHECK(trellis::llmc_parameter_count(h) ==
        trellis::test::llmc_spec_parameters(trellis::test::LlmcSpec{}));
}

TEST_CASE("llm.c parameter tensors come in llm.c's order with its shapes") {
  trellis::LlmcCheckpointHeader h;
  h.max_seq_len = 1024;
  h.vocab_size = 50257;
  h.layers = 12;
  h.heads = 12;
  h.channels = 768;
  h.padded_vocab = 50304;
  const auto tensors = trellis::llmc_parameter_tensors(h);
  REQUIRE(tensors.size() == 16);
  CHECK(tensors[0].name == "wte");
  CHECK(tensors[0].shape == std::vector<std::int64_t>{50304, 768});
  CHECK(tensors[4].name == "qkvw");
  CHECK(tensors[4].shape == std::vector<std::int64_t>{12, 3 * 768, 768});
  CHECK(tensors[12].name == "fcprojw");
  CHECK(tensors[12].shape == std::vector<std::int64_t>{12, 768, 4 * 768});
  CHECK(tensors[15].name == "lnfb");
  // GPT-2 124M with the padded vocabulary, as llm.c counts it.
  CHECK(trellis::llmc_parameter_count(h) == 124475904);
}

TEST_CASE("broken llm.c checkpoints are named with what is wrong") {
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(fixtures() / "gpt2_bf16.bin"),
                       doctest::Contains("only fp32 checkpoints (version 3) are read"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(fixtures() / "gpt2_bad_magic.bin"),
                       doctest::Contains("bad magic 1234 (expected 20240326)"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(fixtures() / "gpt2_truncated.bin"),
                       doctest::Contains("truncated?"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(fixtures() / "tokens.bin"),
                       doctest::Contains("this is an llm.c token file"), InputError);
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(fixtures() / "tiny.txt"),
                       doctest::Contains("bad magic"), InputError);

  const fs::path odd = fixtures() / "gpt2_odd_heads.bin";
  trellis::test::write_llmc_checkpoint(odd, {.heads = 3});
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(odd),
                       doctest::Contains("C is not divisible by NH"), InputError);
  const fs::path huge = fixtures() / "gpt2_huge.bin";
  trellis::test::write_llmc_checkpoint(huge, {.heads = 1});
  {
    // Patch C to 2^31 - 1: a corrupt header must not overflow the size arithmetic.
    std::fstream f(huge, std::ios::in | std::ios::out | std::ios::binary);
    const std::int32_t c = 2147483647;
    f.seekp(6 * 4);
    f.write(reinterpret_cast<const char*>(&c), 4);
  }
  CHECK_THROWS_WITH_AS(trellis::read_llmc_checkpoint_header(huge),
                       doctest::Contains("impossible dimensions"), InputError);
}

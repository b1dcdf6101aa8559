// llm.c's tokenizer file (tokenizer/llmc_tokenizer.h) decodes what it holds, refuses to encode
// (it has no merges) with a message saying what encoding needs, and refuses every broken file
// with an InputError naming it.
#include <doctest/doctest.h>

#include <array>
#include <cstring>

#include "os/absolute_path.h"
#include "tokenizer/llmc_tokenizer.h"
#include "tokenizer_test_files.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

struct LlmcFileSpec {
  std::uint32_t magic = 20240328;
  std::uint32_t version = 2;
  std::int64_t vocab = -1;  // the header's count; -1: tokens.size()
  std::uint32_t eot = 0;
  std::vector<std::string> tokens{};
  std::string tail{};  // written after the tokens
};

std::string llmc_file_bytes(const LlmcFileSpec& spec) {
  std::array<std::uint32_t, 256> header{};
  header[0] = spec.magic;
  header[1] = spec.version;
  header[2] = static_cast<std::uint32_t>(
      spec.vocab >= 0 ? spec.vocab : static_cast<std::int64_t>(spec.tokens.size()));
  header[3] = spec.eot;
  std::string bytes(reinterpret_cast<const char*>(header.data()), sizeof header);
  for (const std::string& token : spec.tokens) {
    bytes += static_cast<char>(token.size());
    bytes += token;
  }
  return bytes + spec.tail;
}

fs::path write_llmc_file(const std::string& name, const std::string& bytes) {
  const fs::path file = test::fresh_tokenizer_dir("llmc/" + name) / "gpt2_tokenizer.bin";
  test::write_bytes(file, bytes);
  return file;
}

const std::vector<std::string> kTokens = {"a", "b", " the", "\xe2\x82", "\xac", "<|endoftext|>"};

void refuses(const std::string& name, const std::string& bytes, const std::string& why) {
  const fs::path file = write_llmc_file(name, bytes);
  const std::string label = "llm.c tokenizer file " + absolute_path_text(file) + ": ";
  CHECK_THROWS_WITH_AS(LlmcTokenizer::open(file), doctest::Contains(label.c_str()), InputError);
  CHECK_THROWS_WITH_AS(LlmcTokenizer::open(file), doctest::Contains(why.c_str()), InputError);
}

}  // namespace

TEST_CASE("llm.c's tokenizer file decodes, token by token") {
  const fs::path file = write_llmc_file("good", llmc_file_bytes({.eot = 5, .tokens = kTokens}));
  const auto tokenizer = LlmcTokenizer::open(file);
  CHECK(tokenizer->version() == 2);
  CHECK(tokenizer->vocab_size() == 6);
  CHECK(tokenizer->end_of_text() == 5);
  const std::vector<std::int32_t> ids = {0, 2, 3, 4, 1};
  CHECK(tokenizer->decode(ids) ==
        "a the\xe2\x82\xac"
        "b");
  CHECK(tokenizer->token_bytes(3) == "\xe2\x82");  // half a character: a stream shows it later
  CHECK_THROWS_WITH_AS(tokenizer->token_bytes(6), doctest::Contains("token id 6"), InputError);
}

TEST_CASE("encoding with llm.c's file says vocab.json and merges.txt are needed") {
  const fs::path file = write_llmc_file("encode", llmc_file_bytes({.eot = 5, .tokens = kTokens}));
  const auto tokenizer = LlmcTokenizer::open(file);
  CHECK_THROWS_WITH_AS(tokenizer->encode("a"), doctest::Contains("vocab.json and merges.txt"),
                       InputError);
  CHECK_THROWS_WITH_AS(tokenizer->encode("a"), doctest::Contains(absolute_path_text(file).c_str()),
                       InputError);
}

TEST_CASE("version 1 has no end-of-text field: GPT-2's 50256 where the vocabulary has it") {
  const auto small = LlmcTokenizer::open(
      write_llmc_file("v1-small", llmc_file_bytes({.version = 1, .tokens = kTokens})));
  CHECK_FALSE(small->end_of_text().has_value());
  std::vector<std::string> gpt2(50257, "x");
  gpt2[50256] = "<|endoftext|>";
  const auto full = LlmcTokenizer::open(
      write_llmc_file("v1-gpt2", llmc_file_bytes({.version = 1, .tokens = gpt2})));
  CHECK(full->end_of_text() == 50256);
  CHECK(full->token_bytes(50256) == "<|endoftext|>");
}

TEST_CASE("broken llm.c tokenizer files are InputErrors naming the file and the problem") {
  const fs::path missing = test::fresh_tokenizer_dir("llmc/missing") / "gpt2_tokenizer.bin";
  CHECK_THROWS_WITH_AS(LlmcTokenizer::open(missing), doctest::Contains("cannot be read"),
                       InputError);
  const std::string good = llmc_file_bytes({.eot = 5, .tokens = kTokens});
  refuses("short", good.substr(0, 1000), "1000 bytes, shorter than its 1024-byte header");
  refuses("magic", llmc_file_bytes({.magic = 20240520, .tokens = kTokens}),
          "bad magic 20240520 (expected 20240328)");
  refuses("version", llmc_file_bytes({.version = 3, .tokens = kTokens}),
          "version 3 is not one this reader knows; valid: 1 or 2");
  refuses("empty", llmc_file_bytes({}), "vocabulary size 0");
  refuses("eot", llmc_file_bytes({.eot = 6, .tokens = kTokens}),
          "end-of-text id 6 is outside its 6 tokens");
  refuses("zero-length", llmc_file_bytes({.tokens = {"a", "", "b"}}),
          "token 1 (at byte 1026) has length 0");
  refuses("cut-inside", good.substr(0, good.size() - 3),
          "ends inside token 5 of the 6 its header announces");
  refuses("cut-between", llmc_file_bytes({.vocab = 8, .tokens = kTokens}),
          "ends before token 6 of the 8 its header announces");
  refuses("tail", llmc_file_bytes({.eot = 5, .tokens = kTokens, .tail = "xyz"}),
          "3 bytes follow the last of its 6 tokens");
}

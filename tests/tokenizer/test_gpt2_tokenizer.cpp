// GPT-2's byte-level BPE (tokenizer/gpt2_tokenizer.h) gives the ids OpenAI's encoder.py gives:
// data/cases.txt holds them for strings that exercise every alternative of the pre-tokenization
// pattern, letters and digits beyond ASCII, whitespace beyond ASCII and bytes that are not UTF-8
// (make_tokenizer_data.py computes them with the `regex` module). Decoding gives back the bytes
// of anything, and the byte-level tokenizer stays what it was.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "json/json_fields.h"
#include "tokenizer/byte_tokenizer.h"
#include "tokenizer/gpt2_pretokenizer.h"
#include "tokenizer/gpt2_tokenizer.h"
#include "tokenizer/unicode_class.h"
#include "tokenizer_test_files.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;
using trellis::test::tokenizer_data;

namespace {

struct Case {
  std::string text;
  std::vector<std::int32_t> ids;
};

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// cases.txt: "HEX|IDS" a line.
std::vector<Case> read_cases(const fs::path& file) {
  std::ifstream in(file);
  REQUIRE(in);
  std::vector<Case> cases;
  for (std::string line; std::getline(in, line);) {
    const std::size_t bar = line.find('|');
    REQUIRE(bar != std::string::npos);
    Case c{from_hex(line.substr(0, bar)), {}};
    std::istringstream ids(line.substr(bar + 1));
    for (std::int32_t id; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string printable(const std::string& bytes) {
  return json::Value(bytes).dump(-1, ' ', true, json::Value::error_handler_t::replace);
}

void check_reference_ids(const Tokenizer& tokenizer, const fs::path& cases_file) {
  const std::vector<Case> cases = read_cases(cases_file);
  REQUIRE(cases.size() > 5);
  for (const Case& c : cases) {
    CAPTURE(printable(c.text));
    const std::vector<std::int32_t> ids = tokenizer.encode(c.text);
    CHECK(ids == c.ids);
    CHECK(tokenizer.decode(ids) == c.text);
  }
}

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  Gpt2Pretokenizer splitter(text);
  for (std::string_view piece; splitter.next(piece);) out.emplace_back(piece);
  return out;
}

}  // namespace

TEST_CASE("GPT-2 BPE encodes as OpenAI's encoder.py, and decodes back") {
  const auto tokenizer = Gpt2Tokenizer::open(tokenizer_data());
  CHECK(tokenizer->vocab_size() == 341);
  CHECK(tokenizer->end_of_text() == 340);
  CHECK(tokenizer->token_bytes(340) == "<|endoftext|>");
  check_reference_ids(*tokenizer, tokenizer_data("cases.txt"));
  // A second pass takes every word from the cache: the same ids.
  check_reference_ids(*tokenizer, tokenizer_data("cases.txt"));
}

TEST_CASE(
    "each round merges every occurrence of the lowest-ranked pair before the pairs it makes") {
  // data/unordered: "aa a" has rank 0 but exists only once "a a" (rank 1) has merged.
  const auto tokenizer = Gpt2Tokenizer::open(tokenizer_data("unordered"));
  check_reference_ids(*tokenizer, tokenizer_data("unordered/cases.txt"));
}

TEST_CASE("vocab.json with \\u escapes (OpenAI's encoder.json) reads as the same vocabulary") {
  const fs::path dir = test::fresh_tokenizer_dir("escaped");
  const json::Value vocab = json::parse(test::read_bytes(tokenizer_data("vocab.json")));
  test::write_bytes(dir / "vocab.json", vocab.dump(-1, ' ', true));
  fs::copy_file(tokenizer_data("merges.txt"), dir / "merges.txt");
  // Without the "#version" line too (encoder.py skips the first line whatever it holds; Hugging
  // Face skips it only when it is a version line).
  std::string merges = test::read_bytes(dir / "merges.txt");
  test::write_bytes(dir / "merges.txt", merges.substr(merges.find('\n') + 1));
  const auto escaped = Gpt2Tokenizer::open(dir);
  const auto original = Gpt2Tokenizer::open(tokenizer_data());
  const std::string text = "Naïve café, it's 2024!\n\n  🙂";
  CHECK(escaped->encode(text) == original->encode(text));
  CHECK(escaped->merges() == original->merges());
}

TEST_CASE("decode(encode(s)) gives s back for any bytes") {
  const auto tokenizer = Gpt2Tokenizer::open(tokenizer_data());
  const ByteTokenizer bytes;
  std::vector<std::string> texts = {
      "", " ", "\xff", "\xc3", "a\xe2\x82", "\xed\xa0\x80", std::string("\0\0x\0", 4)};
  // Every byte value, and pseudo-random byte strings biased towards UTF-8 lead bytes.
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  texts.push_back(all);
  std::uint64_t state = 12345;
  for (int n = 0; n < 200; ++n) {
    std::string s;
    for (int i = 0; i < n % 37; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const auto r = static_cast<unsigned>(state >> 33);
      const char pool[] = {' ',    'a',    'b',    '\'',   's',    '1',    '\n',
                           '!',    '\xc3', '\xa9', '\xe2', '\x82', '\xac', '\xf0',
                           '\x9f', '\x99', '\x82', '\xff', '\t'};
      s += (r % 4 == 0) ? static_cast<char>(r >> 8) : pool[(r >> 8) % sizeof pool];
    }
    texts.push_back(s);
  }
  for (const std::string& text : texts) {
    CAPTURE(printable(text));
    const std::vector<std::int32_t> ids = tokenizer->encode(text);
    CHECK(tokenizer->decode(ids) == text);
    std::string streamed;
    for (std::int32_t id : ids) streamed += tokenizer->token_bytes(id);
    CHECK(streamed == text);
    CHECK(bytes.decode(bytes.encode(text)) == text);
  }
  CHECK(tokenizer->encode("").empty());
}

TEST_CASE("encoding from several threads at once gives each the same ids") {
  const auto tokenizer = Gpt2Tokenizer::open(tokenizer_data());
  const std::vector<Case> cases = read_cases(tokenizer_data("cases.txt"));
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
          const Case& c = cases[(i + static_cast<std::size_t>(t) * 7) % cases.size()];
          if (tokenizer->encode(c.text) != c.ids) ++wrong[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(wrong == std::vector<int>(4, 0));
}

TEST_CASE("an id outside the vocabulary is an InputError naming it") {
  const auto tokenizer = Gpt2Tokenizer::open(tokenizer_data());
  CHECK_THROWS_WITH_AS(tokenizer->token_bytes(341), doctest::Contains("token id 341"), InputError);
  CHECK_THROWS_WITH_AS(tokenizer->token_bytes(-1), doctest::Contains("ids 0..340"), InputError);
  const std::vector<std::int32_t> ids = {1, 256};
  CHECK_THROWS_AS(ByteTokenizer().decode(ids), InputError);
}

TEST_CASE("the byte-level tokenizer: one token a byte, no end-of-text") {
  const ByteTokenizer tokenizer;
  CHECK(tokenizer.vocab_size() == 256);
  CHECK_FALSE(tokenizer.end_of_text().has_value());
  CHECK(tokenizer.encode("A\xff") == std::vector<std::int32_t>{65, 255});
  CHECK(tokenizer.token_bytes(10) == "\n");
  CHECK(tokenizer.describe() == "bytes");
}

TEST_CASE("pre-tokenization follows GPT-2's pattern alternative by alternative") {
  using V = std::vector<std::string>;
  CHECK(pieces("Hello world") == V{"Hello", " world"});
  CHECK(pieces("it's they'll I'M") == V{"it", "'s", " they", "'ll", " I", "'", "M"});
  CHECK(pieces("a  b") == V{"a", " ", " b"});      // \s+(?!\S) leaves the last space
  CHECK(pieces("a \n b") == V{"a", " \n", " b"});  // a run of mixed whitespace
  CHECK(pieces("a\nb") == V{"a", "\n", "b"});      // one whitespace character: \s+
  CHECK(pieces("end  ") == V{"end", "  "});        // whitespace that ends the text
  CHECK(pieces("x2 3.5") == V{"x", "2", " 3", ".", "5"});
  CHECK(pieces(" !? ok") == V{" !?", " ok"});
  CHECK(pieces("\xff\xfe ab") == V{"\xff\xfe", " ab"});  // invalid bytes are punctuation
  CHECK(pieces("caf\xc3\xa9") == V{"caf\xc3\xa9"});      // é is a letter
  CHECK(pieces("") == V{});
}

TEST_CASE("character classes come from the generated Unicode tables") {
  CHECK(std::string(kUnicodeVersion).size() >= 4);
  CHECK(char_class(U'a') == CharClass::letter);
  CHECK(char_class(U'é') == CharClass::letter);
  CHECK(char_class(U'日') == CharClass::letter);
  CHECK(char_class(U'٣') == CharClass::number);
  CHECK(char_class(U'½') == CharClass::number);
  CHECK(char_class(U'Ⅻ') == CharClass::number);
  CHECK(char_class(0x00A0) == CharClass::whitespace);
  CHECK(char_class(0x3000) == CharClass::whitespace);
  CHECK(char_class(0x001C) == CharClass::other);  // str.isspace() says yes; \s says no
  CHECK(char_class(0x0301) == CharClass::other);  // a combining mark
  CHECK(char_class(U'🙂') == CharClass::other);
  CHECK(char_class(0x10FFFF) == CharClass::other);
}

// The readers of vocab.json and merges.txt refuse every malformed file with an InputError that
// names the file (by its absolute path), the token or line, what is wrong and what is valid —
// a wrong vocabulary would not crash, it would train on another tokenization.
#include <doctest/doctest.h>

#include "json/json_fields.h"
#include "os/absolute_path.h"
#include "tokenizer/gpt2_byte_symbols.h"
#include "tokenizer/gpt2_tokenizer.h"
#include "tokenizer/utf8.h"
#include "tokenizer_test_files.h"
#include "trellis/error.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

std::string symbol(int byte) {
  std::string out;
  append_utf8(out, gpt2_byte_symbol(static_cast<std::uint8_t>(byte)));
  return out;
}

// The 256 byte tokens (id = byte value), then "ab" (256), "abc" (257) and <|endoftext|> (258).
json::Value good_vocab() {
  json::Value vocab = json::Value::object();
  for (int b = 0; b < 256; ++b) vocab[symbol(b)] = b;
  vocab["ab"] = 256;
  vocab["abc"] = 257;
  vocab["<|endoftext|>"] = 258;
  return vocab;
}
const std::string kGoodMerges = "#version: 0.2\na b\nab c\n";

struct Files {
  fs::path dir;
  fs::path vocab() const { return dir / "vocab.json"; }
  fs::path merges() const { return dir / "merges.txt"; }
};

Files write_files(const std::string& vocab_text, const std::string& merges_text) {
  static int count = 0;
  const fs::path dir = test::fresh_tokenizer_dir("files/" + std::to_string(count++));
  test::write_bytes(dir / "vocab.json", vocab_text);
  test::write_bytes(dir / "merges.txt", merges_text);
  return {dir};
}

// Opening the directory fails with an InputError that names `file` and says `why`.
void refuses(const Files& files, const fs::path& file, const std::string& why) {
  const std::string name = absolute_path_text(file) + ": ";
  CHECK_THROWS_WITH_AS(Gpt2Tokenizer::open(files.dir), doctest::Contains(name.c_str()), InputError);
  CHECK_THROWS_WITH_AS(Gpt2Tokenizer::open(files.dir), doctest::Contains(why.c_str()), InputError);
}

void bad_vocab_text(const std::string& vocab_text, const std::string& why) {
  CAPTURE(vocab_text.substr(0, 80));
  const Files files = write_files(vocab_text, kGoodMerges);
  refuses(files, files.vocab(), why);
}

void bad_vocab(const json::Value& vocab, const std::string& why) {
  bad_vocab_text(vocab.dump(), why);
}

void bad_merges(const std::string& merges_text, const std::string& why) {
  CAPTURE(merges_text);
  const Files files = write_files(good_vocab().dump(), merges_text);
  refuses(files, files.merges(), why);
}

}  // namespace

TEST_CASE("the small vocabulary the error cases start from is good") {
  const Files files = write_files(good_vocab().dump(), kGoodMerges);
  const auto tokenizer = Gpt2Tokenizer::open(files.dir);
  CHECK(tokenizer->encode("abc ab") == std::vector<std::int32_t>{257, ' ', 256});
  CHECK(tokenizer->end_of_text() == 258);
  CHECK(tokenizer->describe().find("259 tokens, 2 merges") != std::string::npos);
}

TEST_CASE("a vocabulary without <|endoftext|> has no end-of-text token") {
  json::Value vocab = good_vocab();
  vocab.erase("<|endoftext|>");
  const Files files = write_files(vocab.dump(), kGoodMerges);
  CHECK_FALSE(Gpt2Tokenizer::open(files.dir)->end_of_text().has_value());
}

TEST_CASE("missing files are InputErrors naming them") {
  const fs::path dir = test::fresh_tokenizer_dir("files/missing");
  refuses({dir}, dir / "vocab.json", "cannot be read: No such file or directory; valid: GPT-2's");
  test::write_bytes(dir / "vocab.json", good_vocab().dump());
  refuses({dir}, dir / "merges.txt", "cannot be read: No such file or directory; valid: GPT-2's");
  fs::create_directories(dir / "merges.txt");
  refuses({dir}, dir / "merges.txt", "is a directory");
}

TEST_CASE("vocab.json: not JSON, not an object, empty") {
  bad_vocab_text("{\"a\": 1,", "not a valid JSON vocabulary: line 1, column 9");
  bad_vocab_text("[1, 2]", "expected a JSON object of token -> id, got an array");
  bad_vocab_text("{}", "holds no tokens");
}

TEST_CASE("vocab.json: a token twice, an id twice, ids outside 0..n-1") {
  std::string text = good_vocab().dump();
  text.insert(1, "\"ab\": 7, ");
  bad_vocab_text(text, "name \"ab\" is given twice in one object");

  json::Value vocab = good_vocab();
  vocab["abc"] = 256;  // as "ab"
  bad_vocab(vocab, "has id 256, as token \"ab\" has; valid: each id once, 0..258");

  vocab = good_vocab();
  vocab["abc"] = 259;
  bad_vocab(vocab, "token \"abc\" has id 259; valid: ids 0..258, one each (259 tokens)");
  vocab["abc"] = -1;
  bad_vocab(vocab, "token \"abc\" has id -1");
  vocab["abc"] = "257";
  bad_vocab(vocab, "token \"abc\": its id expected an integer, got a string");
  vocab["abc"] = 2.5;
  bad_vocab(vocab, "its id expected an integer, got a number");
}

TEST_CASE("vocab.json: tokens must be spelled in byte symbols and cover every byte") {
  json::Value vocab = good_vocab();
  vocab.erase("abc");
  vocab["a c"] = 257;  // a plain space is not a byte symbol ("Ġ" is)
  bad_vocab(vocab, "token \"a c\": U+0020 (' ') is not one of GPT-2's 256 byte symbols");

  vocab = good_vocab();
  vocab.erase("abc");
  vocab[""] = 257;
  bad_vocab(vocab, "token \"\" (id 257) is empty");

  vocab = good_vocab();
  vocab.erase(symbol('\n'));
  vocab["abc"] = 10;
  vocab["<|endoftext|>"] = 257;
  bad_vocab(vocab, "no token for byte 0x0A; valid: a byte-level vocabulary");
}

TEST_CASE("merges.txt: malformed lines name their number") {
  bad_merges("#version: 0.2\na b\nab\n",
             "line 3 \"ab\": expected two tokens separated by one space");
  bad_merges("a b\nab c d\n", "line 2 \"ab c d\": expected two tokens");
  bad_merges("a b\n\nab c\n", "line 2 \"\": expected two tokens");
  bad_merges("a  b\n", "line 1 \"a  b\": expected two tokens");
  bad_merges("a b\r\nab c\r\n", "line 1 \"a b\\r\": ends in a carriage return");
  bad_merges("#version: 0.2\n#version: 0.2\n", "line 2 \"#version: 0.2\"");
}

TEST_CASE("merges.txt: every side and every result must be a token; no merge twice") {
  bad_merges("a b\nab zz\n", "line 2 \"ab zz\": \"zz\" is not a token of vocab.json");
  bad_merges("a\tb b\n", "\"a\\tb\": U+0009 is not one of GPT-2's 256 byte symbols");
  bad_merges("a b\nb c\n", "line 2 \"b c\": their concatenation is not a token of vocab.json");
  bad_merges("a b\nab c\na b\n", "line 3 \"a b\": repeats line 1; valid: each merge once");
}

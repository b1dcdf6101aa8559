#include "tokenizer/gpt2_vocab_files.h"

#include <cstdio>
#include <stdexcept>
#include <unordered_map>

#include "json/json_fields.h"
#include "tokenizer/gpt2_byte_symbols.h"
#include "tokenizer/tokenizer_file.h"
#include "trellis/error.h"

namespace trellis {

namespace {

constexpr std::string_view kVocabWhat = "GPT-2 vocabulary file";
constexpr std::string_view kMergesWhat = "GPT-2 merges file";

// Text from a file as a message shows it: quoted, escaped, invalid UTF-8 replaced.
std::string quoted_text(std::string_view text) {
  return json::Value(std::string(text)).dump(-1, ' ', false, json::Value::error_handler_t::replace);
}

std::string byte_text(int byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", static_cast<unsigned>(byte));
  return buffer;
}

}  // namespace

std::int32_t Gpt2Vocabulary::find(std::string_view bytes) const {
  const auto it = ids.find(bytes);
  return it == ids.end() ? -1 : it->second;
}

Gpt2Vocabulary read_gpt2_vocab(const std::filesystem::path& file) {
  const std::string label = tokenizer_file_label(kVocabWhat, file);
  auto fail = [&](const std::string& why) -> void { throw InputError(label + ": " + why); };
  const std::string text = read_tokenizer_file(
      kVocabWhat, file, "GPT-2's vocab.json (Hugging Face's, or OpenAI's encoder.json renamed)");

  json::Value object;
  try {
    object = json::parse_unique_names(text);
  } catch (const std::runtime_error& e) {
    fail(std::string("not a valid JSON vocabulary: ") + e.what() +
         "; valid: one object of token -> id, each token once");
  }
  if (!object.is_object()) {
    fail(std::string("expected a JSON object of token -> id, got ") + json::type_name(object));
  }
  if (object.empty()) fail("holds no tokens; valid: an object of token -> id");

  const std::size_t count = object.size();
  if (count > static_cast<std::size_t>(INT32_MAX)) fail("holds more tokens than int32 ids allow");
  Gpt2Vocabulary vocab;
  vocab.tokens.resize(count);
  std::vector<const std::string*> key_of_id(count, nullptr);  // for the message about a repeat
  const std::string id_range = "0.." + std::to_string(count - 1);
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& key = it.key();
    const std::string where = "token " + quoted_text(key);
    std::int64_t id = 0;
    try {
      id = json::to_int(it.value());
    } catch (const std::runtime_error& e) {
      fail(where + ": its id " + e.what() + "; valid: an integer in " + id_range);
    }
    if (id < 0 || id >= static_cast<std::int64_t>(count)) {
      fail(where + " has id " + std::to_string(id) + "; valid: ids " + id_range + ", one each (" +
           std::to_string(count) + " tokens)");
    }
    const auto slot = static_cast<std::size_t>(id);
    if (key_of_id[slot] != nullptr) {
      fail(where + " has id " + std::to_string(id) + ", as token " + quoted_text(*key_of_id[slot]) +
           " has; valid: each id once, " + id_range);
    }
    if (key.empty()) fail("token \"\" (id " + std::to_string(id) + ") is empty");
    std::string bytes;
    try {
      bytes = gpt2_symbols_to_bytes(key);
    } catch (const std::invalid_argument& e) {
      fail(where + ": " + e.what() +
           "; valid: tokens spelled in GPT-2's byte symbols (bytes_to_unicode), as Hugging "
           "Face's and OpenAI's files are");
    }
    key_of_id[slot] = &key;
    vocab.ids.emplace(bytes, static_cast<std::int32_t>(id));
    vocab.tokens[slot] = std::move(bytes);
  }
  for (int byte = 0; byte < 256; ++byte) {
    if (vocab.find(std::string(1, static_cast<char>(byte))) < 0) {
      fail("no token for byte " + byte_text(byte) +
           "; valid: a byte-level vocabulary, which has a token for each of the 256 bytes");
    }
  }
  return vocab;
}

std::vector<BpeMerge> read_gpt2_merges(const std::filesystem::path& file,
                                       const Gpt2Vocabulary& vocab) {
  const std::string label = tokenizer_file_label(kMergesWhat, file);
  const std::string text = read_tokenizer_file(
      kMergesWhat, file, "GPT-2's merges.txt (Hugging Face's, or OpenAI's vocab.bpe renamed)");
  std::vector<BpeMerge> merges;
  // Each merge's line, to name the first when one repeats.
  std::unordered_map<std::uint64_t, std::size_t> line_of_pair;
  std::size_t line_number = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t newline = text.find('\n', at);
    const std::size_t end = newline == std::string::npos ? text.size() : newline;
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    ++line_number;
    auto fail = [&](const std::string& why) -> void {
      throw InputError(label + ": line " + std::to_string(line_number) + " " + quoted_text(line) +
                       ": " + why);
    };
    if (line_number == 1 && line.starts_with("#version")) continue;
    if (line.ends_with('\r')) {
      fail("ends in a carriage return (a Windows line end); valid: lines ending in \\n only");
    }
    const std::size_t space = line.find(' ');
    if (line.empty() || space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos) {
      fail(
          "expected two tokens separated by one space, \"LEFT RIGHT\" (a first line may be "
          "\"#version ...\")");
    }
    std::int32_t sides[2];
    std::string bytes[2];
    const std::string_view written[2] = {line.substr(0, space), line.substr(space + 1)};
    for (int side = 0; side < 2; ++side) {
      try {
        bytes[side] = gpt2_symbols_to_bytes(written[side]);
      } catch (const std::invalid_argument& e) {
        fail(quoted_text(written[side]) + ": " + e.what());
      }
      sides[side] = vocab.find(bytes[side]);
      if (sides[side] < 0) {
        fail(quoted_text(written[side]) +
             " is not a token of vocab.json; valid: merges of the tokens the vocabulary holds "
             "(the merges.txt made with this vocab.json)");
      }
    }
    const std::int32_t merged = vocab.find(bytes[0] + bytes[1]);
    if (merged < 0) {
      fail(
          "their concatenation is not a token of vocab.json; valid: merges whose result the "
          "vocabulary holds (the merges.txt made with this vocab.json)");
    }
    if (const auto [it, added] =
            line_of_pair.emplace(bpe_pair_key(sides[0], sides[1]), line_number);
        !added) {
      fail("repeats line " + std::to_string(it->second) + "; valid: each merge once");
    }
    merges.push_back({sides[0], sides[1], merged});
  }
  return merges;
}

}  // namespace trellis

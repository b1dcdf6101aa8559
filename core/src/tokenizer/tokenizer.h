// Text to token ids and back. A model sees ids; people and corpora have bytes. Every tokenizer
// here is byte-level: a token stands for a sequence of bytes (not of characters), so any byte
// string, valid UTF-8 or not, encodes, and decode(encode(s)) == s.
//
// Thread-safety: every member function is const and may be called from several threads at once
// (an implementation that caches guards its cache itself).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

class Tokenizer {
 public:
  virtual ~Tokenizer();

  // The ids of `text`. Throws InputError where the tokenizer cannot encode (llm.c's file holds
  // no merges).
  virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;

  // The bytes of one token, so that generation can print each token as it comes (a character
  // may span two tokens: a stream shows it whole once both bytes are out). Throws InputError
  // for an id outside 0..vocab_size()-1.
  virtual std::string_view token_bytes(std::int32_t id) const = 0;

  // The bytes of `ids`, one token after another.
  std::string decode(std::span<const std::int32_t> ids) const;

  // Ids are 0..vocab_size()-1.
  virtual std::int32_t vocab_size() const = 0;

  // The token that separates documents, where the vocabulary has one (GPT-2's <|endoftext|>).
  virtual std::optional<std::int32_t> end_of_text() const = 0;

  // What it is, for --dry-run and the run banner: "bytes", "gpt2 BPE from DIR".
  virtual std::string describe() const = 0;

 protected:
  // "token id 70000 is outside the vocabulary of <describe()> (ids 0..N-1)".
  [[noreturn]] void throw_unknown_id(std::int32_t id) const;
};

}  // namespace trellis

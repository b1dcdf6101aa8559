#include "tokenizer/gpt2_pretokenizer.h"

#include "tokenizer/unicode_class.h"
#include "tokenizer/utf8.h"

namespace trellis {

namespace {

struct ClassifiedChar {
  CharClass cls = CharClass::other;
  std::size_t bytes = 1;
};

ClassifiedChar classify(std::string_view text, std::size_t at) {
  const Utf8Char c = utf8_char_at(text, at);
  return {c.valid ? char_class(c.code_point) : CharClass::other, c.bytes};
}

// The end of the run of characters of class `cls` starting at `at`.
std::size_t run_end(std::string_view text, std::size_t at, CharClass cls) {
  while (at < text.size()) {
    const ClassifiedChar c = classify(text, at);
    if (c.cls != cls) break;
    at += c.bytes;
  }
  return at;
}

}  // namespace

// 's|'t|'re|'ve|'m|'ll|'d: the length of the contraction at the position, or 0.
std::size_t Gpt2Pretokenizer::contraction_length() const {
  const std::string_view rest = text_.substr(at_);
  if (rest.size() < 2 || rest[0] != '\'') return 0;
  for (std::string_view suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
    if (rest.substr(1).starts_with(suffix)) return 1 + suffix.size();
  }
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace character: the whole run when it ends the text; otherwise the
// run but its last character, which a following ` ?\p{L}+` (or number, or punctuation) takes as
// its leading space — unless the run is one character, which \s+ then takes alone.
std::size_t Gpt2Pretokenizer::whitespace_piece_end() const {
  std::size_t end = at_, last_start = at_;
  while (end < text_.size()) {
    const ClassifiedChar c = classify(text_, end);
    if (c.cls != CharClass::whitespace) break;
    last_start = end;
    end += c.bytes;
  }
  if (end == text_.size() || last_start == at_) return end;
  return last_start;
}

bool Gpt2Pretokenizer::next(std::string_view& piece) {
  if (at_ >= text_.size()) return false;
  std::size_t end = 0;
  if (const std::size_t contraction = contraction_length(); contraction > 0) {
    end = at_ + contraction;
  } else {
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space (U+0020 only), then a run
    // of one class. After a space that starts no such run, only the whitespace forms match.
    const std::size_t start = text_[at_] == ' ' ? at_ + 1 : at_;
    const ClassifiedChar first =
        start < text_.size() ? classify(text_, start) : ClassifiedChar{CharClass::whitespace, 0};
    if (first.cls != CharClass::whitespace) {
      end = run_end(text_, start, first.cls);
    } else {
      end = whitespace_piece_end();
    }
  }
  piece = text_.substr(at_, end - at_);
  at_ = end;
  return true;
}

}  // namespace trellis

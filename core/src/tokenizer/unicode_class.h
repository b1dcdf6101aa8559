// The three character classes GPT-2's pre-tokenization pattern asks about: \p{L} (letters),
// \p{N} (numbers) and \s (whitespace, as the regex module OpenAI's encoder.py uses defines it).
// The tables are generated from Python's unicodedata by scripts/lib/make_unicode_tables.py
// (unicode_tables.cpp says which Unicode version); std::regex has no \p{..}, and ICU would be a
// large dependency for three questions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace trellis {

enum class CharClass : std::uint8_t { other, letter, number, whitespace };

// Code points first..last (inclusive) are all of class `cls`.
struct CodePointRange {
  char32_t first;
  char32_t last;
  CharClass cls;
};

// Sorted, disjoint ranges of every letter, number and whitespace code point (unicode_tables.cpp).
extern const CodePointRange kCodePointRanges[];
extern const std::size_t kCodePointRangeCount;
// The Unicode version the tables were made from, e.g. "14.0.0".
extern const char* const kUnicodeVersion;

// The class of one code point; anything not in the tables (punctuation, symbols, marks,
// controls, unassigned code points) is `other`.
CharClass char_class(char32_t code_point);

}  // namespace trellis

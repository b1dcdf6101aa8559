#include "tokenizer/unicode_class.h"

#include <algorithm>

namespace trellis {

CharClass char_class(char32_t code_point) {
  // ASCII is most of most corpora: answered without the search.
  if (code_point < 0x80) {
    if ((code_point | 0x20) >= 'a' && (code_point | 0x20) <= 'z') return CharClass::letter;
    if (code_point >= '0' && code_point <= '9') return CharClass::number;
    if (code_point == ' ' || (code_point >= '\t' && code_point <= '\r')) {
      return CharClass::whitespace;
    }
    return CharClass::other;
  }
  const CodePointRange* end = kCodePointRanges + kCodePointRangeCount;
  // The first range that ends at or after the code point; it holds it when it starts before.
  const CodePointRange* range =
      std::lower_bound(kCodePointRanges, end, code_point,
                       [](const CodePointRange& r, char32_t c) { return r.last < c; });
  if (range != end && range->first <= code_point) return range->cls;
  return CharClass::other;
}

}  // namespace trellis

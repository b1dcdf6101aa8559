#include "generate/tokenizer_spec.h"

#include <string>

#include "tokenizer/byte_tokenizer.h"
#include "tokenizer/gpt2_tokenizer.h"
#include "trellis/error.h"

namespace trellis {

std::unique_ptr<Tokenizer> open_tokenizer(std::string_view spec, std::string_view what) {
  constexpr std::string_view kGpt2 = "gpt2:";
  if (spec == "bytes") return std::make_unique<ByteTokenizer>();
  if (spec.starts_with(kGpt2) && spec.size() > kGpt2.size())
    return Gpt2Tokenizer::open(std::string(spec.substr(kGpt2.size())));
  throw InputError(std::string(what) + " '" + std::string(spec) +
                   "': valid: bytes, or gpt2:DIR (a directory holding GPT-2's vocab.json and "
                   "merges.txt)");
}

}  // namespace trellis

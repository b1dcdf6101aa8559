// A tokenizer as a command line or a config names it: "bytes" (the byte-level tokenizer, each
// byte a token) or "gpt2:DIR" (GPT-2's BPE from DIR/vocab.json and DIR/merges.txt).
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace trellis {

// Throws InputError naming `what` (e.g. "--tokenizer") and the valid forms for any other text,
// and what the tokenizer's files throw (InputError naming the file).
std::unique_ptr<Tokenizer> open_tokenizer(std::string_view spec, std::string_view what);

}  // namespace trellis

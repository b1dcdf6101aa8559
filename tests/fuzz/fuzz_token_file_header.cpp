// libFuzzer harness: the header check of llm.c token files (data/token_file_header.h).
// Input: llmc_header_input.h's. A header that passes must account for the file's every byte.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "dataset/token_file_header.h"
#include "llmc_header_input.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const trellis::LlmcRawHeader raw = trellis::fuzz::llmc_header_input(data, size);
  try {
    const trellis::TokenFileHeader header = trellis::check_token_file_header(raw, "fuzz.bin");
    if (header.tokens_offset() + 2 * header.tokens != raw.file_bytes) std::abort();
  } catch (const trellis::InputError&) {
    // "llm.c token file fuzz.bin: ...", exit 2
  }
  return 0;
}

// libFuzzer harness: the header check of llm.c GPT-2 checkpoints (model/llmc_checkpoint_header.h).
// Input: llmc_header_input.h's. A header that passes must give a parameter list whose size is
// the file's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "llmc_header_input.h"
#include "model/llmc_checkpoint_header.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const trellis::LlmcRawHeader raw = trellis::fuzz::llmc_header_input(data, size);
  try {
    const trellis::LlmcCheckpointHeader header =
        trellis::check_llmc_checkpoint_header(raw, "fuzz.bin");
    std::int64_t values = 0;
    for (const trellis::LlmcTensor& t : trellis::llmc_parameter_tensors(header)) values += t.numel;
    if (trellis::kLlmcCheckpointHeaderBytes + 4 * values != raw.file_bytes) std::abort();
  } catch (const trellis::InputError&) {
    // "llm.c checkpoint fuzz.bin: ...", exit 2
  }
  return 0;
}

// libFuzzer harness: a safetensors file's header length and JSON header
// (checkpoint/safetensors.h), read as `[model] init = "hf:DIR"` reads each weights file: the input
// is the whole file. A header that reads must index tensors that tile the data exactly, each
// of its dtype's size times its shape's elements.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include "checkpoint/safetensors.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  trellis::SafetensorsIndex index;
  try {
    index = trellis::read_safetensors_index(in, size, "fuzz.safetensors");
  } catch (const trellis::InputError&) {
    return 0;  // "safetensors file fuzz.safetensors: ...", exit 2
  }
  std::uint64_t at = 0;
  for (const trellis::SafetensorsTensor& t : index.tensors) {
    if (t.begin != at || t.end - t.begin != static_cast<std::uint64_t>(t.elements()) *
                                                trellis::safetensors_dtype_bytes(t.dtype))
      std::abort();
    at = t.end;
  }
  if (at != size - 8 - index.header_bytes) std::abort();
  return 0;
}

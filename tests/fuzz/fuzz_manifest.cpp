// libFuzzer harness: a checkpoint's manifest.json (checkpoint/manifest.h), read as every resume
// and the config check read it. A manifest that reads must write back text that reads to the
// same manifest (the writer's text is a fixed point).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "checkpoint/manifest.h"
#include "trellis/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  trellis::Manifest manifest;
  try {
    manifest = trellis::Manifest::parse(text, "fuzz/manifest.json");
  } catch (const trellis::InputError&) {
    return 0;  // "checkpoint manifest fuzz/manifest.json: ...", exit 2
  }
  const std::string written = manifest.text();
  if (trellis::Manifest::parse(written, "written-back.json").text() != written) std::abort();
  return 0;
}

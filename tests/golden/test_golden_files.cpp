// The committed golden files are what the model tests expect: the llm.c checkpoint and token file
// have the right headers and sizes, and tiny_gpt2.golden agrees with both (sizes, batches,
// parameter names and shapes). A failure here means a file was damaged or regenerated wrongly,
// not that Trellis is wrong.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "golden_file.h"

using trellis::golden::golden_path;
using trellis::golden::GoldenFile;

namespace {

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::int32_t> header_of(const std::vector<unsigned char>& bytes) {
  REQUIRE(bytes.size() >= 1024);
  std::vector<std::int32_t> header(256);
  std::memcpy(header.data(), bytes.data(), 1024);
  return header;
}

const GoldenFile& model_golden() {
  static const GoldenFile file = GoldenFile::load(golden_path("tiny_gpt2.golden"));
  return file;
}

int config(const char* name) {
  return static_cast<int>(model_golden().scalar(name));
}

std::vector<std::uint16_t> token_file_tokens() {
  std::vector<unsigned char> bytes = read_bytes(golden_path("tiny_tokens.bin"));
  std::vector<std::int32_t> header = header_of(bytes);
  std::vector<std::uint16_t> tokens(static_cast<std::size_t>(header[2]));
  REQUIRE(bytes.size() == 1024 + 2 * tokens.size());
  std::memcpy(tokens.data(), bytes.data() + 1024, 2 * tokens.size());
  return tokens;
}

}  // namespace

TEST_CASE("tiny_gpt2.llmc.bin is an llm.c version 3 checkpoint of the golden model's size") {
  const int maxT = config("maxT"), V = config("V"), L = config("L"), NH = config("NH");
  const int C = config("C"), Vp = config("Vp");
  std::vector<unsigned char> bytes = read_bytes(golden_path("tiny_gpt2.llmc.bin"));
  std::vector<std::int32_t> header = header_of(bytes);
  CHECK(header[0] == 20240326);
  CHECK(header[1] == 3);
  CHECK(header[2] == maxT);
  CHECK(header[3] == V);
  CHECK(header[4] == L);
  CHECK(header[5] == NH);
  CHECK(header[6] == C);
  CHECK(header[7] == Vp);
  for (int i = 8; i < 256; ++i) REQUIRE(header[i] == 0);
  // wte, wpe, then per layer: ln1 (2C), qkv (3C*C + 3C), attn proj (C*C + C), ln2 (2C),
  // fc (4C*C + 4C), mlp proj (4C*C + C); then lnf (2C).
  const std::int64_t per_layer = 12LL * C * C + 13LL * C;
  const std::int64_t params = static_cast<std::int64_t>(Vp) * C +
                              static_cast<std::int64_t>(maxT) * C + L * per_layer + 2LL * C;
  CHECK(bytes.size() == static_cast<std::size_t>(1024 + 4 * params));

  // Every gradient in the golden has a parameter of the same element count, and together they
  // cover the checkpoint exactly.
  std::int64_t grad_elements = 0;
  for (const std::string& name : model_golden().names()) {
    if (name.rfind("grad.", 0) == 0) grad_elements += model_golden().tensor(name).numel();
  }
  CHECK(grad_elements == params);

  // The first tensor is wte [Vp, C]: initialised N(0, 0.02), so small and not all zero.
  std::vector<float> wte(static_cast<std::size_t>(Vp) * C);
  std::memcpy(wte.data(), bytes.data() + 1024, wte.size() * sizeof(float));
  float largest = 0.0f;
  for (float w : wte) largest = std::max(largest, std::abs(w));
  CHECK(largest > 0.01f);
  CHECK(largest < 0.2f);
}

TEST_CASE("tiny_tokens.bin is an llm.c token file of ids below V") {
  std::vector<unsigned char> bytes = read_bytes(golden_path("tiny_tokens.bin"));
  std::vector<std::int32_t> header = header_of(bytes);
  CHECK(header[0] == 20240520);
  CHECK(header[1] == 1);
  CHECK(header[2] > config("B") * config("T"));
  for (int i = 3; i < 256; ++i) REQUIRE(header[i] == 0);
  std::vector<std::uint16_t> tokens = token_file_tokens();
  for (std::uint16_t t : tokens) REQUIRE(t < config("V"));
}

TEST_CASE(
    "tiny_gpt2.golden holds llm.c's windows of the token file and Trellis's parameter names") {
  const GoldenFile& g = model_golden();
  const int B = config("B"), T = config("T"), C = config("C"), L = config("L");
  const int V = config("V"), Vp = config("Vp"), maxT = config("maxT");
  CHECK(T < maxT);
  std::vector<std::uint16_t> tokens = token_file_tokens();

  // Step s reads batch s mod floor((ntok - 1) / (B*T)); sequence j starts at (batch*B + j)*T.
  const std::int64_t batches = (static_cast<std::int64_t>(tokens.size()) - 1) / (B * T);
  const auto& windows = g.tensor("train.windows");
  REQUIRE(windows.shape() == std::vector<std::int64_t>{windows.shape()[0], B, T + 1});
  std::vector<std::int32_t> w = windows.i32();
  for (std::int64_t s = 0; s < windows.shape()[0]; ++s) {
    const std::int64_t batch = s % batches;
    for (int j = 0; j < B; ++j) {
      for (int t = 0; t <= T; ++t) {
        REQUIRE(w[(s * B + j) * (T + 1) + t] == tokens[(batch * B + j) * T + t]);
      }
    }
  }
  std::vector<std::int32_t> x = g.tensor("tokens").i32(), y = g.tensor("targets").i32();
  for (int j = 0; j < B; ++j) {
    for (int t = 0; t < T; ++t) {
      REQUIRE(x[j * T + t] == tokens[j * T + t]);
      REQUIRE(y[j * T + t] == tokens[j * T + t + 1]);
    }
  }
  CHECK(g.tensor("logits").shape() == std::vector<std::int64_t>{B, T, V});
  CHECK(g.tensor("train.loss").numel() == windows.shape()[0]);
  CHECK(g.tensor("train.grad_norm").numel() == windows.shape()[0]);
  CHECK(g.scalar("loss") == g.tensor("train.loss").f64()[0]);

  using Shape = std::vector<std::int64_t>;
  auto shape_of = [&](const std::string& name) { return g.tensor("grad." + name).shape(); };
  CHECK(shape_of("wte") == Shape{Vp, C});
  CHECK(shape_of("wpe") == Shape{maxT, C});
  for (int i = 0; i < L; ++i) {
    std::string p = "h." + std::to_string(i) + ".";
    CHECK(shape_of(p + "ln1.weight") == Shape{C});
    CHECK(shape_of(p + "ln1.bias") == Shape{C});
    CHECK(shape_of(p + "attn.qkv.weight") == Shape{3, C, C});
    CHECK(shape_of(p + "attn.qkv.bias") == Shape{3, C});
    CHECK(shape_of(p + "attn.proj.weight") == Shape{C, C});
    CHECK(shape_of(p + "attn.proj.bias") == Shape{C});
    CHECK(shape_of(p + "ln2.weight") == Shape{C});
    CHECK(shape_of(p + "ln2.bias") == Shape{C});
    CHECK(shape_of(p + "mlp.fc.weight") == Shape{4 * C, C});
    CHECK(shape_of(p + "mlp.fc.bias") == Shape{4 * C});
    CHECK(shape_of(p + "mlp.proj.weight") == Shape{C, 4 * C});
    CHECK(shape_of(p + "mlp.proj.bias") == Shape{C});
  }
  CHECK(shape_of("lnf.weight") == Shape{C});
  CHECK(shape_of("lnf.bias") == Shape{C});

  // Padded vocabulary rows receive no gradient (the head's softmax never sees them).
  std::vector<double> dwte = g.tensor("grad.wte").f64();
  for (std::int64_t i = static_cast<std::int64_t>(V) * C; i < static_cast<std::int64_t>(Vp) * C;
       ++i) {
    REQUIRE(dwte[i] == 0.0);
  }
}

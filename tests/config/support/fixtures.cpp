#include "support/fixtures.h"

#include <array>
#include <fstream>
#include <stdexcept>

namespace trellis::test {

namespace {

std::ofstream open_for_writing(const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write test fixture " + file.string());
  return out;
}

void write_header(std::ofstream& out, const std::array<std::int32_t, 256>& header) {
  out.write(reinterpret_cast<const char*>(header.data()), sizeof header);
}

}  // namespace

void write_token_file(const std::filesystem::path& file, const TokenFileSpec& spec) {
  std::array<std::int32_t, 256> header{};
  header[0] = spec.magic;
  header[1] = spec.version;
  header[2] = static_cast<std::int32_t>(spec.header_tokens >= 0 ? spec.header_tokens : spec.tokens);
  std::ofstream out = open_for_writing(file);
  write_header(out, header);
  for (std::int64_t i = 0; i < spec.tokens; ++i) {
    const auto token = static_cast<std::uint16_t>(i % 256);
    out.write(reinterpret_cast<const char*>(&token), sizeof token);
  }
}

std::int64_t llmc_spec_parameters(const LlmcSpec& s) {
  const std::int64_t C = s.channels;
  return (std::int64_t{s.padded_vocab} + s.max_seq_len) * C + s.layers * (12 * C * C + 13 * C) +
         2 * C;
}

void write_llmc_checkpoint(const std::filesystem::path& file, const LlmcSpec& spec) {
  std::array<std::int32_t, 256> header{};
  header[0] = spec.magic;
  header[1] = spec.version;
  header[2] = spec.max_seq_len;
  header[3] = spec.vocab_size;
  header[4] = spec.layers;
  header[5] = spec.heads;
  header[6] = spec.channels;
  header[7] = spec.padded_vocab;
  std::ofstream out = open_for_writing(file);
  write_header(out, header);
  const std::int64_t bytes = 4 * llmc_spec_parameters(spec) - spec.missing_bytes;
  const std::vector<char> zeros(static_cast<std::size_t>(bytes), 0);
  out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out = open_for_writing(file);
  out << text;
}

std::filesystem::path fresh_work_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(CONFIG_TEST_WORK_DIR) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void make_fixtures(const std::filesystem::path& dir) {
  std::string text;
  while (text.size() < 4096) text += "A trellis holds the vine while it grows; so does a plan. ";
  write_text_file(dir / "tiny.txt", text);
  write_token_file(dir / "tokens.bin", {});
  write_token_file(dir / "tokens_bad_magic.bin", {.magic = 12345});
  write_token_file(dir / "tokens_v2.bin", {.version = 2});
  write_token_file(dir / "tokens_truncated.bin", {.tokens = 1000, .header_tokens = 2000});
  write_text_file(dir / "plain.bin", "these are words, not tokens\n");
  // Two ranks, each running its backward before the other's forward has arrived.
  write_text_file(dir / "deadlock.csv", "0F0,0B0,0F1,0B1\n1F0,1F1,1B1,1B0\n");
  // A stage number far beyond any pipeline's.
  write_text_file(dir / "huge_stage.csv", "0F0,0B0,630469530F0\n1F0,1B0\n");
  write_llmc_checkpoint(dir / "gpt2_tiny.bin", {});
  write_llmc_checkpoint(dir / "gpt2_bf16.bin", {.version = 5});
  write_llmc_checkpoint(dir / "gpt2_bad_magic.bin", {.magic = 1234});
  write_llmc_checkpoint(dir / "gpt2_truncated.bin", {.missing_bytes = 100});
  std::filesystem::create_directories(dir / "checkpoint_dir");
}

}  // namespace trellis::test

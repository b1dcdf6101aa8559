#include "dataset/token_dataset.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <numeric>

#include "dataset/token_file_header.h"
#include "os/absolute_path.h"
#include "tokenizer/byte_tokenizer.h"
#include "trellis/error.h"

namespace trellis {

struct TokenDataset::Mapping {
  std::filesystem::path file;
  void* base = nullptr;
  std::size_t bytes = 0;
  bool text = false;
  std::string text_tokenizer;            // text: what encoded it
  const std::uint16_t* ids16 = nullptr;  // llm.c token file
  const std::uint8_t* ids8 = nullptr;    // text as bytes
  std::vector<std::int32_t> encoded;     // text through any other tokenizer
  std::int64_t count = 0;
  // The window order of the epoch last asked for (shuffling); rebuilt when the epoch changes.
  mutable std::int64_t permutation_epoch = -1;
  mutable std::vector<std::uint32_t> permutation;

  ~Mapping() {
    if (base != nullptr && base != MAP_FAILED) munmap(base, bytes);
  }
};

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

TokenDataset::TokenDataset(std::unique_ptr<Mapping> mapping) : m_(std::move(mapping)) {}
TokenDataset::TokenDataset(TokenDataset&&) noexcept = default;
TokenDataset& TokenDataset::operator=(TokenDataset&&) noexcept = default;
TokenDataset::~TokenDataset() = default;

TokenDataset TokenDataset::open(const std::filesystem::path& file, std::int64_t vocab_size) {
  return open(file, vocab_size, ByteTokenizer());
}

TokenDataset TokenDataset::open(const std::filesystem::path& file, std::int64_t vocab_size,
                                const Tokenizer& text_tokenizer) {
  auto m = std::make_unique<Mapping>();
  m->file = file;
  std::int64_t header_bytes = 0;
  if (has_token_file_magic(file)) {
    TokenFileHeader header = read_token_file_header(file);  // checks version and size
    m->count = header.tokens;
    header_bytes = header.tokens_offset();
  } else {
    m->text = true;
  }
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) {
    throw InputError("data file " + absolute_path_text(file) +
                     ": cannot open: " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw InputError("data file " + file.string() + ": cannot stat: " + std::strerror(errno));
  }
  m->bytes = static_cast<std::size_t>(st.st_size);
  if (m->bytes > 0) {
    m->base = mmap(nullptr, m->bytes, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  ::close(fd);
  if (m->bytes > 0 && m->base == MAP_FAILED) {
    throw InputError("data file " + file.string() + ": cannot map: " + std::strerror(errno));
  }
  if (m->text && dynamic_cast<const ByteTokenizer*>(&text_tokenizer) != nullptr) {
    // Bytes are their own ids: the mapped file is the token sequence.
    m->text_tokenizer = text_tokenizer.describe();
    m->ids8 = static_cast<const std::uint8_t*>(m->base);
    m->count = static_cast<std::int64_t>(m->bytes);
    if (vocab_size < 256) {
      throw InputError("data file " + file.string() +
                       " is plain text, read as bytes (ids 0..255), but [model] vocab_size is " +
                       std::to_string(vocab_size) +
                       "; use vocab_size >= 256 or an llm.c token file");
    }
  } else if (m->text) {
    m->text_tokenizer = text_tokenizer.describe();
    if (text_tokenizer.vocab_size() > vocab_size) {
      throw InputError("data file " + file.string() + " is plain text, encoded with " +
                       m->text_tokenizer + ", but [model] vocab_size is " +
                       std::to_string(vocab_size) +
                       "; use vocab_size >= " + std::to_string(text_tokenizer.vocab_size()));
    }
    m->encoded =
        text_tokenizer.encode(std::string_view(static_cast<const char*>(m->base), m->bytes));
    m->count = static_cast<std::int64_t>(m->encoded.size());
    if (m->base != nullptr) munmap(m->base, m->bytes);  // the ids are all that is read from now
    m->base = nullptr;
  } else {
    m->ids16 =
        reinterpret_cast<const std::uint16_t*>(static_cast<const char*>(m->base) + header_bytes);
    for (std::int64_t i = 0; i < m->count; ++i) {
      if (m->ids16[i] >= vocab_size) {
        throw InputError("data file " + file.string() + ": token " + std::to_string(i) + " is id " +
                         std::to_string(m->ids16[i]) +
                         ", not below [model] vocab_size = " + std::to_string(vocab_size) +
                         "; the file was made with a larger vocabulary");
      }
    }
  }
  return TokenDataset(std::move(m));
}

const std::filesystem::path& TokenDataset::file() const noexcept {
  return m_->file;
}
bool TokenDataset::is_text() const noexcept {
  return m_->text;
}
const std::string& TokenDataset::text_tokenizer() const noexcept {
  return m_->text_tokenizer;
}
std::int64_t TokenDataset::tokens() const noexcept {
  return m_->count;
}

std::int32_t TokenDataset::token(std::int64_t position) const noexcept {
  if (m_->ids8 != nullptr) return m_->ids8[position];
  if (m_->ids16 != nullptr) return m_->ids16[position];
  return m_->encoded[static_cast<std::size_t>(position)];
}

std::int64_t TokenDataset::batches_per_epoch(std::int64_t global_batch,
                                             std::int64_t seq_len) const {
  std::int64_t per_batch = global_batch * seq_len;
  std::int64_t batches = m_->count > 0 ? (m_->count - 1) / per_batch : 0;
  if (batches < 1) {
    throw InputError("data file " + m_->file.string() + " has " + std::to_string(m_->count) +
                     " tokens; one global batch of " + std::to_string(global_batch) + " x " +
                     std::to_string(seq_len) + " needs " + std::to_string(per_batch + 1) +
                     ": use a larger file or a smaller [train] global_batch / [model] seq_len");
  }
  return batches;
}

std::int64_t TokenDataset::window_start(std::int64_t step, std::int64_t global_batch,
                                        std::int64_t seq_len, std::int64_t sequence, bool shuffle,
                                        std::uint64_t seed) const {
  std::int64_t batches = batches_per_epoch(global_batch, seq_len);
  std::int64_t window = (step % batches) * global_batch + sequence;
  if (shuffle) {
    std::int64_t epoch = step / batches;
    if (m_->permutation_epoch != epoch) {
      auto& perm = m_->permutation;
      perm.resize(static_cast<std::size_t>(batches * global_batch));
      std::iota(perm.begin(), perm.end(), 0u);
      std::uint64_t state = seed ^ (0xD1B54A32D192ED03ull * static_cast<std::uint64_t>(epoch + 1));
      for (std::size_t i = perm.size(); i > 1; --i) {  // Fisher-Yates
        std::size_t j = splitmix64(state) % i;
        std::swap(perm[i - 1], perm[j]);
      }
      m_->permutation_epoch = epoch;
    }
    window = m_->permutation[static_cast<std::size_t>(window)];
  }
  return window * seq_len;
}

void TokenDataset::read(std::int64_t step, std::int64_t global_batch, std::int64_t seq_len,
                        std::int64_t first, std::int64_t count, bool shuffle, std::uint64_t seed,
                        std::int32_t* inputs, std::int32_t* targets) const {
  for (std::int64_t j = 0; j < count; ++j) {
    std::int64_t start = window_start(step, global_batch, seq_len, first + j, shuffle, seed);
    for (std::int64_t t = 0; t < seq_len; ++t) {
      inputs[j * seq_len + t] = token(start + t);
      targets[j * seq_len + t] = token(start + t + 1);
    }
  }
}

}  // namespace trellis

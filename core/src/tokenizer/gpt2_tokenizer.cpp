#include "tokenizer/gpt2_tokenizer.h"

#include "os/absolute_path.h"
#include "tokenizer/gpt2_pretokenizer.h"

namespace trellis {

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::open(const std::filesystem::path& dir) {
  Gpt2Vocabulary vocab = read_gpt2_vocab(dir / "vocab.json");
  const std::vector<BpeMerge> merges = read_gpt2_merges(dir / "merges.txt", vocab);
  return std::make_unique<Gpt2Tokenizer>(dir, std::move(vocab), merges);
}

Gpt2Tokenizer::Gpt2Tokenizer(std::filesystem::path dir, Gpt2Vocabulary vocab,
                             const std::vector<BpeMerge>& merges)
    : dir_(std::move(dir)), merge_table_(merges) {
  for (int byte = 0; byte < 256; ++byte) {
    byte_ids_[static_cast<std::size_t>(byte)] = vocab.find(std::string(1, static_cast<char>(byte)));
  }
  if (const std::int32_t eot = vocab.find(kEndOfText); eot >= 0) end_of_text_ = eot;
  tokens_ = std::move(vocab.tokens);
}

std::vector<std::int32_t> Gpt2Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> word;
  Gpt2Pretokenizer pieces(text);
  for (std::string_view piece; pieces.next(piece);) {
    if (piece.size() == 1) {
      ids.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
      continue;
    }
    if (cache_.find(piece, ids)) continue;
    word.clear();
    for (char byte : piece) word.push_back(byte_ids_[static_cast<unsigned char>(byte)]);
    merge_table_.merge(word);
    ids.insert(ids.end(), word.begin(), word.end());
    cache_.insert(piece, word);
  }
  return ids;
}

std::string_view Gpt2Tokenizer::token_bytes(std::int32_t id) const {
  if (id < 0 || id >= vocab_size()) throw_unknown_id(id);
  return tokens_[static_cast<std::size_t>(id)];
}

std::int32_t Gpt2Tokenizer::vocab_size() const {
  return static_cast<std::int32_t>(tokens_.size());
}

std::string Gpt2Tokenizer::describe() const {
  return "gpt2 BPE from " + absolute_path_text(dir_) + " (" + std::to_string(tokens_.size()) +
         " tokens, " + std::to_string(merge_table_.size()) + " merges)";
}

}  // namespace trellis

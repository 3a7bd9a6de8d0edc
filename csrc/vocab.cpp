// Token vocabulary and its flattened byte trie (see vocab.h for the layout).
#include "vocab.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace maaza {

Vocabulary::Vocabulary(std::vector<std::string> tokens, std::vector<std::uint32_t> eos_ids)
    : tokens_(std::move(tokens)) {
  if (tokens_.empty()) throw VocabularyError("vocabulary is empty");
  if (tokens_.size() >= 0x7FFFFFFFu) throw VocabularyError("vocabulary is too large");
  is_eos_.assign(tokens_.size(), false);
  for (std::uint32_t id : eos_ids) {
    if (id >= tokens_.size())
      throw VocabularyError("end-of-generation id " + std::to_string(id) + " is out of range");
    if (!is_eos_[id]) eos_ids_.push_back(id);
    is_eos_[id] = true;
  }
  if (eos_ids_.empty()) throw VocabularyError("vocabulary has no end-of-generation token");
  std::sort(eos_ids_.begin(), eos_ids_.end());

  // Byte-sorted order of the tokens the trie holds: non-empty pieces that are not EOS.
  for (std::uint32_t id = 0; id < tokens_.size(); ++id) {
    if (!tokens_[id].empty() && !is_eos_[id]) sorted_ids_.push_back(id);
    max_len_ = std::max(max_len_, tokens_[id].size());
  }
  if (max_len_ > 0xFFFF) throw VocabularyError("a token piece is longer than 65535 bytes");
  std::stable_sort(sorted_ids_.begin(), sorted_ids_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return tokens_[a] < tokens_[b];
  });

  // Preorder construction: `path[d]` is the open node at depth d.
  trie_.push_back(TrieNode{});
  std::vector<std::uint32_t> path{0};
  const std::string empty;
  const std::string* prev = &empty;
  auto close_to = [&](std::size_t depth, std::uint32_t tok_index) {
    while (path.size() > depth + 1) {
      TrieNode& n = trie_[path.back()];
      n.next = static_cast<std::uint32_t>(trie_.size());
      n.sub_tok_end = tok_index;
      path.pop_back();
    }
  };
  for (std::uint32_t k = 0; k < sorted_ids_.size(); ++k) {
    const std::string& piece = tokens_[sorted_ids_[k]];
    std::size_t lcp = 0;
    while (lcp < piece.size() && lcp < prev->size() && piece[lcp] == (*prev)[lcp]) ++lcp;
    close_to(lcp, k);
    for (std::size_t d = lcp; d < piece.size(); ++d) {
      TrieNode n;
      n.byte = static_cast<std::uint8_t>(piece[d]);
      n.depth = static_cast<std::uint16_t>(d + 1);
      n.tok_begin = n.tok_end = k;
      path.push_back(static_cast<std::uint32_t>(trie_.size()));
      trie_.push_back(n);
    }
    TrieNode& last = trie_[path.back()];
    if (last.tok_end != k) throw InternalError("vocabulary trie: tokens out of order");
    last.tok_end = k + 1;
    prev = &piece;
  }
  close_to(0, static_cast<std::uint32_t>(sorted_ids_.size()));

  std::vector<std::size_t> longer_than(max_len_ + 2, 0);  // tokens of exactly each length
  for (std::uint32_t id : sorted_ids_) longer_than[tokens_[id].size()] += 1;
  for (std::size_t len = max_len_; len-- > 0;) longer_than[len] += longer_than[len + 1];
  // longer_than[k] now counts tokens of length >= k.
  for (std::size_t k : {16, 24, 32, 48, 64, 96, 128}) {
    std::size_t n_long = k + 1 <= max_len_ ? longer_than[k + 1] : 0;
    if (n_long <= 128) {
      long_threshold_ = k;
      for (std::uint32_t i = 0; i < sorted_ids_.size(); ++i) {
        if (tokens_[sorted_ids_[i]].size() > k) long_tokens_.push_back(i);
      }
      break;
    }
  }
  trie_[0].next = static_cast<std::uint32_t>(trie_.size());
  trie_[0].sub_tok_end = static_cast<std::uint32_t>(sorted_ids_.size());
  // Children in CSR form: a node's children are the subtrees that tile (node, next).
  child_start_.assign(trie_.size() + 1, 0);
  children_.reserve(trie_.size());
  for (std::uint32_t i = 0; i < trie_.size(); ++i) {
    child_start_[i] = static_cast<std::uint32_t>(children_.size());
    for (std::uint32_t c = i + 1; c < trie_[i].next; c = trie_[c].next) children_.push_back(c);
  }
  child_start_[trie_.size()] = static_cast<std::uint32_t>(children_.size());
}

std::uint32_t Vocabulary::child(std::uint32_t node, std::uint8_t byte) const {
  std::uint32_t lo = child_start_[node], hi = child_start_[node + 1];
  while (lo < hi) {
    std::uint32_t mid = (lo + hi) / 2;
    if (trie_[children_[mid]].byte < byte) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < child_start_[node + 1] && trie_[children_[lo]].byte == byte ? children_[lo] : 0;
}

}  // namespace maaza

// Token vocabulary: the raw bytes of every token piece, the end-of-generation ids, and a byte
// trie over the pieces for mask computation.
//
// The trie is flattened in preorder with the children of a node sorted by byte, so a subtree is
// a contiguous run of nodes (skip it with `next`) and the tokens below a node are a contiguous run
// of the byte-sorted token order (`tok_begin` .. `sub_tok_end`). A mask walk therefore visits
// nodes in order, pruning a whole subtree on a rejected byte, without recursion or allocation.
//
// Ownership and threads: a Vocabulary is immutable after construction and safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

namespace maaza {

struct TrieNode {
  std::uint32_t next = 0;         // index of the first node after this subtree
  std::uint32_t tok_begin = 0;    // sorted-order index of the first token ending at this node
  std::uint32_t tok_end = 0;      // one past the last token ending at this node
  std::uint32_t sub_tok_end = 0;  // one past the last token in this subtree
  std::uint16_t depth = 0;        // bytes from the root (the root has depth 0)
  std::uint8_t byte = 0;          // the byte on the edge into this node
};

class Vocabulary {
 public:
  // tokens[i] is the byte piece of token i (empty for control and unused tokens, which are never
  // allowed). eos_ids are the end-of-generation tokens. Throws VocabularyError-like Error
  // (maaza::Error) when the vocabulary is empty, has no end-of-generation id, or an id is out of
  // range.
  Vocabulary(std::vector<std::string> tokens, std::vector<std::uint32_t> eos_ids);

  std::size_t n_vocab() const { return tokens_.size(); }
  const std::string& token(std::uint32_t id) const { return tokens_[id]; }
  const std::vector<std::uint32_t>& eos_ids() const { return eos_ids_; }
  bool is_eos(std::uint32_t id) const { return id < is_eos_.size() && is_eos_[id]; }

  const std::vector<TrieNode>& trie() const { return trie_; }
  // Token ids in byte-sorted order (the order TrieNode token runs index into).
  const std::vector<std::uint32_t>& sorted_ids() const { return sorted_ids_; }
  std::size_t max_token_len() const { return max_len_; }
  // The child of trie node `node` on `byte`, 0 if none (a binary search over its children).
  std::uint32_t child(std::uint32_t node, std::uint8_t byte) const;
  // The shortest K in {16, 24, 32, 48, 64, 96, 128} leaving at most 128 tokens longer than K
  // (0 if none does), and the byte-sorted indices of those longer tokens. Token caches share
  // repetition counts that no token of at most K bytes can exhaust.
  std::size_t long_token_threshold() const { return long_threshold_; }
  const std::vector<std::uint32_t>& long_tokens() const { return long_tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::vector<std::uint32_t> eos_ids_;
  std::vector<bool> is_eos_;
  std::vector<TrieNode> trie_;
  std::vector<std::uint32_t> sorted_ids_;
  std::size_t max_len_ = 0;
  std::size_t long_threshold_ = 0;
  std::vector<std::uint32_t> long_tokens_;
  std::vector<std::uint32_t> child_start_;  // per node: its first entry in children_
  std::vector<std::uint32_t> children_;     // node indices, each node's children by byte
};

// Raised for an unusable vocabulary; mapped to maaza_rt.errors.VocabularyError.
class VocabularyError : public Error {
 public:
  explicit VocabularyError(const std::string& message) : Error(message) {}
};

}  // namespace maaza

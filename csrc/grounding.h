// Grounding: what the input text allows a grounded value to be.
//
// A grammar compiled with grounding marks some of its rule references as grounded (grammar.h,
// Symbol::grounded): the body of a JSON string that must be a substring of the text, or a
// number that must be one of the numbers the text writes. The grammar stays shared between
// extractions; a Grounding is built once per input text and bound to one matcher.
//
// TextAutomaton is the suffix automaton of the text's bytes (linear in the text, at most 2n
// states): every path from its initial state spells a substring, and every substring is a path.
// The matcher walks it byte by byte together with the vocabulary trie, so a mask costs the trie
// nodes whose bytes continue some substring. The string value a model writes is compared with
// the text after JSON unescaping; only the escapes \" \\ \n \t \r are accepted (no \u forms),
// so a substring has one spelling. The caller decides what counts as the text: maaza_rt binds
// the text with each whitespace run collapsed to one space, a NUL byte, and the text as it is,
// so a value may keep a run as written or write it as one space (a value cannot hold the NUL,
// so none spans both parts).
//
// LiteralTrie holds a set of byte strings (the JSON literals of the text's numbers); the matcher
// walks it the same way.
//
// Ownership and threads: both are immutable after construction and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"

namespace maaza {

class TextAutomaton {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t(0);
  static constexpr std::uint32_t kMaxStates = (std::uint32_t(1) << 28) - 2;

  // Throws Error when the text is too long for the state encoding (about 134M bytes).
  explicit TextAutomaton(std::string_view text);

  // The state after byte `b` from `state`, or kNone when no substring continues so.
  std::uint32_t next(std::uint32_t state, std::uint8_t b) const {
    for (std::uint32_t i = first_[state]; i < first_[state + 1]; ++i) {
      if (edge_byte_[i] == b) return edge_to_[i];
    }
    return kNone;
  }
  // The bytes with a transition from `state`, in increasing order, as [begin, end) of edge_bytes().
  std::uint32_t edges_begin(std::uint32_t state) const { return first_[state]; }
  std::uint32_t edges_end(std::uint32_t state) const { return first_[state + 1]; }
  const std::vector<std::uint8_t>& edge_bytes() const { return edge_byte_; }
  const std::vector<std::uint32_t>& edge_targets() const { return edge_to_; }
  std::size_t n_states() const { return first_.size() - 1; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  // Transitions in CSR form, each state's edges sorted by byte.
  std::vector<std::uint32_t> first_;
  std::vector<std::uint8_t> edge_byte_;
  std::vector<std::uint32_t> edge_to_;
};

class LiteralTrie {
 public:
  static constexpr std::uint32_t kNone = ~std::uint32_t(0);

  LiteralTrie();
  // Adds a non-empty byte string (empty ones are ignored).
  void add(std::string_view literal);
  // Call once after the last add: fills the shortest-completion tables.
  void finish();

  std::uint32_t next(std::uint32_t node, std::uint8_t b) const;
  bool terminal(std::uint32_t node) const { return nodes_[node].terminal; }
  void next_bytes(std::uint32_t node, std::uint64_t out[4]) const;
  // Bytes of the shortest literal completing `node` (0 when terminal), and those bytes appended.
  std::uint32_t min_to_terminal(std::uint32_t node) const { return nodes_[node].min_len; }
  void append_min_completion(std::uint32_t node, std::string& out) const;
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }

 private:
  struct Node {
    std::vector<std::pair<std::uint8_t, std::uint32_t>> children;  // sorted by byte
    bool terminal = false;
    std::uint32_t min_len = ~std::uint32_t(0);
    std::uint32_t min_child = kNone;  // index into children achieving min_len
  };
  std::vector<Node> nodes_;
  std::size_t count_ = 0;
};

// The text as grounding reads it: every byte that does not belong to a well-formed UTF-8
// character becomes a NUL, which no grounded value can hold (a JSON string writes it escaped as
// \u0000, which grounded strings do not accept). A value is then always made of whole, valid
// characters: a lead byte in the automaton is followed by its continuation bytes.
std::string grounding_text(std::string_view text);

// The per-text binding: the normalised text's automaton and the literals of its numbers.
class Grounding {
 public:
  // The automaton is built over grounding_text(text).
  Grounding(std::string_view text, const std::vector<std::string>& number_literals);
  const TextAutomaton& text() const { return text_; }
  const std::vector<std::string>& numbers() const { return numbers_; }

 private:
  TextAutomaton text_;
  std::vector<std::string> numbers_;
};

}  // namespace maaza

// Grammar matcher: parser state over a compiled grammar, token masks, accept, forced bytes.
//
// CompiledGrammar lowers the code-point IR (grammar.h) once into a byte-level program: literals
// become byte elements, character classes stay one element that decodes UTF-8 incrementally
// (a partial multi-byte character is just a sub-state, so a character split across tokens needs
// nothing special), repetitions are desugared into tail-recursive rules.
//
// A parser state is a small deduplicated set of stacks. A stack is its top position (plus the
// partial UTF-8 character, if any) and a parent frame; parent frames are return positions
// hash-consed in an arena, so stacks share their tails and compare by id. Calls in tail position
// push no frame, so repetition runs in constant depth.
//
// Shortest completions: at compile time a fixpoint over the program gives every rule the length
// of its shortest expansion (and the alternative that achieves it) and every position the
// shortest expansion of the rest of its alternative. A stack's distance to completion is then its
// top suffix plus, memoised per parent frame, the suffixes of its return positions; the state's
// distance is the minimum over its stacks. Building the string follows the recorded alternatives.
//
// Masks walk the vocabulary trie (vocab.h) once per call, advancing the state byte by byte with
// per-depth snapshots and pruning a subtree at the first rejected byte. Two caches keep this
// cheap: (1) a table shared by every matcher of a (grammar, vocabulary) pair that stores, per
// top-of-stack context (the top few frames' positions), which tokens that context alone accepts
// and which ones need the rest of the stack ("context-dependent"), so only those few are walked
// per step; (2) a per-matcher memo of whole masks keyed by the exact state.
//
// Threads: CompiledGrammar is immutable apart from its internally synchronised token-cache
// table, so it may be shared. A GrammarMatcher belongs to one sequence and is not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "grammar.h"
#include "grounding.h"
#include "vocab.h"

namespace maaza {

// Grounded: a grounded reference (grammar.h); `arg` indexes CompiledGrammar::grounded_slots().
enum class ElemKind : std::uint8_t { Byte, Class, Ref, End, Grounded };

struct ProgElem {
  ElemKind kind = ElemKind::End;
  std::uint8_t lo = 0;     // Byte: inclusive byte range
  std::uint8_t hi = 0;
  std::uint32_t arg = 0;   // Class: class index; Ref: program rule; End: program rule
};

struct ByteClass {
  std::vector<CharRange> ranges;  // positive, sorted, disjoint
  std::uint64_t first[4] = {0, 0, 0, 0};  // bytes that can start a member (ASCII or lead byte)
};

struct TokenCache;

// A grounded reference of the program: what it must match when bound, and the program rule it
// matches when not bound (or when the bound text offers no value for it).
struct GroundedSlot {
  Grounded how = Grounded::Text;
  std::uint32_t fallback = 0;
};

// Shortest-expansion tables (see CompiledGrammar). kNoCompletion marks what matches no string.
struct MinTables {
  std::vector<std::uint64_t> rule_min_len;
  std::vector<std::uint32_t> rule_min_alt;
  std::vector<std::uint64_t> suffix_min_len;
};

// For each grounded slot of a bound matcher: whether the text offers it a value and, if so, its
// shortest value. Inactive slots match their fallback rule.
struct SlotOverride {
  bool active = false;
  std::string shortest;
};

// Counters of a token cache, for benchmarks and tests.
struct CacheStats {
  std::uint64_t builds = 0;     // contexts built
  std::uint64_t deeper = 0;     // of which too context-dependent (a deeper one was built)
  std::uint64_t dependent = 0;  // dependent tokens over all kept contexts
  std::uint64_t build_ns = 0;   // time spent building
  std::uint64_t bytes = 0;      // memory held
};

class CompiledGrammar {
 public:
  // Validates and lowers the grammar. Throws GrammarError.
  explicit CompiledGrammar(Grammar grammar, std::vector<std::string> ignored = {});

  const Grammar& grammar() const { return grammar_; }
  const std::vector<std::string>& ignored() const { return ignored_; }

  const std::vector<ProgElem>& elems() const { return elems_; }
  const std::vector<std::vector<std::uint32_t>>& alts() const { return alts_; }
  const std::vector<ByteClass>& classes() const { return classes_; }
  std::uint32_t root_rule() const { return root_; }
  // Bounded repetitions x{0,n} are chains of rules, one per level; a return position inside a
  // chain maps to (chain, level), level 0 meaning "not in a chain". chain_returns()[c][level-1]
  // is the return position at that level. Token caches use this to share contexts that differ
  // only in a repetition count no token could exhaust.
  struct ChainPos {
    std::uint32_t chain = 0;
    std::uint32_t level = 0;
  };
  const std::vector<ChainPos>& chain_of_pos() const { return chain_of_pos_; }
  const std::vector<std::vector<std::uint32_t>>& chain_returns() const { return chain_returns_; }

  // Shortest-expansion tables (computed once, by the constructor). kNoCompletion marks what
  // matches no string. rule_min_len: bytes of the shortest expansion of a program rule;
  // rule_min_alt: the start position of an alternative achieving it (kNoPosition if none);
  // suffix_min_len: bytes of the shortest expansion from a position to the end of its
  // alternative; class_min_member: a member of the class with the shortest UTF-8 encoding.
  static constexpr std::uint64_t kNoCompletion = ~std::uint64_t(0);
  static constexpr std::uint32_t kNoPosition = ~std::uint32_t(0);
  std::uint64_t rule_min_len(std::uint32_t rule) const { return min_.rule_min_len[rule]; }
  std::uint32_t rule_min_alt(std::uint32_t rule) const { return min_.rule_min_alt[rule]; }
  const std::vector<std::uint64_t>& suffix_min_len() const { return min_.suffix_min_len; }
  std::uint32_t class_min_member(std::uint32_t cls) const { return class_min_member_[cls]; }
  const MinTables& min_tables() const { return min_; }
  // Appends the shortest expansion from position `pos` to the end of its alternative; `work` is
  // scratch (return positions). Throws InternalError if none exists.
  void append_min_expansion(std::uint32_t pos, std::string& out,
                            std::vector<std::uint32_t>& work) const {
    append_min_expansion(min_, nullptr, pos, out, work);
  }
  // The same tables and expansion for a matcher bound to a text: an active grounded slot counts
  // as its shortest value; an inactive one (or every one, with `slots` null) as its fallback.
  MinTables compute_min_tables(const std::vector<SlotOverride>* slots) const;
  void append_min_expansion(const MinTables& tables, const std::vector<SlotOverride>* slots,
                            std::uint32_t pos, std::string& out,
                            std::vector<std::uint32_t>& work) const;
  const std::vector<GroundedSlot>& grounded_slots() const { return slots_; }

  // The token cache for this grammar and `vocab`, created on first use; thread-safe.
  std::shared_ptr<TokenCache> token_cache(const std::shared_ptr<const Vocabulary>& vocab) const;

 private:
  Grammar grammar_;
  std::vector<std::string> ignored_;
  std::vector<ProgElem> elems_;
  std::vector<std::vector<std::uint32_t>> alts_;  // per program rule: start positions
  std::vector<ByteClass> classes_;
  std::uint32_t root_ = 0;
  std::vector<ChainPos> chain_of_pos_;
  std::vector<std::vector<std::uint32_t>> chain_returns_;
  std::vector<GroundedSlot> slots_;
  MinTables min_;
  std::vector<std::uint32_t> class_min_member_;
  mutable std::mutex cache_mu_;
  mutable std::vector<std::pair<std::weak_ptr<const Vocabulary>, std::shared_ptr<TokenCache>>>
      caches_;
};

// One stack of a parser state: top position, partial UTF-8 character (0 if none) and the id of
// the parent frame in the matcher's arena.
struct Stack {
  std::uint32_t pos = 0;
  std::uint32_t aux = 0;
  std::uint32_t parent = 0;
  bool operator==(const Stack& o) const {
    return pos == o.pos && aux == o.aux && parent == o.parent;
  }
};

// Process-wide token-cache limits, for tests and benchmarks: a cut context with more than
// max_dependent context-dependent tokens is replaced by a deeper one; a cache holding
// max_cache_bytes or more builds nothing new (masks then walk the trie directly). Defaults: 256
// tokens, 256 MiB.
void set_cache_limits(std::size_t max_dependent, std::size_t max_cache_bytes);

class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar,
                 std::shared_ptr<const Vocabulary> vocab);
  ~GrammarMatcher();
  GrammarMatcher(const GrammarMatcher&) = delete;
  GrammarMatcher& operator=(const GrammarMatcher&) = delete;

  // Writes the allowed-token bitset (bit set = allowed) into `bits`, which holds n_words uint32
  // words, n_words >= ceil(n_vocab / 32). Bits past n_vocab are cleared.
  void fill_mask(std::uint32_t* bits, std::size_t n_words);
  // Advances by a token; false (state unchanged) if the token is not allowed or out of range.
  bool accept_token(std::int64_t token_id);
  // Whether accept_token would succeed, without changing the state.
  bool can_accept_token(std::int64_t token_id);
  // Advances by raw bytes; false (state unchanged) if they are not a legal continuation.
  bool accept_bytes(std::string_view data);
  // The unique continuation at this point (at most `cap` bytes), empty if none.
  std::string forced_bytes(std::size_t cap = 256);
  // The root value is complete: end-of-generation tokens are allowed now.
  bool is_complete() const;
  // EOS was accepted, or the value is complete and nothing can follow.
  bool is_terminated() const;
  // The length in bytes of the shortest byte string whose acceptance makes is_complete() true:
  // 0 when the value is complete (or terminated), CompiledGrammar::kNoCompletion when no
  // continuation completes it. Does not change the state. Cost: one pass over the stacks plus
  // the parent frames created since the last call (memoised); no allocation in steady state.
  std::uint64_t completion_distance();
  // completion_distance() after accepting token `token_id`, without changing the state:
  // kNoCompletion if the token is not allowed, 0 for an allowed end-of-generation token.
  std::uint64_t completion_distance_after(std::int64_t token_id);
  // The shortest completion itself (completion_distance() bytes, empty when complete or
  // terminated): accepting it makes is_complete() true. Ties go to the first stack and the
  // first shortest alternative, so the result depends only on the state. Throws InternalError
  // when no completion exists (callers check completion_distance() first to bound the size).
  std::string shortest_completion();
  // shortest_completion() after accepting token `token_id`, without changing the state (empty
  // for an allowed end-of-generation token). Throws InternalError if the token is not allowed.
  std::string shortest_completion_after(std::int64_t token_id);
  void reset();
  // Binds the matcher to an input text (grounding.h): from now on a grounded reference matches
  // only values the text offers, where it offers one (else its plain rule). Resets the state.
  // A null grounding unbinds.
  void bind(std::shared_ptr<const Grounding> grounding);
  // Whether grounded slot `slot` is active in the current binding.
  bool slot_active(std::uint32_t slot) const;
  // Sets logits of disallowed tokens (and entries past n_vocab) to -infinity. `logits` holds n
  // entries; when n < n_vocab, the tokens from n on have no entry and nothing is written for them.
  void mask_logits(float* logits, std::size_t n);
  // Argmax over allowed tokens, -1 if none is allowed. Does not advance the state.
  std::int64_t select_greedy(const float* logits, std::size_t n);

  // Counters of the token cache this matcher shares with others of the same grammar/vocabulary.
  CacheStats cache_stats() const;

  std::size_t n_vocab() const { return vocab_->n_vocab(); }
  std::size_t n_words() const { return (vocab_->n_vocab() + 31) / 32; }

 private:
  struct Impl;
  std::shared_ptr<const CompiledGrammar> grammar_;
  std::shared_ptr<const Vocabulary> vocab_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace maaza

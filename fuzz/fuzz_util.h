// Shared pieces of the libFuzzer targets in fuzz/: a failure report that libFuzzer counts as a
// crash, a deterministic random source, the two test vocabularies, and MatcherDriver, which walks
// a GrammarMatcher while cross-checking every answer it gives against the others (a mask against
// per-token answers, a rejected token against an unchanged state, a completion against its
// length, masked logits and greedy choices against the mask).
//
// A target finds a bug in three ways: a sanitizer report, an exception the core's contract does
// not allow (it escapes LLVMFuzzerTestOneInput and ends the process), or a failed cross-check,
// which fail() reports with a message and a trap. None of this is linked into the library.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "grounding.h"
#include "matcher.h"
#include "vocab.h"

namespace maaza::fuzz {

// Prints `what` and stops the process so that libFuzzer records the input as a crash.
[[noreturn]] void fail(const std::string& what);
inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// SplitMix64: a small deterministic generator, so that an input always replays the same way.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  // Uniform in [0, n) (n > 0).
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(unsigned one_in) { return below(one_in) == 0; }

 private:
  std::uint64_t state_;
};

// FNV-1a over bytes: seeds an Rng from an input.
std::uint64_t hash_bytes(std::string_view data);

// Whether the grammar repeats a rule that matches the empty string either more than 3,000 times
// (`("a"?){5000}`: every state holds a stack per repetition, and each mask costs time linear in
// them) or a bounded number of times inside a recursion (`root ::= "(" item{0,100} ")"`, `item
// ::= root | ""`: a stack per repetition level per level of nesting, so states grow
// exponentially with the nesting, and the matcher has no bound on them; docs/fuzzing.md, "Known
// limits"). Such inputs are compiled but not walked.
bool many_stacks_by_design(const Grammar& grammar);

// The largest count of a repetition of a rule that matches the empty string (0 if none).
std::uint32_t nullable_repeat_count(const Grammar& grammar);

// How many steps to walk a grammar: `steps`, or 4 when a nullable repetition exceeds
// kFewStepsAbove (every state then holds hundreds of stacks and each step with its
// cross-checks takes seconds under the sanitizers: slow by design, and a few steps still cover
// the path that masks many stacks in one walk).
constexpr std::uint32_t kFewStepsAbove = 256;
int walk_steps(const Grammar& grammar, int steps);

// 256 one-byte tokens (id = byte value) and an end-of-generation token (id 256, empty piece).
std::shared_ptr<const Vocabulary> byte_vocabulary();

// The one-byte tokens and EOS of byte_vocabulary() (same ids), then multi-byte pieces of the kind a
// BPE vocabulary holds for JSON (`{"`, `":`, `true`, digit runs, whitespace runs, UTF-8 letters,
// lone UTF-8 lead and continuation bytes), then an empty unused piece, then `extra`.
std::vector<std::string> json_token_pieces(const std::vector<std::string>& extra);
std::shared_ptr<const Vocabulary> token_vocabulary(const std::vector<std::string>& extra);

// Walks one matcher, checking its answers against each other after every call. `text()` is the
// bytes accepted since the last reset.
class MatcherDriver {
 public:
  // With `grounding`, the matcher is bound to it (GrammarMatcher::bind) before the first mask.
  MatcherDriver(std::shared_ptr<const CompiledGrammar> grammar,
                std::shared_ptr<const Vocabulary> vocab,
                std::shared_ptr<const Grounding> grounding = nullptr);

  GrammarMatcher& matcher() { return matcher_; }
  const std::string& text() const { return text_; }
  // Whether an end-of-generation token was accepted.
  bool ended() const { return ended_; }

  // Checks the current state: the mask against can_accept_token (for every id one call in four,
  // else for a random window of 64 ids and the end-of-generation ids), EOS against
  // is_complete, forced bytes against every allowed token, the completion distance against the
  // shortest completion, and mask_logits/select_greedy (logits of `n_logits` entries drawn from
  // `rng`) against the mask.
  void check_state(Rng& rng, std::size_t n_logits);
  // Accepts the allowed token of rank `choice` modulo the number allowed, checking the distance
  // and completion predicted for it. Returns false when no token is allowed.
  bool step_allowed(std::uint64_t choice);
  // Offers any id (allowed or not, in range or not): the answer must match the mask and a
  // rejection must leave the state as it was.
  void try_token(std::int64_t id);
  // Offers raw bytes, with the same checks as try_token.
  void try_bytes(std::string_view bytes);
  // Accepts forced_bytes(), which must be accepted.
  void accept_forced();
  // Accepts the shortest completion when it exists and is at most `cap` bytes; the value must then
  // be complete. Returns whether it did.
  bool complete_shortest(std::size_t cap);
  // Resets; the mask must be the initial one again.
  void reset();

 private:
  void fill(std::vector<std::uint32_t>& bits);
  bool allowed(std::uint32_t id) const { return (mask_[id >> 5] >> (id & 31)) & 1u; }

  std::shared_ptr<const Vocabulary> vocab_;
  GrammarMatcher matcher_;
  std::vector<std::uint32_t> initial_;
  std::vector<std::uint32_t> mask_;
  std::vector<std::uint32_t> after_;
  std::string text_;
  bool ended_ = false;
};

}  // namespace maaza::fuzz

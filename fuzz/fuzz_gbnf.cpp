// Fuzz target: the GBNF parser and printer (gbnf.h), then the matcher over what they accept.
//
// Input: any bytes, read as GBNF text with root rule "root". The parser may refuse it only with
// GrammarError. An accepted grammar must print as GBNF that parses again and prints identically
// (printing is a fixed point), lower into a CompiledGrammar (or refuse with GrammarError), and
// drive a byte-level matcher through a walk of allowed bytes chosen by a generator seeded from
// the input, with MatcherDriver's cross-checks at every step, then the shortest completion
// (unless many_stacks_by_design: long repetitions of a rule that matches the empty string).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "gbnf.h"
#include "matcher.h"

using maaza::fuzz::check;
using maaza::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  maaza::Grammar grammar;
  try {
    grammar = maaza::parse_gbnf(text);
  } catch (const maaza::GrammarError&) {
    return 0;
  }
  const std::string printed = maaza::to_gbnf(grammar);
  try {
    check(maaza::to_gbnf(maaza::parse_gbnf(printed)) == printed, "printing is not a fixed point");
  } catch (const maaza::GrammarError& e) {
    fail(std::string("the printed grammar does not parse: ") + e.what() + "\n" + printed);
  }

  const bool walk = !maaza::fuzz::many_stacks_by_design(grammar);
  std::shared_ptr<const maaza::CompiledGrammar> compiled;
  try {
    compiled = std::make_shared<const maaza::CompiledGrammar>(std::move(grammar));
  } catch (const maaza::GrammarError&) {
    return 0;
  }
  if (!walk) return 0;
  static const std::shared_ptr<const maaza::Vocabulary> vocab = maaza::fuzz::byte_vocabulary();
  maaza::fuzz::Rng rng(maaza::fuzz::hash_bytes(text));
  maaza::fuzz::MatcherDriver driver(compiled, vocab);
  const int steps = maaza::fuzz::walk_steps(compiled->grammar(), 24);
  for (int step = 0; step < steps; ++step) {
    if (step % 4 == 0) driver.check_state(rng, vocab->n_vocab() + rng.below(3));
    if (rng.chance(8)) driver.accept_forced();
    if (rng.chance(6)) driver.try_token(static_cast<std::int64_t>(rng.below(300)));
    if (!driver.step_allowed(rng.next())) break;
  }
  driver.complete_shortest(4096);
  driver.check_state(rng, vocab->n_vocab());
  driver.reset();
  return 0;
}

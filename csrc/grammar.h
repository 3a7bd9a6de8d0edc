// Grammar IR: a context-free grammar over Unicode code points in the shape of llama.cpp's GBNF
// (rules of alternatives, each a sequence of literals, character classes, rule references and
// bounded repetitions). The JSON Schema compiler (schema.h) produces it, the GBNF parser
// (gbnf.h) reads and prints it, and the matcher (matcher.h) lowers it to a byte-level program.
//
// Ownership: a Grammar is a plain value. Once handed to the matcher (via CompiledGrammar) it is
// immutable and may be shared across threads.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "errors.h"

namespace maaza {

// An inclusive range of Unicode scalar values.
struct CharRange {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  bool operator==(const CharRange& o) const { return lo == o.lo && hi == o.hi; }
};

inline constexpr std::uint32_t kUnbounded = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::uint32_t kMaxCodePoint = 0x10FFFF;

// What a grounded rule reference (see Symbol::grounded) must match once the matcher is bound to
// an input text (grounding.h); unbound, it matches what the rule does.
enum class Grounded : std::uint8_t {
  None,          // an ordinary reference
  Text,          // the body of a JSON string: a substring of the text (possibly empty)
  TextNonEmpty,  // the same, not empty
  Number,        // a JSON number: one of the text's number literals the rule also matches
  Literal,       // the body of a JSON string: a substring of the text without spaces, quotes or
                 // backslashes that the rule also matches (formats such as email or uri)
};

// Whether a grounded reference takes its values from a set of literals (a trie) rather than
// from every substring of the text.
inline bool grounded_by_literals(Grounded g) { return g == Grounded::Number || g == Grounded::Literal; }

struct Symbol {
  enum class Kind : std::uint8_t {
    Literal,    // `text`: a non-empty UTF-8 byte string matched exactly
    CharClass,  // one code point in `ranges` (or, when `negated`, not in `ranges`)
    RuleRef,    // the rule `rule`
    Repeat,     // the rule `rule`, repeated between `min` and `max` times (max may be kUnbounded)
  };
  Kind kind = Kind::Literal;
  std::string text;
  std::vector<CharRange> ranges;  // sorted, disjoint, non-adjacent; surrogates never included
  bool negated = false;
  std::uint32_t rule = 0;
  std::uint32_t min = 0;
  std::uint32_t max = 0;
  // RuleRef only: the reference is grounded. Every analysis of the grammar treats it as the plain
  // reference (the grounded language is a subset of the rule's), so only the matcher and the
  // GBNF printer (which writes the plain reference) need to know.
  Grounded grounded = Grounded::None;

  static Symbol literal(std::string bytes);
  static Symbol char_class(std::vector<CharRange> ranges, bool negated = false);  // normalises
  static Symbol ref(std::uint32_t rule);
  static Symbol grounded_ref(std::uint32_t rule, Grounded how);
  static Symbol repeat(std::uint32_t rule, std::uint32_t min, std::uint32_t max);
};

// A sequence of symbols; an empty sequence matches the empty string.
using Sequence = std::vector<Symbol>;

struct Rule {
  std::string name;                    // unique within the grammar; [A-Za-z0-9-]+
  std::vector<Sequence> alternatives;  // at least one
};

class Grammar {
 public:
  // Adds a rule and returns its index. A name already taken gets a numeric suffix, so callers
  // may pass descriptive names freely. The returned index stays valid.
  std::uint32_t add_rule(const std::string& name, std::vector<Sequence> alternatives = {});
  // Reserves a rule to be filled later (for recursion); its alternatives start empty.
  std::uint32_t reserve_rule(const std::string& name) { return add_rule(name); }
  void set_alternatives(std::uint32_t rule, std::vector<Sequence> alternatives);

  const std::vector<Rule>& rules() const { return rules_; }
  const Rule& rule(std::uint32_t index) const { return rules_.at(index); }
  std::uint32_t root() const { return root_; }
  void set_root(std::uint32_t index) { root_ = index; }
  // Index of the rule with this exact name, or -1.
  std::int64_t find_rule(const std::string& name) const;

  // Checks the invariants: every reference in range, every rule with at least one alternative,
  // no empty literals, min <= max in repeats, no left recursion (a rule reaching itself without
  // consuming input). Throws GrammarError naming the rule.
  void validate() const;

  // The first rule (by index) that reaches itself without consuming input, or -1.
  std::int64_t left_recursive_rule() const;
  // productive[r] is true when rule r matches at least one string.
  std::vector<bool> productive_rules() const;
  // nullable[r] is true when rule r matches the empty string.
  std::vector<bool> nullable_rules() const;

 private:
  std::vector<Rule> rules_;
  std::uint32_t root_ = 0;
  std::unordered_map<std::string, std::uint32_t> names_;
};

}  // namespace maaza

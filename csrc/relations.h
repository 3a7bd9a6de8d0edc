// Relations between JSON Schemas read as sets of values, for `oneOf`: whether two schemas can share
// a value, whether a value certainly fails a schema, and simple schemas all of whose values fail a
// given one.
//
// Every answer errs on the side that keeps the schema compiler sound: `true` from disjoint() or
// definitely_invalid() is a proof under the specification's semantics (of the draft described by
// SchemaSemantics); `false` only means "not proven". failure_witnesses() returns only schemas
// none of whose values satisfies the given schema. Keywords the analysis does not reason about
// (pattern, format, not, ...) are treated as absent, which can only lose proofs. Recursion is
// bounded (kMaxDepth) and so is the work of each call (kMaxSteps, counting every conjunct
// visited), so recursive schemas terminate with "not proven".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "json.h"

namespace maaza {

struct SchemaSemantics {
  // Draft 2020-12: `prefixItems` is a keyword, `items` applies after it, `additionalItems` is
  // not a keyword. Earlier drafts: array-form `items` with `additionalItems`.
  bool prefix_items = true;
  // Drafts 4 to 7: keywords beside `$ref` are ignored.
  bool ref_overrides_siblings = false;
  // Which form of `exclusiveMinimum`/`exclusiveMaximum` proofs read. Draft 4: booleans that
  // make `minimum`/`maximum` exclusive (a number there is no bound). Drafts 6 and later: numbers,
  // bounds of their own (a boolean there is no flag). The compiler applies both forms in every
  // draft, which only narrows a schema; a proof about another branch reads the draft's form
  // alone, and neither where the draft's form is in doubt (draft 3, which the scorer's validator
  // reads as 2020-12), so that a proof holds under either reading.
  bool exclusive_flags = false;
  bool exclusive_numbers = true;
};

class SchemaRelations {
 public:
  // The target of a `$ref` value, or nullptr when it cannot be resolved.
  using Resolver = std::function<const json::Value*(const json::Value& ref)>;

  // The schemas passed to the methods must outlive the call. Not thread-safe (a step counter
  // bounds the work of each call: past kMaxSteps the answer is "not proven"). Throws nothing of
  // its own.
  // `shared_steps`, when given, counts the steps of every call of every SchemaRelations that
  // shares it (one schema compilation): past kMaxSharedSteps in all, each answer is "not
  // proven", so a schema with many oneOf (merged copies of one, say) cannot multiply the work.
  SchemaRelations(Resolver resolve, SchemaSemantics semantics,
                  std::uint64_t* shared_steps = nullptr);

  // True when no value satisfies both schemas.
  bool disjoint(const json::Value& a, const json::Value& b) const;
  // True when `v` fails `s`.
  bool definitely_invalid(const json::Value& v, const json::Value& s) const;
  // Schemas (plain keywords: type, required, properties, enum, bounds, lengths, counts) such
  // that every value satisfying one of them fails `s`, for use together with `context` (the
  // schema whose values must fail `s`): witnesses disjoint from `context` are left out, and the
  // keys and enum values `context` declares suggest more (a key `s` forbids; a property value
  // `s` refuses). Empty when none is known.
  std::vector<json::Value> failure_witnesses(const json::Value& s, const json::Value& context) const;
  // The values `s` is limited to by an `enum` or `const` of one of its conjuncts (nullopt when
  // it has none): every value of `s` is among them.
  std::optional<std::vector<json::Value>> finite_values(const json::Value& s) const;

  static constexpr int kMaxDepth = 16;
  static constexpr std::uint64_t kMaxSteps = 100000;
  static constexpr std::uint64_t kMaxSharedSteps = 500000;

 private:
  struct View;
  void flatten(const json::Value& s, View& view, int depth) const;
  unsigned classes(const View& view, int depth) const;
  bool invalid(const json::Value& v, const json::Value& s, int depth) const;
  bool invalid_in_part(const json::Value& v, const json::Value& part, int depth) const;
  bool disjoint_at(const json::Value& a, const json::Value& b, int depth) const;
  bool disjoint_in(const View& a, const json::Value& as, const View& b, const json::Value& bs, unsigned cls,
                   int depth) const;
  const json::Value* finite_part(const View& view) const;

  bool step() const {
    return ++steps_ <= kMaxSteps && (shared_steps_ == nullptr || ++*shared_steps_ <= kMaxSharedSteps);
  }

  Resolver resolve_;
  SchemaSemantics semantics_;
  mutable std::uint64_t steps_ = 0;
  std::uint64_t* shared_steps_;
};

}  // namespace maaza

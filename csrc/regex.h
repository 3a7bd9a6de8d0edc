// String contents as grammar fragments: character sets in their JSON encoding, ECMA-262 `pattern`
// regular expressions and the built-in `format` names.
//
// Every fragment matches the *encoded* contents of a JSON string (what sits between the quotes).
// Two encodings are used:
//  - any_char(): one code point in any legal JSON spelling (raw UTF-8, the short escapes, \uXXXX
//    with correctly paired surrogates). Used for unconstrained strings and length bounds.
//  - encoded_class(): one code point of a set in its canonical spelling, the one Python's
//    json.dumps(ensure_ascii=False) writes: raw UTF-8, except `"` `\` and U+0000-U+001F, which
//    use \" \\ \b \f \n \r \t or \u00xx. Patterns, formats and excluded-key sets use this spelling
//    so that a value is matched once, whatever the pattern.
//
// A StringFragments object adds rules to one grammar and shares them between calls (one rule per
// distinct character set). It is not thread-safe; it borrows the grammar, which must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats.h"
#include "grammar.h"

namespace maaza {

// The code points ECMA-262 calls line terminators, white space, digits and word characters.
std::vector<CharRange> regex_class_digit();
std::vector<CharRange> regex_class_word();
std::vector<CharRange> regex_class_space();
// Sorted, merged, surrogate-free copy of `ranges`; and its complement over all scalar values.
std::vector<CharRange> normalize_ranges(std::vector<CharRange> ranges);
std::vector<CharRange> complement_ranges(const std::vector<CharRange>& ranges);

class StringFragments {
 public:
  explicit StringFragments(Grammar& grammar) : g_(grammar) {}

  // One code point, any JSON spelling (see above).
  std::uint32_t any_char();
  // One code point of `ranges`, canonical spelling. An empty set throws InternalError.
  std::uint32_t encoded_class(const std::vector<CharRange>& ranges);
  // Any sequence of code points, canonical spelling.
  std::uint32_t any_text();
  // The canonical spelling of a UTF-8 string (no quotes); empty text gives an empty sequence.
  static Sequence text(std::string_view utf8);

  // Contents matching an ECMA-262 pattern with search semantics (an end without ^ or $ matches
  // anything). Throws SchemaError(keyword "pattern", pointer) for lookaround, backreferences,
  // word boundaries, anchors not at an end of a top-level alternative, malformed patterns and
  // patterns whose grammar would exceed kMaxPatternSymbols.
  std::uint32_t pattern(std::string_view pattern, const std::string& pointer);
  // Contents of a string with this `format` (formats.h: date-time, date, time, email, uuid, ipv4,
  // uri, hostname, uri-reference, json-pointer), under the options set_format_options() gave.
  // Throws SchemaError(keyword "format", pointer) for other names.
  std::uint32_t format(std::string_view name, const std::string& pointer);

  // A pattern or format intersected with length bounds (code points; max ~0 = none).
  // supported is false when the intersection has no grammar here (unanchored patterns, two
  // variable-length parts, ...); rule is empty when no string satisfies both.
  struct Bounded {
    bool supported = false;
    std::optional<std::uint32_t> rule;
  };
  Bounded pattern_with_length(std::string_view pattern, const std::string& pointer, std::uint64_t min_len,
                              std::uint64_t max_len);
  Bounded format_with_length(std::string_view name, const std::string& pointer, std::uint64_t min_len,
                             std::uint64_t max_len);

  // Options of the built-in formats (formats.h); set before the first format() call.
  void set_format_options(const FormatOptions& options) { format_options_ = options; }

  static constexpr std::size_t kMaxPatternSymbols = 20000;

  // Adds a rule named `base`, or `base-N` when that name was used before by this object.
  std::uint32_t add_rule(const std::string& base, std::vector<Sequence> alternatives);

 private:
  Grammar& g_;
  std::map<std::string, std::uint32_t> name_counts_;
  std::map<std::string, std::uint32_t> class_rules_;
  std::map<std::string, std::uint32_t> named_;
  std::int64_t any_char_ = -1;
  std::int64_t any_text_ = -1;
  FormatOptions format_options_;
};

// One-shot conveniences over StringFragments (a fresh cache per call).
std::uint32_t compile_pattern(Grammar& grammar, std::string_view pattern, const std::string& pointer);
std::uint32_t compile_format(Grammar& grammar, std::string_view format, const std::string& pointer);

}  // namespace maaza

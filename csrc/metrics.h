// EdgeJSON metric scoring: exact JSON equality, field F1, the paper's type compliance, leaf F1
// and full JSON Schema validation of predictions, for one pair or for a batch in one call.
//
// Equality follows Python's semantics for values loaded with json.loads, except that booleans
// never equal numbers: object key order is ignored, duplicate keys keep the last value, integers
// of any size compare exactly, 1 == 1.0, and a float equals an integer only when it is exactly
// that integer. Metric definitions (including the empty-object conventions) are documented on
// each function below and in maaza_rt/metrics.py, whose pure-Python reference must agree exactly.
//
// Everything here is plain data and pure functions: a compiled SchemaValidator is immutable and
// may be shared between threads. Errors are thrown as maaza::JsonError (an expected value that
// is not JSON) and maaza::SchemaError (a schema that is malformed or uses an unsupported $ref or
// an invalid pattern); a bad prediction is a score, never an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace maaza::metrics {

// Values are scored as json::Document (flat, parsed without per-node allocations). Every
// function below expects documents whose members are sorted (Document::sort_members), which is
// what gives objects Python's dict semantics.

// Rewrites every object in `value` (recursively) so that duplicate keys keep only their last
// value and members are sorted by key bytes (the form schemas are compiled from).
void normalize(json::Value& value);

// Equality of two documents with the semantics described above.
bool json_equal(const json::Document& a, const json::Document& b);

// The paper's top-level field F1 between a prediction and the expected value.
// Expected is an object:
//   - a prediction that is not an object scores 0;
//   - both empty objects score 1; exactly one empty scores 0;
//   - otherwise tp = expected keys present in the prediction with an equal value,
//     precision = tp / |prediction keys|, recall = tp / |expected keys|, F1 = 2PR / (P + R)
//     (0 when tp = 0).
// Expected is not an object: 1 when the values are equal, else 0.
double field_f1(const json::Document& prediction, const json::Document& expected);

// The paper's schema compliance: the prediction is a non-empty object holding every expected key
// with a value of the same JSON type (integers and floats interchangeable, booleans distinct from
// numbers, null matching only null; nested values are not inspected). An empty-object prediction
// is never compliant (the paper's `if not predicted`). Expected not an object: same JSON type.
bool compliance(const json::Document& prediction, const json::Document& expected);

// Partial credit over leaves: each value is flattened into (path, leaf) pairs, where a path is a
// sequence of object keys and array indices (a key "0" differs from index 0) and a leaf is a
// scalar or an empty object or array. tp = paths present in both with equal leaves; precision =
// tp / |prediction pairs|, recall = tp / |expected pairs|, F1 harmonic (0 when tp = 0). A value
// always has at least one pair (a scalar root is the pair with the empty path), so there is no
// empty case.
double leaf_f1(const json::Document& prediction, const json::Document& expected);

// The paper's fallback for free-text outputs: the text, stripped of leading and trailing
// whitespace (Python str.strip()'s set), if it parses; otherwise the first parseable match of the
// paper's pattern \{[^{}]*(?:\{[^{}]*\}[^{}]*)*\} (an object with at most one level of nested
// braces, braces inside strings included), scanning matches left to right without overlap.
// Returns false when nothing parses. The document views `text` (members not sorted).
bool extract_json(std::string_view text, json::Document* out);

// A JSON Schema compiled for validation. Supports type, properties, patternProperties,
// additionalProperties, required, items (schema, or array = tuple in draft-04/06/07 with
// additionalItems), prefixItems (2019-09/2020-12), minItems, maxItems, uniqueItems, enum, const,
// anyOf, oneOf, allOf, not, local $ref (JSON pointers into the document, including $defs and
// definitions; siblings of $ref ignored in draft-04/06/07 as the spec says), minLength and
// maxLength (code points), pattern (ECMAScript regular expression, search semantics, matched on
// code points), format (below), minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers;
// booleans in draft-04), multipleOf, minProperties, maxProperties, and boolean schemas. Other
// keywords are ignored, as the specification does for unknown keywords. The dialect comes from
// the root "$schema": draft-04/06/07 get their own rules (draft-04: 1.0 is not an integer);
// anything else is treated as 2020-12.
//
// Formats checked (others are ignored):
//   date       YYYY-MM-DD, month 01-12, day valid for the month (leap years per Gregorian rules)
//   time       HH:MM:SS[.fraction][Z|z|+HH:MM|-HH:MM], hour 00-23, minute and second 00-59;
//              the timezone is optional
//   date-time  date, 'T' or 't', time (timezone optional: EdgeJSON values have none)
//   email      local@domain: local part 1-64 characters of A-Z a-z 0-9 !#$%&'*+/=?^_`{|}~.-,
//              not starting or ending with '.', no ".."; domain at most 253 characters, two or
//              more dot-separated labels of 1-63 characters of A-Z a-z 0-9 -, no label starting
//              or ending with '-'
//   uuid       8-4-4-4-12 hexadecimal digits (either case)
//   ipv4       four dot-separated decimal octets 0-255 without leading zeros
//   uri        scheme ([A-Za-z][A-Za-z0-9+.-]*) ':' then one or more printable ASCII characters
//              other than space and "<>\^`{|}, where '%' must start a %XX escape
//
// A pattern that std::regex cannot run (stack or complexity limits), strings longer than 10,000
// code points under a pattern, and validation nested deeper than 2,000 subschemas all make the
// instance invalid rather than raising. A reference target is validated once per instance node,
// so references that meet again (a chain of allOf: [{$ref: next}, {$ref: next}]) cost no more
// than one path.
class SchemaValidator {
 public:
  // Throws SchemaError for a malformed schema, a non-local or unresolvable $ref, a schema that
  // reaches itself through $ref and allOf/anyOf/oneOf/not without descending into the instance,
  // an unknown type name or an invalid pattern.
  explicit SchemaValidator(const json::Value& schema);
  ~SchemaValidator();
  SchemaValidator(SchemaValidator&&) noexcept;
  SchemaValidator& operator=(SchemaValidator&&) noexcept;
  SchemaValidator(const SchemaValidator&) = delete;
  SchemaValidator& operator=(const SchemaValidator&) = delete;

  // `instance` must have sorted members. Thread-safe.
  bool validate(const json::Document& instance) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Format checks used by the validator, exposed for testing.
bool check_format(std::string_view format, std::string_view value);

// Scores of one prediction. schema_valid: -1 when no schema was given, else 0 or 1.
struct PairScore {
  bool parsed = false;
  bool json_exact = false;
  double field_f1 = 0.0;
  bool compliance = false;
  std::int8_t schema_valid = -1;
  double leaf_f1 = 0.0;
};

// Scores a prediction text against an expected value (members sorted). Unparseable predictions
// (after the extract_json fallback when `extract` is set) score zero everywhere, with
// schema_valid 0 when a schema is given.
PairScore score_pair(std::string_view prediction, const json::Document& expected,
                     const SchemaValidator* schema, bool extract);

// Sums over a set of pairs; means are sums / n (schema_valid over n_with_schema).
struct Totals {
  std::size_t n = 0;
  std::size_t n_parsed = 0;
  std::size_t n_with_schema = 0;
  double json_exact = 0.0;
  double field_f1 = 0.0;
  double compliance = 0.0;
  double schema_valid = 0.0;
  double leaf_f1 = 0.0;
  void add(const PairScore& s);
};

// The texts are borrowed: they must outlive the score_batch call.
struct BatchInput {
  const std::vector<std::string_view>* predictions = nullptr;
  const std::vector<std::string_view>* expected = nullptr;
  const std::vector<std::string>* schemas = nullptr;  // distinct schema texts
  const std::vector<int>* schema_index = nullptr;     // per pair, -1 for none; may be null
  const std::vector<int>* group = nullptr;            // per pair, 0..n_groups-1; may be null
  int n_groups = 0;
  bool extract = false;
};

struct BatchResult {
  std::vector<PairScore> pairs;
  Totals overall;
  std::vector<Totals> groups;
};

// Scores every pair. Each distinct expected text is parsed once and each distinct schema compiled
// once per call. Throws JsonError naming the index of an expected text that is not JSON and
// SchemaError naming the index of a schema that cannot be compiled; InternalError on inconsistent
// sizes or indices.
BatchResult score_batch(const BatchInput& input);

}  // namespace maaza::metrics

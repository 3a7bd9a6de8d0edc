// JSON Schema -> grammar IR compiler. Produces a grammar whose language is the JSON texts (in the
// chosen whitespace style, with object keys in `properties` order) that validate against the
// schema, or a documented subset of them (docs/schema_support.md), never a value that does not
// validate; or throws SchemaError naming the keyword and JSON pointer it cannot enforce.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grammar.h"
#include "json.h"

namespace maaza {

enum class Whitespace : std::uint8_t {
  Compact,   // no whitespace at all: {"a":1,"b":[1,2]}
  Python,    // Python's json.dumps default separators: {"a": 1, "b": [1, 2]}
  Flexible,  // any JSON whitespace between tokens, at most max_whitespace bytes per gap
};

struct SchemaOptions {
  Whitespace whitespace = Whitespace::Compact;
  // Flexible mode: the cap on whitespace bytes in one gap (never unbounded).
  std::uint32_t max_whitespace = 24;
  // The value assumed for `additionalProperties` when a schema leaves it out. false (the default)
  // keeps generation to the declared properties; true follows the JSON Schema specification.
  bool additional_properties_default = false;
  // When true, keywords that cannot be enforced are ignored and listed in CompiledSchema::ignored
  // instead of raising SchemaError.
  bool lenient = false;
  // format date-time / time: also accept values without a time offset (2005-07-03T17:42:53.545351),
  // which RFC 3339 refuses. Off by default; data sets written without offsets (EdgeJSON) need it.
  bool optional_timezone = false;
  // Ground values in the input text (grounding.h): a string without enum, const, pattern, format
  // or maxLength (minLength at most 1) must be a substring of the text, a number one of the
  // numbers the text writes, unless its schema says "x-maaza-grounded": false. The grammar is
  // the same as without until a matcher is bound to a text.
  bool grounded = false;
};

struct CompiledSchema {
  Grammar grammar;
  // "keyword at pointer" for each keyword ignored in lenient mode.
  std::vector<std::string> ignored;
};

// Throws SchemaError for malformed or unsupported schemas.
CompiledSchema compile_json_schema(const json::Value& schema, const SchemaOptions& options = {});

}  // namespace maaza

// `pattern` regular expressions and `format` names -> grammar IR fragments.
#pragma once

#include <string>
#include <string_view>

#include "grammar.h"

namespace maaza {

// Adds rules to `grammar` matching the string *contents* (unquoted, as code points, before JSON
// escaping is applied by the caller) described by an ECMA-262 `pattern` with search semantics
// (unanchored ends match anything). Returns the rule index. Throws SchemaError with keyword
// "pattern" and the given pointer for unsupported constructs (lookaround, backreferences) or
// patterns too large to compile.
std::uint32_t compile_pattern(Grammar& grammar, std::string_view pattern, const std::string& pointer);

// Adds rules matching the contents of a string with this `format`; throws SchemaError with
// keyword "format" for unknown formats.
std::uint32_t compile_format(Grammar& grammar, std::string_view format, const std::string& pointer);

}  // namespace maaza

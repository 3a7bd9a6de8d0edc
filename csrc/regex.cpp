// `pattern` and `format` -> grammar IR (first cut: nothing supported yet).
#include "regex.h"

#include "errors.h"

namespace maaza {

std::uint32_t compile_pattern(Grammar& grammar, std::string_view pattern, const std::string& pointer) {
  (void)grammar;
  (void)pattern;
  throw SchemaError("pattern", pointer, "patterns are not supported yet");
}

std::uint32_t compile_format(Grammar& grammar, std::string_view format, const std::string& pointer) {
  (void)grammar;
  throw SchemaError("format", pointer, "unknown format '" + std::string(format) + "'");
}

}  // namespace maaza

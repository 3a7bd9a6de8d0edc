// The built-in string formats (`format` keyword) as anchored ECMA-262 patterns, which regex.cpp
// compiles like any `pattern`.
//
// Each pattern matches a subset of the strings the format's specification allows (RFC 3339,
// RFC 3986, RFC 1123 with RFC 5890/5891, ...): where the exact language is not regular or would
// be very large (a bounded total length over variable-length labels, Punycode), the pattern keeps
// a documented part of it, never more. docs/schema_support.md lists what each format accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace maaza {

struct FormatOptions {
  // date-time and time: accept a value without a time offset (`Z` or `+hh:mm`). RFC 3339
  // requires one, so this is off by default; extraction data written without offsets needs it.
  bool optional_timezone = false;
};

// The pattern (anchored with ^ and $) for `format: name`, or nullopt when the format is not
// supported. Pure function; thread-safe.
std::optional<std::string> format_pattern(std::string_view name, const FormatOptions& options);

}  // namespace maaza

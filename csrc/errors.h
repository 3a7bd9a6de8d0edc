// The maaza::Error hierarchy. Everything the core throws derives from Error and carries the fields
// a user needs to fix the input (schema keyword and JSON pointer, grammar line and column, JSON
// byte offset). bindings.cpp maps each class to the Python class of the same name in
// maaza_rt/errors.py. The core never aborts, exits or prints: invariant violations throw
// InternalError.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace maaza {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A JSON Schema the compiler cannot enforce or that is malformed.
// keyword: the offending keyword ("pattern", "$ref", ...), empty if none applies.
// pointer: JSON pointer (RFC 6901) of the schema node holding it, "" for the root.
class SchemaError : public Error {
 public:
  SchemaError(std::string keyword, std::string pointer, const std::string& message)
      : Error(message + (keyword.empty() ? std::string() : " (keyword '" + keyword + "'") +
              (keyword.empty() ? std::string() : " at '" + (pointer.empty() ? "#" : pointer) + "')")),
        keyword_(std::move(keyword)),
        pointer_(std::move(pointer)),
        detail_(message) {}
  const std::string& keyword() const { return keyword_; }
  const std::string& pointer() const { return pointer_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string keyword_;
  std::string pointer_;
  std::string detail_;
};

// A malformed or unusable grammar (GBNF syntax, undefined rule, left recursion, ...).
// line/column are 1-based positions in the GBNF text, 0 when the error has no text position.
class GrammarError : public Error {
 public:
  GrammarError(const std::string& message, std::size_t line = 0, std::size_t column = 0)
      : Error(line ? message + " at line " + std::to_string(line) + ", column " +
                         std::to_string(column)
                   : message),
        line_(line),
        column_(column) {}
  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }

 private:
  std::size_t line_;
  std::size_t column_;
};

// Malformed JSON text; offset is the byte offset where parsing failed.
class JsonError : public Error {
 public:
  JsonError(const std::string& message, std::size_t offset)
      : Error(message + " at offset " + std::to_string(offset)), offset_(offset) {}
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// A violated internal invariant: a bug in maaza-rt, reported instead of crashing.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& message) : Error("internal error: " + message) {}
};

}  // namespace maaza

// JSON values and a strict RFC 8259 parser, used for schema input and metric scoring.
//
// Objects keep their members in document order (key order matters for `properties`); duplicate
// keys are kept as written and `find` returns the last one, as Python's json module does.
// Numbers keep their source text next to the parsed double so that integers of any size can be
// compared exactly and `1` can be told from `1.0`. Values are plain data: copyable, and safe to
// share between threads once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.h"

namespace maaza::json {

class Value;
using Member = std::pair<std::string, Value>;

class Value {
 public:
  enum class Type : std::uint8_t { Null, Bool, Number, String, Array, Object };

  Value() = default;  // null
  static Value null() { return Value(); }
  static Value boolean(bool b);
  // A number from its JSON text (must be a valid JSON number; not checked here).
  static Value number_from_text(std::string text);
  static Value number(double d);
  static Value integer(std::int64_t i);
  static Value string(std::string s);
  static Value array(std::vector<Value> items = {});
  static Value object(std::vector<Member> members = {});

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const { return bool_; }
  // Numbers: the parsed value, the source text, and whether the text is an integer literal
  // (no fraction, no exponent). int_fits() tells whether as_int() is exact.
  double as_double() const { return number_; }
  const std::string& number_text() const { return text_; }
  bool is_integer_literal() const { return is_int_literal_; }
  bool int_fits() const { return int_fits_; }
  std::int64_t as_int() const { return int_; }
  // True when the number is mathematically an integer (1, 1.0, 1e2), whatever its spelling.
  bool is_integral() const;

  const std::string& as_string() const { return text_; }
  const std::vector<Value>& items() const { return items_; }
  std::vector<Value>& items() { return items_; }
  const std::vector<Member>& members() const { return members_; }
  std::vector<Member>& members() { return members_; }

  // Object lookup: the last member with this key, or nullptr.
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  std::size_t size() const;  // array items or object members, 0 otherwise

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  bool is_int_literal_ = false;
  bool int_fits_ = false;
  double number_ = 0.0;
  std::int64_t int_ = 0;
  std::string text_;  // string value, or a number's source text
  std::vector<Value> items_;
  std::vector<Member> members_;
};

// Parses one JSON document (surrounding whitespace allowed). Throws JsonError with the byte
// offset on malformed input, including invalid UTF-8, lone surrogates in \u escapes, and nesting
// deeper than max_depth.
Value parse(std::string_view text, std::size_t max_depth = 512);

// Like parse, but returns false (and leaves *out untouched) instead of throwing.
bool try_parse(std::string_view text, Value* out, std::size_t max_depth = 512);

// Compact serialisation (no whitespace, members in stored order, numbers as their source text,
// non-ASCII kept as UTF-8, control characters escaped).
std::string dump(const Value& value);

// Appends the UTF-8 encoding of a Unicode scalar value to `out`.
void append_utf8(std::string& out, std::uint32_t code_point);

// Appends `s` as a quoted JSON string literal to `out`.
void append_quoted(std::string& out, std::string_view s);

}  // namespace maaza::json

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

// Byte-wise three-way comparison (-1, 0, 1) in the order of std::string's operator<. Written out
// rather than calling memcmp: object keys are short, and the call costs more than the loop.
inline int key_compare(std::string_view a, std::string_view b) {
  const std::size_t n = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) {
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
    }
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

inline bool key_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && key_compare(a, b) == 0;
}

namespace detail {
class DocumentParser;
}

// A JSON document parsed into one flat array of nodes, for code that reads many short-lived
// documents (metric scoring): parsing allocates nothing once the document's buffers have grown,
// and strings and keys are views, into the source text when they hold no escape and into the
// document's own buffer otherwise. The source text must outlive the document's content (until
// the next parse or destruction). Same grammar and limits as parse() below. Nodes are not
// modified after parsing except by sort_members; a parsed document may be read from several
// threads. Movable (views stay valid), not copyable.
class Document {
 public:
  using Type = Value::Type;

  struct Node {
    Type type = Type::Null;
    bool boolean = false;      // Bool
    bool int_literal = false;  // Number: the text has no fraction and no exponent
    bool int_fits = false;     // Number: `integer` holds the value exactly
    std::uint32_t first = 0;   // Array/Object: position of the first child in the child list
    std::uint32_t count = 0;   // Array/Object: number of children
    std::string_view key;      // a member of an object: its key
    std::string_view text;     // String: the decoded value; Number: its source text
    double number = 0.0;       // Number: the parsed double
    std::int64_t integer = 0;  // Number: the integer when int_fits
    // True when the number is mathematically an integer (1, 1.0, 1e2), whatever its spelling.
    bool is_integral() const;
  };

  Document() = default;
  Document(Document&&) noexcept = default;
  Document& operator=(Document&&) noexcept = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // Replaces the content with the parse of `text`. parse returns false on malformed input (the
  // content is then unspecified); parse_or_throw throws JsonError with the byte offset.
  bool parse(std::string_view text, std::size_t max_depth = 512);
  void parse_or_throw(std::string_view text, std::size_t max_depth = 512);

  bool empty() const { return nodes_.empty(); }
  const Node& root() const { return nodes_.front(); }
  // The k-th child of an array or object node (members in document order until sort_members).
  const Node& child(const Node& container, std::size_t k) const {
    return nodes_[children_[container.first + k]];
  }

  // Sorts each object's members by key bytes and keeps only the last member of each key (the
  // member json.loads keeps). Objects then compare by merging sorted key lists.
  void sort_members();

 private:
  friend class detail::DocumentParser;
  std::vector<Node> nodes_;              // nodes_[0] is the root
  std::vector<std::uint32_t> children_;  // each container's children, contiguous
  std::vector<std::uint32_t> stack_;     // parse scratch: children of open containers
  std::vector<char> arena_;              // decoded strings that held escapes
};

// Compact serialisation of a document, as dump(Value) below.
std::string dump(const Document& doc);

// Parses one JSON document (surrounding whitespace allowed). Throws JsonError with the byte
// offset on malformed input, including invalid UTF-8, lone surrogates in \u escapes, and nesting
// deeper than max_depth.
Value parse(std::string_view text, std::size_t max_depth = 512);

// Like parse, but returns false (and leaves *out untouched) instead of throwing.
bool try_parse(std::string_view text, Value* out, std::size_t max_depth = 512);

// Compact serialisation (no whitespace, members in stored order, numbers as their source text,
// non-ASCII kept as UTF-8, control characters escaped).
std::string dump(const Value& value);

// Exact three-way comparison (-1, 0, 1) of two numbers by their source text: 0.1 and
// 0.10000000000000001 differ, 1 and 1.0 and 1e0 are equal. Non-numbers compare as 0.
int compare_numbers(const Value& a, const Value& b);

// Whether a number's source text denotes a mathematical integer (1, 1.0, 1e2; not
// 1.0000000000000001, which a double would round to 1).
bool is_integer_number(const Value& v);

// JSON Schema equality (`const`, `enum`, `uniqueItems`): numbers by exact value (1 equals 1.0),
// booleans never equal numbers, arrays item by item, objects by key set and values whatever the
// member order (the last member of a duplicated key counts).
bool equal(const Value& a, const Value& b);

// Length of the well-formed UTF-8 character at s[pos] (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), 1 for ASCII, 0 where the byte starts none.
std::size_t utf8_length(std::string_view s, std::size_t pos);

// Appends the UTF-8 encoding of a Unicode scalar value to `out`.
void append_utf8(std::string& out, std::uint32_t code_point);

// Appends `s` as a quoted JSON string literal to `out`.
void append_quoted(std::string& out, std::string_view s);

}  // namespace maaza::json

// Strict JSON parser and compact printer; see json.h.
#include "json.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <limits>

namespace maaza::json {

Value Value::boolean(bool b) {
  Value v;
  v.type_ = Type::Bool;
  v.bool_ = b;
  return v;
}

namespace {

// What a valid JSON number text denotes; shared by Value and Document.
struct NumberFields {
  double number = 0.0;
  std::int64_t integer = 0;
  bool int_literal = false;
  bool int_fits = false;
};

NumberFields read_number(std::string_view text) {
  NumberFields f;
  f.int_literal = text.find_first_of(".eE") == std::string_view::npos;
  const bool negative = !text.empty() && text[0] == '-';
  const std::size_t n_digits = text.size() - (negative ? 1 : 0);
  if (f.int_literal && n_digits > 0 && n_digits <= 15) {
    // Fast path for short integers: below 2^53, so the double is exact and equals strtod's.
    std::int64_t magnitude = 0;
    for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
      magnitude = magnitude * 10 + (text[i] - '0');
    }
    f.integer = negative ? -magnitude : magnitude;
    f.int_fits = true;
    f.number = negative && magnitude == 0 ? -0.0 : static_cast<double>(f.integer);
    return f;
  }
  if (!f.int_literal && text.find_first_of("eE") == std::string_view::npos && text.size() <= 17) {
    // Fast path for short decimals (at most 15 digits): the digits as an integer and the power
    // of ten are exact doubles, so one division is correctly rounded and equals strtod's result.
    static const double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    std::int64_t mantissa = 0;
    std::size_t n = 0, fraction = 0;
    bool after_point = false;
    for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
      if (text[i] == '.') {
        after_point = true;
        continue;
      }
      mantissa = mantissa * 10 + (text[i] - '0');
      ++n;
      fraction += after_point;
    }
    if (n <= 15) {
      double d = static_cast<double>(mantissa) / kPow10[fraction];
      f.number = negative ? -d : d;
      return f;
    }
  }
  // strtod and strtoll need a terminated string.
  const std::string terminated(text);
  f.number = std::strtod(terminated.c_str(), nullptr);
  if (f.int_literal) {
    errno = 0;
    char* end = nullptr;
    long long parsed = std::strtoll(terminated.c_str(), &end, 10);
    f.int_fits = errno == 0 && end && *end == '\0';
    f.integer = f.int_fits ? static_cast<std::int64_t>(parsed) : 0;
  }
  return f;
}

}  // namespace

Value Value::number_from_text(std::string text) {
  const NumberFields f = read_number(text);
  Value v;
  v.type_ = Type::Number;
  v.number_ = f.number;
  v.int_ = f.integer;
  v.is_int_literal_ = f.int_literal;
  v.int_fits_ = f.int_fits;
  v.text_ = std::move(text);
  return v;
}

Value Value::number(double d) {
  Value v;
  v.type_ = Type::Number;
  v.number_ = d;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  v.text_ = buf;
  if (v.text_.find_first_of(".eEn") == std::string::npos) v.text_ += ".0";
  return v;
}

Value Value::integer(std::int64_t i) {
  Value v;
  v.type_ = Type::Number;
  v.number_ = static_cast<double>(i);
  v.int_ = i;
  v.is_int_literal_ = true;
  v.int_fits_ = true;
  v.text_ = std::to_string(i);
  return v;
}

Value Value::string(std::string s) {
  Value v;
  v.type_ = Type::String;
  v.text_ = std::move(s);
  return v;
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::Array;
  v.items_ = std::move(items);
  return v;
}

Value Value::object(std::vector<Member> members) {
  Value v;
  v.type_ = Type::Object;
  v.members_ = std::move(members);
  return v;
}

bool Value::is_integral() const {
  if (type_ != Type::Number) return false;
  if (is_int_literal_) return true;
  return std::isfinite(number_) && std::floor(number_) == number_;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

std::size_t Value::size() const {
  if (type_ == Type::Array) return items_.size();
  if (type_ == Type::Object) return members_.size();
  return 0;
}

std::size_t utf8_length(std::string_view s, std::size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (pos + len > s.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if (b < (i == 1 ? lo : 0x80u) || b > (i == 1 ? hi : 0xBFu)) return 0;
  }
  return len;
}

namespace {

// Bytes copied as they are inside a string: printable ASCII other than '"' and '\\'.
struct PlainTable {
  bool v[256] = {};
  constexpr PlainTable() {
    for (int c = 0x20; c < 0x80; ++c) v[c] = c != '"' && c != '\\';
  }
  constexpr bool operator[](unsigned char c) const { return v[c]; }
};
constexpr PlainTable kPlain;

// Length of the valid UTF-8 sequence of a non-ASCII code point at s[pos]; throws JsonError.
std::size_t utf8_sequence(std::string_view s, std::size_t pos) {
  const std::size_t len = utf8_length(s, pos);
  if (len == 0) throw JsonError("invalid or truncated UTF-8", pos);
  return len;
}

unsigned hex4(std::string_view s, std::size_t& pos) {
  if (pos + 4 > s.size()) throw JsonError("truncated \\u escape", pos);
  unsigned v = 0;
  for (int i = 0; i < 4; ++i) {
    char c = s[pos++];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
    else throw JsonError("bad hex digit in \\u escape", pos);
  }
  return v;
}

// The code point of the escape whose backslash is at s[pos]; advances pos past it.
std::uint32_t read_escape(std::string_view s, std::size_t& pos) {
  ++pos;
  if (pos >= s.size()) throw JsonError("unterminated escape", pos);
  switch (s[pos++]) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'u': {
      unsigned cp = hex4(s, pos);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (s.substr(pos, 2) != "\\u") throw JsonError("lone high surrogate", pos);
        pos += 2;
        unsigned lo = hex4(s, pos);
        if (lo < 0xDC00 || lo > 0xDFFF) throw JsonError("invalid low surrogate", pos);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        throw JsonError("lone low surrogate", pos);
      }
      return cp;
    }
    default:
      --pos;
      throw JsonError("invalid escape", pos);
  }
}

// Parses the string literal whose opening quote is at s[pos] and moves pos past its closing
// quote. Returns the contents as a view into `s` when the literal holds no escape; otherwise
// decodes them into `scratch` (cleared first), returns a view of it and sets *decoded.
// Throws JsonError on malformed input.
std::string_view parse_string_literal(std::string_view s, std::size_t& pos, std::string& scratch,
                                      bool* decoded) {
  const std::size_t start = ++pos;
  while (true) {
    while (pos < s.size() && kPlain[static_cast<unsigned char>(s[pos])]) ++pos;
    if (pos >= s.size()) throw JsonError("unterminated string", pos);
    auto c = static_cast<unsigned char>(s[pos]);
    if (c == '"') {
      *decoded = false;
      return s.substr(start, pos++ - start);
    }
    if (c == '\\') break;
    if (c < 0x20) throw JsonError("control character in string", pos);
    pos += utf8_sequence(s, pos);
  }
  scratch.assign(s.data() + start, pos - start);
  while (true) {
    std::size_t run = pos;
    while (run < s.size() && kPlain[static_cast<unsigned char>(s[run])]) ++run;
    scratch.append(s.data() + pos, run - pos);
    pos = run;
    if (pos >= s.size()) throw JsonError("unterminated string", pos);
    auto c = static_cast<unsigned char>(s[pos]);
    if (c == '"') {
      ++pos;
      *decoded = true;
      return scratch;
    }
    if (c == '\\') {
      append_utf8(scratch, read_escape(s, pos));
    } else if (c < 0x20) {
      throw JsonError("control character in string", pos);
    } else {
      const std::size_t len = utf8_sequence(s, pos);
      scratch.append(s.data() + pos, len);
      pos += len;
    }
  }
}

// End of the JSON number starting at s[pos] ('-' or a digit); throws JsonError if malformed.
std::size_t scan_number(std::string_view s, std::size_t pos) {
  auto digit = [&s](std::size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  if (s[pos] == '-') ++pos;
  if (pos >= s.size()) throw JsonError("truncated number", pos);
  if (s[pos] == '0') {
    ++pos;
  } else if (digit(pos)) {
    while (digit(pos)) ++pos;
  } else {
    throw JsonError("invalid number", pos);
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    if (!digit(pos)) throw JsonError("digit expected after '.'", pos);
    while (digit(pos)) ++pos;
  }
  if (pos < s.size() && (s[pos] == 'e' || s[pos] == 'E')) {
    ++pos;
    if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
    if (!digit(pos)) throw JsonError("digit expected in exponent", pos);
    while (digit(pos)) ++pos;
  }
  return pos;
}

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth)
      : s_(text), max_depth_(max_depth), member_stack_(stacks().members), item_stack_(stacks().items) {}

  Value parse_document() {
    // Whatever an earlier parse that threw left on the stacks is dropped; large capacities are
    // released so one huge document does not pin memory.
    member_stack_.clear();
    item_stack_.clear();
    if (member_stack_.capacity() > 4096) std::vector<Member>().swap(member_stack_);
    if (item_stack_.capacity() > 4096) std::vector<Value>().swap(item_stack_);
    skip_ws();
    Value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw JsonError(what, pos_); }

  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool consume_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) == lit) {
      pos_ += lit.size();
      return true;
    }
    return false;
  }

  Value parse_value(std::size_t depth) {
    if (depth > max_depth_) fail("nesting too deep");
    if (pos_ >= s_.size()) fail("unexpected end of input");
    char c = s_[pos_];
    switch (c) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Value::string(parse_string());
      case 't':
        if (consume_literal("true")) return Value::boolean(true);
        break;
      case 'f':
        if (consume_literal("false")) return Value::boolean(false);
        break;
      case 'n':
        if (consume_literal("null")) return Value::null();
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    }
    fail("unexpected character");
  }

  // Members and items are collected on stacks shared by all nesting levels of one parse, then
  // moved into a vector of exact size: one allocation per container instead of one per growth.
  Value parse_object(std::size_t depth) {
    ++pos_;  // {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Value::object();
    }
    const std::size_t base = member_stack_.size();
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
      ++pos_;
      skip_ws();
      Value v = parse_value(depth + 1);
      member_stack_.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (pos_ >= s_.size()) fail("unexpected end of input in object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        std::vector<Member> members(std::make_move_iterator(member_stack_.begin() + base),
                                    std::make_move_iterator(member_stack_.end()));
        member_stack_.resize(base);
        return Value::object(std::move(members));
      }
      fail("expected ',' or '}'");
    }
  }

  Value parse_array(std::size_t depth) {
    ++pos_;  // [
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Value::array();
    }
    const std::size_t base = item_stack_.size();
    while (true) {
      skip_ws();
      item_stack_.push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ >= s_.size()) fail("unexpected end of input in array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        std::vector<Value> items(std::make_move_iterator(item_stack_.begin() + base),
                                 std::make_move_iterator(item_stack_.end()));
        item_stack_.resize(base);
        return Value::array(std::move(items));
      }
      fail("expected ',' or ']'");
    }
  }

  std::string parse_string() {
    bool decoded = false;
    return std::string(parse_string_literal(s_, pos_, scratch_, &decoded));
  }

  Value parse_number() {
    const std::size_t start = pos_;
    pos_ = scan_number(s_, pos_);
    return Value::number_from_text(std::string(s_.substr(start, pos_ - start)));
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t max_depth_;
  std::string scratch_;  // strings with escapes are decoded here
  // Per-thread scratch stacks, reused across parses so their capacity is allocated once.
  struct Stacks {
    std::vector<Member> members;
    std::vector<Value> items;
  };
  static Stacks& stacks() {
    static thread_local Stacks s;
    return s;
  }
  std::vector<Member>& member_stack_;
  std::vector<Value>& item_stack_;
};

void dump_into(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::Type::Null: out += "null"; break;
    case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Value::Type::Number: out += v.number_text(); break;
    case Value::Type::String: append_quoted(out, v.as_string()); break;
    case Value::Type::Array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.items()) {
        if (!first) out += ',';
        first = false;
        dump_into(out, item);
      }
      out += ']';
      break;
    }
    case Value::Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.members()) {
        if (!first) out += ',';
        first = false;
        append_quoted(out, key);
        out += ':';
        dump_into(out, value);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace

Value parse(std::string_view text, std::size_t max_depth) {
  return Parser(text, max_depth).parse_document();
}

bool try_parse(std::string_view text, Value* out, std::size_t max_depth) {
  try {
    *out = parse(text, max_depth);
    return true;
  } catch (const JsonError&) {
    return false;
  }
}

namespace {

// A number as 0.D x 10^exp with D free of leading and trailing zeros (D empty for zero).
struct Decimal {
  bool neg = false;
  std::string digits;
  long long exp = 0;
};

Decimal decimal_of(const std::string& text) {
  Decimal d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.neg = true;
    ++i;
  }
  long long point = -1;
  std::string all;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      point = static_cast<long long>(all.size());
    } else {
      all += text[i];
    }
  }
  if (point < 0) point = static_cast<long long>(all.size());
  long long e = 0;
  if (i < text.size()) {
    ++i;
    bool eneg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) eneg = text[i++] == '-';
    for (; i < text.size(); ++i) {
      if (e < 1000000000000LL) e = e * 10 + (text[i] - '0');  // saturates far beyond any use
    }
    if (eneg) e = -e;
  }
  std::size_t lead = all.find_first_not_of('0');
  if (lead == std::string::npos) return Decimal{};  // zero, whatever its sign
  std::size_t trail = all.find_last_not_of('0');
  d.digits = all.substr(lead, trail - lead + 1);
  d.exp = point - static_cast<long long>(lead) + e;
  return d;
}

int compare_decimals(const Decimal& a, const Decimal& b) {
  bool az = a.digits.empty(), bz = b.digits.empty();
  if (az || bz) {
    if (az && bz) return 0;
    if (az) return b.neg ? 1 : -1;
    return a.neg ? -1 : 1;
  }
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  int c = 0;
  if (a.exp != b.exp) {
    c = a.exp < b.exp ? -1 : 1;
  } else {
    int k = a.digits.compare(b.digits);  // same magnitude: digit strings compare as fractions
    c = k < 0 ? -1 : (k > 0 ? 1 : 0);
  }
  return a.neg ? -c : c;
}

}  // namespace

int compare_numbers(const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) return 0;
  if (a.number_text() == b.number_text()) return 0;
  return compare_decimals(decimal_of(a.number_text()), decimal_of(b.number_text()));
}

bool is_integer_number(const Value& v) {
  if (!v.is_number()) return false;
  if (v.is_integer_literal()) return true;
  Decimal d = decimal_of(v.number_text());
  return d.digits.empty() || d.exp >= static_cast<long long>(d.digits.size());
}

bool equal(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::Null: return true;
    case Value::Type::Bool: return a.as_bool() == b.as_bool();
    case Value::Type::Number: return compare_numbers(a, b) == 0;
    case Value::Type::String: return a.as_string() == b.as_string();
    case Value::Type::Array: {
      if (a.items().size() != b.items().size()) return false;
      for (std::size_t i = 0; i < a.items().size(); ++i) {
        if (!equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Value::Type::Object: {
      // Distinct keys on each side (find() returns the member json.loads keeps).
      auto distinct = [](const Value& o) {
        std::size_t n = 0;
        for (std::size_t i = 0; i < o.members().size(); ++i) {
          bool later = false;
          for (std::size_t j = i + 1; j < o.members().size() && !later; ++j) {
            later = o.members()[j].first == o.members()[i].first;
          }
          n += !later;
        }
        return n;
      };
      if (distinct(a) != distinct(b)) return false;
      for (const auto& m : a.members()) {
        const Value* other = b.find(m.first);
        if (other == nullptr || !equal(*a.find(m.first), *other)) return false;
      }
      return true;
    }
  }
  return false;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_quoted(std::string& out, std::string_view s) {
  static const char* const kHex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string dump(const Value& value) {
  std::string out;
  dump_into(out, value);
  return out;
}

// ---- Document ----------------------------------------------------------------------------------

namespace detail {

// The parser of Document: the grammar and the errors of Parser, building flat nodes.
class DocumentParser {
 public:
  DocumentParser(Document& doc, std::string_view text, std::size_t max_depth)
      : d_(doc), s_(text), max_depth_(max_depth) {}

  void parse_document() {
    d_.nodes_.clear();
    d_.children_.clear();
    d_.stack_.clear();
    d_.arena_.clear();
    // Decoding never lengthens a string, so the arena cannot outgrow the text: reserving that
    // much up front keeps every view into it valid.
    d_.arena_.reserve(s_.size());
    skip_ws();
    parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
  }

 private:
  using Node = Document::Node;
  using Type = Document::Type;

  [[noreturn]] void fail(const char* what) const { throw JsonError(what, pos_); }

  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  std::uint32_t add(Type type) {
    d_.nodes_.emplace_back();
    d_.nodes_.back().type = type;
    return static_cast<std::uint32_t>(d_.nodes_.size() - 1);
  }

  std::uint32_t literal(std::string_view lit, Type type, bool value) {
    if (s_.substr(pos_, lit.size()) != lit) fail("unexpected character");
    pos_ += lit.size();
    std::uint32_t i = add(type);
    d_.nodes_[i].boolean = value;
    return i;
  }

  std::string_view string() {
    bool decoded = false;
    std::string_view v = parse_string_literal(s_, pos_, scratch_, &decoded);
    if (!decoded) return v;
    const std::size_t at = d_.arena_.size();
    d_.arena_.insert(d_.arena_.end(), v.begin(), v.end());
    return std::string_view(d_.arena_.data() + at, v.size());
  }

  std::uint32_t parse_value(std::size_t depth) {
    if (depth > max_depth_) fail("nesting too deep");
    if (pos_ >= s_.size()) fail("unexpected end of input");
    const char c = s_[pos_];
    switch (c) {
      case '{': return parse_container(depth, Type::Object, '}');
      case '[': return parse_container(depth, Type::Array, ']');
      case '"': {
        std::string_view text = string();
        std::uint32_t i = add(Type::String);
        d_.nodes_[i].text = text;
        return i;
      }
      case 't': return literal("true", Type::Bool, true);
      case 'f': return literal("false", Type::Bool, false);
      case 'n': return literal("null", Type::Null, false);
      default: break;
    }
    if (c != '-' && (c < '0' || c > '9')) fail("unexpected character");
    const std::size_t start = pos_;
    pos_ = scan_number(s_, pos_);
    const std::string_view text = s_.substr(start, pos_ - start);
    const NumberFields f = read_number(text);
    std::uint32_t i = add(Type::Number);
    Node& n = d_.nodes_[i];
    n.text = text;
    n.number = f.number;
    n.integer = f.integer;
    n.int_literal = f.int_literal;
    n.int_fits = f.int_fits;
    return i;
  }

  // Children are collected on a stack shared by all nesting levels and copied into the child
  // list when the container closes, so each container's children are contiguous.
  std::uint32_t parse_container(std::size_t depth, Type type, char close) {
    const bool object = type == Type::Object;
    const std::uint32_t index = add(type);
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == close) {
      ++pos_;
      return index;
    }
    const std::size_t base = d_.stack_.size();
    while (true) {
      skip_ws();
      std::string_view key;
      if (object) {
        if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key");
        key = string();
        skip_ws();
        if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
        ++pos_;
        skip_ws();
      }
      const std::uint32_t child = parse_value(depth + 1);
      d_.nodes_[child].key = key;
      d_.stack_.push_back(child);
      skip_ws();
      if (pos_ >= s_.size()) {
        fail(object ? "unexpected end of input in object" : "unexpected end of input in array");
      }
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == close) {
        ++pos_;
        Node& n = d_.nodes_[index];
        n.first = static_cast<std::uint32_t>(d_.children_.size());
        n.count = static_cast<std::uint32_t>(d_.stack_.size() - base);
        const auto open = d_.stack_.begin() + static_cast<std::ptrdiff_t>(base);
        d_.children_.insert(d_.children_.end(), open, d_.stack_.end());
        d_.stack_.resize(base);
        return index;
      }
      fail(object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  Document& d_;
  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t max_depth_;
  std::string scratch_;
};

}  // namespace detail

bool Document::Node::is_integral() const {
  if (type != Type::Number) return false;
  if (int_literal) return true;
  return std::isfinite(number) && std::floor(number) == number;
}

void Document::parse_or_throw(std::string_view text, std::size_t max_depth) {
  detail::DocumentParser(*this, text, max_depth).parse_document();
}

bool Document::parse(std::string_view text, std::size_t max_depth) {
  try {
    parse_or_throw(text, max_depth);
    return true;
  } catch (const JsonError&) {
    nodes_.clear();
    return false;
  }
}

void Document::sort_members() {
  auto less = [this](std::uint32_t a, std::uint32_t b) {
    return key_compare(nodes_[a].key, nodes_[b].key) < 0;
  };
  for (Node& n : nodes_) {
    if (n.type != Type::Object || n.count < 2) continue;
    std::uint32_t* c = children_.data() + n.first;
    const std::size_t count = n.count;
    bool sorted_unique = true;
    for (std::size_t i = 1; i < count && sorted_unique; ++i) sorted_unique = less(c[i - 1], c[i]);
    if (sorted_unique) continue;
    // Stable, so the last of equal keys stays last; small objects (the usual case) use an
    // insertion sort, which never allocates.
    if (count <= 32) {
      for (std::size_t i = 1; i < count; ++i) {
        const std::uint32_t x = c[i];
        std::size_t j = i;
        for (; j > 0 && less(x, c[j - 1]); --j) c[j] = c[j - 1];
        c[j] = x;
      }
    } else {
      std::stable_sort(c, c + count, less);
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (i + 1 < count && key_equal(nodes_[c[i + 1]].key, nodes_[c[i]].key)) continue;
      c[out++] = c[i];
    }
    n.count = static_cast<std::uint32_t>(out);
  }
}

namespace {

void dump_into(std::string& out, const Document& doc, const Document::Node& n) {
  switch (n.type) {
    case Value::Type::Null: out += "null"; break;
    case Value::Type::Bool: out += n.boolean ? "true" : "false"; break;
    case Value::Type::Number: out += n.text; break;
    case Value::Type::String: append_quoted(out, n.text); break;
    case Value::Type::Array:
    case Value::Type::Object: {
      const bool object = n.type == Value::Type::Object;
      out += object ? '{' : '[';
      for (std::size_t k = 0; k < n.count; ++k) {
        if (k) out += ',';
        const Document::Node& c = doc.child(n, k);
        if (object) {
          append_quoted(out, c.key);
          out += ':';
        }
        dump_into(out, doc, c);
      }
      out += object ? '}' : ']';
      break;
    }
  }
}

}  // namespace

std::string dump(const Document& doc) {
  std::string out;
  if (!doc.empty()) dump_into(out, doc, doc.root());
  return out;
}

}  // namespace maaza::json

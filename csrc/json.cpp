// Strict JSON parser and compact printer; see json.h.
#include "json.h"

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

Value Value::number_from_text(std::string text) {
  Value v;
  v.type_ = Type::Number;
  v.is_int_literal_ = text.find_first_of(".eE") == std::string::npos;
  const bool negative = !text.empty() && text[0] == '-';
  const std::size_t n_digits = text.size() - (negative ? 1 : 0);
  if (v.is_int_literal_ && n_digits > 0 && n_digits <= 15) {
    // Fast path for short integers: below 2^53, so the double is exact and equals strtod's.
    std::int64_t magnitude = 0;
    for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
      magnitude = magnitude * 10 + (text[i] - '0');
    }
    v.int_ = negative ? -magnitude : magnitude;
    v.int_fits_ = true;
    v.number_ = negative && magnitude == 0 ? -0.0 : static_cast<double>(v.int_);
    v.text_ = std::move(text);
    return v;
  }
  if (!v.is_int_literal_ && text.find_first_of("eE") == std::string::npos && text.size() <= 17) {
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
      v.number_ = negative ? -d : d;
      v.text_ = std::move(text);
      return v;
    }
  }
  v.number_ = std::strtod(text.c_str(), nullptr);
  if (v.is_int_literal_) {
    errno = 0;
    char* end = nullptr;
    long long parsed = std::strtoll(text.c_str(), &end, 10);
    v.int_fits_ = errno == 0 && end && *end == '\0';
    v.int_ = v.int_fits_ ? static_cast<std::int64_t>(parsed) : 0;
  }
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

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  // Validates one UTF-8 sequence starting at pos_ and copies it to out.
  void copy_utf8(std::string& out) {
    auto b0 = static_cast<unsigned char>(s_[pos_]);
    std::size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2;
    else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      fail("invalid UTF-8");
    }
    if (pos_ + len > s_.size()) fail("truncated UTF-8");
    for (std::size_t i = 1; i < len; ++i) {
      auto b = static_cast<unsigned char>(s_[pos_ + i]);
      unsigned l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
      if (b < l || b > h) fail("invalid UTF-8");
    }
    out.append(s_.substr(pos_, len));
    pos_ += len;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    // Fast path: a plain ASCII string without escapes is built in one allocation.
    std::size_t end = pos_;
    while (end < s_.size() && kPlain[static_cast<unsigned char>(s_[end])]) ++end;
    if (end < s_.size() && s_[end] == '"') {
      std::string plain(s_.substr(pos_, end - pos_));
      pos_ = end + 1;
      return plain;
    }
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c != '\\' && c < 0x80) {
        // Plain ASCII runs are copied in one append.
        std::size_t end = pos_ + 1;
        while (end < s_.size()) {
          auto d = static_cast<unsigned char>(s_[end]);
          if (d == '"' || d == '\\' || d < 0x20 || d >= 0x80) break;
          ++end;
        }
        out.append(s_.data() + pos_, end - pos_);
        pos_ = end;
        continue;
      }
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) fail("unterminated escape");
        char e = s_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (!consume_literal("\\u")) fail("lone high surrogate");
              unsigned lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("lone low surrogate");
            }
            append_utf8(out, cp);
            break;
          }
          default:
            --pos_;
            fail("invalid escape");
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        copy_utf8(out);
      }
    }
  }

  Value parse_number() {
    std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) fail("truncated number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    } else {
      fail("invalid number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("digit expected after '.'");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') fail("digit expected in exponent");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    return Value::number_from_text(std::string(s_.substr(start, pos_ - start)));
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t max_depth_;
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

}  // namespace maaza::json

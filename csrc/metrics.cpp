// EdgeJSON metric scoring and JSON Schema validation; see metrics.h for the definitions.
#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <regex>
#include <string>
#include <unordered_map>
#include <utility>

#include "errors.h"

namespace maaza::metrics {

using json::Document;
using json::Value;
using Node = json::Document::Node;
using Type = json::Value::Type;

// ---- normalisation and equality ----------------------------------------------------------------

namespace {

using json::key_compare;
using json::key_equal;

inline bool key_less(std::string_view a, std::string_view b) { return key_compare(a, b) < 0; }

}  // namespace

namespace {

// normalize() that also returns the number of (path, leaf) pairs of the value (see leaf_f1).
std::size_t normalize_counting(Value& value) {
  if (value.is_array()) {
    if (value.items().empty()) return 1;
    std::size_t n = 0;
    for (auto& item : value.items()) n += normalize_counting(item);
    return n;
  }
  if (!value.is_object()) return 1;
  auto& members = value.members();
  if (members.empty()) return 1;
  bool sorted_unique = true;
  for (std::size_t i = 1; i < members.size() && sorted_unique; ++i) {
    sorted_unique = key_less(members[i - 1].first, members[i].first);
  }
  if (!sorted_unique) {
    // A stable sort keeps duplicates in document order, so the last of each run is the one
    // json.loads keeps. Small objects (the usual case) use an insertion sort, which never
    // allocates; large ones sort a permutation and move each member once.
    if (members.size() <= 64) {
      std::uint8_t order[64];
      const std::size_t n = members.size();
      for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint8_t>(i);
      for (std::size_t i = 1; i < n; ++i) {
        for (std::size_t j = i;
             j > 0 && key_less(members[order[j]].first, members[order[j - 1]].first); --j) {
          std::swap(order[j], order[j - 1]);
        }
      }
      // Apply the permutation in place, one cycle at a time: each member moves once.
      bool done[64] = {};
      for (std::size_t i = 0; i < n; ++i) {
        if (done[i] || order[i] == i) continue;
        json::Member held = std::move(members[i]);
        std::size_t j = i;
        while (true) {
          done[j] = true;
          std::size_t k = order[j];
          if (k == i) {
            members[j] = std::move(held);
            break;
          }
          members[j] = std::move(members[k]);
          j = k;
        }
      }
    } else {
      std::vector<std::size_t> order(members.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&members](std::size_t a, std::size_t b) {
        return key_less(members[a].first, members[b].first);
      });
      std::vector<json::Member> sorted;
      sorted.reserve(members.size());
      for (std::size_t i : order) sorted.push_back(std::move(members[i]));
      members = std::move(sorted);
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;
      if (out != i) members[out] = std::move(members[i]);
      ++out;
    }
    members.resize(out);
  }
  std::size_t n = 0;
  for (auto& member : members) n += normalize_counting(member.second);
  return n;
}

}  // namespace

void normalize(Value& value) { normalize_counting(value); }

namespace {

// A JSON number from a document node or a schema value, as the comparisons need it.
struct Num {
  double number = 0.0;
  std::int64_t integer = 0;
  bool int_literal = false;
  bool int_fits = false;
  std::string_view text;
};

Num num(const Node& n) { return {n.number, n.integer, n.int_literal, n.int_fits, n.text}; }
Num num(const Value& v) {
  return {v.as_double(), v.as_int(), v.is_integer_literal(), v.int_fits(), v.number_text()};
}

// An exact integer: sign and decimal magnitude without leading zeros ("0" for zero).
struct BigInt {
  bool negative = false;
  std::string magnitude;
};

BigInt big_from_text(std::string_view text) {
  BigInt b;
  std::size_t i = 0;
  if (!text.empty() && text[0] == '-') {
    b.negative = true;
    i = 1;
  }
  while (i + 1 < text.size() && text[i] == '0') ++i;
  b.magnitude = std::string(text.substr(i));
  if (b.magnitude == "0") b.negative = false;
  return b;
}

// `value` must be finite and integral.
BigInt big_from_double(double value) {
  BigInt b;
  b.negative = value < 0;
  double mag = std::fabs(value);
  if (mag < 18446744073709551616.0) {
    b.magnitude = std::to_string(static_cast<unsigned long long>(mag));
  } else {
    int exponent = 0;
    double fraction = std::frexp(mag, &exponent);  // mag = fraction * 2^exponent
    auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
    int shift = exponent - 53;  // >= 11 here
    // Little-endian base-1e9 limbs, doubled `shift` times.
    std::vector<std::uint32_t> limbs;
    while (mantissa) {
      limbs.push_back(static_cast<std::uint32_t>(mantissa % 1000000000u));
      mantissa /= 1000000000u;
    }
    for (int s = 0; s < shift; ++s) {
      std::uint32_t carry = 0;
      for (auto& limb : limbs) {
        std::uint64_t v = static_cast<std::uint64_t>(limb) * 2 + carry;
        limb = static_cast<std::uint32_t>(v % 1000000000u);
        carry = static_cast<std::uint32_t>(v / 1000000000u);
      }
      if (carry) limbs.push_back(carry);
    }
    b.magnitude = std::to_string(limbs.back());
    for (std::size_t i = limbs.size() - 1; i-- > 0;) {
      std::string part = std::to_string(limbs[i]);
      b.magnitude.append(9 - part.size(), '0');
      b.magnitude += part;
    }
  }
  if (b.magnitude == "0") b.negative = false;
  return b;
}

int compare_big(const BigInt& a, const BigInt& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int mag;
  if (a.magnitude.size() != b.magnitude.size()) {
    mag = a.magnitude.size() < b.magnitude.size() ? -1 : 1;
  } else {
    int c = a.magnitude.compare(b.magnitude);
    mag = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return a.negative ? -mag : mag;
}

// Python's comparison of an int (integer literal `n`) with a float `f` (never NaN here).
int compare_int_float(const Num& n, double f) {
  if (std::isinf(f)) return f > 0 ? -1 : 1;
  double floor_f = std::floor(f);
  int c;
  if (n.int_fits && std::fabs(floor_f) < 9.0e18) {
    auto fi = static_cast<std::int64_t>(floor_f);
    c = n.integer < fi ? -1 : (n.integer > fi ? 1 : 0);
  } else {
    c = compare_big(big_from_text(n.text), big_from_double(floor_f));
  }
  if (c != 0) return c;
  return f > floor_f ? -1 : 0;
}

int compare_doubles(double a, double b) { return a < b ? -1 : (a > b ? 1 : 0); }

// Exact comparison (-1, 0, 1) with Python's int/float semantics: integer literals are unbounded
// integers, other numbers are IEEE doubles (1e400 is +inf).
int compare_numbers(const Num& a, const Num& b) {
  if (!a.int_literal && !b.int_literal) return compare_doubles(a.number, b.number);
  if (a.int_literal && b.int_literal) {
    if (a.int_fits && b.int_fits) {
      return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
    }
    return compare_big(big_from_text(a.text), big_from_text(b.text));
  }
  if (a.int_literal) return compare_int_float(a, b.number);
  return -compare_int_float(b, a.number);
}

bool numbers_equal(const Node& a, const Node& b) {
  if (a.int_literal && b.int_literal && a.int_fits && b.int_fits) return a.integer == b.integer;
  if (!a.int_literal && !b.int_literal) return a.number == b.number;
  return compare_numbers(num(a), num(b)) == 0;
}

// Equality of two nodes of documents whose members are sorted.
bool equal(const Document& da, const Node& a, const Document& db, const Node& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case Type::Null: return true;
    case Type::Bool: return a.boolean == b.boolean;
    case Type::Number: return numbers_equal(a, b);
    case Type::String: return a.text == b.text;
    case Type::Array:
    case Type::Object: {
      if (a.count != b.count) return false;
      const bool object = a.type == Type::Object;
      for (std::size_t k = 0; k < a.count; ++k) {
        const Node& x = da.child(a, k);
        const Node& y = db.child(b, k);
        if (object && !key_equal(x.key, y.key)) return false;
        if (!equal(da, x, db, y)) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

bool json_equal(const Document& a, const Document& b) {
  return equal(a, a.root(), b, b.root());
}

// ---- the paper's metrics -----------------------------------------------------------------------

namespace {

double f1_from_counts(std::size_t tp, std::size_t n_pred, std::size_t n_expected) {
  if (tp == 0) return 0.0;
  double precision = static_cast<double>(tp) / static_cast<double>(n_pred);
  double recall = static_cast<double>(tp) / static_cast<double>(n_expected);
  return 2.0 * (precision * recall) / (precision + recall);
}

bool is_container(const Node& v) { return v.type == Type::Array || v.type == Type::Object; }
bool is_leaf(const Node& v) { return !is_container(v) || v.count == 0; }

std::size_t count_leaves(const Document& d, const Node& v) {
  if (is_leaf(v)) return 1;
  std::size_t n = 0;
  for (std::size_t k = 0; k < v.count; ++k) n += count_leaves(d, d.child(v, k));
  return n;
}

// Number of (path, leaf) pairs shared by a and b, both located at the same path.
std::size_t common_leaves(const Document& da, const Node& a, const Document& db, const Node& b) {
  const bool a_leaf = is_leaf(a);
  const bool b_leaf = is_leaf(b);
  if (a_leaf || b_leaf) return a_leaf && b_leaf && equal(da, a, db, b) ? 1 : 0;
  if (a.type != b.type) return 0;
  std::size_t n = 0;
  if (a.type == Type::Array) {
    const std::size_t m = std::min(a.count, b.count);
    for (std::size_t i = 0; i < m; ++i) n += common_leaves(da, da.child(a, i), db, db.child(b, i));
    return n;
  }
  std::size_t i = 0, j = 0;
  while (i < a.count && j < b.count) {
    const Node& x = da.child(a, i);
    const Node& y = db.child(b, j);
    int c = key_compare(x.key, y.key);
    if (c < 0) {
      ++i;
    } else if (c > 0) {
      ++j;
    } else {
      n += common_leaves(da, x, db, y);
      ++i;
      ++j;
    }
  }
  return n;
}

double field_f1_nodes(const Document& dp, const Node& p, const Document& de, const Node& e) {
  if (e.type != Type::Object) return equal(dp, p, de, e) ? 1.0 : 0.0;
  if (p.type != Type::Object) return 0.0;
  if (p.count == 0 && e.count == 0) return 1.0;
  if (p.count == 0 || e.count == 0) return 0.0;
  std::size_t tp = 0, i = 0, j = 0;
  while (i < p.count && j < e.count) {
    const Node& x = dp.child(p, i);
    const Node& y = de.child(e, j);
    int c = key_compare(x.key, y.key);
    if (c < 0) {
      ++i;
    } else if (c > 0) {
      ++j;
    } else {
      if (equal(dp, x, de, y)) ++tp;
      ++i;
      ++j;
    }
  }
  return f1_from_counts(tp, p.count, e.count);
}

bool compliance_nodes(const Document& dp, const Node& p, const Document& de, const Node& e) {
  if (e.type != Type::Object) return p.type == e.type;
  if (p.type != Type::Object || p.count == 0) return false;
  std::size_t i = 0;
  for (std::size_t k = 0; k < e.count; ++k) {
    const Node& want = de.child(e, k);
    while (i < p.count && key_less(dp.child(p, i).key, want.key)) ++i;
    if (i == p.count) return false;
    const Node& got = dp.child(p, i);
    if (!key_equal(got.key, want.key) || got.type != want.type) return false;
  }
  return true;
}

}  // namespace

double field_f1(const Document& prediction, const Document& expected) {
  return field_f1_nodes(prediction, prediction.root(), expected, expected.root());
}

bool compliance(const Document& prediction, const Document& expected) {
  return compliance_nodes(prediction, prediction.root(), expected, expected.root());
}

double leaf_f1(const Document& prediction, const Document& expected) {
  const Node& p = prediction.root();
  const Node& e = expected.root();
  return f1_from_counts(common_leaves(prediction, p, expected, e), count_leaves(prediction, p),
                        count_leaves(expected, e));
}

// ---- extraction fallback -----------------------------------------------------------------------

namespace {

bool can_be_json(std::string_view text);

// Decodes the UTF-8 sequence at s[i]; returns its length, or 0 if invalid.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t* cp) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  std::size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  char32_t v = b0 & (0x7F >> len);
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b & 0x3F);
  }
  *cp = v;
  return len;
}

bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string_view python_strip(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(s, begin, &cp);
    if (len == 0 || !is_python_space(cp)) break;
    begin += len;
  }
  std::size_t end = s.size();
  while (end > begin) {
    // Step back to the start of the previous code point.
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    char32_t cp = 0;
    std::size_t len = decode_utf8(s, start, &cp);
    if (len == 0 || start + len != end || !is_python_space(cp)) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

std::size_t skip_non_braces(std::string_view s, std::size_t k) {
  while (k < s.size() && s[k] != '{' && s[k] != '}') ++k;
  return k;
}

// End (exclusive) of the paper's pattern matched at s[i] == '{', or npos.
std::size_t match_braces(std::string_view s, std::size_t i) {
  std::size_t k = skip_non_braces(s, i + 1);
  while (k < s.size()) {
    if (s[k] == '}') return k + 1;
    k = skip_non_braces(s, k + 1);  // an inner '{'
    if (k >= s.size() || s[k] != '}') return std::string_view::npos;
    k = skip_non_braces(s, k + 1);
  }
  return std::string_view::npos;
}

}  // namespace

bool extract_json(std::string_view text, Document* out) {
  const std::string_view stripped = python_strip(text);
  if (can_be_json(stripped) && out->parse(stripped)) return true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find('{', pos);
    if (open == std::string_view::npos) return false;
    std::size_t end = match_braces(text, open);
    if (end == std::string_view::npos) {
      pos = open + 1;
      continue;
    }
    if (out->parse(text.substr(open, end - open))) return true;
    pos = end;
  }
  return false;
}

// ---- formats -----------------------------------------------------------------------------------

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Parses exactly n digits at s[i]; returns -1 if not digits.
int digits(std::string_view s, std::size_t i, std::size_t n) {
  if (i + n > s.size()) return -1;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    if (!is_digit(s[i + k])) return -1;
    v = v * 10 + (s[i + k] - '0');
  }
  return v;
}

bool check_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
  if (y < 0 || m < 1 || m > 12 || d < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int max_day = kDays[m - 1];
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) max_day = 29;
  return d <= max_day;
}

bool check_time(std::string_view s) {
  if (s.size() < 8 || s[2] != ':' || s[5] != ':') return false;
  int h = digits(s, 0, 2), m = digits(s, 3, 2), sec = digits(s, 6, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59) return false;
  std::size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return true;
  if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == s.size()) return true;
  if (s[i] != '+' && s[i] != '-') return false;
  if (s.size() - i != 6 || s[i + 3] != ':') return false;
  int oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
  return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

bool check_date_time(std::string_view s) {
  if (s.size() < 11 || (s[10] != 'T' && s[10] != 't')) return false;
  return check_date(s.substr(0, 10)) && check_time(s.substr(11));
}

bool check_email(std::string_view s) {
  std::size_t at = s.find('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.empty() || local.size() > 64) return false;
  static const std::string_view kLocalExtra = "!#$%&'*+/=?^_`{|}~.-";
  for (char c : local) {
    if (!is_alpha(c) && !is_digit(c) && kLocalExtra.find(c) == std::string_view::npos) return false;
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0, start = 0;
  while (true) {
    std::size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

bool check_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool check_ipv4(std::string_view s) {
  std::size_t parts = 0, i = 0;
  while (true) {
    std::size_t start = i;
    int v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) v = v * 10 + (s[i++] - '0');
    std::size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && s[start] == '0')) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

bool check_uri(std::string_view s) {
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(s[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '.' && c != '-') return false;
  }
  if (colon + 1 == s.size()) return false;
  static const std::string_view kExcluded = "\"<>\\^`{|}";
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x21 || c > 0x7E || kExcluded.find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
    if (c == '%' && !(i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2]))) return false;
  }
  return true;
}

enum class Format : std::uint8_t { None, Date, Time, DateTime, Email, Uuid, Ipv4, Uri };

Format format_from_name(std::string_view name) {
  if (name == "date") return Format::Date;
  if (name == "time") return Format::Time;
  if (name == "date-time") return Format::DateTime;
  if (name == "email") return Format::Email;
  if (name == "uuid") return Format::Uuid;
  if (name == "ipv4") return Format::Ipv4;
  if (name == "uri") return Format::Uri;
  return Format::None;
}

bool check(Format format, std::string_view s) {
  switch (format) {
    case Format::None: return true;
    case Format::Date: return check_date(s);
    case Format::Time: return check_time(s);
    case Format::DateTime: return check_date_time(s);
    case Format::Email: return check_email(s);
    case Format::Uuid: return check_uuid(s);
    case Format::Ipv4: return check_ipv4(s);
    case Format::Uri: return check_uri(s);
  }
  return true;
}

}  // namespace

bool check_format(std::string_view format, std::string_view value) {
  return check(format_from_name(format), value);
}

// ---- schema validation -------------------------------------------------------------------------

namespace {

constexpr std::size_t kMaxValidationDepth = 2000;
constexpr std::size_t kMaxPatternInput = 10000;

enum TypeBit : std::uint8_t {
  kNull = 1,
  kBoolean = 2,
  kInteger = 4,
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
};

std::wstring to_wide(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(s, i, &cp);
    if (len == 0) {
      cp = 0xFFFD;
      len = 1;
    }
    out.push_back(static_cast<wchar_t>(cp));
    i += len;
  }
  return out;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

struct SchemaNode {
  bool always_true = false;
  bool always_false = false;
  int ref = -1;
  bool ref_only = false;
  std::uint8_t types = 0;  // 0: any
  std::vector<std::pair<std::string, int>> properties;  // sorted by key
  std::vector<std::pair<std::shared_ptr<std::wregex>, int>> pattern_properties;
  int additional_properties = -1;
  std::vector<std::string> required;
  int items = -1;                 // applies to items past the prefix
  std::vector<int> prefix_items;  // tuple items
  double min_items = -1, max_items = -1, min_length = -1, max_length = -1;
  double min_properties = -1, max_properties = -1;
  bool unique_items = false;
  bool has_enum = false;
  std::vector<const Document*> enum_values;
  const Document* const_value = nullptr;
  std::vector<int> all_of, any_of, one_of;
  int not_ = -1;
  std::shared_ptr<std::wregex> pattern;
  Format format = Format::None;
  const Value* minimum = nullptr;
  const Value* maximum = nullptr;
  const Value* exclusive_minimum = nullptr;
  const Value* exclusive_maximum = nullptr;
  bool minimum_exclusive = false;  // draft-04 boolean form
  bool maximum_exclusive = false;
  const Value* multiple_of = nullptr;
};

std::string escape_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

struct SchemaValidator::Impl {
  std::unique_ptr<Value> doc;
  // enum and const values as documents, to compare with instances; each in its own allocation
  // so that the views into its text stay put.
  struct Constant {
    std::string text;
    Document doc;
  };
  std::vector<std::unique_ptr<Constant>> constants;

  const Document* constant(const Value& v) {
    auto c = std::make_unique<Constant>();
    c->text = json::dump(v);
    c->doc.parse_or_throw(c->text);
    c->doc.sort_members();
    constants.push_back(std::move(c));
    return &constants.back()->doc;
  }
  bool legacy = false;  // draft-04/06/07: $ref siblings ignored, items arrays are tuples
  bool prefix_items = true;  // 2020-12 (and no $schema): prefixItems is a keyword; before, unknown
  bool draft4 = false;  // exclusiveMinimum/Maximum are booleans
  std::vector<SchemaNode> nodes;
  std::unordered_map<std::string, int> by_pointer;

  [[noreturn]] static void fail(const std::string& keyword, const std::string& pointer,
                                const std::string& message) {
    throw SchemaError(keyword, pointer, message);
  }

  static double count_value(const Value& v, const char* keyword, const std::string& ptr) {
    if (!v.is_number()) fail(keyword, ptr, "expected a number");
    return v.as_double();
  }

  // ECMA-262's control escapes (`\cA` is U+0001) as hexadecimal escapes: libstdc++'s
  // ECMAScript grammar accepts `\cX` but matches neither the control character nor "cX".
  static std::string control_escapes_as_hex(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] != '\\' || i + 1 >= pattern.size()) {
        out += pattern[i];
        continue;
      }
      const char next = pattern[i + 1];
      const bool letter = i + 2 < pattern.size() &&
                          ((pattern[i + 2] >= 'a' && pattern[i + 2] <= 'z') ||
                           (pattern[i + 2] >= 'A' && pattern[i + 2] <= 'Z'));
      if (next == 'c' && letter) {
        static const char kHex[] = "0123456789ABCDEF";
        const int code = pattern[i + 2] % 32;
        out += "\\x";
        out += kHex[code / 16];
        out += kHex[code % 16];
        i += 2;
      } else {
        out += pattern[i];
        out += next;
        ++i;
      }
    }
    return out;
  }

  std::shared_ptr<std::wregex> compile_regex(const Value& v, const char* keyword,
                                             const std::string& ptr) {
    if (!v.is_string()) fail(keyword, ptr, "expected a string");
    try {
      return std::make_shared<std::wregex>(to_wide(control_escapes_as_hex(v.as_string())),
                                           std::regex::ECMAScript);
    } catch (const std::exception&) {
      fail(keyword, ptr, "invalid regular expression: " + v.as_string());
    }
  }

  // Resolves a local $ref; *canonical receives "#" followed by the escaped pointer tokens.
  const Value& resolve(const std::string& ref, const std::string& ptr, std::string* canonical) {
    if (ref.empty() || ref[0] != '#') fail("$ref", ptr, "only local references are supported: " + ref);
    std::string decoded;
    for (std::size_t i = 1; i < ref.size(); ++i) {
      if (ref[i] == '%' && i + 2 < ref.size() && hex_value(ref[i + 1]) >= 0 &&
          hex_value(ref[i + 2]) >= 0) {
        decoded += static_cast<char>(hex_value(ref[i + 1]) * 16 + hex_value(ref[i + 2]));
        i += 2;
      } else {
        decoded += ref[i];
      }
    }
    const Value* cur = doc.get();
    *canonical = "#";
    if (decoded.empty()) return *cur;
    if (decoded[0] != '/') fail("$ref", ptr, "unresolvable reference: " + ref);
    std::size_t pos = 1;
    while (true) {
      std::size_t slash = decoded.find('/', pos);
      std::string raw = decoded.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
      std::string token;
      for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          token += raw[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          token += raw[i];
        }
      }
      const Value* next = nullptr;
      if (cur->is_object()) {
        next = cur->find(token);
      } else if (cur->is_array() && !token.empty() &&
                 std::all_of(token.begin(), token.end(), [](char c) { return is_digit(c); }) &&
                 token.size() < 10) {
        std::size_t index = std::stoul(token);
        if (index < cur->items().size()) next = &cur->items()[index];
      }
      if (!next) fail("$ref", ptr, "unresolvable reference: " + ref);
      *canonical += "/" + escape_pointer_token(token);
      cur = next;
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    return *cur;
  }

  std::vector<int> compile_list(const Value& v, const char* keyword, const std::string& ptr) {
    if (!v.is_array() || v.items().empty()) fail(keyword, ptr, "expected a non-empty array");
    std::vector<int> out;
    for (std::size_t i = 0; i < v.items().size(); ++i) {
      out.push_back(compile(v.items()[i], ptr + "/" + keyword + "/" + std::to_string(i)));
    }
    return out;
  }

  int compile(const Value& v, const std::string& ptr) {
    auto found = by_pointer.find(ptr);
    if (found != by_pointer.end()) return found->second;
    int index = static_cast<int>(nodes.size());
    nodes.emplace_back();
    by_pointer.emplace(ptr, index);
    SchemaNode n;
    if (v.is_bool()) {
      (v.as_bool() ? n.always_true : n.always_false) = true;
      nodes[index] = std::move(n);
      return index;
    }
    if (!v.is_object()) fail("", ptr, "a schema must be an object or a boolean");
    if (const Value* ref = v.find("$ref")) {
      if (!ref->is_string()) fail("$ref", ptr, "expected a string");
      std::string target;
      const Value& resolved = resolve(ref->as_string(), ptr, &target);
      n.ref = compile(resolved, target);
      if (legacy) {
        n.ref_only = true;
        nodes[index] = std::move(n);
        return index;
      }
    }
    for (const auto& [key, value] : v.members()) {
      const std::string child = ptr + "/" + escape_pointer_token(key);
      if (key == "type") {
        std::vector<const Value*> names;
        if (value.is_string()) {
          names.push_back(&value);
        } else if (value.is_array()) {
          for (const auto& item : value.items()) names.push_back(&item);
        } else {
          fail("type", ptr, "expected a string or an array of strings");
        }
        n.types = 0;
        for (const Value* name : names) {
          if (!name->is_string()) fail("type", ptr, "expected a type name");
          const std::string& t = name->as_string();
          if (t == "null") n.types |= kNull;
          else if (t == "boolean") n.types |= kBoolean;
          else if (t == "integer") n.types |= kInteger;
          else if (t == "number") n.types |= kNumber;
          else if (t == "string") n.types |= kString;
          else if (t == "array") n.types |= kArray;
          else if (t == "object") n.types |= kObject;
          else fail("type", ptr, "unknown type '" + t + "'");
        }
        if (n.types == 0) n.always_false = true;  // "type": [] matches nothing
      } else if (key == "properties") {
        if (!value.is_object()) fail(key, ptr, "expected an object");
        for (const auto& [name, sub] : value.members()) {
          n.properties.emplace_back(name, compile(sub, child + "/" + escape_pointer_token(name)));
        }
      } else if (key == "patternProperties") {
        if (!value.is_object()) fail(key, ptr, "expected an object");
        for (const auto& [name, sub] : value.members()) {
          auto re = compile_regex(Value::string(name), "patternProperties", ptr);
          n.pattern_properties.emplace_back(re, compile(sub, child + "/" + escape_pointer_token(name)));
        }
      } else if (key == "additionalProperties") {
        n.additional_properties = compile(value, child);
      } else if (key == "required") {
        if (value.is_bool()) continue;  // draft-03 form, not a list
        if (!value.is_array()) fail(key, ptr, "expected an array of strings");
        for (const auto& item : value.items()) {
          if (!item.is_string()) fail(key, ptr, "expected an array of strings");
          n.required.push_back(item.as_string());
        }
      } else if (key == "items") {
        if (value.is_array()) {
          for (std::size_t i = 0; i < value.items().size(); ++i) {
            n.prefix_items.push_back(compile(value.items()[i], child + "/" + std::to_string(i)));
          }
          if (const Value* extra = v.find("additionalItems")) {
            n.items = compile(*extra, ptr + "/additionalItems");
          }
        } else {
          n.items = compile(value, child);
        }
      } else if (key == "prefixItems" && prefix_items) {
        if (!value.is_array()) fail(key, ptr, "expected an array of schemas");
        for (std::size_t i = 0; i < value.items().size(); ++i) {
          n.prefix_items.push_back(compile(value.items()[i], child + "/" + std::to_string(i)));
        }
      } else if (key == "minItems") {
        n.min_items = count_value(value, "minItems", ptr);
      } else if (key == "maxItems") {
        n.max_items = count_value(value, "maxItems", ptr);
      } else if (key == "minLength") {
        n.min_length = count_value(value, "minLength", ptr);
      } else if (key == "maxLength") {
        n.max_length = count_value(value, "maxLength", ptr);
      } else if (key == "minProperties") {
        n.min_properties = count_value(value, "minProperties", ptr);
      } else if (key == "maxProperties") {
        n.max_properties = count_value(value, "maxProperties", ptr);
      } else if (key == "uniqueItems") {
        n.unique_items = value.is_bool() && value.as_bool();
      } else if (key == "enum") {
        if (!value.is_array()) fail(key, ptr, "expected an array");
        n.has_enum = true;
        for (const auto& option : value.items()) n.enum_values.push_back(constant(option));
      } else if (key == "const") {
        n.const_value = constant(value);
      } else if (key == "allOf") {
        n.all_of = compile_list(value, "allOf", ptr);
      } else if (key == "anyOf") {
        n.any_of = compile_list(value, "anyOf", ptr);
      } else if (key == "oneOf") {
        n.one_of = compile_list(value, "oneOf", ptr);
      } else if (key == "not") {
        n.not_ = compile(value, child);
      } else if (key == "pattern") {
        n.pattern = compile_regex(value, "pattern", ptr);
      } else if (key == "format") {
        if (value.is_string()) n.format = format_from_name(value.as_string());
      } else if (key == "minimum" || key == "maximum" || key == "multipleOf") {
        if (!value.is_number()) fail(key, ptr, "expected a number");
        if (key == "minimum") n.minimum = &value;
        else if (key == "maximum") n.maximum = &value;
        else n.multiple_of = &value;
      } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        bool is_min = key == "exclusiveMinimum";
        if (value.is_bool()) {
          if (draft4) (is_min ? n.minimum_exclusive : n.maximum_exclusive) = value.as_bool();
        } else if (value.is_number()) {
          if (!draft4) (is_min ? n.exclusive_minimum : n.exclusive_maximum) = &value;
        } else {
          fail(key, ptr, "expected a number");
        }
      }
    }
    std::sort(n.properties.begin(), n.properties.end(),
              [](const auto& a, const auto& b) { return key_less(a.first, b.first); });
    nodes[index] = std::move(n);
    return index;
  }

  static bool regex_search(const std::wregex& re, std::string_view s) {
    if (code_points(s) > kMaxPatternInput) return false;
    try {
      return std::regex_search(to_wide(s), re);
    } catch (const std::exception&) {
      return false;
    }
  }

  // draft-04 counts only integer literals as integers; later drafts also accept 1.0.
  static bool type_matches(std::uint8_t types, const Node& v, bool draft4) {
    switch (v.type) {
      case Type::Null: return types & kNull;
      case Type::Bool: return types & kBoolean;
      case Type::Number:
        return (types & kNumber) ||
               ((types & kInteger) && (draft4 ? v.int_literal : v.is_integral()));
      case Type::String: return types & kString;
      case Type::Array: return types & kArray;
      case Type::Object: return types & kObject;
    }
    return false;
  }

  static bool multiple_of(const Num& v, const Num& divisor) {
    if (!divisor.int_literal) {
      // Python: quotient = instance / dB; failed = int(quotient) != quotient
      double q = v.number / divisor.number;
      if (!std::isfinite(q)) return false;
      return std::trunc(q) == q;
    }
    if (v.int_literal) {
      if (v.int_fits && divisor.int_fits) {
        if (divisor.integer == 0) return false;
        if (divisor.integer == -1) return true;
        return v.integer % divisor.integer == 0;
      }
      // Exact remainder of a big decimal by an int64 divisor.
      if (!divisor.int_fits || divisor.integer == 0) return false;
      const std::int64_t sd = divisor.integer;
      const std::uint64_t d = sd < 0 ? static_cast<std::uint64_t>(-(sd + 1)) + 1
                                     : static_cast<std::uint64_t>(sd);
      // r stays below d < 2^63, so additions modulo d cannot overflow.
      auto add_mod = [d](std::uint64_t a, std::uint64_t b) { return a >= d - b ? a - (d - b) : a + b; };
      std::uint64_t r = 0;
      for (char c : v.text) {
        if (!is_digit(c)) continue;
        std::uint64_t r10 = 0;
        for (int k = 0; k < 10; ++k) r10 = add_mod(r10, r);
        r = add_mod(r10, static_cast<std::uint64_t>(c - '0') % d);
      }
      return r == 0;
    }
    double r = std::fmod(v.number, divisor.number);
    return r == 0.0;
  }

  // A schema that reaches itself through `$ref` and the in-place applicators (allOf, anyOf,
  // oneOf, not) without descending into the instance has no terminating validation: with two
  // such branches, validate() makes 2^depth calls before its depth limit (a timeout of the
  // schema fuzzer: `oneOf: [true, {$ref: "#"}, {$ref: "#"}]`). Refused as malformed, like
  // jsonschema's RecursionError and the compiler's refusal of recursion that consumes nothing.
  void check_in_place_cycles() const {
    const std::size_t n = nodes.size();
    std::vector<std::vector<int>> edges(n);
    for (std::size_t i = 0; i < n; ++i) {
      const SchemaNode& s = nodes[i];
      if (s.ref >= 0) edges[i].push_back(s.ref);
      for (const auto* list : {&s.all_of, &s.any_of, &s.one_of}) {
        edges[i].insert(edges[i].end(), list->begin(), list->end());
      }
      if (s.not_ >= 0) edges[i].push_back(s.not_);
    }
    std::vector<std::uint8_t> state(n, 0);  // 0: unseen, 1: on the path, 2: done
    std::vector<std::pair<int, std::size_t>> path;
    for (std::size_t start = 0; start < n; ++start) {
      if (state[start] != 0) continue;
      path.emplace_back(static_cast<int>(start), 0);
      state[start] = 1;
      while (!path.empty()) {
        auto& [node, next] = path.back();
        const auto& out = edges[static_cast<std::size_t>(node)];
        if (next == out.size()) {
          state[static_cast<std::size_t>(node)] = 2;
          path.pop_back();
          continue;
        }
        const int to = out[next++];
        if (state[static_cast<std::size_t>(to)] == 1) {
          std::string pointer;
          for (const auto& [ptr, index] : by_pointer) {
            if (index == to) pointer = ptr;
          }
          fail("$ref", pointer, "the schema refers to itself without descending into the instance");
        }
        if (state[static_cast<std::size_t>(to)] == 0) {
          state[static_cast<std::size_t>(to)] = 1;
          path.emplace_back(to, 0);
        }
      }
    }
  }

  // One validation: the instance, and the results of subschemas reached through `$ref` for an
  // instance node. Only a `$ref` lets two paths of the schema meet (every other subschema has one
  // parent), so with these results kept, each (reference target, instance node) pair is
  // validated once: a chain of `allOf: [{$ref: next}, {$ref: next}]` otherwise takes 2^length
  // calls. A result cut short by the depth limit is not kept (it holds for that depth only).
  struct Walk {
    const Document& d;
    std::unordered_map<std::uint64_t, bool> refs;
    bool cut = false;  // a call below the current one met the depth limit
  };

  bool follow(int target, Walk& w, const Node& v, std::size_t depth) const {
    const auto node = static_cast<std::uint64_t>(&v - &w.d.root());
    const std::uint64_t key = (static_cast<std::uint64_t>(target) << 32) | node;
    if (auto it = w.refs.find(key); it != w.refs.end()) return it->second;
    const bool outer_cut = w.cut;
    w.cut = false;
    const bool ok = validate(target, w, v, depth);
    if (!w.cut) w.refs.emplace(key, ok);
    w.cut = w.cut || outer_cut;
    return ok;
  }

  bool validate(int index, Walk& w, const Node& v, std::size_t depth) const {
    if (depth > kMaxValidationDepth) {
      w.cut = true;
      return false;
    }
    const Document& d = w.d;
    const SchemaNode& n = nodes[static_cast<std::size_t>(index)];
    if (n.always_false) return false;
    if (n.always_true) return true;
    if (n.ref >= 0) {
      if (!follow(n.ref, w, v, depth + 1)) return false;
      if (n.ref_only) return true;
    }
    if (n.types && !type_matches(n.types, v, draft4)) return false;
    if (n.const_value && !equal(*n.const_value, n.const_value->root(), d, v)) return false;
    if (n.has_enum) {
      bool any = false;
      for (const Document* option : n.enum_values) {
        if (equal(*option, option->root(), d, v)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    switch (v.type) {
      case Type::Number:
        if (n.minimum) {
          int c = compare_numbers(num(v), num(*n.minimum));
          if (c < 0 || (c == 0 && n.minimum_exclusive)) return false;
        }
        if (n.maximum) {
          int c = compare_numbers(num(v), num(*n.maximum));
          if (c > 0 || (c == 0 && n.maximum_exclusive)) return false;
        }
        if (n.exclusive_minimum && compare_numbers(num(v), num(*n.exclusive_minimum)) <= 0) {
          return false;
        }
        if (n.exclusive_maximum && compare_numbers(num(v), num(*n.exclusive_maximum)) >= 0) {
          return false;
        }
        if (n.multiple_of && !multiple_of(num(v), num(*n.multiple_of))) return false;
        break;
      case Type::String: {
        const std::string_view s = v.text;
        if (n.min_length >= 0 || n.max_length >= 0) {
          auto len = static_cast<double>(code_points(s));
          if (n.min_length >= 0 && len < n.min_length) return false;
          if (n.max_length >= 0 && len > n.max_length) return false;
        }
        if (n.pattern && !regex_search(*n.pattern, s)) return false;
        if (n.format != Format::None && !check(n.format, s)) return false;
        break;
      }
      case Type::Array: {
        auto size = static_cast<double>(v.count);
        if (n.min_items >= 0 && size < n.min_items) return false;
        if (n.max_items >= 0 && size > n.max_items) return false;
        for (std::size_t i = 0; i < v.count; ++i) {
          if (i < n.prefix_items.size()) {
            if (!validate(n.prefix_items[i], w, d.child(v, i), depth + 1)) return false;
          } else if (n.items >= 0) {
            if (!validate(n.items, w, d.child(v, i), depth + 1)) return false;
          }
        }
        if (n.unique_items) {
          for (std::size_t i = 0; i < v.count; ++i) {
            for (std::size_t j = i + 1; j < v.count; ++j) {
              if (equal(d, d.child(v, i), d, d.child(v, j))) return false;
            }
          }
        }
        break;
      }
      case Type::Object: {
        auto size = static_cast<double>(v.count);
        if (n.min_properties >= 0 && size < n.min_properties) return false;
        if (n.max_properties >= 0 && size > n.max_properties) return false;
        // Members are sorted: required names and properties are found by merging.
        for (const auto& name : n.required) {
          std::size_t lo = 0, hi = v.count;
          while (lo < hi) {
            std::size_t mid = (lo + hi) / 2;
            if (key_less(d.child(v, mid).key, name)) lo = mid + 1;
            else hi = mid;
          }
          if (lo == v.count || !key_equal(d.child(v, lo).key, name)) return false;
        }
        std::size_t p = 0;
        for (std::size_t k = 0; k < v.count; ++k) {
          const Node& member = d.child(v, k);
          bool matched = false;
          while (p < n.properties.size() && key_less(n.properties[p].first, member.key)) ++p;
          if (p < n.properties.size() && key_equal(n.properties[p].first, member.key)) {
            matched = true;
            if (!validate(n.properties[p].second, w, member, depth + 1)) return false;
          }
          if (!n.pattern_properties.empty()) {
            for (const auto& [re, sub] : n.pattern_properties) {
              if (regex_search(*re, member.key)) {
                matched = true;
                if (!validate(sub, w, member, depth + 1)) return false;
              }
            }
          }
          if (!matched && n.additional_properties >= 0 &&
              !validate(n.additional_properties, w, member, depth + 1)) {
            return false;
          }
        }
        break;
      }
      default: break;
    }
    for (int sub : n.all_of) {
      if (!validate(sub, w, v, depth + 1)) return false;
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (int sub : n.any_of) {
        if (validate(sub, w, v, depth + 1)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    if (!n.one_of.empty()) {
      int matches = 0;
      for (int sub : n.one_of) {
        if (validate(sub, w, v, depth + 1) && ++matches > 1) return false;
      }
      if (matches != 1) return false;
    }
    if (n.not_ >= 0 && validate(n.not_, w, v, depth + 1)) return false;
    return true;
  }
};

SchemaValidator::SchemaValidator(const Value& schema) : impl_(std::make_unique<Impl>()) {
  impl_->doc = std::make_unique<Value>(schema);
  normalize(*impl_->doc);
  if (const Value* dialect = impl_->doc->find("$schema")) {
    if (dialect->is_string()) {
      const std::string& d = dialect->as_string();
      impl_->draft4 = d.find("draft-04") != std::string::npos;
      impl_->legacy = impl_->draft4 || d.find("draft-06") != std::string::npos ||
                      d.find("draft-07") != std::string::npos;
      impl_->prefix_items = !impl_->legacy && d.find("2019-09") == std::string::npos;
    }
  }
  impl_->compile(*impl_->doc, "#");
  impl_->check_in_place_cycles();
}

SchemaValidator::~SchemaValidator() = default;
SchemaValidator::SchemaValidator(SchemaValidator&&) noexcept = default;
SchemaValidator& SchemaValidator::operator=(SchemaValidator&&) noexcept = default;

bool SchemaValidator::validate(const Document& instance) const {
  Impl::Walk walk{instance, {}, false};
  return impl_->validate(0, walk, instance.root(), 0);
}

// ---- scoring -----------------------------------------------------------------------------------

namespace {

// False only for text that cannot be a JSON document: it must start with a character that
// begins a value and end with one that ends a value. Rejecting these (typically truncated
// outputs and prose) up front avoids the cost of the parser's exception.
bool can_be_json(std::string_view text) {
  std::size_t b = 0, e = text.size();
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (b < e && ws(text[b])) ++b;
  while (e > b && ws(text[e - 1])) --e;
  if (b == e) return false;
  const char first = text[b], last = text[e - 1];
  const bool starts = first == '{' || first == '[' || first == '"' || first == '-' ||
                      is_digit(first) || first == 't' || first == 'f' || first == 'n';
  const bool ends = last == '}' || last == ']' || last == '"' || is_digit(last) || last == 'e' ||
                    last == 'l';
  return starts && ends;
}

// Texts are read in an order unrelated to where they lie in memory, so the first bytes of each
// would be a cache miss: they are requested a few pairs ahead. A hint only; a no-op where the
// compiler has no prefetch builtin.
constexpr std::size_t kPrefetchDistance = 4;

inline void prefetch(std::string_view text) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(text.data());
  if (text.size() > 64) __builtin_prefetch(text.data() + 64);
#else
  (void)text;
#endif
}

// A hash of whole texts that reads eight bytes per step (std::hash reads them one at a time in
// effect); collisions only cost an extra comparison.
struct TextHash {
  std::size_t operator()(std::string_view s) const {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    std::size_t i = 0;
    auto mix = [&h](std::uint64_t w) {
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    };
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
    mix(tail);
    return static_cast<std::size_t>(h);
  }
};

// Scores one prediction into *s, parsing it into `p` (reused across pairs, so that scoring a
// batch allocates nothing once its buffers have grown). `expected` has sorted members and
// `n_expected` (path, leaf) pairs.
void score_into(PairScore* s, std::string_view prediction, const Document& expected,
                std::size_t n_expected, const SchemaValidator* schema, bool extract, Document& p) {
  s->parsed =
      extract ? extract_json(prediction, &p) : can_be_json(prediction) && p.parse(prediction);
  if (!s->parsed) {
    s->schema_valid = schema ? 0 : -1;
    return;
  }
  p.sort_members();
  const Node& pr = p.root();
  const Node& ex = expected.root();
  const std::size_t n_pred = count_leaves(p, pr);
  // Equal values are exactly those whose (path, leaf) pairs all match, so one walk gives both
  // leaf F1 and exact equality.
  const std::size_t tp = common_leaves(p, pr, expected, ex);
  s->json_exact = tp == n_pred && tp == n_expected;
  s->leaf_f1 = f1_from_counts(tp, n_pred, n_expected);
  s->field_f1 = field_f1_nodes(p, pr, expected, ex);
  s->compliance = compliance_nodes(p, pr, expected, ex);
  if (schema) s->schema_valid = schema->validate(p) ? 1 : 0;
}

}  // namespace

PairScore score_pair(std::string_view prediction, const Document& expected,
                     const SchemaValidator* schema, bool extract) {
  PairScore s;
  Document p;
  score_into(&s, prediction, expected, count_leaves(expected, expected.root()), schema, extract, p);
  return s;
}

void Totals::add(const PairScore& s) {
  ++n;
  n_parsed += s.parsed;
  json_exact += s.json_exact ? 1.0 : 0.0;
  field_f1 += s.field_f1;
  compliance += s.compliance ? 1.0 : 0.0;
  leaf_f1 += s.leaf_f1;
  if (s.schema_valid >= 0) {
    ++n_with_schema;
    schema_valid += s.schema_valid;
  }
}

BatchResult score_batch(const BatchInput& in) {
  if (!in.predictions || !in.expected || in.predictions->size() != in.expected->size()) {
    throw InternalError("score_batch: predictions and expected differ in length");
  }
  const std::size_t n = in.predictions->size();
  if ((in.schema_index && in.schema_index->size() != n) || (in.group && in.group->size() != n)) {
    throw InternalError("score_batch: per-pair arrays differ in length");
  }
  std::vector<SchemaValidator> validators;
  if (in.schemas) {
    validators.reserve(in.schemas->size());
    for (std::size_t i = 0; i < in.schemas->size(); ++i) {
      Value doc;
      if (!json::try_parse((*in.schemas)[i], &doc)) {
        throw SchemaError("", "", "schema " + std::to_string(i) + " is not valid JSON");
      }
      try {
        validators.emplace_back(doc);
      } catch (const SchemaError& e) {
        throw SchemaError(e.keyword(), e.pointer(),
                          "schema " + std::to_string(i) + ": " + e.detail());
      }
    }
  }
  std::vector<const SchemaValidator*> pair_schema(n, nullptr);
  if (in.schema_index) {
    for (std::size_t i = 0; i < n; ++i) {
      const int k = (*in.schema_index)[i];
      if (k < 0) continue;
      if (static_cast<std::size_t>(k) >= validators.size()) {
        throw InternalError("score_batch: schema index out of range");
      }
      pair_schema[i] = &validators[static_cast<std::size_t>(k)];
    }
  }
  if (in.group) {
    for (int g : *in.group) {
      if (g < 0 || g >= in.n_groups) throw InternalError("score_batch: group index out of range");
    }
  }

  // Expected values recur (one per dataset row, many predictions each): each distinct text is
  // parsed once, and the pairs are scored grouped by it so that one parsed expected value is
  // alive at a time. Ids follow first occurrence, so the first invalid text reported is the
  // first in pair order.
  if (n > std::numeric_limits<std::uint32_t>::max()) {
    throw InternalError("score_batch: too many pairs for one call");
  }
  std::vector<std::uint32_t> expected_id(n);
  std::vector<std::size_t> first_index;
  {
    std::unordered_map<std::string_view, std::uint32_t, TextHash> ids;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + kPrefetchDistance < n) prefetch((*in.expected)[i + kPrefetchDistance]);
      auto [it, added] =
          ids.emplace((*in.expected)[i], static_cast<std::uint32_t>(first_index.size()));
      if (added) first_index.push_back(i);
      expected_id[i] = it->second;
    }
  }
  // Pair indices ordered by expected id (a counting sort; pair order within an id is kept), and
  // the prediction texts and schemas gathered in that order so that the scoring loop reads them
  // sequentially.
  std::vector<std::size_t> start(first_index.size() + 1, 0);
  for (std::uint32_t id : expected_id) ++start[id + 1];
  for (std::size_t k = 1; k < start.size(); ++k) start[k] += start[k - 1];
  std::vector<std::uint32_t> order(n);
  {
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      order[next[expected_id[i]]++] = static_cast<std::uint32_t>(i);
    }
  }
  std::vector<std::string_view> ordered_predictions(n);
  std::vector<const SchemaValidator*> ordered_schemas(n);
  for (std::size_t k = 0; k < n; ++k) {
    ordered_predictions[k] = (*in.predictions)[order[k]];
    ordered_schemas[k] = pair_schema[order[k]];
  }

  BatchResult result;
  result.pairs.resize(n);
  Document expected, prediction;
  for (std::size_t id = 0; id < first_index.size(); ++id) {
    const std::size_t first = first_index[id];
    try {
      expected.parse_or_throw((*in.expected)[first]);
    } catch (const JsonError& e) {
      throw JsonError("expected[" + std::to_string(first) + "] is not valid JSON", e.offset());
    }
    expected.sort_members();
    const std::size_t n_expected = count_leaves(expected, expected.root());
    for (std::size_t k = start[id]; k < start[id + 1]; ++k) {
      if (k + kPrefetchDistance < n) prefetch(ordered_predictions[k + kPrefetchDistance]);
      score_into(&result.pairs[order[k]], ordered_predictions[k], expected, n_expected,
                 ordered_schemas[k], in.extract, prediction);
    }
  }
  // Sums in pair order, as the reference adds them.
  result.groups.resize(static_cast<std::size_t>(std::max(in.n_groups, 0)));
  for (std::size_t i = 0; i < n; ++i) {
    const PairScore& s = result.pairs[i];
    result.overall.add(s);
    if (in.group) result.groups[static_cast<std::size_t>((*in.group)[i])].add(s);
  }
  return result;
}

}  // namespace maaza::metrics

// JSON Schema -> grammar IR compiler; see schema.h and docs/schema_support.md.
//
// One rule per schema node, memoised by JSON pointer, so a sub-schema reached twice (a `$ref`
// used in several places, recursion) is compiled once and recursive references become recursive
// rules. A node compiles to a list of alternatives; an empty list means the node admits no value
// (the `false` schema, contradictory keywords), which callers treat as "this branch, property or
// item cannot occur".
//
// `allOf` (and `$ref` with sibling keywords, and `anyOf`/`oneOf` with sibling keywords) are
// rewritten into a merged schema that is compiled under a synthetic pointer (the holder's pointer
// followed by "/allOf" or "/anyOf/<i>/+"); these pointers never name a real node, so memoisation
// stays sound. Merged schemas live in `owned_` for the lifetime of the compilation.
#include "schema.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "errors.h"
#include "regex.h"
#include "relations.h"

namespace maaza {

namespace {

using json::Value;

// Digit caps that keep a model from looping inside a number (documented in schema_support.md).
constexpr std::uint32_t kIntDigits = 18;   // at most 18 integer digits (fits in int64)
constexpr std::uint32_t kFracDigits = 20;  // at most 20 fraction digits
constexpr std::uint32_t kExpDigits = 3;    // at most 3 exponent digits
constexpr std::int64_t kIntMax = 999999999999999999LL;  // 10^18 - 1
constexpr std::size_t kMaxAlternativesProduct = 64;
// Counted repetitions are expanded by the matcher: larger maxLength/maxItems are lowered to this
// (which only removes values), larger minLength/minItems are refused.
constexpr std::uint64_t kMaxCount = 100000;
constexpr int kMaxMergeDepth = 32;
// Schemas built by merging ($ref or allOf with sibling keywords, anyOf/oneOf beside other
// keywords) are compiled as they are built; a recursive reference among them builds ever larger
// ones. Past these bounds (merges nested in merges, bytes of merged schemas) the schema is refused.
constexpr int kMaxSyntheticDepth = 32;
constexpr std::size_t kMaxSyntheticBytes = std::size_t(8) << 20;
// A merge that resolves a reference which merges in progress already resolved this many times
// is a recursion that does not close (the merged schemas differ at each level; ones that close
// are equal and meet the memo first).
constexpr int kMaxRefMergeNesting = 2;

const std::set<std::string, std::less<>>& annotation_keywords() {
  static const std::set<std::string, std::less<>> k = {
      "title",    "description", "examples",         "$schema",         "$id",
      "$comment", "default",     "readOnly",         "writeOnly",       "deprecated",
      "$defs",    "definitions", "contentMediaType", "contentEncoding", "$anchor"};
  return k;
}

const std::set<std::string, std::less<>>& handled_keywords() {
  static const std::set<std::string, std::less<>> k = {
      "type",      "properties",       "required",         "additionalProperties",
      "items",     "prefixItems",      "additionalItems",  "minItems",
      "maxItems",  "enum",             "const",            "anyOf",
      "oneOf",     "allOf",            "$ref",             "minLength",
      "maxLength", "pattern",          "format",           "minimum",
      "maximum",   "exclusiveMinimum", "exclusiveMaximum", "multipleOf"};
  return k;
}

// JSON Schema (drafts 3 to 2020-12) and OpenAPI keywords with validation meaning that the compiler
// cannot enforce.
const std::set<std::string, std::less<>>& refused_keywords() {
  static const std::set<std::string, std::less<>> k = {
      "not",           "if",
      "then",          "else",
      "uniqueItems",   "contains",
      "minContains",   "maxContains",
      "patternProperties", "propertyNames",
      "dependencies",  "dependentRequired",
      "dependentSchemas", "minProperties",
      "maxProperties", "unevaluatedProperties",
      "unevaluatedItems", "$dynamicRef",
      "$dynamicAnchor", "$recursiveRef",
      "$recursiveAnchor", "$vocabulary",
      "nullable",      "extends",
      "disallow",      "divisibleBy",
      "id"};
  return k;
}

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string child(const std::string& ptr, std::string_view key) {
  return ptr + "/" + escape_pointer_token(key);
}
std::string child(const std::string& ptr, std::size_t index) {
  return ptr + "/" + std::to_string(index);
}

bool json_equal(const Value& a, const Value& b) { return json::equal(a, b); }

// Type bits.
enum : unsigned {
  kNull = 1,
  kBool = 2,
  kInteger = 4,
  kNumber = 8,  // non-integral numbers; "number" is kInteger | kNumber
  kString = 16,
  kArray = 32,
  kObject = 64,
  kAllTypes = 127,
};

unsigned type_bits(std::string_view name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBool;
  if (name == "integer") return kInteger;
  if (name == "number") return kInteger | kNumber;
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  return 0;
}

// ---- decimals ---------------------------------------------------------------------------------

// A decimal number as digit strings: no leading zeros in `ip` ("" is zero), no trailing zeros in
// `fp`. Used for exact bounds.
struct Dec {
  bool neg = false;
  std::string ip;
  std::string fp;
  bool is_zero() const { return ip.empty() && fp.empty(); }
};

Dec parse_dec(const std::string& text, const std::string& keyword, const std::string& ptr) {
  Dec d;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    d.neg = true;
    ++i;
  }
  std::string digits;
  long point = -1;
  for (; i < text.size() && text[i] != 'e' && text[i] != 'E'; ++i) {
    if (text[i] == '.') {
      point = static_cast<long>(digits.size());
    } else {
      digits += text[i];
    }
  }
  if (point < 0) point = static_cast<long>(digits.size());
  if (i < text.size()) {
    long e = std::strtol(text.c_str() + i + 1, nullptr, 10);
    if (e > 400 || e < -400) throw SchemaError(keyword, ptr, "bound out of range");
    point += e;
  }
  // digits with the decimal point at `point` (may be outside [0, size]).
  if (point <= 0) {
    d.fp = std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    d.ip = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  } else {
    d.ip = digits.substr(0, static_cast<std::size_t>(point));
    d.fp = digits.substr(static_cast<std::size_t>(point));
  }
  d.ip.erase(0, std::min(d.ip.find_first_not_of('0'), d.ip.size()));
  while (!d.fp.empty() && d.fp.back() == '0') d.fp.pop_back();
  if (d.is_zero()) d.neg = false;
  return d;
}

int cmp_abs(const Dec& a, const Dec& b) {
  if (a.ip.size() != b.ip.size()) return a.ip.size() < b.ip.size() ? -1 : 1;
  if (a.ip != b.ip) return a.ip < b.ip ? -1 : 1;
  std::size_t n = std::max(a.fp.size(), b.fp.size());
  std::string fa = a.fp + std::string(n - a.fp.size(), '0');
  std::string fb = b.fp + std::string(n - b.fp.size(), '0');
  if (fa != fb) return fa < fb ? -1 : 1;
  return 0;
}

int cmp(const Dec& a, const Dec& b) {
  if (a.neg != b.neg) return a.neg ? -1 : 1;
  int c = cmp_abs(a, b);
  return a.neg ? -c : c;
}

Dec negate(Dec d) {
  if (!d.is_zero()) d.neg = !d.neg;
  return d;
}

// A one-sided numeric bound.
struct Bound {
  Dec value;
  bool exclusive = false;
};

// ---- the compiler -------------------------------------------------------------------------------

class Compiler {
 public:
  Compiler(const Value& root, const SchemaOptions& options)
      : root_(root), opt_(options), g_(out_.grammar), frags_(out_.grammar) {
    FormatOptions formats;
    formats.optional_timezone = options.optional_timezone;
    frags_.set_format_options(formats);
    read_draft();
  }

  CompiledSchema run() {
    if (opt_.whitespace == Whitespace::Flexible && opt_.max_whitespace == 0) {
      // Flexible with a zero cap is compact.
      opt_.whitespace = Whitespace::Compact;
    }
    check_embedded_resources(root_, "", false, true);
    std::optional<std::uint32_t> root = compile(root_, "");
    if (!root) throw SchemaError("", "", "the schema admits no value");
    for (std::uint32_t r : unsat_reserved_) g_.set_alternatives(r, {Sequence{}});
    g_.set_root(*root);
    try {
      g_.validate();
    } catch (const GrammarError& e) {
      throw SchemaError("$ref", "", std::string("schema recursion consumes no input: ") + e.what());
    }
    return std::move(out_);
  }

 private:
  // ---- keyword access --------------------------------------------------------------------------
  [[noreturn]] static void malformed(const std::string& keyword, const std::string& ptr,
                                     const std::string& what) {
    throw SchemaError(keyword, ptr, "malformed schema: '" + keyword + "' " + what);
  }

  static std::optional<std::uint64_t> get_count(const Value& s, const char* keyword,
                                                const std::string& ptr) {
    const Value* v = s.find(keyword);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number() || !v->is_integral() || v->as_double() < 0) {
      malformed(keyword, ptr, "must be a non-negative integer");
    }
    double d = v->as_double();
    if (d > 1e9) return std::uint64_t{1000000000};
    return static_cast<std::uint64_t>(d);
  }

  static const Value* get_typed(const Value& s, const char* keyword, Value::Type type,
                                const char* what, const std::string& ptr) {
    const Value* v = s.find(keyword);
    if (v != nullptr && v->type() != type) malformed(keyword, ptr, std::string("must be ") + what);
    return v;
  }

  void unsupported(const std::string& keyword, const std::string& ptr, const std::string& why) {
    if (opt_.lenient) {
      ignored_note(keyword, ptr);
      return;
    }
    throw SchemaError(keyword, ptr, why);
  }

  void ignored_note(const std::string& keyword, const std::string& ptr) {
    std::string note = keyword + " at " + (ptr.empty() ? "#" : ptr);
    if (std::find(out_.ignored.begin(), out_.ignored.end(), note) == out_.ignored.end()) {
      out_.ignored.push_back(note);
    }
  }

  // Rejects (or, leniently, records) every JSON Schema keyword the compiler does not enforce.
  // Keywords outside every JSON Schema vocabulary (x-*, javaType, ...) have no validation meaning
  // and are skipped like annotations.
  void check_keywords(const Value& s, const std::string& ptr) {
    for (const auto& [key, value] : s.members()) {
      if (annotation_keywords().count(key) || handled_keywords().count(key)) continue;
      if (key == "id" && value.is_string()) continue;  // draft-04 identifier
      if (!refused_keywords().count(key)) continue;
      unsupported(key, ptr, "keyword '" + key + "' is not supported");
    }
  }

  // ---- drafts ----------------------------------------------------------------------------------
  // The root's `$schema` decides the keywords whose meaning changed between drafts: `prefixItems`
  // (2020-12; an unknown keyword before), the siblings of `$ref` (ignored up to draft 7: the
  // compiler still applies them, which only narrows, but proofs about other branches must not),
  // the form of exclusiveMinimum/Maximum (booleans in draft 4, numbers later: likewise), and
  // `1.0` as an integer (not in draft 4). Without `$schema`, draft 2020-12.
  void read_draft() {
    const Value* uri = root_.is_object() ? root_.find("$schema") : nullptr;
    std::string u = uri != nullptr && uri->is_string() ? uri->as_string() : std::string();
    bool d4 = u.find("draft-04") != std::string::npos || u.find("draft-03") != std::string::npos;
    bool up_to_7 = d4 || u.find("draft-06") != std::string::npos || u.find("draft-07") != std::string::npos;
    bool d2019 = u.find("2019-09") != std::string::npos;
    draft4_ = d4;
    semantics_.prefix_items = !up_to_7 && !d2019;
    semantics_.ref_overrides_siblings = up_to_7;
    const bool d3 = u.find("draft-03") != std::string::npos;
    semantics_.exclusive_flags = d4 && !d3;
    semantics_.exclusive_numbers = !d4;
  }

  // A `$ref` inside an embedded resource (a subschema with its own base URI in `$id`, or `id` in
  // draft 4) resolves against that resource, not the document: refused, since references are
  // resolved as document pointers. Data keywords (enum, const, default, examples) are skipped.
  void check_embedded_resources(const Value& v, const std::string& ptr, bool inside, bool is_root) {
    if (v.is_array()) {
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        check_embedded_resources(v.items()[i], child(ptr, i), inside, false);
      }
      return;
    }
    if (!v.is_object()) return;
    if (!is_root) {
      const Value* id = v.find("$id");
      if ((id == nullptr || !id->is_string()) && draft4_) id = v.find("id");
      if (id != nullptr && id->is_string() && !id->as_string().empty() && id->as_string()[0] != '#') inside = true;
    }
    if (inside) {
      const Value* ref = v.find("$ref");
      if (ref != nullptr && ref->is_string()) {
        throw SchemaError("$ref", ptr,
                          "a reference inside an embedded schema resource (a '$id' below the root) "
                          "is not supported");
      }
    }
    for (const auto& [key, sub] : v.members()) {
      if (key == "enum" || key == "const" || key == "default" || key == "examples") continue;
      check_embedded_resources(sub, child(ptr, key), inside, false);
    }
  }

  // ---- $ref ------------------------------------------------------------------------------------
  // The target of a local reference, or nullptr (with the reason in *why) when there is none.
  const Value* lookup(const Value& ref, std::string* canonical_out, std::string* why) const {
    if (!ref.is_string()) {
      *why = "must be a string";
      return nullptr;
    }
    const std::string& r = ref.as_string();
    if (r.empty() || r[0] != '#' || (r.size() > 1 && r[1] != '/')) {
      *why = "only local JSON-pointer references ('#', '#/...') are supported: '" + r + "'";
      return nullptr;
    }
    // Percent-decoding (URI fragment) then RFC 6901 token unescaping.
    std::string frag;
    for (std::size_t i = 1; i < r.size(); ++i) {
      if (r[i] == '%' && i + 2 < r.size() + 0 && std::isxdigit(static_cast<unsigned char>(r[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(r[i + 2]))) {
        frag += static_cast<char>(std::stoi(r.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        frag += r[i];
      }
    }
    const Value* node = &root_;
    std::string canonical;
    std::size_t pos = 0;
    while (pos < frag.size()) {
      std::size_t next = frag.find('/', pos + 1);
      std::string token = frag.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
      pos = next == std::string::npos ? frag.size() : next;
      std::string key;
      for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
          key += token[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          key += token[i];
        }
      }
      const Value* nextnode = nullptr;
      if (node->is_object()) {
        nextnode = node->find(key);
      } else if (node->is_array() && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10) {
        std::size_t idx = std::stoul(key);
        if (idx < node->items().size()) nextnode = &node->items()[idx];
      }
      if (nextnode == nullptr) {
        *why = "reference '" + r + "' does not resolve";
        return nullptr;
      }
      node = nextnode;
      canonical += "/" + escape_pointer_token(key);
    }
    *canonical_out = canonical;
    return node;
  }

  std::pair<const Value*, std::string> resolve(const Value& ref, const std::string& ptr) const {
    std::string canonical, why;
    const Value* node = lookup(ref, &canonical, &why);
    if (node == nullptr) {
      if (!ref.is_string()) malformed("$ref", ptr, why);
      throw SchemaError("$ref", ptr, why);
    }
    return {node, canonical};
  }

  // ---- rule naming ----------------------------------------------------------------------------
  // Rule names made unique here (base, base-2, base-3, ...) so that Grammar::add_rule never has to
  // search for a free suffix.
  std::string unique_name(const std::string& base) {
    std::uint32_t& n = name_counts_[base];
    ++n;
    return n == 1 ? base : base + "-" + std::to_string(n);
  }
  std::uint32_t add_rule(const std::string& base, std::vector<Sequence> alternatives) {
    return g_.add_rule(unique_name(base), std::move(alternatives));
  }
  std::uint32_t reserve_rule(const std::string& base) { return g_.reserve_rule(unique_name(base)); }

  // ---- whitespace and punctuation -------------------------------------------------------------
  static void append(Sequence& seq, Symbol sym) {
    if (sym.kind == Symbol::Kind::Literal && !seq.empty() && seq.back().kind == Symbol::Kind::Literal) {
      seq.back().text += sym.text;
    } else {
      seq.push_back(std::move(sym));
    }
  }
  static void append(Sequence& seq, const Sequence& more) {
    for (const auto& s : more) append(seq, s);
  }

  Symbol ws() {
    if (ws_rule_ < 0) {
      std::uint32_t c = add_rule("ws-char", {{Symbol::char_class({{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}})}});
      ws_rule_ = add_rule("ws", {{Symbol::repeat(c, 0, opt_.max_whitespace)}});
    }
    return Symbol::ref(static_cast<std::uint32_t>(ws_rule_));
  }
  bool flexible() const { return opt_.whitespace == Whitespace::Flexible; }
  Sequence comma() {
    if (flexible()) return {ws(), Symbol::literal(","), ws()};
    return {Symbol::literal(opt_.whitespace == Whitespace::Python ? ", " : ",")};
  }
  Sequence colon() {
    if (flexible()) return {ws(), Symbol::literal(":"), ws()};
    return {Symbol::literal(opt_.whitespace == Whitespace::Python ? ": " : ":")};
  }
  Sequence open(const char* c) {
    if (flexible()) return {Symbol::literal(c), ws()};
    return {Symbol::literal(c)};
  }
  Sequence close(const char* c) {
    if (flexible()) return {ws(), Symbol::literal(c)};
    return {Symbol::literal(c)};
  }
  Sequence empty(const char* o, const char* c) {
    if (flexible()) return {Symbol::literal(o), ws(), Symbol::literal(c)};
    return {Symbol::literal(std::string(o) + c)};
  }

  // ---- shared rules ----------------------------------------------------------------------------
  std::uint32_t digit() {
    if (digit_rule_ < 0) digit_rule_ = add_rule("digit", {{Symbol::char_class({{'0', '9'}})}});
    return static_cast<std::uint32_t>(digit_rule_);
  }
  std::uint32_t frac_any() {
    if (frac_rule_ < 0) {
      frac_rule_ = add_rule("fraction", {{Symbol::literal("."), Symbol::repeat(digit(), 1, kFracDigits)}});
    }
    return static_cast<std::uint32_t>(frac_rule_);
  }
  std::uint32_t integer_any() {
    if (integer_rule_ < 0) {
      std::uint32_t mag = add_rule(
          "natural", {{Symbol::literal("0")},
                      {Symbol::char_class({{'1', '9'}}), Symbol::repeat(digit(), 0, kIntDigits - 1)}});
      std::uint32_t sign = add_rule("minus", {{Symbol::literal("-")}});
      integer_rule_ = add_rule("integer", {{Symbol::repeat(sign, 0, 1), Symbol::ref(mag)}});
      natural_rule_ = mag;
    }
    return static_cast<std::uint32_t>(integer_rule_);
  }
  std::uint32_t number_any() {
    if (number_rule_ < 0) {
      std::uint32_t integer = integer_any();
      std::uint32_t exp = add_rule(
          "exponent", {{Symbol::char_class({{'E', 'E'}, {'e', 'e'}}),
                        Symbol::repeat(add_rule("exp-sign", {{Symbol::char_class({{'+', '+'}, {'-', '-'}})}}), 0, 1),
                        Symbol::repeat(digit(), 1, kExpDigits)}});
      number_rule_ = add_rule(
          "number", {{Symbol::ref(integer), Symbol::repeat(frac_any(), 0, 1), Symbol::repeat(exp, 0, 1)}});
    }
    return static_cast<std::uint32_t>(number_rule_);
  }
  std::uint32_t string_any() {
    if (string_rule_ < 0) {
      string_rule_ = add_rule(
          "string", {{Symbol::literal("\""), Symbol::repeat(frags_.any_char(), 0, kUnbounded), Symbol::literal("\"")}});
    }
    return static_cast<std::uint32_t>(string_rule_);
  }
  // Any JSON value (recursive rule).
  std::uint32_t value_any() {
    if (value_rule_ >= 0) return static_cast<std::uint32_t>(value_rule_);
    std::uint32_t value = reserve_rule("value");
    value_rule_ = value;
    std::uint32_t str = string_any();
    Sequence member{Symbol::ref(str)};
    append(member, colon());
    append(member, Symbol::ref(value));
    std::uint32_t member_rule = add_rule("member", {member});
    Sequence comma_member = comma();
    append(comma_member, Symbol::ref(member_rule));
    std::uint32_t more_members = add_rule("more-members", {comma_member});
    Sequence obj = open("{");
    append(obj, Symbol::ref(member_rule));
    append(obj, Symbol::repeat(more_members, 0, kUnbounded));
    append(obj, close("}"));
    std::uint32_t object = add_rule("object", {empty("{", "}"), obj});
    Sequence comma_value = comma();
    append(comma_value, Symbol::ref(value));
    std::uint32_t more_values = add_rule("more-values", {comma_value});
    Sequence arr = open("[");
    append(arr, Symbol::ref(value));
    append(arr, Symbol::repeat(more_values, 0, kUnbounded));
    append(arr, close("]"));
    std::uint32_t array = add_rule("array", {empty("[", "]"), arr});
    g_.set_alternatives(value, {{Symbol::ref(object)},
                                {Symbol::ref(array)},
                                {Symbol::ref(str)},
                                {Symbol::ref(number_any())},
                                {Symbol::literal("true")},
                                {Symbol::literal("false")},
                                {Symbol::literal("null")}});
    return value;
  }

  // ---- compile ---------------------------------------------------------------------------------
  static std::string rule_name(const std::string& ptr) {
    std::size_t slash = ptr.find_last_of('/');
    std::string last = slash == std::string::npos ? ptr : ptr.substr(slash + 1);
    std::string name;
    for (char c : last) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
        name += c;
      } else if (c == '_') {
        name += '-';
      }
    }
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) name = "s" + name;
    return name;
  }

  // The rule for schema `s` at pointer `ptr`, or nullopt when `s` admits no value.
  std::optional<std::uint32_t> compile(const Value& s, const std::string& ptr) {
    auto it = memo_.find(ptr);
    if (it != memo_.end()) {
      if (it->second < 0) return std::nullopt;
      if (in_progress_.count(ptr)) referenced_in_progress_.insert(ptr);
      return static_cast<std::uint32_t>(it->second);
    }
    if (++depth_ > 2000) throw SchemaError("", ptr, "schema nesting too deep");
    std::uint32_t rule = reserve_rule(ptr.empty() ? "root" : rule_name(ptr));
    memo_[ptr] = rule;
    in_progress_.insert(ptr);
    std::vector<Sequence> alts = alternatives(s, ptr);
    in_progress_.erase(ptr);
    --depth_;
    if (alts.empty()) {
      if (referenced_in_progress_.count(ptr)) {
        throw SchemaError("$ref", ptr, "a recursive schema admits no value");
      }
      memo_[ptr] = -1;
      unsat_reserved_.push_back(rule);
      return std::nullopt;
    }
    g_.set_alternatives(rule, std::move(alts));
    return rule;
  }

  // Compiles a schema built by the compiler (a merge). Equal merged schemas share one rule, keyed
  // by content: a recursive `$ref` with sibling keywords produces the same merge at every depth,
  // which must become a recursive rule rather than an endless expansion.
  // `targets`: the references the merge that built `v` resolved (a merged schema met before is
  // compiled once; a new one that merges a reference again inside its own merge, more than
  // kMaxRefMergeNesting deep, is refused).
  std::optional<std::uint32_t> compile_synthetic(Value v, const std::string& ptr,
                                                 const std::vector<std::string>* targets = nullptr) {
    std::string key = json::dump(v);
    auto it = synthetic_.find(key);
    if (it != synthetic_.end()) return compile(*it->second.first, it->second.second);
    static const std::vector<std::string> kNone;
    const std::vector<std::string>& refs = targets != nullptr ? *targets : kNone;
    for (const std::string& t : refs) {
      auto found = merging_refs_.find(t);
      if (found != merging_refs_.end() && found->second >= kMaxRefMergeNesting) {
        throw SchemaError("$ref", ptr,
                          "a recursive reference merged with sibling keywords (or inside allOf, "
                          "anyOf or oneOf beside other keywords) is not supported: '#" +
                              t + "' is merged again inside its own merge");
      }
    }
    struct Merging {
      std::map<std::string, int>& counts;
      const std::vector<std::string>& keys;
      Merging(std::map<std::string, int>& c, const std::vector<std::string>& k)
          : counts(c), keys(k) {
        for (const std::string& k2 : keys) ++counts[k2];
      }
      ~Merging() {
        for (const std::string& k2 : keys) --counts[k2];
      }
      Merging(const Merging&) = delete;
      Merging& operator=(const Merging&) = delete;
    } merging(merging_refs_, refs);
    synthetic_bytes_ += key.size();
    if (synthetic_depth_ >= kMaxSyntheticDepth || synthetic_bytes_ > kMaxSyntheticBytes) {
      throw SchemaError("$ref", ptr,
                        "merging keywords with their siblings does not end (a recursive reference "
                        "beside sibling keywords, or inside allOf, anyOf or oneOf?)");
    }
    owned_.push_back(std::move(v));
    merged_nodes_.insert(&owned_.back());
    synthetic_.emplace(std::move(key), std::make_pair(&owned_.back(), ptr));
    struct Nesting {
      int& depth;
      explicit Nesting(int& d) : depth(d) { ++depth; }
      ~Nesting() { --depth; }
      Nesting(const Nesting&) = delete;
      Nesting& operator=(const Nesting&) = delete;
    } nesting(synthetic_depth_);
    return compile(owned_.back(), ptr);
  }

  static Value without(const Value& s, std::initializer_list<std::string_view> keys) {
    std::vector<json::Member> members;
    for (const auto& m : s.members()) {
      if (std::find(keys.begin(), keys.end(), m.first) == keys.end()) members.push_back(m);
    }
    return Value::object(std::move(members));
  }

  // A lower bound above the upper bound is a malformed schema when written in one node; in a merge
  // of several nodes it only makes the merge unsatisfiable.
  void check_order(const Value& s, bool ordered, const char* keyword, const std::string& ptr) const {
    if (!ordered && !merged_nodes_.count(&s)) {
      throw SchemaError(keyword, ptr, std::string("malformed schema: '") + keyword + "' exceeds its upper bound");
    }
  }

  // Whether `s` has a keyword that constrains values (refused keywords were already reported).
  static bool has_constraints(const Value& s) {
    for (const auto& m : s.members()) {
      if (handled_keywords().count(m.first)) return true;
    }
    return false;
  }

  std::vector<Sequence> alternatives(const Value& s, const std::string& ptr) {
    if (s.is_bool()) {
      if (s.as_bool()) return {{Symbol::ref(value_any())}};
      return {};
    }
    if (!s.is_object()) throw SchemaError("", ptr, "a schema must be an object or a boolean");
    check_keywords(s, ptr);

    // $ref, allOf: merge into one schema.
    const Value* ref = s.find("$ref");
    const Value* all_of = s.find("allOf");
    if (ref != nullptr && all_of == nullptr && !has_constraints(without(s, {"$ref"}))) {
      auto [target, tptr] = resolve(*ref, ptr);
      auto r = compile(*target, tptr);
      if (!r) return {};
      return {{Symbol::ref(*r)}};
    }
    if (ref != nullptr || all_of != nullptr) {
      std::vector<std::string> targets;
      Value merged = merge_all(s, ptr, &targets);
      auto r = compile_synthetic(std::move(merged), ptr + "/allOf", &targets);
      if (!r) return {};
      return {{Symbol::ref(*r)}};
    }

    // oneOf (its siblings, anyOf included, apply to every branch), then anyOf: alternatives.
    if (const Value* one_of = s.find("oneOf")) {
      if (!one_of->is_array() || one_of->items().empty()) malformed("oneOf", ptr, "must be a non-empty array");
      return one_of_alternatives(without(s, {"oneOf"}), *one_of, ptr);
    }
    if (const Value* any_of = s.find("anyOf")) {
      if (!any_of->is_array() || any_of->items().empty()) malformed("anyOf", ptr, "must be a non-empty array");
      Value rest = without(s, {"anyOf"});
      bool plain = !has_constraints(rest);
      std::vector<Sequence> alts;
      for (std::size_t i = 0; i < any_of->items().size(); ++i) {
        std::string bptr = child(child(ptr, "anyOf"), i);
        std::optional<std::uint32_t> r;
        if (plain) {
          r = compile(any_of->items()[i], bptr);
        } else {
          r = compile_synthetic(Compiler::all_of(rest, any_of->items()[i]), bptr + "/+");
        }
        if (r) alts.push_back({Symbol::ref(*r)});
      }
      return alts;
    }

    // enum / const.
    const Value* en = s.find("enum");
    const Value* cn = s.find("const");
    if (en != nullptr || cn != nullptr) return enum_alternatives(s, en, cn, ptr);

    // type.
    unsigned types = kAllTypes;
    if (const Value* t = s.find("type")) {
      types = 0;
      std::vector<const Value*> names;
      if (t->is_string()) {
        names.push_back(t);
      } else if (t->is_array() && !t->items().empty()) {
        for (const auto& n : t->items()) names.push_back(&n);
      } else {
        malformed("type", ptr, "must be a type name or a non-empty array of them");
      }
      for (const Value* n : names) {
        unsigned bits = n->is_string() ? type_bits(n->as_string()) : 0;
        if (bits == 0) malformed("type", ptr, "names an unknown type");
        types |= bits;
      }
    }
    if (!has_constraints(s)) return {{Symbol::ref(value_any())}};

    if (const Value* m = s.find("multipleOf")) {
      if (!m->is_number() || m->as_double() <= 0) malformed("multipleOf", ptr, "must be a positive number");
      if (types & (kInteger | kNumber)) {
        if (m->is_integral() && m->as_double() == 1.0) {
          types &= ~kNumber;  // multipleOf 1: integers only
        } else {
          unsupported("multipleOf", ptr, "multipleOf other than 1 cannot be enforced");
        }
      }
    }

    std::vector<Sequence> alts;
    if (types & kNull) alts.push_back({Symbol::literal("null")});
    if (types & kBool) {
      alts.push_back({Symbol::literal("true")});
      alts.push_back({Symbol::literal("false")});
    }
    const bool ground = opt_.grounded && grounded_here(s, ptr);
    if (types & (kInteger | kNumber)) {
      auto r = number_rule(s, ptr, (types & kNumber) == 0);
      if (r) alts.push_back({ground ? Symbol::grounded_ref(*r, Grounded::Number) : Symbol::ref(*r)});
    }
    if (types & kString) {
      auto seq = ground ? grounded_string(s, ptr) : std::nullopt;
      if (!seq) seq = string_sequence(s, ptr);
      if (seq) alts.push_back(std::move(*seq));
    }
    if (types & kArray) {
      for (auto& a : array_alternatives(s, ptr)) alts.push_back(std::move(a));
    }
    if (types & kObject) {
      for (auto& a : object_alternatives(s, ptr)) alts.push_back(std::move(a));
    }
    return alts;
  }

  // oneOf. Branches i and j that provably share no value (relations.h) need nothing more; the
  // oneOf is then exactly the union of its branches. Otherwise branch i keeps only values that
  // provably fail every branch j it may overlap: if it is limited to enum/const values, those
  // that fail the others; else, for each such j, one "failure witness" of j (a type j does not
  // admit, a required key of j absent, a number or length outside j's bounds), every combination
  // of choices becoming an alternative (at most 64 in all). Each kept value matches exactly one
  // branch, so the result is a subset of the valid values. When nothing is left although the
  // branches admit values, exclusivity cannot be enforced: SchemaError (lenient: read as anyOf).
  std::vector<Sequence> one_of_alternatives(const Value& rest, const Value& branches, const std::string& ptr) {
    const std::size_t n = branches.items().size();
    const bool plain = !has_constraints(rest);
    std::vector<Value> eff;  // each branch with the siblings applied
    for (const auto& b : branches.items()) eff.push_back(plain ? b : all_of(rest, b));
    SchemaRelations rel(
        [this](const Value& ref) {
          std::string canonical, why;
          return lookup(ref, &canonical, &why);
        },
        semantics_, &proof_steps_);
    std::vector<std::vector<bool>> overlap(n, std::vector<bool>(n, false));
    bool exact = true;
    std::pair<std::size_t, std::size_t> first_overlap{0, 0};
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        if (rel.disjoint(eff[i], eff[j])) continue;
        if (exact) first_overlap = {i, j};
        overlap[i][j] = overlap[j][i] = true;
        exact = false;
      }
    }
    auto branch_rule = [&](std::size_t i) {
      std::string bptr = child(child(ptr, "oneOf"), i);
      return plain ? compile(branches.items()[i], bptr) : compile_synthetic(eff[i], bptr + "/+");
    };
    std::vector<Sequence> alts;
    if (exact) {
      for (std::size_t i = 0; i < n; ++i) {
        if (auto r = branch_rule(i)) alts.push_back({Symbol::ref(*r)});
      }
      return alts;
    }
    std::size_t expanded = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::string bptr = child(child(ptr, "oneOf"), i) + "/+";
      if (auto values = rel.finite_values(eff[i])) {
        std::vector<Value> kept;
        for (const auto& v : *values) {
          bool alone = true;
          for (std::size_t j = 0; j < n && alone; ++j) {
            if (j != i && overlap[i][j]) alone = rel.definitely_invalid(v, eff[j]);
          }
          if (alone) kept.push_back(v);
        }
        if (kept.empty()) continue;
        auto r = compile_synthetic(all_of(eff[i], Value::object({{"enum", Value::array(std::move(kept))}})),
                                   bptr + "enum");
        if (r) alts.push_back({Symbol::ref(*r)});
        continue;
      }
      std::vector<std::vector<Value>> choices;
      bool possible = true;
      for (std::size_t j = 0; j < n && possible; ++j) {
        if (j == i || !overlap[i][j]) continue;
        choices.push_back(rel.failure_witnesses(eff[j], eff[i]));
        possible = !choices.back().empty();
      }
      if (!possible) continue;
      std::vector<std::size_t> pick(choices.size(), 0);
      while (true) {
        if (++expanded > kMaxAlternativesProduct) {
          if (opt_.lenient) return lenient_one_of(n, branch_rule, ptr);
          throw SchemaError("oneOf", ptr,
                            "branches overlap and keeping only values that match one of them needs more than " +
                                std::to_string(kMaxAlternativesProduct) + " alternatives");
        }
        std::vector<Value> parts{eff[i]};
        for (std::size_t k = 0; k < choices.size(); ++k) parts.push_back(choices[k][pick[k]]);
        auto r = compile_synthetic(Value::object({{"allOf", Value::array(std::move(parts))}}),
                                   bptr + std::to_string(expanded));
        if (r) alts.push_back({Symbol::ref(*r)});
        std::size_t k = 0;
        while (k < pick.size() && ++pick[k] == choices[k].size()) pick[k++] = 0;
        if (k == pick.size()) break;
      }
    }
    if (alts.empty()) {
      bool any_value = false;
      for (std::size_t i = 0; i < n && !any_value; ++i) any_value = branch_rule(i).has_value();
      if (any_value) {
        if (opt_.lenient) return lenient_one_of(n, branch_rule, ptr);
        throw SchemaError("oneOf", ptr,
                          "branches " + std::to_string(first_overlap.first) + " and " +
                              std::to_string(first_overlap.second) +
                              " may both match a value, and no value could be shown to match only one branch");
      }
    }
    return alts;
  }

  // Lenient reading of a oneOf whose exclusivity cannot be enforced: the union of its branches.
  template <typename F>
  std::vector<Sequence> lenient_one_of(std::size_t n, F&& branch_rule, const std::string& ptr) {
    ignored_note("oneOf", ptr);
    std::vector<Sequence> alts;
    for (std::size_t i = 0; i < n; ++i) {
      if (auto r = branch_rule(i)) alts.push_back({Symbol::ref(*r)});
    }
    return alts;
  }

  // ---- allOf merging ---------------------------------------------------------------------------
  // Flattens `s` into its conjuncts: the referenced schema, the schema minus $ref/allOf, then each
  // allOf branch, recursively.
  void flatten(const Value& s, const std::string& ptr, std::vector<std::pair<Value, std::string>>& parts,
               int depth, std::vector<std::string>* targets) {
    if (depth > kMaxMergeDepth) {
      throw SchemaError("allOf", ptr, "recursive reference inside allOf/$ref merging is not supported");
    }
    if (s.is_bool()) {
      parts.emplace_back(s.as_bool() ? Value::object() : Value::boolean(false), ptr);
      return;
    }
    if (!s.is_object()) throw SchemaError("", ptr, "a schema must be an object or a boolean");
    check_keywords(s, ptr);
    // The referenced schema comes first, so an extending schema's own properties follow the base
    // schema's in the merged key order.
    if (const Value* ref = s.find("$ref")) {
      auto [target, tptr] = resolve(*ref, ptr);
      if (targets != nullptr) targets->push_back(tptr);
      flatten(*target, tptr, parts, depth + 1, targets);
    }
    parts.emplace_back(without(s, {"$ref", "allOf"}), ptr);
    if (const Value* all = s.find("allOf")) {
      if (!all->is_array() || all->items().empty()) malformed("allOf", ptr, "must be a non-empty array");
      for (std::size_t i = 0; i < all->items().size(); ++i) {
        flatten(all->items()[i], child(child(ptr, "allOf"), i), parts, depth + 1, targets);
      }
    }
  }

  static Value all_of(const Value& a, const Value& b) {
    return Value::object({{"allOf", Value::array({a, b})}});
  }

  // The merge of `s`'s conjuncts; `targets` (if given) receives the pointers of the references
  // the merge resolved.
  Value merge_all(const Value& s, const std::string& ptr, std::vector<std::string>* targets) {
    std::vector<std::pair<Value, std::string>> parts;
    flatten(s, ptr, parts, 0, targets);
    std::vector<json::Member> acc;
    auto find = [&](std::string_view key) -> Value* {
      for (auto& m : acc) {
        if (m.first == key) return &m.second;
      }
      return nullptr;
    };
    auto set = [&](const std::string& key, Value v) {
      if (Value* cur = find(key)) {
        *cur = std::move(v);
      } else {
        acc.emplace_back(key, std::move(v));
      }
    };
    bool unsat = false;
    for (const auto& [part, pptr] : parts) {
      if (part.is_bool()) {
        unsat = true;
        continue;
      }
      for (const auto& [key, value] : part.members()) {
        // Refused keywords were reported by flatten(); annotations and unknown keywords carry no
        // constraint.
        if (!handled_keywords().count(key)) continue;
        if (key == "items" || key == "prefixItems" || key == "additionalItems") continue;  // below
        Value* cur = find(key);
        if (cur == nullptr) {
          set(key, value);
          continue;
        }
        if (json_equal(*cur, value)) continue;
        if (key == "type") {
          unsigned a = 0, b = 0;
          // A lambda may not capture a structured binding before C++20 (Clang refuses it).
          const auto& at = pptr;
          auto bits = [&](const Value& t) {
            unsigned r = 0;
            if (t.is_string()) r = type_bits(t.as_string());
            for (const auto& n : t.items()) r |= n.is_string() ? type_bits(n.as_string()) : 0;
            if (r == 0) malformed("type", at, "names an unknown type");
            return r;
          };
          a = bits(*cur);
          b = bits(value);
          unsigned both = a & b;
          std::vector<Value> names;
          if (both & kNull) names.push_back(Value::string("null"));
          if (both & kBool) names.push_back(Value::string("boolean"));
          if (both & kNumber) {
            names.push_back(Value::string("number"));
          } else if (both & kInteger) {
            names.push_back(Value::string("integer"));
          }
          if (both & kString) names.push_back(Value::string("string"));
          if (both & kArray) names.push_back(Value::string("array"));
          if (both & kObject) names.push_back(Value::string("object"));
          if (names.empty()) {
            unsat = true;
          } else {
            set(key, Value::array(std::move(names)));
          }
        } else if (key == "properties") {
          if (!cur->is_object() || !value.is_object()) malformed("properties", pptr, "must be an object");
          Value merged = *cur;
          for (const auto& [pk, pv] : value.members()) {
            bool found = false;
            for (auto& m : merged.members()) {
              if (m.first == pk) {
                m.second = all_of(m.second, pv);
                found = true;
              }
            }
            if (!found) merged.members().emplace_back(pk, pv);
          }
          set(key, std::move(merged));
        } else if (key == "required") {
          if (!cur->is_array() || !value.is_array()) malformed("required", pptr, "must be an array");
          Value merged = *cur;
          for (const auto& r : value.items()) {
            bool found = false;
            for (const auto& x : merged.items()) found = found || json_equal(x, r);
            if (!found) merged.items().push_back(r);
          }
          set(key, std::move(merged));
        } else if (key == "additionalProperties") {
          set(key, all_of(*cur, value));
        } else if (key == "minItems" || key == "minLength" || key == "minimum") {
          if (!cur->is_number() || !value.is_number()) malformed(key, pptr, "must be a number");
          if (value.as_double() > cur->as_double()) set(key, value);
        } else if (key == "maxItems" || key == "maxLength" || key == "maximum") {
          if (!cur->is_number() || !value.is_number()) malformed(key, pptr, "must be a number");
          if (value.as_double() < cur->as_double()) set(key, value);
        } else if ((key == "exclusiveMinimum" || key == "exclusiveMaximum") &&
                   (cur->is_bool() || cur->is_number()) && (value.is_bool() || value.is_number())) {
          // Two exclusive bounds in the same form: booleans (draft 4 flags on minimum/maximum)
          // make the bound exclusive if either does; numbers take the tighter. One of each
          // (the compiler reads both forms in every draft): the flag's bound and the number
          // become one, kept in the flag's form: the number when it is as tight or tighter
          // (exclusive), else the flag's bound as it was. Each result implies both conjuncts.
          const bool lower = key == "exclusiveMinimum";
          if (cur->is_bool() && value.is_bool()) {
            set(key, Value::boolean(true));
          } else if (cur->is_number() && value.is_number()) {
            if (lower ? json::compare_numbers(value, *cur) > 0 : json::compare_numbers(value, *cur) < 0) set(key, value);
          } else {
            const Value number = cur->is_number() ? *cur : value;
            const bool flag = cur->is_bool() ? cur->as_bool() : value.as_bool();
            const char* bound_key = lower ? "minimum" : "maximum";
            const Value* bound = find(bound_key);
            if (bound != nullptr && !bound->is_number()) malformed(bound_key, pptr, "must be a number");
            const int c = bound == nullptr ? 0 : json::compare_numbers(number, *bound);
            if (bound == nullptr || (lower ? c >= 0 : c <= 0)) {
              set(bound_key, number);
              set(key, Value::boolean(true));
            } else {
              set(key, Value::boolean(flag));
            }
          }
        } else if (key == "enum") {
          if (!cur->is_array() || !value.is_array()) malformed("enum", pptr, "must be an array");
          std::vector<Value> both;
          for (const auto& x : cur->items()) {
            for (const auto& y : value.items()) {
              if (json_equal(x, y)) {
                both.push_back(x);
                break;
              }
            }
          }
          set(key, Value::array(std::move(both)));
        } else if (key == "const") {
          unsat = true;
        } else if (key == "anyOf" || key == "oneOf") {
          if (!cur->is_array() || !value.is_array()) malformed(key, pptr, "must be an array");
          if (cur->items().size() * value.items().size() > kMaxAlternativesProduct) {
            throw SchemaError(key, pptr, "allOf of several anyOf/oneOf is too large to expand");
          }
          std::vector<Value> product;
          for (const auto& x : cur->items()) {
            for (const auto& y : value.items()) product.push_back(all_of(x, y));
          }
          set(key, Value::array(std::move(product)));
        } else {
          throw SchemaError("allOf", pptr, "cannot merge differing '" + key + "' keywords");
        }
      }
    }
    // additionalProperties is relative to each branch's own properties: merging is sound only if
    // every branch that restricts additional properties declares all merged properties.
    if (const Value* props = find("properties")) {
      for (const auto& [part, pptr] : parts) {
        if (!part.is_object()) continue;
        const Value* ap = part.find("additionalProperties");
        if (ap == nullptr || (ap->is_bool() && ap->as_bool())) continue;
        const Value* own_props = part.find("properties");
        for (const auto& m : props->members()) {
          if (own_props == nullptr || !own_props->is_object() || !own_props->contains(m.first)) {
            throw SchemaError("allOf", pptr,
                              "additionalProperties of one branch would apply to property '" + m.first +
                                  "' declared in another; cannot merge");
          }
        }
      }
    }
    merge_array_items(parts, acc);
    if (unsat) return Value::boolean(false);
    return Value::object(std::move(acc));
  }

  // Array elements under several conjuncts. Each conjunct constrains element k by its own prefix
  // (prefixItems, or array-form items) for k inside it and by its own rest (items after
  // prefixItems, additionalItems after array-form items) beyond: the merge takes, position by
  // position, the allOf of what every conjunct says there, written as array-form items plus
  // additionalItems (which array_alternatives reads in every draft). `items` of one conjunct thus
  // still applies to the positions of another conjunct's prefixItems.
  void merge_array_items(const std::vector<std::pair<Value, std::string>>& parts, std::vector<json::Member>& acc) {
    struct Tuple {
      std::vector<Value> prefix;
      std::optional<Value> rest;
    };
    std::vector<Tuple> tuples;
    for (const auto& [part, pptr] : parts) {
      if (!part.is_object()) continue;
      const Value* pi = semantics_.prefix_items ? part.find("prefixItems") : nullptr;
      const Value* it = part.find("items");
      const Value* ai = part.find("additionalItems");
      if (pi == nullptr && it == nullptr) continue;  // additionalItems alone has no effect
      Tuple t;
      if (pi != nullptr) {
        if (!pi->is_array()) malformed("prefixItems", pptr, "must be an array");
        t.prefix = pi->items();
        if (it != nullptr) {
          if (it->is_array()) malformed("items", pptr, "must be a schema when prefixItems is used");
          t.rest = *it;
        }
        if (ai != nullptr) unsupported("additionalItems", pptr, "additionalItems with prefixItems is not supported");
      } else if (it->is_array()) {
        t.prefix = it->items();
        if (ai != nullptr) t.rest = *ai;
      } else {
        if (!it->is_object() && !it->is_bool()) malformed("items", pptr, "must be a schema");
        t.rest = *it;
      }
      tuples.push_back(std::move(t));
    }
    if (tuples.empty()) return;
    auto conj = [](std::vector<Value> xs) -> std::optional<Value> {
      if (xs.empty()) return std::nullopt;
      if (xs.size() == 1) return std::move(xs[0]);
      return Value::object({{"allOf", Value::array(std::move(xs))}});
    };
    std::size_t len = 0;
    for (const auto& t : tuples) len = std::max(len, t.prefix.size());
    std::vector<Value> rests;
    for (const auto& t : tuples) {
      if (t.rest) rests.push_back(*t.rest);
    }
    std::optional<Value> rest = conj(rests);
    if (len == 0) {
      if (rest) acc.emplace_back("items", std::move(*rest));
      return;
    }
    std::vector<Value> prefix;
    for (std::size_t k = 0; k < len; ++k) {
      std::vector<Value> at;
      for (const auto& t : tuples) {
        if (k < t.prefix.size()) {
          at.push_back(t.prefix[k]);
        } else if (t.rest) {
          at.push_back(*t.rest);
        }
      }
      prefix.push_back(*conj(std::move(at)));
    }
    acc.emplace_back("items", Value::array(std::move(prefix)));
    if (rest) acc.emplace_back("additionalItems", std::move(*rest));
  }

  // ---- enum / const ----------------------------------------------------------------------------
  // Whether `v` satisfies the sibling keywords of an enum/const (those that can be checked
  // without a full validator); other siblings are refused.
  bool admits(const Value& s, const Value& v, const std::string& ptr) {
    for (const auto& [key, kv] : s.members()) {
      if (!handled_keywords().count(key) || key == "enum" || key == "const") continue;
      if (key == "type") {
        unsigned bits = 0;
        if (kv.is_string()) bits = type_bits(kv.as_string());
        for (const auto& n : kv.items()) bits |= n.is_string() ? type_bits(n.as_string()) : 0;
        if (bits == 0) malformed("type", ptr, "names an unknown type");
        unsigned vb = 0;
        switch (v.type()) {
          case Value::Type::Null: vb = kNull; break;
          case Value::Type::Bool: vb = kBool; break;
          case Value::Type::Number: {
            // 1.0 is an integer from draft 6 on; draft 4 counts only integer literals.
            bool integral = draft4_ ? v.is_integer_literal() : json::is_integer_number(v);
            vb = integral ? kInteger : kNumber;
            break;
          }
          case Value::Type::String: vb = kString; break;
          case Value::Type::Array: vb = kArray; break;
          case Value::Type::Object: vb = kObject; break;
        }
        if ((bits & vb) == 0) return false;
      } else if (key == "minimum" || key == "maximum" || key == "exclusiveMinimum" ||
                 key == "exclusiveMaximum") {
        if (!v.is_number()) continue;
        if (!kv.is_number()) malformed(key, ptr, "must be a number");
        Dec x = parse_dec(v.number_text(), key, ptr);
        Dec b = parse_dec(kv.number_text(), key, ptr);
        int c = cmp(x, b);
        if ((key == "minimum" && c < 0) || (key == "maximum" && c > 0) ||
            (key == "exclusiveMinimum" && c <= 0) || (key == "exclusiveMaximum" && c >= 0)) {
          return false;
        }
      } else if (key == "minLength" || key == "maxLength") {
        if (!v.is_string()) continue;
        auto n = get_count(s, key.c_str(), ptr);
        std::size_t len = 0;
        for (unsigned char c : v.as_string()) len += (c & 0xC0) != 0x80;
        if ((key == "minLength" && len < *n) || (key == "maxLength" && len > *n)) return false;
      } else if (key == "minItems" || key == "maxItems") {
        if (!v.is_array()) continue;
        auto n = get_count(s, key.c_str(), ptr);
        if ((key == "minItems" && v.size() < *n) || (key == "maxItems" && v.size() > *n)) return false;
      } else {
        unsupported(key, ptr, "'" + key + "' together with enum/const is not supported");
      }
    }
    return true;
  }

  void emit_value(const Value& v, Sequence& out) {
    switch (v.type()) {
      case Value::Type::Null: append(out, Symbol::literal("null")); return;
      case Value::Type::Bool: append(out, Symbol::literal(v.as_bool() ? "true" : "false")); return;
      case Value::Type::Number: append(out, Symbol::literal(v.number_text())); return;
      case Value::Type::String: {
        append(out, Symbol::literal("\""));
        append(out, StringFragments::text(v.as_string()));
        append(out, Symbol::literal("\""));
        return;
      }
      case Value::Type::Array: {
        if (v.items().empty()) {
          append(out, empty("[", "]"));
          return;
        }
        append(out, open("["));
        bool first = true;
        for (const auto& item : v.items()) {
          if (!first) append(out, comma());
          first = false;
          emit_value(item, out);
        }
        append(out, close("]"));
        return;
      }
      case Value::Type::Object: {
        if (v.members().empty()) {
          append(out, empty("{", "}"));
          return;
        }
        append(out, open("{"));
        bool first = true;
        for (const auto& [key, item] : v.members()) {
          if (!first) append(out, comma());
          first = false;
          append(out, Symbol::literal("\""));
          append(out, StringFragments::text(key));
          append(out, Symbol::literal("\""));
          append(out, colon());
          emit_value(item, out);
        }
        append(out, close("}"));
        return;
      }
    }
  }

  std::vector<Sequence> enum_alternatives(const Value& s, const Value* en, const Value* cn,
                                          const std::string& ptr) {
    std::vector<const Value*> values;
    if (en != nullptr) {
      if (!en->is_array()) malformed("enum", ptr, "must be an array");
      for (const auto& v : en->items()) {
        if (cn == nullptr || json_equal(v, *cn)) values.push_back(&v);
      }
    } else {
      values.push_back(cn);
    }
    std::vector<Sequence> alts;
    std::set<std::string> seen;
    for (const Value* v : values) {
      if (!admits(s, *v, ptr)) continue;
      Sequence seq;
      emit_value(*v, seq);
      std::string key = json::dump(*v);
      if (!seen.insert(key).second) continue;
      alts.push_back(std::move(seq));
    }
    return alts;
  }

  // ---- numbers ---------------------------------------------------------------------------------
  // Decimal-digit alternatives for the n-digit strings (leading zeros allowed) in [lo, hi].
  void digit_ranges(std::int64_t lo, std::int64_t hi, int n, Sequence prefix, std::vector<Sequence>& out) {
    if (n == 0) {
      out.push_back(std::move(prefix));
      return;
    }
    std::int64_t p = 1;
    for (int i = 1; i < n; ++i) p *= 10;
    std::int64_t dlo = lo / p, dhi = hi / p;
    auto digit_class = [](std::int64_t a, std::int64_t b) {
      return Symbol::char_class({{static_cast<std::uint32_t>('0' + a), static_cast<std::uint32_t>('0' + b)}});
    };
    auto with = [&](Symbol s) {
      Sequence seq = prefix;
      seq.push_back(std::move(s));
      return seq;
    };
    if (dlo == dhi) {
      digit_ranges(lo % p, hi % p, n - 1, with(digit_class(dlo, dlo)), out);
      return;
    }
    std::int64_t start = dlo, end = dhi;
    if (lo % p != 0) {
      digit_ranges(lo % p, p - 1, n - 1, with(digit_class(dlo, dlo)), out);
      start = dlo + 1;
    }
    bool last_partial = hi % p != p - 1;
    if (last_partial) end = dhi - 1;
    if (start <= end) {
      Sequence seq = with(digit_class(start, end));
      if (n > 1) seq.push_back(Symbol::repeat(digit(), static_cast<std::uint32_t>(n - 1), static_cast<std::uint32_t>(n - 1)));
      out.push_back(std::move(seq));
    }
    if (last_partial) digit_ranges(0, hi % p, n - 1, with(digit_class(dhi, dhi)), out);
  }

  static int n_digits(std::int64_t v) {
    int n = 1;
    while (v >= 10) {
      v /= 10;
      ++n;
    }
    return n;
  }

  // Canonical decimal spellings (no leading zeros) of the integers in [lo, hi], 0 <= lo <= hi.
  void natural_range(std::int64_t lo, std::int64_t hi, const Sequence& prefix, std::vector<Sequence>& out) {
    std::int64_t p = 1;
    for (int len = 1; len <= n_digits(hi); ++len) {
      std::int64_t first = len == 1 ? 0 : p;
      std::int64_t last = p * 10 - 1;
      std::int64_t a = std::max(lo, first), b = std::min(hi, last);
      if (a <= b) digit_ranges(a, b, len, prefix, out);
      if (len < 18) p *= 10;
    }
  }

  // Integer alternatives for [lo, hi] (both within +-kIntMax).
  std::vector<Sequence> integer_range(std::int64_t lo, std::int64_t hi) {
    std::vector<Sequence> out;
    if (lo > hi) return out;
    if (lo < 0) natural_range(std::max<std::int64_t>(1, -hi), -lo, {Symbol::literal("-")}, out);
    if (hi >= 0) natural_range(std::max<std::int64_t>(0, lo), hi, {}, out);
    return out;
  }

  static std::int64_t dec_to_int(const Dec& d) {
    std::int64_t v = 0;
    for (char c : d.ip) v = v * 10 + (c - '0');
    return d.neg ? -v : v;
  }

  // Reads the numeric bounds of `s`. Draft-04 boolean exclusiveMinimum/Maximum are honoured.
  void read_bounds(const Value& s, const std::string& ptr, std::optional<Bound>& lower,
                   std::optional<Bound>& upper) {
    auto num = [&](const char* key) -> std::optional<Dec> {
      const Value* v = s.find(key);
      if (v == nullptr || v->is_bool()) return std::nullopt;
      if (!v->is_number()) malformed(key, ptr, "must be a number");
      return parse_dec(v->number_text(), key, ptr);
    };
    auto flag = [&](const char* key) {
      const Value* v = s.find(key);
      return v != nullptr && v->is_bool() && v->as_bool();
    };
    auto tighten_lower = [&](Dec d, bool excl) {
      if (!lower || cmp(d, lower->value) > 0 || (cmp(d, lower->value) == 0 && excl)) lower = Bound{d, excl};
    };
    auto tighten_upper = [&](Dec d, bool excl) {
      if (!upper || cmp(d, upper->value) < 0 || (cmp(d, upper->value) == 0 && excl)) upper = Bound{d, excl};
    };
    if (auto d = num("minimum")) tighten_lower(*d, flag("exclusiveMinimum"));
    if (auto d = num("maximum")) tighten_upper(*d, flag("exclusiveMaximum"));
    if (auto d = num("exclusiveMinimum")) tighten_lower(*d, true);
    if (auto d = num("exclusiveMaximum")) tighten_upper(*d, true);
  }

  std::optional<std::uint32_t> number_rule(const Value& s, const std::string& ptr, bool integer_only) {
    std::optional<Bound> lower, upper;
    read_bounds(s, ptr, lower, upper);
    if (lower && upper) {
      int c = cmp(lower->value, upper->value);
      check_order(s, c < 0 || (c == 0 && !lower->exclusive && !upper->exclusive), "minimum", ptr);
    }
    if (!lower && !upper) return integer_only ? integer_any() : number_any();
    std::vector<Sequence> alts;
    if (integer_only) {
      // Exact integer bounds, clamped to the digit cap.
      std::int64_t lo = -kIntMax, hi = kIntMax;
      if (lower) {
        const Dec& d = lower->value;
        if (d.ip.size() > kIntDigits) {
          if (!d.neg) return std::nullopt;
        } else {
          std::int64_t v = dec_to_int(d);  // truncated toward zero
          bool exact = d.fp.empty();
          if (d.neg) {
            lo = (exact && lower->exclusive) ? v + 1 : v;  // ceil of a negative = truncation
          } else {
            lo = exact ? (lower->exclusive ? v + 1 : v) : v + 1;
          }
        }
      }
      if (upper) {
        const Dec& d = upper->value;
        if (d.ip.size() > kIntDigits) {
          if (d.neg) return std::nullopt;
        } else {
          std::int64_t v = dec_to_int(d);
          bool exact = d.fp.empty();
          if (!d.neg) {
            hi = (exact && upper->exclusive) ? v - 1 : v;  // floor of a positive = truncation
          } else {
            hi = exact ? (upper->exclusive ? v - 1 : v) : v - 1;
          }
        }
      }
      lo = std::max(lo, -kIntMax);
      hi = std::min(hi, kIntMax);
      alts = integer_range(lo, hi);
    } else {
      // Non-negative part: x >= max(lower, 0).
      Bound zero{Dec{}, false};
      bool pos_possible = !upper || !upper->value.neg;
      if (pos_possible) {
        Bound lb = (lower && !lower->value.neg) ? *lower : zero;
        std::optional<Bound> ub = upper;
        nonneg_alternatives(lb, ub, {}, alts);
      }
      // Negative part: x = -y with y > 0.
      bool neg_possible = !lower || lower->value.neg;
      if (neg_possible) {
        Bound lb{Dec{}, true};
        if (upper && upper->value.neg) lb = Bound{negate(upper->value), upper->exclusive};
        std::optional<Bound> ub;
        if (lower) ub = Bound{negate(lower->value), lower->exclusive};
        nonneg_alternatives(lb, ub, {Symbol::literal("-")}, alts);
      }
    }
    if (!integer_only && zero_allowed(lower, upper)) {
      // Negative zero (Python writes -0.0): equal to 0, so valid whenever 0 is.
      if (neg_zero_rule_ < 0) {
        std::uint32_t zero = add_rule("zero-digit", {{Symbol::literal("0")}});
        std::uint32_t zeros = add_rule("zero-fraction", {{Symbol::literal("."), Symbol::repeat(zero, 1, kFracDigits)}});
        neg_zero_rule_ = add_rule("negative-zero", {{Symbol::literal("-0"), Symbol::repeat(zeros, 0, 1)}});
      }
      alts.push_back({Symbol::ref(static_cast<std::uint32_t>(neg_zero_rule_))});
    }
    if (alts.empty()) return std::nullopt;
    return add_rule(integer_only ? "bounded-integer" : "bounded-number", std::move(alts));
  }

  static bool zero_allowed(const std::optional<Bound>& lower, const std::optional<Bound>& upper) {
    Dec zero;
    if (lower) {
      int c = cmp(lower->value, zero);
      if (c > 0 || (c == 0 && lower->exclusive)) return false;
    }
    if (upper) {
      int c = cmp(upper->value, zero);
      if (c < 0 || (c == 0 && upper->exclusive)) return false;
    }
    return true;
  }

  // Spellings "I" or "I.F" (no exponent) of the numbers x >= 0 with lb <= x <= ub (each bound
  // possibly exclusive; an absent ub means the digit cap), each prefixed by `prefix`.
  void nonneg_alternatives(const Bound& lb, const std::optional<Bound>& ub, const Sequence& prefix,
                           std::vector<Sequence>& out) {
    if (lb.value.ip.size() > kIntDigits) return;
    std::optional<Bound> hb = ub;
    if (hb && hb->value.ip.size() > kIntDigits) hb.reset();
    if (hb) {
      int c = cmp(lb.value, hb->value);
      if (c > 0 || (c == 0 && (lb.exclusive || hb->exclusive))) return;
    }
    std::int64_t bl = dec_to_int(lb.value);
    std::int64_t bh = hb ? dec_to_int(hb->value) : kIntMax;
    std::string fb_key = lb.value.fp + (lb.exclusive ? "x" : "i") + "/" + (hb ? hb->value.fp : "") +
                         (hb && hb->exclusive ? "x" : "i");
    auto fb_it = frac_builders_.find(fb_key);
    if (fb_it == frac_builders_.end()) {
      fb_it = frac_builders_
                  .emplace(fb_key, FracBuilder{this, lb.value.fp, lb.exclusive, hb ? hb->value.fp : std::string(),
                                               hb && hb->exclusive, {}})
                  .first;
    }
    FracBuilder& fb = fb_it->second;
    auto emit_fixed = [&](std::int64_t ip, bool tl, bool th) {
      Sequence base = prefix;
      append(base, Symbol::literal(std::to_string(ip)));
      if (fb.end_ok(0, tl, th)) out.push_back(base);
      if (auto r = fb.rule(0, tl, th, false)) {
        Sequence seq = base;
        append(seq, Symbol::literal("."));
        append(seq, Symbol::ref(*r));
        out.push_back(std::move(seq));
      }
    };
    if (hb && bl == bh) {
      emit_fixed(bl, true, true);
      return;
    }
    emit_fixed(bl, true, false);
    if (bl + 1 <= bh - (hb ? 1 : 0)) {
      std::vector<Sequence> mids;
      natural_range(bl + 1, hb ? bh - 1 : bh, {}, mids);
      std::uint32_t mid = add_rule("integer-part", std::move(mids));
      Sequence seq = prefix;
      append(seq, Symbol::ref(mid));
      append(seq, Symbol::repeat(frac_any(), 0, 1));
      out.push_back(std::move(seq));
    }
    if (hb) emit_fixed(bh, false, true);
  }

  // Fraction digit strings F (after the point) constrained by the fraction digits of the lower
  // bound (when tight on it, "tl") and of the upper bound ("th"), compared with zero padding.
  struct FracBuilder {
    Compiler* c;
    std::string dl;
    bool excl_lo;
    std::string dh;
    bool excl_hi;
    std::map<std::tuple<std::uint32_t, bool, bool, bool>, std::optional<std::uint32_t>> memo;

    bool end_ok(std::uint32_t i, bool tl, bool th) const {
      if (tl && (i < dl.size() || excl_lo)) return false;
      if (th && i >= dh.size() && excl_hi) return false;
      return true;
    }

    std::optional<std::uint32_t> rule(std::uint32_t i, bool tl, bool th, bool allow_end) {
      // Past the lower bound's digits, an inclusive lower bound holds whatever follows.
      if (tl && i >= dl.size() && !excl_lo) tl = false;
      auto key = std::make_tuple(i, tl, th, allow_end);
      auto it = memo.find(key);
      if (it != memo.end()) return it->second;
      std::vector<Sequence> alts;
      if (!tl && !th) {
        if (i < kFracDigits) {
          alts.push_back({Symbol::repeat(c->digit(), allow_end ? 0 : 1, kFracDigits - i)});
        } else if (allow_end) {
          alts.push_back({});
        }
      } else {
        if (allow_end && end_ok(i, tl, th)) alts.push_back({});
        if (i < kFracDigits) {
          int lo_d = tl ? (i < dl.size() ? dl[i] - '0' : 0) : 0;
          int hi_d = th ? (i < dh.size() ? dh[i] - '0' : 0) : 9;
          // Group the digits by the tightness they leave.
          for (int d = lo_d; d <= hi_d;) {
            bool ntl = tl && d == lo_d;
            bool nth = th && d == hi_d;
            int e = d;
            while (e + 1 <= hi_d && (tl && e + 1 == lo_d) == ntl && (th && e + 1 == hi_d) == nth) ++e;
            auto next = rule(i + 1, ntl, nth, true);
            if (next) {
              alts.push_back({Symbol::char_class({{static_cast<std::uint32_t>('0' + d), static_cast<std::uint32_t>('0' + e)}}),
                              Symbol::ref(*next)});
            }
            d = e + 1;
          }
        }
      }
      std::optional<std::uint32_t> result;
      if (!alts.empty()) result = c->add_rule("fraction-digits", std::move(alts));
      memo[key] = result;
      return result;
    }
  };

  // ---- grounding -------------------------------------------------------------------------------
  // The schema's own opt-out: "x-maaza-grounded": false.
  bool grounded_here(const Value& s, const std::string& ptr) {
    const Value* g = s.find("x-maaza-grounded");
    if (g == nullptr) return true;
    if (!g->is_bool()) malformed("x-maaza-grounded", ptr, "must be a boolean");
    return g->as_bool();
  }

  // A string grounded in the text: only where nothing else shapes its content (pattern, format,
  // maxLength, minLength above 1 keep their own grammar).
  std::optional<Sequence> grounded_string(const Value& s, const std::string& ptr) {
    if (const Value* format = s.find("format")) {
      // A format that spells a value the way the text does (email, uri, ...) is grounded in the
      // text's words it matches; a date or time is usually written otherwise in the text.
      static const std::set<std::string, std::less<>> rewritten = {"date", "time", "date-time",
                                                                   "duration"};
      if (!format->is_string() || rewritten.count(format->as_string()) || s.find("pattern") != nullptr ||
          s.find("minLength") != nullptr || s.find("maxLength") != nullptr)
        return std::nullopt;
      auto seq = string_sequence(s, ptr);
      if (!seq || seq->size() != 3 || (*seq)[1].kind != Symbol::Kind::RuleRef) return seq;
      (*seq)[1].grounded = Grounded::Literal;
      return seq;
    }
    if (s.find("pattern") != nullptr || s.find("maxLength") != nullptr) return std::nullopt;
    std::uint64_t lo = get_count(s, "minLength", ptr).value_or(0);
    if (lo > 1) return std::nullopt;
    std::int64_t& body = lo == 0 ? grounded_body_ : grounded_body_nonempty_;
    if (body < 0) {
      body = add_rule(lo == 0 ? "grounded-body" : "grounded-body-nonempty",
                      {{Symbol::repeat(frags_.any_char(), static_cast<std::uint32_t>(lo), kUnbounded)}});
    }
    return Sequence{Symbol::literal("\""),
                    Symbol::grounded_ref(static_cast<std::uint32_t>(body),
                                         lo == 0 ? Grounded::Text : Grounded::TextNonEmpty),
                    Symbol::literal("\"")};
  }

  // ---- strings ---------------------------------------------------------------------------------
  std::optional<Sequence> string_sequence(const Value& s, const std::string& ptr) {
    auto min_len = get_count(s, "minLength", ptr);
    auto max_len = get_count(s, "maxLength", ptr);
    const Value* pattern = get_typed(s, "pattern", Value::Type::String, "a string", ptr);
    const Value* format = get_typed(s, "format", Value::Type::String, "a string", ptr);
    std::uint64_t lo = min_len.value_or(0);
    std::uint64_t hi = max_len.value_or(kUnbounded);
    if (min_len && max_len) check_order(s, *min_len <= *max_len, "minLength", ptr);
    if (lo > kMaxCount) throw SchemaError("minLength", ptr, "minLength above 100000 is not supported");
    if (max_len && hi > kMaxCount) {
      hi = kMaxCount;
      max_len = hi;
    }
    if (hi < lo) return std::nullopt;
    std::optional<std::uint32_t> content;
    if (pattern != nullptr && format != nullptr) {
      unsupported("format", ptr, "format together with pattern is not supported");
      format = nullptr;
    }
    bool has_length = lo > 0 || max_len.has_value();
    const std::uint64_t no_limit = ~std::uint64_t{0};
    // Pattern or format, intersected with the length bounds where that has a grammar.
    auto with_length = [&](StringFragments::Bounded b, auto plain) -> bool {
      if (b.supported) {
        has_length = false;
        if (!b.rule) return false;
        content = b.rule;
        return true;
      }
      const char* kw = max_len ? "maxLength" : "minLength";
      unsupported(kw, ptr, std::string(kw) + " together with this pattern or format is not supported");
      content = plain();
      has_length = false;
      return true;
    };
    if (format != nullptr) {
      try {
        if (has_length) {
          auto b = frags_.format_with_length(format->as_string(), ptr, lo, max_len.value_or(no_limit));
          if (!with_length(b, [&] { return frags_.format(format->as_string(), ptr); })) return std::nullopt;
        } else {
          content = frags_.format(format->as_string(), ptr);
        }
      } catch (const SchemaError& e) {
        if (!opt_.lenient || e.keyword() != "format") throw;
        ignored_note("format", ptr);
      }
    } else if (pattern != nullptr) {
      if (has_length) {
        auto b = frags_.pattern_with_length(pattern->as_string(), ptr, lo, max_len.value_or(no_limit));
        if (!with_length(b, [&] { return frags_.pattern(pattern->as_string(), ptr); })) return std::nullopt;
      } else {
        content = frags_.pattern(pattern->as_string(), ptr);
      }
    }
    Sequence seq{Symbol::literal("\"")};
    if (content) {
      seq.push_back(Symbol::ref(*content));
    } else {
      if (lo > 0 || hi != kUnbounded) {
        std::uint32_t h = hi >= kUnbounded ? kUnbounded : static_cast<std::uint32_t>(hi);
        seq.push_back(Symbol::repeat(frags_.any_char(), static_cast<std::uint32_t>(std::min<std::uint64_t>(lo, h)), h));
      } else {
        return Sequence{Symbol::ref(string_any())};
      }
    }
    seq.push_back(Symbol::literal("\""));
    return seq;
  }

  // ---- arrays ----------------------------------------------------------------------------------
  std::vector<Sequence> array_alternatives(const Value& s, const std::string& ptr) {
    std::uint64_t min_items = get_count(s, "minItems", ptr).value_or(0);
    std::uint64_t max_items = get_count(s, "maxItems", ptr).value_or(kUnbounded);
    check_order(s, min_items <= max_items, "minItems", ptr);
    if (min_items > kMaxCount) throw SchemaError("minItems", ptr, "minItems above 100000 is not supported");
    if (max_items != kUnbounded && max_items > kMaxCount) max_items = kMaxCount;
    const Value* items = s.find("items");
    const Value* prefix_items = semantics_.prefix_items ? s.find("prefixItems") : nullptr;
    const Value* additional_items = s.find("additionalItems");
    std::vector<std::pair<const Value*, std::string>> prefix;
    const Value* rest = nullptr;
    std::string rest_ptr;
    if (prefix_items != nullptr) {
      if (!prefix_items->is_array()) malformed("prefixItems", ptr, "must be an array");
      if (items != nullptr && items->is_array()) malformed("items", ptr, "must be a schema when prefixItems is used");
      if (additional_items != nullptr) unsupported("additionalItems", ptr, "additionalItems with prefixItems is not supported");
      for (std::size_t i = 0; i < prefix_items->items().size(); ++i) {
        prefix.emplace_back(&prefix_items->items()[i], child(child(ptr, "prefixItems"), i));
      }
      rest = items;
      rest_ptr = child(ptr, "items");
    } else if (items != nullptr && items->is_array()) {
      for (std::size_t i = 0; i < items->items().size(); ++i) {
        prefix.emplace_back(&items->items()[i], child(child(ptr, "items"), i));
      }
      rest = additional_items;
      rest_ptr = child(ptr, "additionalItems");
    } else {
      if (items != nullptr && !items->is_object() && !items->is_bool()) malformed("items", ptr, "must be a schema");
      rest = items;
      rest_ptr = child(ptr, "items");
    }
    std::vector<std::uint32_t> prefix_rules;
    std::uint64_t cap = max_items;
    for (const auto& [schema, pptr] : prefix) {
      auto r = compile(*schema, pptr);
      if (!r) {
        cap = std::min<std::uint64_t>(cap, prefix_rules.size());
        break;
      }
      prefix_rules.push_back(*r);
    }
    std::optional<std::uint32_t> rest_rule;
    if (prefix_rules.size() == prefix.size()) {
      if (rest == nullptr) {
        rest_rule = value_any();
      } else {
        rest_rule = compile(*rest, rest_ptr);
      }
      if (!rest_rule) cap = std::min<std::uint64_t>(cap, prefix_rules.size());
    } else {
      cap = std::min<std::uint64_t>(cap, prefix_rules.size());
    }
    if (min_items > cap) return {};
    std::vector<Sequence> alts;
    if (min_items == 0) alts.push_back(empty("[", "]"));
    if (cap == 0) return alts;

    auto to_u32 = [](std::uint64_t v) {
      return v >= kUnbounded ? kUnbounded : static_cast<std::uint32_t>(v);
    };
    const std::size_t k = prefix_rules.size();
    Sequence body;
    if (k == 0) {
      // item (comma item){lo-1, cap-1}
      std::uint64_t lo = std::max<std::uint64_t>(min_items, 1);
      append(body, Symbol::ref(*rest_rule));
      if (cap > 1) {
        Sequence ci = comma();
        append(ci, Symbol::ref(*rest_rule));
        std::uint32_t more = add_rule("more-items", {ci});
        append(body, Symbol::repeat(more, static_cast<std::uint32_t>(lo - 1), cap >= kUnbounded ? kUnbounded : to_u32(cap - 1)));
      }
    } else {
      // Elements after the prefix: (comma rest){max(0, min-k), cap-k}.
      Sequence tail;
      if (rest_rule && cap > k) {
        Sequence ci = comma();
        append(ci, Symbol::ref(*rest_rule));
        std::uint32_t more = add_rule("more-items", {ci});
        std::uint64_t tlo = min_items > k ? min_items - k : 0;
        tail.push_back(Symbol::repeat(more, to_u32(tlo), cap >= kUnbounded ? kUnbounded : to_u32(cap - k)));
      }
      // pre[i]: elements i.. (0-based) after i elements were written; element i > 0 needs a comma.
      std::optional<std::uint32_t> next;  // pre[i+1]
      for (std::size_t i = std::min<std::uint64_t>(k, cap); i-- > 0;) {
        std::vector<Sequence> pre;
        Sequence take = i == 0 ? Sequence{} : comma();
        append(take, Symbol::ref(prefix_rules[i]));
        if (i + 1 == std::min<std::uint64_t>(k, cap)) {
          if (i + 1 == k) append(take, tail);
        } else {
          append(take, Symbol::ref(*next));
        }
        pre.push_back(std::move(take));
        if (i > 0 && i >= min_items) pre.push_back({});
        next = add_rule("prefix-items", std::move(pre));
      }
      append(body, Symbol::ref(*next));
    }
    Sequence arr = open("[");
    append(arr, body);
    append(arr, close("]"));
    alts.push_back(std::move(arr));
    return alts;
  }

  // ---- objects ---------------------------------------------------------------------------------
  struct Property {
    std::string key;
    std::uint32_t rule;
    bool required;
  };

  std::vector<Sequence> object_alternatives(const Value& s, const std::string& ptr) {
    const Value* props = get_typed(s, "properties", Value::Type::Object, "an object", ptr);
    const Value* req = get_typed(s, "required", Value::Type::Array, "an array of strings", ptr);
    const Value* ap = s.find("additionalProperties");
    std::vector<std::string> required;
    if (req != nullptr) {
      for (const auto& r : req->items()) {
        if (!r.is_string()) malformed("required", ptr, "must be an array of strings");
        if (std::find(required.begin(), required.end(), r.as_string()) == required.end()) required.push_back(r.as_string());
      }
    }
    // additional properties: nullopt = not allowed.
    std::optional<std::uint32_t> extra;
    if (ap == nullptr) {
      if (opt_.additional_properties_default) extra = value_any();
    } else if (ap->is_bool()) {
      if (ap->as_bool()) extra = value_any();
    } else if (ap->is_object()) {
      extra = compile(*ap, child(ptr, "additionalProperties"));
    } else {
      malformed("additionalProperties", ptr, "must be a schema");
    }
    std::vector<Property> list;
    std::vector<std::string> declared;
    auto is_required = [&](const std::string& k) {
      return std::find(required.begin(), required.end(), k) != required.end();
    };
    if (props != nullptr) {
      for (const auto& [key, sub] : props->members()) {
        declared.push_back(key);
        auto r = compile(sub, child(child(ptr, "properties"), key));
        if (!r) {
          if (is_required(key)) return {};
          continue;
        }
        list.push_back({key, *r, is_required(key)});
      }
    }
    for (const auto& key : required) {
      if (std::find(declared.begin(), declared.end(), key) != declared.end()) continue;
      // A required key without a declared schema: the additional-properties schema, or any value
      // when additionalProperties is absent.
      std::optional<std::uint32_t> r;
      if (ap == nullptr) {
        r = value_any();
      } else {
        r = extra;
      }
      if (!r) return {};
      declared.push_back(key);
      list.push_back({key, *r, true});
    }

    auto kv = [&](const Property& p) {
      Sequence seq{Symbol::literal("\"")};
      append(seq, StringFragments::text(p.key));
      append(seq, Symbol::literal("\""));
      append(seq, colon());
      append(seq, Symbol::ref(p.rule));
      return seq;
    };
    std::optional<std::uint32_t> extra_kv;
    if (extra) {
      Sequence seq{Symbol::literal("\""), Symbol::ref(key_excluding(declared)), Symbol::literal("\"")};
      append(seq, colon());
      append(seq, Symbol::ref(*extra));
      extra_kv = add_rule("extra-property", {seq});
    }
    const std::size_t n = list.size();
    // rest[i]: properties i.. after at least one was written (each preceded by a comma).
    Sequence rest_tail;
    if (extra_kv) {
      Sequence ce = comma();
      append(ce, Symbol::ref(*extra_kv));
      rest_tail.push_back(Symbol::repeat(add_rule("more-extra", {ce}), 0, kUnbounded));
    }
    std::vector<Sequence> rest_at(n + 1);  // a sequence standing for rest[i]
    rest_at[n] = rest_tail;
    for (std::size_t i = n; i-- > 0;) {
      Sequence take = comma();
      append(take, kv(list[i]));
      append(take, rest_at[i + 1]);
      std::vector<Sequence> alts{take};
      if (!list[i].required) alts.push_back(rest_at[i + 1]);
      rest_at[i] = {Symbol::ref(add_rule("rest", std::move(alts)))};
    }
    // first[i]: a non-empty run of properties i.. with nothing written yet.
    std::optional<std::uint32_t> first_next;
    if (extra_kv) {
      Sequence seq{Symbol::ref(*extra_kv)};
      append(seq, rest_tail);
      first_next = add_rule("first-extra", {seq});
    }
    for (std::size_t i = n; i-- > 0;) {
      Sequence take = kv(list[i]);
      append(take, rest_at[i + 1]);
      std::vector<Sequence> alts{take};
      if (!list[i].required && first_next) alts.push_back({Symbol::ref(*first_next)});
      first_next = add_rule("first", std::move(alts));
    }
    std::vector<Sequence> alts;
    bool any_required = std::any_of(list.begin(), list.end(), [](const Property& p) { return p.required; });
    if (!any_required) alts.push_back(empty("{", "}"));
    if (first_next) {
      Sequence obj = open("{");
      append(obj, Symbol::ref(*first_next));
      append(obj, close("}"));
      alts.push_back(std::move(obj));
    }
    return alts;
  }

  // Canonically spelled string contents different from every key in `keys`.
  std::uint32_t key_excluding(const std::vector<std::string>& keys) {
    if (keys.empty()) return frags_.any_text();
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    std::string memo_key;
    for (const auto& k : sorted) memo_key += k + '\0';
    auto found = key_rules_.find(memo_key);
    if (found != key_rules_.end()) return found->second;
    // A trie over the keys' code points; each node: end here (unless a key ends here), take a
    // child's code point, or take any other code point and then anything.
    struct TrieNode {
      bool terminal = false;
      std::map<std::uint32_t, std::size_t> next;
    };
    std::vector<TrieNode> trie(1);
    for (const auto& key : keys) {
      std::size_t node = 0;
      for (std::uint32_t cp : decode(key)) {
        auto it = trie[node].next.find(cp);
        if (it == trie[node].next.end()) {
          trie.push_back({});
          it = trie[node].next.emplace(cp, trie.size() - 1).first;
        }
        node = it->second;
      }
      trie[node].terminal = true;
    }
    std::uint32_t any = frags_.any_text();
    std::vector<std::uint32_t> rules(trie.size());
    for (std::size_t i = 0; i < trie.size(); ++i) rules[i] = reserve_rule("key");
    for (std::size_t i = 0; i < trie.size(); ++i) {
      std::vector<Sequence> alts;
      if (!trie[i].terminal) alts.push_back({});
      std::vector<CharRange> taken;
      for (const auto& [cp, to] : trie[i].next) {
        Sequence seq = StringFragments::text(encode(cp));
        seq.push_back(Symbol::ref(rules[to]));
        alts.push_back(std::move(seq));
        taken.push_back({cp, cp});
      }
      std::vector<CharRange> other = complement_ranges(taken);
      if (!other.empty()) alts.push_back({Symbol::ref(frags_.encoded_class(other)), Symbol::ref(any)});
      g_.set_alternatives(rules[i], std::move(alts));
    }
    key_rules_.emplace(std::move(memo_key), rules[0]);
    return rules[0];
  }

  static std::vector<std::uint32_t> decode(const std::string& s) {
    std::vector<std::uint32_t> out;
    for (std::size_t i = 0; i < s.size();) {
      auto c = static_cast<unsigned char>(s[i]);
      std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
      for (std::size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      out.push_back(cp);
      i += n;
    }
    return out;
  }

  static std::string encode(std::uint32_t cp) {
    std::string out;
    json::append_utf8(out, cp);
    return out;
  }

  const Value& root_;
  SchemaOptions opt_;
  CompiledSchema out_;
  Grammar& g_;
  StringFragments frags_;
  std::map<std::string, std::int64_t> memo_;
  std::set<std::string> in_progress_;
  std::set<std::string> referenced_in_progress_;
  std::vector<std::uint32_t> unsat_reserved_;
  std::deque<Value> owned_;
  std::map<std::string, std::uint32_t> name_counts_;
  std::map<std::string, std::pair<const Value*, std::string>> synthetic_;
  std::set<const Value*> merged_nodes_;
  std::map<std::string, std::uint32_t> key_rules_;  // sorted excluded keys -> key rule  // schemas built by merging (bounds may conflict there)
  int depth_ = 0;
  int synthetic_depth_ = 0;            // compile_synthetic calls on the stack
  std::map<std::string, int> merging_refs_;  // references resolved by merges in progress
  std::size_t synthetic_bytes_ = 0;    // JSON text of every merged schema built
  std::uint64_t proof_steps_ = 0;      // steps of every oneOf proof (SchemaRelations::kMaxSharedSteps)
  bool draft4_ = false;
  SchemaSemantics semantics_;
  std::int64_t ws_rule_ = -1;
  std::int64_t digit_rule_ = -1;
  std::int64_t frac_rule_ = -1;
  std::int64_t integer_rule_ = -1;
  std::int64_t natural_rule_ = -1;
  std::int64_t number_rule_ = -1;
  std::int64_t string_rule_ = -1;
  std::int64_t grounded_body_ = -1;
  std::int64_t grounded_body_nonempty_ = -1;
  std::int64_t value_rule_ = -1;
  std::int64_t neg_zero_rule_ = -1;
  std::map<std::string, FracBuilder> frac_builders_;
};

}  // namespace

namespace {

bool has_repeated_keys(const json::Value& v) {
  if (v.is_array()) {
    for (const json::Value& item : v.items()) {
      if (has_repeated_keys(item)) return true;
    }
  } else if (v.is_object()) {
    std::set<std::string_view> seen;
    for (const auto& m : v.members()) {
      if (!seen.insert(m.first).second || has_repeated_keys(m.second)) return true;
    }
  }
  return false;
}

// The value with each object's repeated keys read as Python's json reads them: the key keeps
// its first position and takes its last value.
json::Value last_values(const json::Value& v) {
  if (v.is_array()) {
    std::vector<json::Value> items;
    items.reserve(v.items().size());
    for (const json::Value& item : v.items()) items.push_back(last_values(item));
    return json::Value::array(std::move(items));
  }
  if (!v.is_object()) return v;
  std::vector<json::Member> members;
  std::map<std::string_view, std::size_t> at;
  for (const auto& m : v.members()) {
    auto [it, fresh] = at.emplace(m.first, members.size());
    if (fresh) {
      members.emplace_back(m.first, last_values(m.second));
    } else {
      members[it->second].second = last_values(m.second);
    }
  }
  return json::Value::object(std::move(members));
}

}  // namespace

CompiledSchema compile_json_schema(const json::Value& schema, const SchemaOptions& options) {
  // An object that repeats a key means its last value (Python's json, and json::Value::find);
  // the compiler reads each object's keys once.
  if (has_repeated_keys(schema)) {
    const json::Value once = last_values(schema);
    return Compiler(once, options).run();
  }
  return Compiler(schema, options).run();
}

}  // namespace maaza

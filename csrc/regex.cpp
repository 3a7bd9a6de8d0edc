// String contents as grammar fragments: JSON-encoded character sets, ECMA-262 patterns and the
// built-in formats. See regex.h for the two spellings (any JSON spelling vs. canonical).
//
// Patterns are parsed into a small tree (sets of code points, sequences, alternations, bounded
// repetitions, and the two anchors) and lowered to grammar rules: a set becomes one shared
// encoded_class rule, a repetition a Repeat of a rule, an alternation a rule of alternatives.
// Search semantics: a top-level alternative without `^` starts with any_text, one without `$`
// ends with it. Formats are written as anchored patterns and compiled the same way.
#include "regex.h"

#include <algorithm>
#include <utility>

#include "errors.h"
#include "formats.h"
#include "json.h"

namespace maaza {

namespace {

using json::append_utf8;


constexpr std::uint32_t kSurrogateLo = 0xD800;
constexpr std::uint32_t kSurrogateHi = 0xDFFF;

// Decodes UTF-8 leniently: the input comes from the JSON parser, which already validated it.
std::vector<std::uint32_t> decode_utf8(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t n = 1;
    if (c >= 0xF0) {
      cp = c & 0x07;
      n = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0F;
      n = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1F;
      n = 2;
    }
    for (std::size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    out.push_back(cp);
    i += n;
  }
  return out;
}

// The canonical spelling of one code point inside a JSON string.
std::string canonical_spelling(std::uint32_t cp) {
  switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case 0x08: return "\\b";
    case 0x0C: return "\\f";
    case 0x0A: return "\\n";
    case 0x0D: return "\\r";
    case 0x09: return "\\t";
    default: break;
  }
  std::string out;
  if (cp < 0x20) {
    static const char* const kHex = "0123456789abcdef";
    out = "\\u00";
    out += kHex[cp >> 4];
    out += kHex[cp & 0xF];
    return out;
  }
  append_utf8(out, cp);
  return out;
}

bool raw_allowed(std::uint32_t cp) { return cp >= 0x20 && cp != '"' && cp != '\\'; }

std::string ranges_key(const std::vector<CharRange>& r) {
  std::string key;
  for (const auto& x : r) key += std::to_string(x.lo) + "-" + std::to_string(x.hi) + ",";
  return key;
}

bool contains(const std::vector<CharRange>& r, std::uint32_t cp) {
  for (const auto& x : r) {
    if (cp >= x.lo && cp <= x.hi) return true;
  }
  return false;
}

// ---- pattern syntax tree --------------------------------------------------------------------

struct Node {
  enum class Kind { Set, Seq, Alt, Repeat, Start, End };
  Kind kind = Kind::Seq;
  std::vector<CharRange> set;  // Set
  std::vector<Node> kids;      // Seq, Alt, Repeat (one kid)
  std::uint32_t min = 0;
  std::uint32_t max = 0;
};

Node set_node(std::vector<CharRange> r) {
  Node n;
  n.kind = Node::Kind::Set;
  n.set = normalize_ranges(std::move(r));
  return n;
}

class PatternParser {
 public:
  PatternParser(std::string_view pattern, const std::string& pointer)
      : cps_(decode_utf8(pattern)), pointer_(pointer) {}

  Node parse() {
    Node n = parse_alt();
    if (pos_ < cps_.size()) fail("unbalanced ')'");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SchemaError("pattern", pointer_, "unsupported or malformed pattern: " + what);
  }
  bool at_end() const { return pos_ >= cps_.size(); }
  std::uint32_t peek(std::size_t ahead = 0) const {
    return pos_ + ahead < cps_.size() ? cps_[pos_ + ahead] : 0xFFFFFFFFu;
  }

  Node parse_alt() {
    Node alt;
    alt.kind = Node::Kind::Alt;
    alt.kids.push_back(parse_seq());
    while (!at_end() && peek() == '|') {
      ++pos_;
      alt.kids.push_back(parse_seq());
    }
    if (alt.kids.size() == 1) return std::move(alt.kids[0]);
    return alt;
  }

  Node parse_seq() {
    Node seq;
    seq.kind = Node::Kind::Seq;
    while (!at_end() && peek() != '|' && peek() != ')') seq.kids.push_back(parse_term());
    return seq;
  }

  // Reads a decimal number at the cursor; returns false (cursor unchanged) when there is none.
  bool read_int(std::uint32_t* out) {
    std::size_t start = pos_;
    std::uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + (peek() - '0');
      if (v > 100000) fail("repetition count too large");
      ++pos_;
    }
    if (pos_ == start) return false;
    *out = static_cast<std::uint32_t>(v);
    return true;
  }

  // Tries to read a {m}, {m,}, {m,n} quantifier; restores the cursor if it is not one.
  bool read_braces(std::uint32_t* lo, std::uint32_t* hi) {
    std::size_t save = pos_;
    ++pos_;  // '{'
    if (!read_int(lo)) {
      pos_ = save;
      return false;
    }
    *hi = *lo;
    if (peek() == ',') {
      ++pos_;
      if (!read_int(hi)) *hi = kUnbounded;
    }
    if (peek() != '}') {
      pos_ = save;
      return false;
    }
    ++pos_;
    return true;
  }

  Node parse_term() {
    Node atom = parse_atom();
    bool quantified = false;
    while (!at_end()) {
      std::uint32_t c = peek();
      std::uint32_t lo = 0, hi = 0;
      if (c == '*') {
        lo = 0, hi = kUnbounded, ++pos_;
      } else if (c == '+') {
        lo = 1, hi = kUnbounded, ++pos_;
      } else if (c == '?') {
        lo = 0, hi = 1, ++pos_;
      } else if (c == '{') {
        if (!read_braces(&lo, &hi)) break;
      } else {
        break;
      }
      if (quantified) fail("nothing to repeat");
      if (atom.kind == Node::Kind::Start || atom.kind == Node::Kind::End) fail("quantified anchor");
      if (hi != kUnbounded && lo > hi) fail("numbers out of order in {} quantifier");
      if (!at_end() && peek() == '?') ++pos_;  // lazy: same language
      Node rep;
      rep.kind = Node::Kind::Repeat;
      rep.min = lo;
      rep.max = hi;
      rep.kids.push_back(std::move(atom));
      atom = std::move(rep);
      quantified = true;
    }
    return atom;
  }

  Node parse_atom() {
    std::uint32_t c = peek();
    switch (c) {
      case '^': {
        ++pos_;
        Node n;
        n.kind = Node::Kind::Start;
        return n;
      }
      case '$': {
        ++pos_;
        Node n;
        n.kind = Node::Kind::End;
        return n;
      }
      case '(': {
        ++pos_;
        if (peek() == '?') {
          if (peek(1) == ':') {
            pos_ += 2;
          } else if (peek(1) == '=' || peek(1) == '!' ||
                     (peek(1) == '<' && (peek(2) == '=' || peek(2) == '!'))) {
            fail("lookaround assertions");
          } else if (peek(1) == '<') {
            pos_ += 2;
            while (!at_end() && peek() != '>') ++pos_;
            if (at_end()) fail("unterminated group name");
            ++pos_;
          } else {
            fail("unknown group syntax '(?'");
          }
        }
        Node inner = parse_alt();
        if (at_end() || peek() != ')') fail("missing ')'");
        ++pos_;
        return inner;
      }
      case ')': fail("unbalanced ')'");
      case '*':
      case '+':
      case '?': fail("nothing to repeat");
      case '[': return parse_class();
      case '.': {
        ++pos_;
        return set_node(complement_ranges({{0x0A, 0x0A}, {0x0D, 0x0D}, {0x2028, 0x2029}}));
      }
      case '\\': {
        ++pos_;
        std::vector<CharRange> r;
        parse_escape(false, &r);
        return set_node(std::move(r));
      }
      default:
        ++pos_;
        return set_node({{c, c}});
    }
  }

  std::uint32_t read_hex(int digits) {
    std::uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      std::uint32_t c = peek();
      std::uint32_t d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        fail("bad hexadecimal escape");
      }
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  // Parses the escape after a backslash into a set of code points. Returns true when the escape
  // is a single code point (usable as a range end in a class).
  bool parse_escape(bool in_class, std::vector<CharRange>* out) {
    if (at_end()) fail("trailing backslash");
    std::uint32_t c = peek();
    ++pos_;
    auto single = [&](std::uint32_t cp) {
      out->push_back({cp, cp});
      return true;
    };
    auto add = [&](const std::vector<CharRange>& r) {
      out->insert(out->end(), r.begin(), r.end());
      return false;
    };
    switch (c) {
      case 'd': return add(regex_class_digit());
      case 'D': return add(complement_ranges(regex_class_digit()));
      case 'w': return add(regex_class_word());
      case 'W': return add(complement_ranges(regex_class_word()));
      case 's': return add(regex_class_space());
      case 'S': return add(complement_ranges(regex_class_space()));
      case 'b':
        if (in_class) return single(0x08);
        fail("word boundary assertions");
      case 'B': fail("word boundary assertions");
      case 't': return single(0x09);
      case 'n': return single(0x0A);
      case 'v': return single(0x0B);
      case 'f': return single(0x0C);
      case 'r': return single(0x0D);
      case '0':
        if (peek() >= '0' && peek() <= '9') fail("octal escapes");
        return single(0);
      case 'x': return single(read_hex(2));
      case 'u': {
        if (peek() == '{') {
          ++pos_;
          std::uint32_t v = 0;
          int n = 0;
          while (!at_end() && peek() != '}') {
            v = v * 16 + read_hex(1);
            if (++n > 6 || v > kMaxCodePoint) fail("bad \\u{} escape");
          }
          if (at_end() || n == 0) fail("bad \\u{} escape");
          ++pos_;
          return single(v);
        }
        std::uint32_t v = read_hex(4);
        if (v >= 0xD800 && v <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
          std::size_t save = pos_;
          pos_ += 2;
          std::uint32_t lo = read_hex(4);
          if (lo >= 0xDC00 && lo <= 0xDFFF) return single(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00));
          pos_ = save;
        }
        if (v >= kSurrogateLo && v <= kSurrogateHi) fail("lone surrogate escape");
        return single(v);
      }
      case 'c': {
        std::uint32_t l = peek();
        if (!((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z'))) fail("bad \\c escape");
        ++pos_;
        return single(l % 32);
      }
      case 'k': fail("backreferences");
      case 'p':
      case 'P': fail("Unicode property escapes");
      default:
        if (c >= '1' && c <= '9') fail("backreferences");
        return single(c);  // identity escape: \. \- \/ \( ...
    }
  }

  Node parse_class() {
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CharRange> r;
    while (true) {
      if (at_end()) fail("missing ']'");
      if (peek() == ']') {
        ++pos_;
        break;
      }
      std::vector<CharRange> first;
      bool first_single = read_class_atom(&first);
      if (peek() == '-' && peek(1) != ']' && peek(1) != 0xFFFFFFFFu) {
        ++pos_;  // '-'
        std::vector<CharRange> second;
        bool second_single = read_class_atom(&second);
        if (!first_single || !second_single) fail("character class escape in a range");
        if (first[0].lo > second[0].lo) fail("range out of order in character class");
        r.push_back({first[0].lo, second[0].lo});
      } else {
        r.insert(r.end(), first.begin(), first.end());
      }
    }
    r = normalize_ranges(std::move(r));
    if (negated) r = complement_ranges(r);
    return set_node(std::move(r));
  }

  bool read_class_atom(std::vector<CharRange>* out) {
    std::uint32_t c = peek();
    ++pos_;
    if (c == '\\') return parse_escape(true, out);
    out->push_back({c, c});
    return true;
  }

  std::vector<std::uint32_t> cps_;
  std::size_t pos_ = 0;
  const std::string& pointer_;
};

bool nullable(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Set: return false;
    case Node::Kind::Start:
    case Node::Kind::End: return true;
    case Node::Kind::Seq:
      return std::all_of(n.kids.begin(), n.kids.end(), [](const Node& k) { return nullable(k); });
    case Node::Kind::Alt:
      return std::any_of(n.kids.begin(), n.kids.end(), [](const Node& k) { return nullable(k); });
    case Node::Kind::Repeat: return n.min == 0 || nullable(n.kids[0]);
  }
  return false;
}

// Lowers a pattern tree to grammar symbols.
class PatternEmitter {
 public:
  PatternEmitter(StringFragments& frags, const std::string& pointer)
      : frags_(frags), pointer_(pointer) {}

  void emit(const Node& n, Sequence& out) {
    if (++n_symbols_ > StringFragments::kMaxPatternSymbols) fail("pattern too large to compile");
    switch (n.kind) {
      case Node::Kind::Start:
      case Node::Kind::End: fail("anchors are supported only at the ends of the pattern");
      case Node::Kind::Set: {
        if (n.set.empty()) fail("empty character class");
        if (n.set.size() == 1 && n.set[0].lo == n.set[0].hi && raw_allowed(n.set[0].lo)) {
          std::string bytes;
          append_utf8(bytes, n.set[0].lo);
          if (!out.empty() && out.back().kind == Symbol::Kind::Literal) {
            out.back().text += bytes;
          } else {
            out.push_back(Symbol::literal(bytes));
          }
        } else {
          out.push_back(Symbol::ref(frags_.encoded_class(n.set)));
        }
        return;
      }
      case Node::Kind::Seq:
        for (const auto& k : n.kids) emit(k, out);
        return;
      case Node::Kind::Alt: out.push_back(Symbol::ref(rule_of(n))); return;
      case Node::Kind::Repeat: {
        const Node& body = n.kids[0];
        if (n.max == 0) return;
        if (n.min == 1 && n.max == 1) {
          emit(body, out);
          return;
        }
        if (n.max == kUnbounded && nullable(body)) {
          fail("unbounded repetition of a sub-pattern that matches the empty string");
        }
        out.push_back(Symbol::repeat(rule_of(body), n.min, n.max));
        return;
      }
    }
  }

  std::uint32_t rule_of(const Node& n) {
    if (n.kind == Node::Kind::Set && !n.set.empty()) return frags_.encoded_class(n.set);
    std::vector<Sequence> alts;
    if (n.kind == Node::Kind::Alt) {
      for (const auto& k : n.kids) {
        Sequence s;
        emit(k, s);
        alts.push_back(std::move(s));
      }
    } else {
      Sequence s;
      emit(n, s);
      alts.push_back(std::move(s));
    }
    return frags_.add_rule("pattern", std::move(alts));
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw SchemaError("pattern", pointer_, "unsupported pattern: " + what);
  }
  StringFragments& frags_;
  const std::string& pointer_;
  std::size_t n_symbols_ = 0;
};


}  // namespace

std::vector<CharRange> normalize_ranges(std::vector<CharRange> ranges) {
  std::vector<CharRange> split;
  for (auto r : ranges) {
    if (r.hi > kMaxCodePoint) r.hi = kMaxCodePoint;
    if (r.lo > r.hi) continue;
    if (r.lo < kSurrogateLo && r.hi > kSurrogateHi) {
      split.push_back({r.lo, kSurrogateLo - 1});
      split.push_back({kSurrogateHi + 1, r.hi});
    } else if (r.lo >= kSurrogateLo && r.hi <= kSurrogateHi) {
      continue;
    } else if (r.lo >= kSurrogateLo && r.lo <= kSurrogateHi) {
      split.push_back({kSurrogateHi + 1, r.hi});
    } else if (r.hi >= kSurrogateLo && r.hi <= kSurrogateHi) {
      split.push_back({r.lo, kSurrogateLo - 1});
    } else {
      split.push_back(r);
    }
  }
  std::sort(split.begin(), split.end(),
            [](const CharRange& a, const CharRange& b) { return a.lo < b.lo; });
  std::vector<CharRange> out;
  for (const auto& r : split) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::vector<CharRange> complement_ranges(const std::vector<CharRange>& ranges) {
  std::vector<CharRange> in = normalize_ranges(ranges);
  std::vector<CharRange> out;
  std::uint32_t next = 0;
  for (const auto& r : in) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return normalize_ranges(std::move(out));
}

std::vector<CharRange> regex_class_digit() { return {{'0', '9'}}; }
std::vector<CharRange> regex_class_word() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
std::vector<CharRange> regex_class_space() {
  return normalize_ranges({{0x09, 0x0D},
                           {0x20, 0x20},
                           {0xA0, 0xA0},
                           {0x1680, 0x1680},
                           {0x2000, 0x200A},
                           {0x2028, 0x2029},
                           {0x202F, 0x202F},
                           {0x205F, 0x205F},
                           {0x3000, 0x3000},
                           {0xFEFF, 0xFEFF}});
}

std::uint32_t StringFragments::add_rule(const std::string& base, std::vector<Sequence> alternatives) {
  std::uint32_t& n = name_counts_[base];
  ++n;
  return g_.add_rule(n == 1 ? base : base + "-" + std::to_string(n), std::move(alternatives));
}

std::uint32_t StringFragments::any_char() {
  if (any_char_ >= 0) return static_cast<std::uint32_t>(any_char_);
  auto cls = [](std::vector<CharRange> r) { return Symbol::char_class(std::move(r)); };
  std::uint32_t hex = add_rule("hex", {{cls({{'0', '9'}, {'A', 'F'}, {'a', 'f'}})}});
  Symbol h = Symbol::ref(hex);
  Symbol d = cls({{'D', 'D'}, {'d', 'd'}});
  std::uint32_t rule = add_rule(
      "char",
      {
          {cls(complement_ranges({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}))},
          {Symbol::literal("\\"), cls({{'"', '"'}, {'/', '/'}, {'\\', '\\'}, {'b', 'b'},
                                       {'f', 'f'}, {'n', 'n'}, {'r', 'r'}, {'t', 't'}})},
          // \uXXXX outside the surrogate block
          {Symbol::literal("\\u"), cls({{'0', '9'}, {'A', 'C'}, {'E', 'F'}, {'a', 'c'}, {'e', 'f'}}),
           h, h, h},
          {Symbol::literal("\\u"), d, cls({{'0', '7'}}), h, h},
          // a high surrogate escape followed by a low one
          {Symbol::literal("\\u"), d, cls({{'8', '9'}, {'A', 'B'}, {'a', 'b'}}), h, h,
           Symbol::literal("\\u"), d, cls({{'C', 'F'}, {'c', 'f'}}), h, h},
      });
  any_char_ = rule;
  return rule;
}

std::uint32_t StringFragments::encoded_class(const std::vector<CharRange>& ranges_in) {
  std::vector<CharRange> ranges = normalize_ranges(ranges_in);
  if (ranges.empty()) throw InternalError("encoded_class of an empty set");
  std::string key = ranges_key(ranges);
  auto it = class_rules_.find(key);
  if (it != class_rules_.end()) return it->second;
  std::vector<Sequence> alts;
  // Raw part: the set minus what must be escaped.
  std::vector<CharRange> escaped_only = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
  std::vector<CharRange> raw_part;
  {
    std::vector<CharRange> allowed = complement_ranges(escaped_only);
    for (const auto& a : ranges) {
      for (const auto& b : allowed) {
        std::uint32_t lo = std::max(a.lo, b.lo), hi = std::min(a.hi, b.hi);
        if (lo <= hi) raw_part.push_back({lo, hi});
      }
    }
  }
  if (!raw_part.empty()) alts.push_back({Symbol::char_class(normalize_ranges(raw_part))});
  for (std::uint32_t cp : {std::uint32_t('"'), std::uint32_t('\\')}) {
    if (contains(ranges, cp)) alts.push_back({Symbol::literal(canonical_spelling(cp))});
  }
  bool all_controls = true;
  for (std::uint32_t cp = 0; cp < 0x20; ++cp) all_controls = all_controls && contains(ranges, cp);
  for (std::uint32_t cp = 0; cp < 0x20; ++cp) {
    if (!contains(ranges, cp)) continue;
    std::string spelling = canonical_spelling(cp);
    if (all_controls && spelling.size() == 6) continue;  // \u00xx: covered by the two classes below
    alts.push_back({Symbol::literal(spelling)});
  }
  if (all_controls) {
    // \u0000-\u0007 \u000b \u000e \u000f and \u0010-\u001f, lowercase hex as json.dumps writes.
    alts.push_back({Symbol::literal("\\u000"), Symbol::char_class({{'0', '7'}, {'b', 'b'}, {'e', 'f'}})});
    alts.push_back({Symbol::literal("\\u001"), Symbol::char_class({{'0', '9'}, {'a', 'f'}})});
  }
  std::uint32_t rule = add_rule("class", std::move(alts));
  class_rules_.emplace(std::move(key), rule);
  return rule;
}

std::uint32_t StringFragments::any_text() {
  if (any_text_ >= 0) return static_cast<std::uint32_t>(any_text_);
  std::uint32_t c = encoded_class({{0, kMaxCodePoint}});
  std::uint32_t rule = add_rule("text", {{Symbol::repeat(c, 0, kUnbounded)}});
  any_text_ = rule;
  return rule;
}

Sequence StringFragments::text(std::string_view utf8) {
  std::string bytes;
  for (std::uint32_t cp : decode_utf8(utf8)) bytes += canonical_spelling(cp);
  if (bytes.empty()) return {};
  return {Symbol::literal(bytes)};
}

// The operands of an alternation or a sequence node (`kind`), or the node alone otherwise.
static std::vector<Node> operands(Node node, Node::Kind kind) {
  std::vector<Node> out;
  if (node.kind == kind) {
    out = std::move(node.kids);
  } else {
    out.push_back(std::move(node));
  }
  return out;
}


std::uint32_t StringFragments::pattern(std::string_view pattern, const std::string& pointer) {
  std::string memo_key = "p:" + std::string(pattern);
  auto it = named_.find(memo_key);
  if (it != named_.end()) return it->second;
  Node tree = PatternParser(pattern, pointer).parse();
  std::vector<Node> top = operands(std::move(tree), Node::Kind::Alt);
  PatternEmitter emitter(*this, pointer);
  std::vector<Sequence> alts;
  for (auto& alt : top) {
    std::vector<Node> items = operands(std::move(alt), Node::Kind::Seq);
    bool anchored_start = !items.empty() && items.front().kind == Node::Kind::Start;
    if (anchored_start) items.erase(items.begin());
    bool anchored_end = !items.empty() && items.back().kind == Node::Kind::End;
    if (anchored_end) items.pop_back();
    Sequence seq;
    if (!anchored_start) seq.push_back(Symbol::ref(any_text()));
    for (const auto& item : items) emitter.emit(item, seq);
    if (!anchored_end && !(items.empty() && !anchored_start)) seq.push_back(Symbol::ref(any_text()));
    alts.push_back(std::move(seq));
  }
  std::uint32_t rule = add_rule("pattern", std::move(alts));
  named_.emplace(std::move(memo_key), rule);
  return rule;
}

namespace {

constexpr std::uint64_t kNoLimit = ~std::uint64_t{0};

// Shortest and longest match of a pattern tree, in code points (kNoLimit: unbounded).
std::pair<std::uint64_t, std::uint64_t> length_range(const Node& n) {
  auto add = [](std::uint64_t a, std::uint64_t b) { return (a == kNoLimit || b == kNoLimit) ? kNoLimit : a + b; };
  switch (n.kind) {
    case Node::Kind::Set: return {1, 1};
    case Node::Kind::Start:
    case Node::Kind::End: return {0, 0};
    case Node::Kind::Seq: {
      std::pair<std::uint64_t, std::uint64_t> r{0, 0};
      for (const auto& k : n.kids) {
        auto kr = length_range(k);
        r = {add(r.first, kr.first), add(r.second, kr.second)};
      }
      return r;
    }
    case Node::Kind::Alt: {
      std::pair<std::uint64_t, std::uint64_t> r{kNoLimit, 0};
      for (const auto& k : n.kids) {
        auto kr = length_range(k);
        r.first = std::min(r.first, kr.first);
        r.second = (r.second == kNoLimit || kr.second == kNoLimit) ? kNoLimit : std::max(r.second, kr.second);
      }
      return r;
    }
    case Node::Kind::Repeat: {
      auto kr = length_range(n.kids[0]);
      std::uint64_t lo = kr.first * n.min;
      std::uint64_t hi = n.max == 0 ? 0 : (n.max == kUnbounded || kr.second == kNoLimit) ? kNoLimit : kr.second * n.max;
      return {lo, hi};
    }
  }
  return {0, kNoLimit};
}

}  // namespace

StringFragments::Bounded StringFragments::pattern_with_length(std::string_view pattern, const std::string& pointer,
                                                              std::uint64_t min_len, std::uint64_t max_len) {
  Node tree = PatternParser(pattern, pointer).parse();
  auto whole = length_range(tree);
  bool unanchored = true;
  std::vector<Node> top = operands(std::move(tree), Node::Kind::Alt);
  // Flatten to alternatives that are sequences anchored at both ends; ^(a|b)$ distributes.
  std::vector<std::vector<Node>> alts_items;
  for (auto& alt : top) {
    std::vector<Node> items = operands(std::move(alt), Node::Kind::Seq);
    bool a_start = !items.empty() && items.front().kind == Node::Kind::Start;
    bool a_end = items.size() > (a_start ? 1u : 0u) && items.back().kind == Node::Kind::End;
    if (!a_start || !a_end) {
      unanchored = true;
      alts_items.clear();
      break;
    }
    unanchored = false;
    items.erase(items.begin());
    items.pop_back();
    if (items.size() == 1 && items[0].kind == Node::Kind::Alt) {
      for (auto& k : items[0].kids) {
        std::vector<Node> sub;
        if (k.kind == Node::Kind::Seq) {
          sub = std::move(k.kids);
        } else {
          sub.push_back(std::move(k));
        }
        alts_items.push_back(std::move(sub));
      }
    } else {
      alts_items.push_back(std::move(items));
    }
  }
  Bounded out;
  if (!unanchored && whole.first >= min_len && whole.second != kNoLimit && whole.second <= max_len) {
    out.supported = true;
    out.rule = this->pattern(pattern, pointer);  // the bounds are implied by the pattern
    return out;
  }
  if (unanchored) return out;  // not supported
  PatternEmitter emitter(*this, pointer);
  std::vector<Sequence> alts;
  for (auto& items : alts_items) {
    std::uint64_t fixed = 0;
    int variable = -1;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto r = length_range(items[i]);
      if (r.first == r.second) {
        fixed += r.first;
        continue;
      }
      if (variable >= 0) return out;  // two variable parts: not supported
      variable = static_cast<int>(i);
    }
    if (variable < 0) {
      if (fixed < min_len || fixed > max_len) continue;  // this alternative cannot satisfy the bounds
    } else {
      Node& rep = items[static_cast<std::size_t>(variable)];
      if (rep.kind != Node::Kind::Repeat) return out;
      auto body = length_range(rep.kids[0]);
      if (body.first != body.second || body.first == 0) return out;
      std::uint64_t b = body.first;
      std::uint64_t lo = min_len > fixed ? (min_len - fixed + b - 1) / b : 0;
      lo = std::max<std::uint64_t>(lo, rep.min);
      std::uint64_t hi = rep.max == kUnbounded ? kNoLimit : rep.max;
      if (max_len != kNoLimit) {
        if (max_len < fixed) continue;
        hi = std::min<std::uint64_t>(hi, (max_len - fixed) / b);
      }
      if (lo > hi) continue;
      if (lo > 100000 || (hi != kNoLimit && hi > 100000)) return out;
      rep.min = static_cast<std::uint32_t>(lo);
      rep.max = hi == kNoLimit ? kUnbounded : static_cast<std::uint32_t>(hi);
    }
    Sequence seq;
    for (const auto& item : items) emitter.emit(item, seq);
    alts.push_back(std::move(seq));
  }
  out.supported = true;
  if (!alts.empty()) out.rule = add_rule("pattern", std::move(alts));
  return out;
}

StringFragments::Bounded StringFragments::format_with_length(std::string_view name, const std::string& pointer,
                                                             std::uint64_t min_len, std::uint64_t max_len) {
  std::optional<std::string> p = format_pattern(name, format_options_);
  if (!p) throw SchemaError("format", pointer, "unsupported format '" + std::string(name) + "'");
  return pattern_with_length(*p, pointer, min_len, max_len);
}

std::uint32_t StringFragments::format(std::string_view name, const std::string& pointer) {
  std::optional<std::string> p = format_pattern(name, format_options_);
  if (!p) throw SchemaError("format", pointer, "unsupported format '" + std::string(name) + "'");
  std::string memo_key = "f:" + std::string(name);
  auto it = named_.find(memo_key);
  if (it != named_.end()) return it->second;
  std::uint32_t rule = pattern(*p, pointer);
  named_.emplace(std::move(memo_key), rule);
  return rule;
}

std::uint32_t compile_pattern(Grammar& grammar, std::string_view pattern, const std::string& pointer) {
  StringFragments frags(grammar);
  return frags.pattern(pattern, pointer);
}

std::uint32_t compile_format(Grammar& grammar, std::string_view format, const std::string& pointer) {
  StringFragments frags(grammar);
  return frags.format(format, pointer);
}

}  // namespace maaza

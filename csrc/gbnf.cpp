// GBNF text <-> grammar IR. The parser is a small recursive-descent reader over the text that
// keeps byte offsets so every error carries a 1-based line and column. Groups and repeated
// elements become anonymous rules named after the rule they appear in. The printer writes one
// rule per line with every non-ASCII or special character escaped, so its output is plain ASCII
// and reads back to the same grammar.
#include "gbnf.h"

#include <cstdio>
#include <unordered_map>
#include <utility>

#include "json.h"

namespace maaza {

namespace {

using json::append_utf8;


bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

class Parser {
 public:
  Parser(std::string_view text, std::string root) : text_(text), root_name_(std::move(root)) {}

  Grammar parse() {
    skip_space(true);
    while (pos_ < text_.size()) {
      parse_rule();
      skip_space(true);
    }
    for (const auto& [name, info] : names_) {
      if (!info.defined) error_at("undefined rule '" + name + "'", info.first_use);
    }
    auto root = names_.find(root_name_);
    if (root == names_.end() || !root->second.defined)
      throw GrammarError("grammar has no rule named '" + root_name_ + "'");
    grammar_.set_root(root->second.index);
    std::int64_t lr = grammar_.left_recursive_rule();
    if (lr >= 0) {
      std::size_t where = 0;
      auto it = def_pos_.find(static_cast<std::uint32_t>(lr));
      if (it != def_pos_.end()) where = it->second;
      error_at("rule '" + grammar_.rule(static_cast<std::uint32_t>(lr)).name + "' is left-recursive",
               where);
    }
    grammar_.validate();
    return std::move(grammar_);
  }

 private:
  struct NameInfo {
    std::uint32_t index = 0;
    bool defined = false;
    std::size_t first_use = 0;
  };

  [[noreturn]] void error_at(const std::string& msg, std::size_t offset) const {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    throw GrammarError(msg, line, column);
  }
  [[noreturn]] void error(const std::string& msg) const { error_at(msg, pos_); }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  // Skips spaces, tabs, comments and (when newline_ok) line breaks.
  void skip_space(bool newline_ok) {
    while (!at_end()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && text_[pos_] != '\n') ++pos_;
      } else if (newline_ok && (c == '\n' || c == '\r')) {
        ++pos_;
      } else if (c == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n' && newline_ok) {
        pos_ += 2;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    std::size_t start = pos_;
    while (!at_end() && is_name_char(text_[pos_])) ++pos_;
    if (pos_ == start) error("expected a rule name");
    return std::string(text_.substr(start, pos_ - start));
  }

  std::uint32_t rule_for_name(const std::string& name, std::size_t use_pos) {
    auto it = names_.find(name);
    if (it != names_.end()) return it->second.index;
    NameInfo info;
    info.index = grammar_.add_rule(name);
    info.first_use = use_pos;
    names_.emplace(name, info);
    return info.index;
  }

  void parse_rule() {
    std::size_t start = pos_;
    std::string name = parse_name();
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") error("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    std::uint32_t index = rule_for_name(name, start);
    NameInfo& info = names_[name];
    if (info.defined) error_at("rule '" + name + "' is defined twice", start);
    info.defined = true;
    def_pos_[index] = start;
    skip_space(false);
    std::vector<Sequence> alts = parse_alternatives(name, false);
    grammar_.set_alternatives(index, std::move(alts));
    skip_space(false);
    if (!at_end() && peek() != '\n' && peek() != '\r') error("expected end of line after rule");
  }

  std::vector<Sequence> parse_alternatives(const std::string& owner, bool nested) {
    std::vector<Sequence> alts;
    alts.push_back(parse_sequence(owner, nested));
    for (;;) {
      std::size_t save = pos_;
      skip_space(true);
      if (peek() == '|') {
        ++pos_;
        skip_space(true);
        alts.push_back(parse_sequence(owner, nested));
        continue;
      }
      if (!nested) pos_ = save;  // a top-level rule ends at the line break
      break;
    }
    return alts;
  }

  // Wraps the last symbol of `seq` into a rule usable by a Repeat.
  std::uint32_t rule_of_last(Sequence& seq, const std::string& owner) {
    Symbol last = std::move(seq.back());
    seq.pop_back();
    if (last.kind == Symbol::Kind::RuleRef) return last.rule;
    std::uint32_t r = grammar_.add_rule(owner + "-rep");
    grammar_.set_alternatives(r, {Sequence{std::move(last)}});
    return r;
  }

  std::uint32_t parse_int() {
    std::size_t start = pos_;
    std::uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<std::uint64_t>(peek() - '0');
      if (v >= kUnbounded) error_at("repetition count too large", start);
      ++pos_;
    }
    if (pos_ == start) error("expected a number");
    return static_cast<std::uint32_t>(v);
  }

  Sequence parse_sequence(const std::string& owner, bool nested) {
    Sequence seq;
    // Whether the last element is a single symbol a postfix operator may apply to.
    bool has_last = false;
    for (;;) {
      skip_space(nested);
      if (at_end()) break;
      char c = peek();
      std::size_t elem_start = pos_;
      if (c == '"') {
        std::string lit = parse_literal();
        if (!lit.empty()) {
          seq.push_back(Symbol::literal(std::move(lit)));
          has_last = true;
        } else if (peek() != '*' && peek() != '+' && peek() != '?' && peek() != '{') {
          has_last = false;  // an empty literal adds nothing
        } else {
          // A postfix on an empty literal is meaningless but legal: give it a rule to repeat.
          std::uint32_t r = grammar_.add_rule(owner + "-empty");
          grammar_.set_alternatives(r, {Sequence{}});
          seq.push_back(Symbol::ref(r));
          has_last = true;
        }
      } else if (c == '[') {
        seq.push_back(parse_class());
        has_last = true;
      } else if (c == '.') {
        ++pos_;
        seq.push_back(Symbol::char_class({{0, kMaxCodePoint}}));
        has_last = true;
      } else if (c == '(') {
        if (++depth_ > kMaxNesting) error("groups nested too deeply");
        ++pos_;
        skip_space(true);
        std::uint32_t r = grammar_.add_rule(owner + "-group");
        std::vector<Sequence> alts = parse_alternatives(owner, true);
        skip_space(true);
        if (peek() != ')') error("expected ')'");
        ++pos_;
        --depth_;
        grammar_.set_alternatives(r, std::move(alts));
        seq.push_back(Symbol::ref(r));
        has_last = true;
      } else if (is_name_char(c)) {
        // A name followed by '::=' starts the next rule: only possible across a line break,
        // which ends the sequence before we get here, so this is a reference.
        std::string name = parse_name();
        std::size_t save = pos_;
        skip_space(false);
        if (text_.substr(pos_, 3) == "::=") error_at("expected end of line before rule '" + name + "'", elem_start);
        pos_ = save;
        seq.push_back(Symbol::ref(rule_for_name(name, elem_start)));
        has_last = true;
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!has_last) error(std::string("'") + c + "' has nothing to repeat");
        std::uint32_t min = 0, max = kUnbounded;
        ++pos_;
        if (c == '+') {
          min = 1;
        } else if (c == '?') {
          max = 1;
        } else if (c == '{') {
          skip_space(false);
          if (peek() != ',') min = parse_int();
          skip_space(false);
          if (peek() == '}') {
            max = min;
          } else if (peek() == ',') {
            ++pos_;
            skip_space(false);
            if (peek() != '}') max = parse_int();
            skip_space(false);
            if (peek() != '}') error("expected '}'");
          } else {
            error("expected ',' or '}'");
          }
          ++pos_;
          if (min > max) error_at("repetition with min > max", elem_start);
        }
        std::uint32_t r = rule_of_last(seq, owner);
        seq.push_back(Symbol::repeat(r, min, max));
        has_last = false;
      } else {
        break;
      }
    }
    return seq;
  }

  std::uint32_t parse_hex(std::size_t digits) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      char c = peek();
      std::uint32_t d;
      if (c >= '0' && c <= '9') d = static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') d = static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = static_cast<std::uint32_t>(c - 'A' + 10);
      else error("expected a hexadecimal digit");
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  // Reads one (possibly escaped) code point inside a literal or class.
  std::uint32_t parse_char() {
    if (at_end()) error("unexpected end of grammar");
    std::size_t start = pos_;
    auto c = static_cast<unsigned char>(text_[pos_]);
    if (c == '\\') {
      ++pos_;
      if (at_end()) error("unexpected end of grammar in escape");
      char e = text_[pos_++];
      std::uint32_t cp = 0;
      switch (e) {
        case 'x': cp = parse_hex(2); break;
        case 'u': cp = parse_hex(4); break;
        case 'U': cp = parse_hex(8); break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case '\\': case '"': case '[': case ']': case '-': case '^': case '/': cp = static_cast<unsigned char>(e); break;
        default: error_at(std::string("unknown escape '\\") + e + "'", start);
      }
      if (cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
        error_at("escape is not a Unicode scalar value", start);
      return cp;
    }
    if (c == '\n' || c == '\r') error("line break inside a literal or character class");
    if (c < 0x80) {
      ++pos_;
      return c;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || c > 0xF4 || pos_ + len > text_.size()) error("invalid UTF-8 in grammar");
    std::uint32_t cp = c & (0x3F >> (len - 1));
    for (std::size_t i = 1; i < len; ++i) {
      auto cc = static_cast<unsigned char>(text_[pos_ + i]);
      if ((cc & 0xC0) != 0x80) error("invalid UTF-8 in grammar");
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const std::uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
      error("invalid UTF-8 in grammar");
    pos_ += len;
    return cp;
  }

  std::string parse_literal() {
    std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (at_end() || peek() == '\n') error_at("unterminated literal", start);
      if (peek() == '"') {
        ++pos_;
        break;
      }
      append_utf8(out, parse_char());
    }
    return out;
  }

  Symbol parse_class() {
    std::size_t start = pos_;
    ++pos_;  // '['
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CharRange> ranges;
    for (;;) {
      if (at_end()) error_at("unterminated character class", start);
      if (peek() == ']') {
        ++pos_;
        break;
      }
      std::uint32_t lo = parse_char();
      std::uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] != ']') {
        ++pos_;
        hi = parse_char();
        if (hi < lo) error_at("character range out of order", start);
      }
      ranges.push_back({lo, hi});
    }
    return Symbol::char_class(std::move(ranges), negated);
  }

  static constexpr std::size_t kMaxNesting = 512;

  std::string_view text_;
  std::string root_name_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  Grammar grammar_;
  std::unordered_map<std::string, NameInfo> names_;
  std::unordered_map<std::uint32_t, std::size_t> def_pos_;
};

void append_escaped(std::string& out, std::uint32_t cp, bool in_class) {
  char buf[16];
  if (cp == '\\' || cp == '"' || (in_class && (cp == ']' || cp == '-' || cp == '^' || cp == '['))) {
    out.push_back('\\');
    out.push_back(static_cast<char>(cp));
  } else if (cp == '\n') {
    out += "\\n";
  } else if (cp == '\r') {
    out += "\\r";
  } else if (cp == '\t') {
    out += "\\t";
  } else if (cp < 0x20 || cp == 0x7F) {
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
    out += buf;
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp <= 0xFFFF) {
    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp));
    out += buf;
  } else {
    std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(cp));
    out += buf;
  }
}

// Decodes UTF-8 text (literals are valid UTF-8 by contract); invalid bytes are printed as the
// code point of the same value, which is the best a GBNF literal can say.
std::vector<std::uint32_t> decode_utf8(const std::string& s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (len == 0 || i + len > s.size()) {
      out.push_back(c);
      ++i;
      continue;
    }
    std::uint32_t cp = len == 1 ? c : (c & (0x3F >> (len - 1)));
    bool ok = true;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(c);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace

Grammar parse_gbnf(std::string_view text, const std::string& root) {
  return Parser(text, root).parse();
}

std::string to_gbnf(const Grammar& grammar) {
  const auto& rules = grammar.rules();
  if (rules.empty()) throw GrammarError("grammar has no rules");
  // Print names: the root is "root"; a non-root rule already called "root" is renamed.
  std::vector<std::string> names(rules.size());
  std::unordered_map<std::string, bool> used;
  names[grammar.root()] = "root";
  used["root"] = true;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    if (r == grammar.root()) continue;
    std::string base;
    for (char c : rules[r].name) base.push_back(is_name_char(c) ? c : '-');
    if (base.empty()) base = "rule";
    std::string name = base;
    for (int n = 2; used.count(name); ++n) name = base + "-" + std::to_string(n);
    used[name] = true;
    names[r] = name;
  }
  std::string out;
  auto print_rule = [&](std::size_t r) {
    out += names[r];
    out += " ::= ";
    bool first_alt = true;
    for (const Sequence& seq : rules[r].alternatives) {
      if (!first_alt) out += " | ";
      first_alt = false;
      if (seq.empty()) {
        out += "\"\"";
        continue;
      }
      bool first = true;
      for (const Symbol& s : seq) {
        if (!first) out.push_back(' ');
        first = false;
        switch (s.kind) {
          case Symbol::Kind::Literal:
            out.push_back('"');
            for (std::uint32_t cp : decode_utf8(s.text)) append_escaped(out, cp, false);
            out.push_back('"');
            break;
          case Symbol::Kind::CharClass:
            out.push_back('[');
            if (s.negated) out.push_back('^');
            for (const CharRange& cr : s.ranges) {
              append_escaped(out, cr.lo, true);
              if (cr.hi != cr.lo) {
                out.push_back('-');
                append_escaped(out, cr.hi, true);
              }
            }
            out.push_back(']');
            break;
          case Symbol::Kind::RuleRef:
            out += names.at(s.rule);
            break;
          case Symbol::Kind::Repeat:
            out += names.at(s.rule);
            if (s.min == 0 && s.max == 1) out += "?";
            else if (s.min == 0 && s.max == kUnbounded) out += "*";
            else if (s.min == 1 && s.max == kUnbounded) out += "+";
            else if (s.min == s.max) out += "{" + std::to_string(s.min) + "}";
            else if (s.max == kUnbounded) out += "{" + std::to_string(s.min) + ",}";
            else out += "{" + std::to_string(s.min) + "," + std::to_string(s.max) + "}";
            break;
        }
      }
    }
    out.push_back('\n');
  };
  // Rules in the order of their first mention, breadth-first from the root (then from each rule
  // the root does not reach, by index): the order in which parse_gbnf meets them in the printed
  // text, so that printing what it reads back gives the same text.
  std::vector<std::uint32_t> order;
  std::vector<bool> seen(rules.size(), false);
  auto visit_from = [&](std::uint32_t start) {
    seen[start] = true;
    order.push_back(start);
    for (std::size_t head = order.size() - 1; head < order.size(); ++head) {
      for (const Sequence& seq : rules[order[head]].alternatives) {
        for (const Symbol& s : seq) {
          bool ref = s.kind == Symbol::Kind::RuleRef || s.kind == Symbol::Kind::Repeat;
          if (ref && s.rule < rules.size() && !seen[s.rule]) {
            seen[s.rule] = true;
            order.push_back(s.rule);
          }
        }
      }
    }
  };
  visit_from(grammar.root());
  for (std::uint32_t r = 0; r < rules.size(); ++r) {
    if (!seen[r]) visit_from(r);
  }
  for (std::uint32_t r : order) print_rule(r);
  return out;
}

}  // namespace maaza

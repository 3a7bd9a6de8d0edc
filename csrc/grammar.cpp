// Grammar IR: construction helpers (symbol factories that normalise their input, rule naming)
// and the structural checks every consumer relies on (references in range, productive root, no
// left recursion). Left recursion is what makes a top-down matcher loop, so it is refused here
// once rather than guarded against in the hot path.
#include "grammar.h"

#include <algorithm>
#include <utility>

namespace maaza {

namespace {

constexpr std::uint32_t kSurrogateLo = 0xD800;
constexpr std::uint32_t kSurrogateHi = 0xDFFF;

// Sorts, clamps to valid scalar values, removes surrogates and merges overlapping or adjacent
// ranges.
std::vector<CharRange> normalise_ranges(std::vector<CharRange> in) {
  std::vector<CharRange> split;
  split.reserve(in.size() + 1);
  for (CharRange r : in) {
    if (r.lo > r.hi) std::swap(r.lo, r.hi);
    if (r.lo > kMaxCodePoint) continue;
    r.hi = std::min(r.hi, kMaxCodePoint);
    if (r.hi < kSurrogateLo || r.lo > kSurrogateHi) {
      split.push_back(r);
      continue;
    }
    if (r.lo < kSurrogateLo) split.push_back({r.lo, kSurrogateLo - 1});
    if (r.hi > kSurrogateHi) split.push_back({kSurrogateHi + 1, r.hi});
  }
  std::sort(split.begin(), split.end(),
            [](const CharRange& a, const CharRange& b) { return a.lo < b.lo; });
  std::vector<CharRange> out;
  for (const CharRange& r : split) {
    if (!out.empty() && r.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, r.hi);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

std::string sanitise_name(const std::string& name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    out.push_back(ok ? c : '-');
  }
  if (out.empty()) out = "rule";
  return out;
}

}  // namespace

Symbol Symbol::literal(std::string bytes) {
  Symbol s;
  s.kind = Kind::Literal;
  s.text = std::move(bytes);
  return s;
}

Symbol Symbol::char_class(std::vector<CharRange> ranges, bool negated) {
  Symbol s;
  s.kind = Kind::CharClass;
  s.ranges = normalise_ranges(std::move(ranges));
  s.negated = negated;
  return s;
}

Symbol Symbol::ref(std::uint32_t rule) {
  Symbol s;
  s.kind = Kind::RuleRef;
  s.rule = rule;
  return s;
}

Symbol Symbol::grounded_ref(std::uint32_t rule, Grounded how) {
  Symbol s = ref(rule);
  s.grounded = how;
  return s;
}

Symbol Symbol::repeat(std::uint32_t rule, std::uint32_t min, std::uint32_t max) {
  Symbol s;
  s.kind = Kind::Repeat;
  s.rule = rule;
  s.min = min;
  s.max = max;
  return s;
}

std::uint32_t Grammar::add_rule(const std::string& name, std::vector<Sequence> alternatives) {
  std::string base = sanitise_name(name);
  std::string unique = base;
  for (std::uint32_t n = 2; names_.count(unique); ++n) unique = base + "-" + std::to_string(n);
  auto index = static_cast<std::uint32_t>(rules_.size());
  names_.emplace(unique, index);
  rules_.push_back(Rule{unique, std::move(alternatives)});
  return index;
}

void Grammar::set_alternatives(std::uint32_t rule, std::vector<Sequence> alternatives) {
  if (rule >= rules_.size()) throw InternalError("set_alternatives: rule index out of range");
  rules_[rule].alternatives = std::move(alternatives);
}

std::int64_t Grammar::find_rule(const std::string& name) const {
  auto it = names_.find(name);
  return it == names_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

std::vector<bool> Grammar::nullable_rules() const {
  std::vector<bool> nullable(rules_.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      if (nullable[r]) continue;
      for (const Sequence& seq : rules_[r].alternatives) {
        bool all = true;
        for (const Symbol& s : seq) {
          bool n = false;
          switch (s.kind) {
            case Symbol::Kind::Literal: n = s.text.empty(); break;
            case Symbol::Kind::CharClass: n = false; break;
            case Symbol::Kind::RuleRef: n = s.rule < rules_.size() && nullable[s.rule]; break;
            case Symbol::Kind::Repeat:
              n = s.min == 0 || s.max == 0 || (s.rule < rules_.size() && nullable[s.rule]);
              break;
          }
          if (!n) {
            all = false;
            break;
          }
        }
        if (all) {
          nullable[r] = true;
          changed = true;
          break;
        }
      }
    }
  }
  return nullable;
}

std::vector<bool> Grammar::productive_rules() const {
  std::vector<bool> productive(rules_.size(), false);
  auto class_nonempty = [](const Symbol& s) {
    if (!s.negated) return !s.ranges.empty();
    // A negated class is empty only when its ranges cover every scalar value.
    std::uint32_t next = 0;
    for (const CharRange& r : s.ranges) {
      if (r.lo > next) return true;
      next = r.hi + 1;
      if (next == kSurrogateLo) next = kSurrogateHi + 1;
    }
    return next <= kMaxCodePoint;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t r = 0; r < rules_.size(); ++r) {
      if (productive[r]) continue;
      for (const Sequence& seq : rules_[r].alternatives) {
        bool all = true;
        for (const Symbol& s : seq) {
          bool p = true;
          switch (s.kind) {
            case Symbol::Kind::Literal: p = true; break;
            case Symbol::Kind::CharClass: p = class_nonempty(s); break;
            case Symbol::Kind::RuleRef: p = s.rule < rules_.size() && productive[s.rule]; break;
            case Symbol::Kind::Repeat:
              p = s.min == 0 || (s.rule < rules_.size() && productive[s.rule]);
              break;
          }
          if (!p) {
            all = false;
            break;
          }
        }
        if (all) {
          productive[r] = true;
          changed = true;
          break;
        }
      }
    }
  }
  return productive;
}

std::int64_t Grammar::left_recursive_rule() const {
  const std::vector<bool> nullable = nullable_rules();
  const std::size_t n = rules_.size();
  // Edges r -> s when s can be entered before r has consumed anything.
  std::vector<std::vector<std::uint32_t>> edges(n);
  for (std::size_t r = 0; r < n; ++r) {
    for (const Sequence& seq : rules_[r].alternatives) {
      for (const Symbol& s : seq) {
        bool passes = false;
        switch (s.kind) {
          case Symbol::Kind::Literal: passes = s.text.empty(); break;
          case Symbol::Kind::CharClass: passes = false; break;
          case Symbol::Kind::RuleRef:
            if (s.rule < n) edges[r].push_back(s.rule);
            passes = s.rule < n && nullable[s.rule];
            break;
          case Symbol::Kind::Repeat:
            if (s.rule < n && s.max > 0) edges[r].push_back(s.rule);
            passes = s.min == 0 || s.max == 0 || (s.rule < n && nullable[s.rule]);
            break;
        }
        if (!passes) break;
      }
    }
  }
  // Iterative three-colour DFS; the first rule found on a cycle is reported.
  std::vector<std::uint8_t> colour(n, 0);
  std::vector<std::pair<std::uint32_t, std::size_t>> stack;
  for (std::size_t start = 0; start < n; ++start) {
    if (colour[start]) continue;
    stack.push_back({static_cast<std::uint32_t>(start), 0});
    colour[start] = 1;
    while (!stack.empty()) {
      auto& [r, i] = stack.back();
      if (i < edges[r].size()) {
        std::uint32_t next = edges[r][i++];
        if (colour[next] == 1) return next;
        if (colour[next] == 0) {
          colour[next] = 1;
          stack.push_back({next, 0});
        }
      } else {
        colour[r] = 2;
        stack.pop_back();
      }
    }
  }
  return -1;
}

void Grammar::validate() const {
  if (rules_.empty()) throw GrammarError("grammar has no rules");
  if (root_ >= rules_.size()) throw GrammarError("root rule index out of range");
  for (const Rule& rule : rules_) {
    if (rule.alternatives.empty()) throw GrammarError("rule '" + rule.name + "' has no alternatives");
    for (const Sequence& seq : rule.alternatives) {
      for (const Symbol& s : seq) {
        switch (s.kind) {
          case Symbol::Kind::Literal:
            if (s.text.empty()) throw GrammarError("rule '" + rule.name + "' has an empty literal");
            break;
          case Symbol::Kind::CharClass:
            for (const CharRange& r : s.ranges) {
              if (r.lo > r.hi || r.hi > kMaxCodePoint)
                throw GrammarError("rule '" + rule.name + "' has an invalid character range");
            }
            break;
          case Symbol::Kind::RuleRef:
          case Symbol::Kind::Repeat:
            if (s.rule >= rules_.size())
              throw GrammarError("rule '" + rule.name + "' references an undefined rule");
            if (s.kind == Symbol::Kind::Repeat && s.min > s.max)
              throw GrammarError("rule '" + rule.name + "' has a repetition with min > max");
            break;
        }
      }
    }
  }
  std::int64_t lr = left_recursive_rule();
  if (lr >= 0) throw GrammarError("rule '" + rules_[lr].name + "' is left-recursive");
  if (!productive_rules()[root_])
    throw GrammarError("root rule '" + rules_[root_].name + "' matches no string");
}

}  // namespace maaza

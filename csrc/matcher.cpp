// Grammar matcher: lowering to the byte program, the stack-set parser, trie-walk masks and the
// token caches (see matcher.h for the design).
#include "matcher.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <queue>
#include <unordered_map>
#include <utility>

#include "json.h"

namespace maaza {

namespace {

constexpr std::uint32_t kBottom = 0;   // parent of the root: popping it completes the value
constexpr std::uint32_t kUnknown = 1;  // an unknown parent (token-cache contexts)
constexpr std::size_t kMaxProgramElems = std::size_t(1) << 21;
constexpr std::uint32_t kNoPos = ~std::uint32_t(0);
// Bounds on the matcher's state. A grammar that is ambiguous in how it splits its input between
// repetition levels, nesting through recursion (a rule that matches the empty string, repeated
// inside a recursion), makes the set of stacks grow exponentially with the input; past these
// bounds the step is refused with a GrammarError instead of exhausting memory. Grammars compiled
// from JSON Schemas stay far below them.
constexpr std::size_t kMaxStacks = std::size_t(1) << 20;
constexpr std::size_t kMaxFrames = std::size_t(1) << 21;

[[noreturn]] void too_ambiguous(const char* what, std::size_t bound) {
  throw GrammarError("the grammar is too ambiguous to match: its state would hold more than " +
                     std::to_string(bound) + " " + what +
                     " (a rule that matches the empty string, repeated inside a recursion?)");
}

constexpr std::uint32_t kMinForLen[5] = {0, 0, 0x80, 0x800, 0x10000};
constexpr std::uint32_t kMaxForLen[5] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};

bool class_has(const ByteClass& c, std::uint32_t cp) {
  auto it = std::upper_bound(c.ranges.begin(), c.ranges.end(), cp,
                             [](std::uint32_t v, const CharRange& r) { return v < r.lo; });
  if (it == c.ranges.begin()) return false;
  --it;
  return cp <= it->hi;
}

bool class_intersects(const ByteClass& c, std::uint32_t lo, std::uint32_t hi) {
  // First range whose hi >= lo.
  auto it = std::lower_bound(c.ranges.begin(), c.ranges.end(), lo,
                             [](const CharRange& r, std::uint32_t v) { return r.hi < v; });
  return it != c.ranges.end() && it->lo <= hi;
}

// Code points completing a partial character: `acc` holds the bits read so far, `rem`
// continuation bytes are missing, `len` is the full encoded length.
bool prefix_range(std::uint32_t acc, std::uint32_t rem, std::uint32_t len, std::uint32_t& lo,
                  std::uint32_t& hi) {
  lo = acc << (6 * rem);
  hi = lo | ((1u << (6 * rem)) - 1);
  lo = std::max(lo, kMinForLen[len]);
  hi = std::min(hi, kMaxForLen[len]);
  return lo <= hi;
}

inline std::uint32_t make_aux(std::uint32_t acc, std::uint32_t rem, std::uint32_t len) {
  return acc | (rem << 24) | (len << 26);
}

// One byte through a character class. Returns 0 (rejected), 1 (character complete) or 2 (partial
// character, new sub-state in new_aux).
int class_step(const ByteClass& c, std::uint32_t aux, std::uint8_t b, std::uint32_t& new_aux) {
  if (aux == 0) {
    if (!((c.first[b >> 6] >> (b & 63)) & 1)) return 0;
    if (b < 0x80) return 1;
    std::uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    new_aux = make_aux(b & (0x3Fu >> (len - 1)), len - 1, len);
    return 2;
  }
  if ((b & 0xC0) != 0x80) return 0;
  std::uint32_t acc = ((aux & 0x1FFFFF) << 6) | (b & 0x3F);
  std::uint32_t rem = ((aux >> 24) & 3) - 1;
  std::uint32_t len = (aux >> 26) & 7;
  if (rem == 0) {
    if (acc < kMinForLen[len] || acc > kMaxForLen[len]) return 0;
    return class_has(c, acc) ? 1 : 0;
  }
  std::uint32_t lo, hi;
  if (!prefix_range(acc, rem, len, lo, hi) || !class_intersects(c, lo, hi)) return 0;
  new_aux = make_aux(acc, rem, len);
  return 2;
}

std::vector<CharRange> complement(const std::vector<CharRange>& ranges) {
  std::vector<CharRange> out;
  std::uint32_t next = 0;
  auto emit = [&](std::uint32_t lo, std::uint32_t hi) {
    // Never include surrogates.
    if (lo > hi) return;
    if (hi < 0xD800 || lo > 0xDFFF) {
      out.push_back({lo, hi});
      return;
    }
    if (lo < 0xD800) out.push_back({lo, 0xD7FF});
    if (hi > 0xDFFF) out.push_back({0xE000, hi});
  };
  for (const CharRange& r : ranges) {
    if (r.lo > next) emit(next, r.lo - 1);
    next = std::max(next, r.hi + 1);
  }
  if (next <= kMaxCodePoint) emit(next, kMaxCodePoint);
  return out;
}

ByteClass make_class(const Symbol& s) {
  ByteClass c;
  c.ranges = s.negated ? complement(s.ranges) : s.ranges;
  for (std::uint32_t b = 0; b < 0x80; ++b) {
    if (class_has(c, b)) c.first[b >> 6] |= std::uint64_t(1) << (b & 63);
  }
  for (std::uint32_t b = 0xC2; b <= 0xF4; ++b) {
    std::uint32_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    std::uint32_t lo, hi;
    if (prefix_range(b & (0x3Fu >> (len - 1)), len - 1, len, lo, hi) && class_intersects(c, lo, hi))
      c.first[b >> 6] |= std::uint64_t(1) << (b & 63);
  }
  return c;
}

bool class_empty(const ByteClass& c) { return c.ranges.empty(); }

// Open-addressing map from a 64-bit key to a 32-bit value.
class U64Map {
 public:
  U64Map() { rehash(64); }
  // Returns the value for key, inserting `value` if absent.
  std::uint32_t get_or_insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.size() * 2);
    std::size_t mask = keys_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (keys_[i] == kEmpty) {
        keys_[i] = key;
        vals_[i] = value;
        ++size_;
        return value;
      }
      if (keys_[i] == key) return vals_[i];
    }
  }
  bool find(std::uint64_t key, std::uint32_t& value) const {
    std::size_t mask = keys_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (keys_[i] == kEmpty) return false;
      if (keys_[i] == key) {
        value = vals_[i];
        return true;
      }
    }
  }
  void clear() {
    keys_.clear();
    vals_.clear();
    rehash(64);
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t(0);
  static std::size_t hash(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<std::size_t>(k);
  }
  void rehash(std::size_t cap) {
    std::vector<std::uint64_t> ok = std::move(keys_);
    std::vector<std::uint32_t> ov = std::move(vals_);
    keys_.assign(cap, kEmpty);
    vals_.assign(cap, 0);
    size_ = 0;
    for (std::size_t i = 0; i < ok.size(); ++i) {
      if (ok[i] != kEmpty) get_or_insert(ok[i], ov[i]);
    }
  }
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> vals_;
  std::size_t size_ = 0;
};

// A set of 64-bit keys cleared in O(1) by bumping a generation counter.
class ScratchSet {
 public:
  ScratchSet() { resize(256); }
  void clear() {
    if (++gen_ == 0) {
      std::fill(stamp_.begin(), stamp_.end(), 0);
      gen_ = 1;
    }
    size_ = 0;
  }
  // True if the key was not yet present.
  bool insert(std::uint64_t key) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    std::size_t mask = keys_.size() - 1;
    for (std::size_t i = hash(key) & mask;; i = (i + 1) & mask) {
      if (stamp_[i] != gen_) {
        stamp_[i] = gen_;
        keys_[i] = key;
        ++size_;
        return true;
      }
      if (keys_[i] == key) return false;
    }
  }

 private:
  static std::size_t hash(std::uint64_t k) {
    k ^= k >> 31;
    k *= 0x9E3779B97F4A7C15ULL;
    k ^= k >> 29;
    return static_cast<std::size_t>(k);
  }
  void resize(std::size_t cap) {
    keys_.assign(cap, 0);
    stamp_.assign(cap, 0);
    gen_ = 1;
    size_ = 0;
  }
  void grow() {
    std::vector<std::uint64_t> live;
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (stamp_[i] == gen_) live.push_back(keys_[i]);
    }
    resize(keys_.size() * 2);
    for (std::uint64_t k : live) insert(k);
  }
  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> stamp_;
  std::uint32_t gen_ = 1;
  std::size_t size_ = 0;
};

inline std::uint64_t key2(std::uint32_t a, std::uint32_t b) {
  return (std::uint64_t(a) << 32) | b;
}

inline void set_bit(std::uint32_t* bits, std::uint32_t id) { bits[id >> 5] |= 1u << (id & 31); }

}  // namespace

// ---- lowering ------------------------------------------------------------------------------

namespace {

class Lowering {
 public:
  Lowering(const Grammar& g, std::vector<ProgElem>& elems,
           std::vector<std::vector<std::uint32_t>>& alts, std::vector<ByteClass>& classes,
           std::vector<GroundedSlot>& slots)
      : g_(g), elems_(elems), alts_(alts), classes_(classes), slots_(slots) {}

  void run() {
    productive_ = g_.productive_rules();
    const auto& rules = g_.rules();
    alts_.assign(rules.size(), {});
    for (std::uint32_t r = 0; r < rules.size(); ++r) {
      if (!productive_[r]) continue;  // never referenced from a productive alternative
      for (const Sequence& seq : rules[r].alternatives) {
        std::vector<ProgElem> body;
        if (!lower_sequence(seq, body)) continue;  // dead alternative
        add_alternative(r, body);
      }
    }
  }

 private:
  void check_size() {
    if (elems_.size() > kMaxProgramElems)
      throw GrammarError("grammar is too large once repetitions are expanded");
  }

  void add_alternative(std::uint32_t rule, std::vector<ProgElem>& body) {
    alts_[rule].push_back(static_cast<std::uint32_t>(elems_.size()));
    elems_.insert(elems_.end(), body.begin(), body.end());
    ProgElem end;
    end.kind = ElemKind::End;
    end.arg = rule;
    elems_.push_back(end);
    check_size();
  }

  std::uint32_t new_rule() {
    alts_.emplace_back();
    return static_cast<std::uint32_t>(alts_.size() - 1);
  }

  static ProgElem ref(std::uint32_t rule) {
    ProgElem e;
    e.kind = ElemKind::Ref;
    e.arg = rule;
    return e;
  }

  // star(r) ::= r star(r) | ""
  std::uint32_t star(std::uint32_t r) {
    auto it = star_.find(r);
    if (it != star_.end()) return it->second;
    std::uint32_t s = new_rule();
    star_[r] = s;
    std::vector<ProgElem> body{ref(r), ref(s)};
    add_alternative(s, body);
    std::vector<ProgElem> empty;
    add_alternative(s, empty);
    return s;
  }

  // opt(r, k) ::= "" | r opt(r, k-1), with opt(r, 0) never built (the caller omits it).
  std::uint32_t opt(std::uint32_t r, std::uint32_t k) {
    auto& chain = opt_[r];
    if (chain.empty()) {
      chain_id_[r] = static_cast<std::uint32_t>(chains_.size());
      chains_.emplace_back();
    }
    std::vector<std::uint32_t>& returns = chains_[chain_id_[r]];
    while (chain.size() < k) {
      std::uint32_t o = new_rule();
      std::vector<ProgElem> empty;
      add_alternative(o, empty);
      std::vector<ProgElem> body{ref(r)};
      if (!chain.empty()) body.push_back(ref(chain.back()));
      add_alternative(o, body);
      // Where r returns to at this level (none at level 1: the call is in tail position).
      returns.push_back(chain.empty() ? kNoPos : alts_[o].back() + 1);
      chain.push_back(o);
    }
    return chain[k - 1];
  }

 public:
  // chains()[c][level - 1]: the return position of repetition chain c at that level (levels
  // count the repetitions still allowed after the current one, plus one).
  std::vector<std::vector<std::uint32_t>> chains_;

 private:
  std::unordered_map<std::uint32_t, std::uint32_t> chain_id_;

  bool lower_sequence(const Sequence& seq, std::vector<ProgElem>& body) {
    for (const Symbol& s : seq) {
      switch (s.kind) {
        case Symbol::Kind::Literal:
          for (char ch : s.text) {
            ProgElem e;
            e.kind = ElemKind::Byte;
            e.lo = e.hi = static_cast<std::uint8_t>(ch);
            body.push_back(e);
          }
          break;
        case Symbol::Kind::CharClass: {
          ByteClass c = make_class(s);
          if (class_empty(c)) return false;
          ProgElem e;
          e.kind = ElemKind::Class;
          e.arg = static_cast<std::uint32_t>(classes_.size());
          classes_.push_back(std::move(c));
          body.push_back(e);
          break;
        }
        case Symbol::Kind::RuleRef:
          if (!productive_[s.rule]) return false;
          if (s.grounded != Grounded::None) {
            ProgElem e;
            e.kind = ElemKind::Grounded;
            e.arg = static_cast<std::uint32_t>(slots_.size());
            slots_.push_back({s.grounded, s.rule});
            body.push_back(e);
          } else {
            body.push_back(ref(s.rule));
          }
          break;
        case Symbol::Kind::Repeat: {
          if (s.max == 0) break;
          if (!productive_[s.rule]) {
            if (s.min > 0) return false;
            break;
          }
          if (static_cast<std::size_t>(s.min) > kMaxProgramElems)
            throw GrammarError("grammar is too large once repetitions are expanded");
          for (std::uint32_t i = 0; i < s.min; ++i) body.push_back(ref(s.rule));
          if (body.size() > kMaxProgramElems)
            throw GrammarError("grammar is too large once repetitions are expanded");
          if (s.max == kUnbounded) {
            body.push_back(ref(star(s.rule)));
          } else if (s.max > s.min) {
            if (s.max - s.min > kMaxProgramElems / 4)
              throw GrammarError("grammar is too large once repetitions are expanded");
            body.push_back(ref(opt(s.rule, s.max - s.min)));
          }
          break;
        }
      }
    }
    return true;
  }

  const Grammar& g_;
  std::vector<ProgElem>& elems_;
  std::vector<std::vector<std::uint32_t>>& alts_;
  std::vector<ByteClass>& classes_;
  std::vector<GroundedSlot>& slots_;
  std::vector<bool> productive_;
  std::unordered_map<std::uint32_t, std::uint32_t> star_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> opt_;
};

}  // namespace

CompiledGrammar::CompiledGrammar(Grammar grammar, std::vector<std::string> ignored)
    : grammar_(std::move(grammar)), ignored_(std::move(ignored)) {
  grammar_.validate();
  Lowering lowering(grammar_, elems_, alts_, classes_, slots_);
  lowering.run();
  chain_returns_ = std::move(lowering.chains_);
  chain_of_pos_.assign(elems_.size(), {0, 0});
  for (std::uint32_t c = 0; c < chain_returns_.size(); ++c) {
    for (std::uint32_t level = 1; level <= chain_returns_[c].size(); ++level) {
      std::uint32_t pos = chain_returns_[c][level - 1];
      if (pos != kNoPos) chain_of_pos_[pos] = {c, level};
    }
  }
  root_ = grammar_.root();
  if (alts_[root_].empty()) throw GrammarError("root rule matches no string");
  class_min_member_.assign(classes_.size(), 0);
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    if (classes_[c].ranges.empty()) throw InternalError("empty character class in the program");
    class_min_member_[c] = classes_[c].ranges.front().lo;  // sorted: the shortest encoding
  }
  min_ = compute_min_tables(nullptr);
}

// ---- shortest expansions -------------------------------------------------------------------

namespace {

inline std::uint64_t add_len(std::uint64_t a, std::uint64_t b) {
  constexpr std::uint64_t inf = CompiledGrammar::kNoCompletion;
  return (a == inf || b == inf || a > inf - b) ? inf : a + b;
}

std::uint64_t utf8_len(std::uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

}  // namespace

// Knuth's generalisation of Dijkstra's algorithm to grammars: an alternative's length is final
// once every rule it references is final; the rule with the smallest tentative length among
// those not final is final next (lengths only add, so no later alternative can undercut it).
// The alternative recorded for a rule only references rules finalised before it, so following
// the recorded alternatives always terminates, even through empty expansions.
MinTables CompiledGrammar::compute_min_tables(const std::vector<SlotOverride>* slots) const {
  const std::size_t n_rules = alts_.size();
  auto active = [&](const ProgElem& e) {
    return e.kind == ElemKind::Grounded && slots != nullptr && (*slots)[e.arg].active;
  };
  // The rule an element refers to (a grounded slot not active refers to its fallback).
  auto referenced = [&](const ProgElem& e) -> std::int64_t {
    if (e.kind == ElemKind::Ref) return e.arg;
    if (e.kind == ElemKind::Grounded && !active(e)) return slots_[e.arg].fallback;
    return -1;
  };
  auto elem_len = [&](const ProgElem& e) -> std::uint64_t {
    if (e.kind == ElemKind::Byte) return 1;
    if (e.kind == ElemKind::Class) return utf8_len(class_min_member_[e.arg]);
    return (*slots)[e.arg].shortest.size();  // an active grounded slot
  };
  // Per alternative: its rule, start, the bytes known so far and the references not yet final.
  struct Alt {
    std::uint32_t rule;
    std::uint32_t start;
    std::uint64_t len;
    std::uint32_t pending;
  };
  // rule -> the alternatives that use it (once per use), as one flat array indexed by
  // user_begin: counted in a first pass, filled in a second (a vector per rule cost a heap block
  // per rule, hundreds of megabytes for a grammar near kMaxProgramElems).
  std::vector<Alt> alts;
  std::vector<std::uint32_t> user_begin(n_rules + 1, 0);
  for (std::uint32_t r = 0; r < n_rules; ++r) {
    for (std::uint32_t start : alts_[r]) {
      Alt a{r, start, 0, 0};
      for (std::uint32_t p = start; elems_[p].kind != ElemKind::End; ++p) {
        std::int64_t ref = referenced(elems_[p]);
        if (ref >= 0) {
          ++a.pending;
          ++user_begin[static_cast<std::size_t>(ref) + 1];
        } else {
          a.len = add_len(a.len, elem_len(elems_[p]));
        }
      }
      alts.push_back(a);
    }
  }
  for (std::size_t r = 0; r < n_rules; ++r) user_begin[r + 1] += user_begin[r];
  std::vector<std::uint32_t> users(user_begin[n_rules]);
  {
    std::vector<std::uint32_t> fill(user_begin.begin(), user_begin.end() - 1);
    for (std::uint32_t id = 0; id < alts.size(); ++id) {
      for (std::uint32_t p = alts[id].start; elems_[p].kind != ElemKind::End; ++p) {
        std::int64_t ref = referenced(elems_[p]);
        if (ref >= 0) users[fill[static_cast<std::size_t>(ref)]++] = id;
      }
    }
  }
  MinTables t;
  t.rule_min_len.assign(n_rules, kNoCompletion);
  t.rule_min_alt.assign(n_rules, kNoPosition);
  std::vector<std::uint8_t> done(n_rules, 0);
  using Item = std::pair<std::uint64_t, std::uint32_t>;  // (tentative length, rule)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  auto offer = [&](const Alt& a) {
    if (done[a.rule] || a.len >= t.rule_min_len[a.rule]) return;
    t.rule_min_len[a.rule] = a.len;
    t.rule_min_alt[a.rule] = a.start;
    queue.push({a.len, a.rule});
  };
  for (const Alt& a : alts) {
    if (a.pending == 0) offer(a);
  }
  while (!queue.empty()) {
    auto [len, r] = queue.top();
    queue.pop();
    if (done[r] || len != t.rule_min_len[r]) continue;
    done[r] = 1;
    for (std::uint32_t u = user_begin[r]; u < user_begin[r + 1]; ++u) {
      Alt& a = alts[users[u]];
      a.len = add_len(a.len, len);
      if (--a.pending == 0) offer(a);
    }
  }
  t.suffix_min_len.assign(elems_.size(), kNoCompletion);
  for (std::size_t i = elems_.size(); i-- > 0;) {
    const ProgElem& e = elems_[i];
    if (e.kind == ElemKind::End) {
      t.suffix_min_len[i] = 0;
    } else {
      std::int64_t ref = referenced(e);
      std::uint64_t here = ref >= 0 ? t.rule_min_len[static_cast<std::size_t>(ref)] : elem_len(e);
      t.suffix_min_len[i] = add_len(here, t.suffix_min_len[i + 1]);
    }
  }
  return t;
}

void CompiledGrammar::append_min_expansion(const MinTables& tables,
                                           const std::vector<SlotOverride>* slots,
                                           std::uint32_t pos, std::string& out,
                                           std::vector<std::uint32_t>& work) const {
  work.clear();
  auto enter = [&](std::uint32_t rule) {
    if (tables.rule_min_alt[rule] == kNoPosition)
      throw InternalError("shortest completion through a rule that matches no string");
    work.push_back(pos + 1);
    pos = tables.rule_min_alt[rule];
  };
  for (;;) {
    const ProgElem& e = elems_[pos];
    switch (e.kind) {
      case ElemKind::Byte:
        out.push_back(static_cast<char>(e.lo));
        ++pos;
        break;
      case ElemKind::Class:
        json::append_utf8(out, class_min_member_[e.arg]);
        ++pos;
        break;
      case ElemKind::Ref:
        enter(e.arg);
        break;
      case ElemKind::Grounded:
        if (slots != nullptr && (*slots)[e.arg].active) {
          out += (*slots)[e.arg].shortest;
          ++pos;
        } else {
          enter(slots_[e.arg].fallback);
        }
        break;
      case ElemKind::End:
        if (work.empty()) return;
        pos = work.back();
        work.pop_back();
        break;
    }
  }
}

// ---- engine: the stack-set parser ----------------------------------------------------------

struct Frame {
  std::uint32_t pos;
  std::uint32_t parent;
};

struct StepFlags {
  bool complete = false;  // some path popped the root
  bool unknown = false;   // some path popped into an unknown parent
};

// A matcher's binding to one input text: per grounded slot, whether it is active and where its
// values come from (the text's automaton, or the trie of the number literals its fallback rule
// accepts), with the shortest-expansion tables that follow from it.
struct Binding {
  std::shared_ptr<const Grounding> grounding;
  std::vector<SlotOverride> slots;
  std::vector<std::uint32_t> trie_of_slot;  // number slots: index into tries
  std::vector<LiteralTrie> tries;
  MinTables tables;
};

// Grounded text positions keep (automaton state + 1) << 3 | escape pending << 2 | UTF-8
// continuation bytes still due in the stack's aux; number positions keep trie node + 1.
inline std::uint32_t text_aux(std::uint32_t state, bool esc, std::uint32_t rem) {
  return ((state + 1) << 3) | (esc ? 4u : 0u) | rem;
}
inline std::uint32_t text_state(std::uint32_t aux) { return (aux >> 3) - 1; }
// The escapes a grounded string may use: the letter after the backslash and the byte it stands
// for. Other control characters cannot be written (a text byte that needs no escape is written
// as itself).
constexpr std::pair<char, char> kTextEscapes[] = {{'"', '"'}, {'\\', '\\'}, {'n', '\n'},
                                                  {'t', '\t'}, {'r', '\r'}};
inline int escaped_byte(std::uint8_t letter) {
  for (const auto& e : kTextEscapes) {
    if (static_cast<std::uint8_t>(e.first) == letter) return static_cast<std::uint8_t>(e.second);
  }
  return -1;
}
inline bool needs_escape(std::uint8_t b) {
  return b == '"' || b == '\\' || b == '\n' || b == '\t' || b == '\r';
}
inline bool is_continuation(std::uint8_t b) { return (b & 0xC0) == 0x80; }

// How an engine treats grounded positions: as their fallback rules (a matcher not bound to a
// text), as the text's values (a bound matcher), or as opaque (the shared token cache, whose
// entries must hold for every binding: a path reaching a grounded position leaves its tokens to
// the matcher, like a path returning into an unknown frame).
enum class GroundedMode : std::uint8_t { Fallback, Bound, Opaque };

class Engine {
 public:
  explicit Engine(const CompiledGrammar& g, GroundedMode mode = GroundedMode::Fallback)
      : g_(g),
        elems_(g.elems()), alts_(g.alts()), classes_(g.classes()), root_(g.root_rule()),
        slots_(g.grounded_slots()), mode_(mode) {
    frames_.push_back({0, kBottom});
    frames_.push_back({0, kUnknown});
  }

  // Binds grounded positions to `b` (null: their fallback rules). Not for opaque engines.
  void set_binding(const Binding* b) {
    binding_ = b;
    mode_ = b ? GroundedMode::Bound : GroundedMode::Fallback;
  }
  // Whether a grounded position was reached since the last clear_touched(): a mask computed
  // without reaching one holds for every binding.
  bool touched() const { return touched_; }
  void clear_touched() { touched_ = false; }

  bool slot_active(std::uint32_t slot) const {
    return mode_ == GroundedMode::Bound && binding_->slots[slot].active;
  }

  // One byte at a grounded position: false if refused; else the new aux and whether the value
  // may end after it.
  bool grounded_step(std::uint32_t slot, std::uint32_t aux, std::uint8_t b, std::uint32_t& na,
                     bool& accepting) const {
    if (grounded_by_literals(slots_[slot].how)) {
      const LiteralTrie& t = binding_->tries[binding_->trie_of_slot[slot]];
      std::uint32_t n = t.next(aux - 1, b);
      if (n == LiteralTrie::kNone) return false;
      na = n + 1;
      accepting = t.terminal(n);
      return true;
    }
    const TextAutomaton& a = binding_->grounding->text();
    const std::uint32_t st = text_state(aux);
    const std::uint32_t rem = aux & 3;
    if (aux & 4) {  // after a backslash: the letter of an escape
      int u = escaped_byte(b);
      if (u < 0) return false;
      std::uint32_t ns = a.next(st, static_cast<std::uint8_t>(u));
      if (ns == TextAutomaton::kNone) return false;
      na = text_aux(ns, false, 0);
      accepting = true;
      return true;
    }
    if (b == '\\') {
      if (rem != 0) return false;
      bool any = false;
      for (const auto& e : kTextEscapes) {
        any = any || a.next(st, static_cast<std::uint8_t>(e.second)) != TextAutomaton::kNone;
      }
      if (!any) return false;
      na = text_aux(st, true, 0);
      accepting = false;
      return true;
    }
    if (b == '"' || b < 0x20) return false;
    std::uint32_t nrem;
    if (rem != 0) {
      if (!is_continuation(b)) return false;
      nrem = rem - 1;
    } else {
      if (is_continuation(b)) return false;
      nrem = b < 0x80 ? 0 : b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
    }
    std::uint32_t ns = a.next(st, b);
    if (ns == TextAutomaton::kNone) return false;
    na = text_aux(ns, false, nrem);
    accepting = nrem == 0;
    return true;
  }

  // Whether the value at a grounded position with `aux` may end here.
  bool grounded_accepting(std::uint32_t slot, std::uint32_t aux) const {
    if (grounded_by_literals(slots_[slot].how)) {
      return binding_->tries[binding_->trie_of_slot[slot]].terminal(aux - 1);
    }
    if (aux & 7) return false;  // a backslash or a character pending
    return text_state(aux) != 0 || slots_[slot].how == Grounded::Text;
  }

  // ORs into out the bytes a grounded position with `aux` takes next.
  void grounded_next_bytes(std::uint32_t slot, std::uint32_t aux, std::uint64_t out[4]) const {
    auto set = [&](std::uint8_t b) { out[b >> 6] |= std::uint64_t(1) << (b & 63); };
    if (grounded_by_literals(slots_[slot].how)) {
      binding_->tries[binding_->trie_of_slot[slot]].next_bytes(aux - 1, out);
      return;
    }
    const TextAutomaton& a = binding_->grounding->text();
    const std::uint32_t st = text_state(aux);
    const std::uint32_t rem = aux & 3;
    if (aux & 4) {
      for (const auto& e : kTextEscapes) {
        if (a.next(st, static_cast<std::uint8_t>(e.second)) != TextAutomaton::kNone)
          set(static_cast<std::uint8_t>(e.first));
      }
      return;
    }
    const auto& bytes = a.edge_bytes();
    for (std::uint32_t i = a.edges_begin(st); i < a.edges_end(st); ++i) {
      const std::uint8_t c = bytes[i];
      if (needs_escape(c)) {
        if (rem == 0) set('\\');
      } else if (c >= 0x20 && is_continuation(c) == (rem != 0)) {
        set(c);
      }
    }
  }

  // Bytes that end the value at a grounded position (appended to out when out is not null):
  // the rest of a partial character or escape, or for an empty non-empty text value, the
  // text's shortest character; for numbers, the shortest literal continuing the trie node.
  std::uint64_t grounded_exit(std::uint32_t slot, std::uint32_t aux, std::string* out) const {
    if (grounded_by_literals(slots_[slot].how)) {
      const LiteralTrie& t = binding_->tries[binding_->trie_of_slot[slot]];
      if (out) t.append_min_completion(aux - 1, *out);
      return t.min_to_terminal(aux - 1);
    }
    const TextAutomaton& a = binding_->grounding->text();
    std::uint32_t st = text_state(aux);
    std::uint32_t rem = aux & 3;
    if (aux & 4) {
      if (out) {
        for (const auto& e : kTextEscapes) {
          if (a.next(st, static_cast<std::uint8_t>(e.second)) != TextAutomaton::kNone) {
            out->push_back(e.first);
            break;
          }
        }
      }
      return 1;
    }
    if (rem == 0 && st == 0 && slots_[slot].how == Grounded::TextNonEmpty) {
      const std::string& shortest = binding_->slots[slot].shortest;
      if (out) *out += shortest;
      return shortest.size();
    }
    if (out) {
      for (std::uint32_t k = 0; k < rem; ++k) {
        if (a.edges_begin(st) == a.edges_end(st))
          throw InternalError("grounded text ends inside a character");
        out->push_back(static_cast<char>(a.edge_bytes()[a.edges_begin(st)]));
        st = a.edge_targets()[a.edges_begin(st)];
      }
    }
    return rem;
  }

  std::uint32_t intern(std::uint32_t pos, std::uint32_t parent) {
    if (frames_.size() >= kMaxFrames) too_ambiguous("frames", kMaxFrames);
    auto id = static_cast<std::uint32_t>(frames_.size());
    std::uint32_t got = frame_ids_.get_or_insert(key2(pos, parent), id);
    if (got == id) frames_.push_back({pos, parent});
    return got;
  }
  const Frame& frame(std::uint32_t id) const { return frames_[id]; }

  // The initial stacks (root alternatives over `parent`) appended to out.
  void initial(std::uint32_t parent, std::vector<Stack>& out, StepFlags& f) {
    visited_.clear();
    for (std::uint32_t a : alts_[root_]) expand(a, parent, out, f);
  }

  // Starts stacks from position `pos` over `parent` (a fresh closure).
  void start_at(std::uint32_t pos, std::uint32_t parent, std::vector<Stack>& out, StepFlags& f) {
    visited_.clear();
    expand(pos, parent, out, f);
  }

  // Consumes byte b from the stacks buf[begin, end) and appends the resulting stacks to buf.
  void advance(std::vector<Stack>& buf, std::size_t begin, std::size_t end, std::uint8_t b,
               StepFlags& f) {
    visited_.clear();
    partial_.clear();
    std::size_t out_begin = buf.size();
    for (std::size_t i = begin; i < end; ++i) {
      const Stack s = buf[i];
      const ProgElem& e = elems_[s.pos];
      if (e.kind == ElemKind::Byte) {
        if (b >= e.lo && b <= e.hi) expand(s.pos + 1, s.parent, buf, f);
      } else if (e.kind == ElemKind::Grounded) {
        touched_ = true;
        std::uint32_t na = 0;
        bool accepting = false;
        if (!grounded_step(e.arg, s.aux, b, na, accepting)) continue;
        Stack t{s.pos, na, s.parent};
        bool dup = false;
        for (std::size_t k = out_begin; k < buf.size(); ++k) {
          if (buf[k] == t) {
            dup = true;
            break;
          }
        }
        if (!dup) buf.push_back(t);
        if (accepting) expand(s.pos + 1, s.parent, buf, f);
      } else {
        std::uint32_t new_aux = 0;
        int r = class_step(classes_[e.arg], s.aux, b, new_aux);
        if (r == 1) {
          expand(s.pos + 1, s.parent, buf, f);
        } else if (r == 2) {
          Stack t{s.pos, new_aux, s.parent};
          // Look for a duplicate only when this position and parent already made a partial
          // character on this byte: a scan per stack is quadratic in states of many stacks.
          bool dup = false;
          if (!partial_.insert(key2(s.pos, s.parent))) {
            for (std::size_t k = out_begin; k < buf.size(); ++k) {
              if (buf[k] == t) {
                dup = true;
                break;
              }
            }
          }
          if (!dup) buf.push_back(t);
        }
      }
    }
  }

  // The bytes any stack in buf[begin, end) accepts next, as a 256-bit set.
  void next_bytes(const std::vector<Stack>& buf, std::size_t begin, std::size_t end,
                  std::uint64_t out[4]) const {
    out[0] = out[1] = out[2] = out[3] = 0;
    for (std::size_t i = begin; i < end; ++i) {
      const Stack& s = buf[i];
      const ProgElem& e = elems_[s.pos];
      if (e.kind == ElemKind::Byte) {
        for (std::uint32_t b = e.lo; b <= e.hi; ++b) out[b >> 6] |= std::uint64_t(1) << (b & 63);
      } else if (e.kind == ElemKind::Grounded) {
        touched_ = true;
        grounded_next_bytes(e.arg, s.aux, out);
      } else if (s.aux == 0) {
        for (int w = 0; w < 4; ++w) out[w] |= classes_[e.arg].first[w];
      } else {
        for (std::uint32_t b = 0x80; b < 0xC0; ++b) {
          std::uint32_t na;
          if (class_step(classes_[e.arg], s.aux, static_cast<std::uint8_t>(b), na))
            out[b >> 6] |= std::uint64_t(1) << (b & 63);
        }
      }
    }
  }

  std::size_t n_frames() const { return frames_.size(); }

  // The token-cache key of stack `s` looking at most `depth` parent frames deep:
  // [pos, aux, parent positions..., terminator] where the terminator is 0 when the chain ends at
  // the root (the key is the whole stack) and 1 when it was cut (the rest is unknown).
  //
  // With canon_level > 0, a parent frame inside a repetition chain at a higher level is replaced
  // by the same frame at canon_level (terminator bit 2 then set): a token of at most
  // canon_level - 1 bytes cannot tell the two apart, so the context is shared and only longer
  // tokens are checked against the real stack.
  bool context_key(const Stack& s, std::size_t depth, std::vector<std::uint32_t>& key,
                   std::uint32_t canon_level) const {
    key.clear();
    key.push_back(s.pos);
    key.push_back(s.aux);
    std::uint32_t p = s.parent;
    bool canon = false;
    const auto& chain_of = g_.chain_of_pos();
    for (std::size_t d = 0; d < depth && p != kBottom; ++d) {
      std::uint32_t fpos = frames_[p].pos;
      if (canon_level) {
        const CompiledGrammar::ChainPos& cp = chain_of[fpos];
        if (cp.level > canon_level) {
          fpos = g_.chain_returns()[cp.chain][canon_level - 1];
          canon = true;
        }
      }
      key.push_back(fpos);
      p = frames_[p].parent;
    }
    bool exact = p == kBottom;
    key.push_back((exact ? 0u : 1u) | (canon ? 2u : 0u));
    return exact;
  }

  // Rebuilds in this arena the stack a context key describes.
  Stack context_stack(const std::vector<std::uint32_t>& key) {
    std::uint32_t parent = (key.back() & 1) == 0 ? kBottom : kUnknown;
    for (std::size_t i = key.size() - 2; i >= 3; --i) parent = intern(key[i], parent);
    if (key.size() > 3) parent = intern(key[2], parent);
    return Stack{key[0], key[1], parent};
  }

 private:
  void expand(std::uint32_t pos, std::uint32_t parent, std::vector<Stack>& out, StepFlags& f) {
    if (out.size() > kMaxStacks) too_ambiguous("stacks", kMaxStacks);
    work_.clear();
    work_.push_back({pos, parent});
    while (!work_.empty()) {
      Frame it = work_.back();
      work_.pop_back();
      if (!visited_.insert(key2(it.pos, it.parent))) continue;
      const ProgElem& e = elems_[it.pos];
      switch (e.kind) {
        case ElemKind::Byte:
        case ElemKind::Class:
          out.push_back({it.pos, 0, it.parent});
          break;
        case ElemKind::End:
          if (it.parent == kBottom) {
            f.complete = true;
          } else if (it.parent == kUnknown) {
            f.unknown = true;
          } else {
            const Frame& fr = frames_[it.parent];
            work_.push_back({fr.pos, fr.parent});
          }
          break;
        case ElemKind::Ref:
          call(it, e.arg);
          break;
        case ElemKind::Grounded:
          touched_ = true;
          if (mode_ == GroundedMode::Opaque) {
            f.unknown = true;
          } else if (!slot_active(e.arg)) {
            call(it, slots_[e.arg].fallback);
          } else if (grounded_by_literals(slots_[e.arg].how)) {
            out.push_back({it.pos, 1, it.parent});  // trie root
          } else {
            out.push_back({it.pos, text_aux(0, false, 0), it.parent});
            if (slots_[e.arg].how == Grounded::Text) work_.push_back({it.pos + 1, it.parent});
          }
          break;
      }
    }
  }

  // Enters `rule` from the position `it` (a reference to it), pushing its alternatives.
  void call(const Frame& it, std::uint32_t rule) {
    std::uint32_t next = it.pos + 1;
    std::uint32_t np = elems_[next].kind == ElemKind::End ? it.parent : intern(next, it.parent);
    const auto& starts = alts_[rule];
    for (auto a = starts.rbegin(); a != starts.rend(); ++a) work_.push_back({*a, np});
  }

  const CompiledGrammar& g_;
  const std::vector<ProgElem>& elems_;
  const std::vector<std::vector<std::uint32_t>>& alts_;
  const std::vector<ByteClass>& classes_;
  std::uint32_t root_;
  const std::vector<GroundedSlot>& slots_;
  GroundedMode mode_;
  const Binding* binding_ = nullptr;
  mutable bool touched_ = false;
  std::vector<Frame> frames_;
  U64Map frame_ids_;
  ScratchSet visited_;
  ScratchSet partial_;  // (position, parent) of the partial characters made by one advance
  std::vector<Frame> work_;
};

struct VecHash {
  std::size_t operator()(const std::vector<std::uint32_t>& v) const {
    std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ v.size();
    for (std::uint32_t x : v) {
      h ^= x;
      h *= 0xff51afd7ed558ccdULL;
      h ^= h >> 32;
    }
    return static_cast<std::size_t>(h);
  }
};

// What one top-of-stack context decides about the vocabulary (see matcher.h).
struct CacheEntry {
  std::vector<std::uint32_t> accepted;   // bitset over token ids
  std::vector<std::uint32_t> dependent;  // byte-sorted token indices needing the full stack
  bool deeper = false;                   // too many dependent tokens: use a deeper context
};

// A cut context with more dependent tokens than this is not used; a deeper one is built instead.
std::atomic<std::size_t> g_max_dependent{256};
// Context depths tried in turn (parent frames); the last one is always the whole stack.
constexpr std::size_t kDepths[] = {2, 4, 8, 16, std::size_t(1) << 30};
// Memory bound of one token cache; past it, masks fall back to direct trie walks.
std::atomic<std::size_t> g_max_cache_bytes{std::size_t(256) << 20};

struct TokenCache {
  TokenCache(const CompiledGrammar& g, const Vocabulary& v)
      : vocab(&v),
        builder(g, GroundedMode::Opaque),
        canon_level(v.long_token_threshold() ? static_cast<std::uint32_t>(v.long_token_threshold() + 1)
                                             : 0),
        long_tokens(v.long_tokens()) {}

  // The entry for `key`, built on first use; nullptr when the cache is full. Thread-safe; the
  // returned entry is never modified or freed while the cache lives.
  const CacheEntry* get(const std::vector<std::uint32_t>& key) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = entries.find(key);
    if (it != entries.end()) return it->second.get();
    if (bytes >= g_max_cache_bytes.load(std::memory_order_relaxed)) return nullptr;
    auto entry = std::make_unique<CacheEntry>();
    auto t0 = std::chrono::steady_clock::now();
    build(key, *entry);
    stats.build_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count());
    stats.builds += 1;
    stats.deeper += entry->deeper ? 1 : 0;
    stats.dependent += entry->dependent.size();
    bytes += (entry->accepted.size() + entry->dependent.size() + key.size()) * 4 + 96;
    const CacheEntry* out = entry.get();
    entries.emplace(key, std::move(entry));
    return out;
  }

  // State sets of the builder interned as ids (0 is the empty set) with memoised byte
  // transitions, so a trie walk that keeps returning to the same states (string contents) costs
  // one table lookup per node. A transition is the next id plus flags in the top bits.
  static constexpr std::uint32_t kDoneBit = 1u << 30;     // complete or unknown after the byte
  static constexpr std::uint32_t kUnknownBit = 1u << 31;  // popped into the unknown context
  static constexpr std::uint32_t kIdMask = kDoneBit - 1;
  static constexpr std::size_t kMaxTransitions = std::size_t(1) << 21;

  std::uint32_t intern_set(std::vector<Stack>& set) {
    std::sort(set.begin(), set.end(), [](const Stack& a, const Stack& b) {
      return a.pos != b.pos ? a.pos < b.pos : a.aux != b.aux ? a.aux < b.aux : a.parent < b.parent;
    });
    set_key.clear();
    for (const Stack& st : set) {
      set_key.push_back(st.pos);
      set_key.push_back(st.aux);
      set_key.push_back(st.parent);
    }
    auto it = set_ids.find(set_key);
    if (it != set_ids.end()) return it->second;
    auto id = static_cast<std::uint32_t>(sets.size());
    if (id >= kIdMask) throw InternalError("token cache: too many parser states");
    sets.push_back(set);
    set_ids.emplace(set_key, id);
    return id;
  }

  std::uint32_t transition(std::uint32_t state, std::uint8_t b) {
    std::uint64_t tk = (std::uint64_t(state) << 8) | b;
    std::uint32_t t;
    if (trans.find(tk, t)) return t;
    scratch.assign(sets[state].begin(), sets[state].end());
    std::size_t n = scratch.size();
    StepFlags f;
    builder.advance(scratch, 0, n, b, f);
    next_set.assign(scratch.begin() + static_cast<std::ptrdiff_t>(n), scratch.end());
    t = next_set.empty() ? 0 : intern_set(next_set);
    if (f.complete || f.unknown) t |= kDoneBit;
    if (f.unknown) t |= kUnknownBit;
    trans.get_or_insert(tk, t);
    return t;
  }

  const std::uint64_t* next_bytes_of(std::uint32_t state) {
    if (state_next.size() <= state) {
      state_next.resize(sets.size());
      state_next_ok.resize(sets.size(), 0);
    }
    if (!state_next_ok[state]) {
      builder.next_bytes(sets[state], 0, sets[state].size(), state_next[state].data());
      state_next_ok[state] = 1;
    }
    return state_next[state].data();
  }

  void reset_states() {
    state_next.clear();
    state_next_ok.clear();
    sets.clear();
    set_ids.clear();
    trans.clear();
    sets.emplace_back();  // id 0: the empty set
    set_ids.emplace(std::vector<std::uint32_t>{}, 0);
  }

  // Contexts topped by the same position tend to need the same depth: remember the deepest
  // start that was needed so later contexts skip the builds that would be thrown away.
  std::size_t start_depth(std::uint32_t pos) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = depth_hint.find(pos);
    return it == depth_hint.end() ? 0 : it->second;
  }
  void note_deeper(std::uint32_t pos, std::size_t index) {
    std::lock_guard<std::mutex> lock(mu);
    std::size_t& h = depth_hint[pos];
    h = std::max(h, index);
  }

  void build(const std::vector<std::uint32_t>& key, CacheEntry& e) {
    const bool exact = (key.back() & 1) == 0;
    const bool canon = (key.back() & 2) != 0;
    const std::vector<TrieNode>& trie = vocab->trie();
    const std::vector<std::uint32_t>& ids = vocab->sorted_ids();
    if (sets.empty() || trans.size() > kMaxTransitions) reset_states();
    const std::size_t max_dependent = g_max_dependent.load(std::memory_order_relaxed);
    e.accepted.assign((vocab->n_vocab() + 31) / 32, 0);
    std::vector<Stack> start{builder.context_stack(key)};
    level_state.assign(vocab->max_token_len() + 2, 0);
    unknown_before.assign(vocab->max_token_len() + 2, 0);
    level_state[0] = intern_set(start);
    for (std::size_t i = 1; i < trie.size();) {
      const TrieNode& node = trie[i];
      std::size_t d = node.depth;
      // Bytes no stack of the parent state takes are rejected without computing a transition,
      // which is most of the fan-out at structural positions.
      const std::uint32_t from = level_state[d - 1];
      const std::uint64_t* allowed = next_bytes_of(from);
      std::uint32_t t = ((allowed[node.byte >> 6] >> (node.byte & 63)) & 1u)
                            ? transition(from, node.byte)
                            : 0;
      std::uint32_t next = t & kIdMask;
      level_state[d] = next;
      bool live = next != 0;
      // unknown_before[d]: some path popped into the unknown context within the first d bytes.
      unknown_before[d] = unknown_before[d - 1] || (t & kUnknownBit);
      if (live || (t & kDoneBit)) {
        for (std::uint32_t k = node.tok_begin; k < node.tok_end; ++k) set_bit(e.accepted.data(), ids[k]);
      } else if (unknown_before[d - 1]) {
        for (std::uint32_t k = node.tok_begin; k < node.tok_end; ++k) e.dependent.push_back(k);
      }
      if (!live) {
        if (unknown_before[d]) {
          for (std::uint32_t k = node.tok_end; k < node.sub_tok_end; ++k) e.dependent.push_back(k);
        }
        i = node.next;
      } else {
        ++i;
      }
      if (!exact && e.dependent.size() > max_dependent) {
        e.deeper = true;
        e.accepted.clear();
        e.accepted.shrink_to_fit();
        e.dependent.clear();
        e.dependent.shrink_to_fit();
        return;
      }
    }
    if (canon) {
      for (std::uint32_t k : long_tokens) {
        std::uint32_t id = ids[k];
        if (!((e.accepted[id >> 5] >> (id & 31)) & 1u)) e.dependent.push_back(k);
      }
      std::sort(e.dependent.begin(), e.dependent.end());
      e.dependent.erase(std::unique(e.dependent.begin(), e.dependent.end()), e.dependent.end());
    }
  }

  // Not owned: every user of the cache holds the vocabulary, and the grammar drops caches whose
  // vocabulary has expired.
  const Vocabulary* vocab;
  std::mutex mu;
  Engine builder;
  std::unordered_map<std::vector<std::uint32_t>, std::unique_ptr<CacheEntry>, VecHash> entries;
  std::size_t bytes = 0;
  CacheStats stats;
  // Repetition levels above this are shared (0: never); long_tokens are the byte-sorted indices
  // of the tokens that sharing cannot decide.
  std::uint32_t canon_level = 0;
  const std::vector<std::uint32_t>& long_tokens;
  std::unordered_map<std::uint32_t, std::size_t> depth_hint;
  // Builder scratch and the interned state sets with their transitions.
  std::vector<std::vector<Stack>> sets;
  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, VecHash> set_ids;
  U64Map trans;
  std::vector<std::uint32_t> set_key;
  std::vector<Stack> scratch;
  std::vector<Stack> next_set;
  std::vector<std::uint32_t> level_state;
  std::vector<std::uint8_t> unknown_before;
  std::vector<std::array<std::uint64_t, 4>> state_next;  // next-byte set per state id
  std::vector<std::uint8_t> state_next_ok;
};

void set_cache_limits(std::size_t max_dependent, std::size_t max_cache_bytes) {
  g_max_dependent.store(max_dependent);
  g_max_cache_bytes.store(max_cache_bytes);
}

std::shared_ptr<TokenCache> CompiledGrammar::token_cache(
    const std::shared_ptr<const Vocabulary>& vocab) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  for (std::size_t i = 0; i < caches_.size();) {
    std::shared_ptr<const Vocabulary> v = caches_[i].first.lock();
    if (!v) {
      caches_.erase(caches_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (v == vocab) return caches_[i].second;
    ++i;
  }
  auto cache = std::make_shared<TokenCache>(*this, *vocab);
  caches_.emplace_back(vocab, cache);
  return cache;
}

// ---- matcher -------------------------------------------------------------------------------

struct GrammarMatcher::Impl {
  Impl(const CompiledGrammar& g, const Vocabulary& v, std::shared_ptr<TokenCache> c)
      : grammar(g), engine(g), vocab(v), cache(std::move(c)) {}

  const CompiledGrammar& grammar;
  Engine engine;
  const Vocabulary& vocab;
  std::shared_ptr<TokenCache> cache;
  // The text binding (null when not bound) and the shortest-expansion tables in force.
  std::unique_ptr<Binding> binding;
  const MinTables* tables = &grammar.min_tables();
  const std::vector<SlotOverride>* overrides = nullptr;
  // The current state.
  std::vector<Stack> stacks;
  bool complete = false;
  bool terminated = false;
  // Scratch buffers reused across calls.
  std::vector<Stack> buf;
  std::vector<std::size_t> level_begin;
  std::vector<std::uint8_t> level_done;
  std::vector<std::array<std::uint64_t, 4>> level_next;
  // walk_grounded scratch: the stacks where the value ends, and the search's pending nodes
  // (below); per-stack masks beside a grounded value.
  std::vector<Stack> exit_stacks;
  struct StackKeyHash {
    std::size_t operator()(const std::array<std::uint32_t, 3>& k) const {
      std::uint64_t h = (std::uint64_t(k[0]) << 32 | k[2]) * 0x9E3779B97F4A7C15ULL;
      return static_cast<std::size_t>(h ^ (h >> 29) ^ k[1]);
    }
  };
  std::unordered_map<std::array<std::uint32_t, 3>, std::vector<std::uint32_t>, StackKeyHash>
      stack_memo;
  static constexpr std::size_t kMaxStackMemo = 1024;
  struct GroundedItem {
    std::uint32_t node;
    std::uint32_t aux;
    bool accepting;
  };
  std::vector<GroundedItem> g_work;
  std::vector<std::uint32_t> mask;
  std::vector<std::uint32_t> key;
  std::vector<std::uint32_t> state_key;
  std::vector<Stack> sorted;
  // Distance to completion of the parent frames of the arena, filled on demand (frames are
  // immutable, so an entry never changes); frame_walk is scratch.
  std::vector<std::uint64_t> frame_dist;
  std::vector<std::uint32_t> frame_walk;
  std::vector<std::uint32_t> expansion_work;
  // Whole-mask memo keyed by the exact state (stacks sorted, then the complete flag); masks that
  // reached a grounded value go to bound_memo, which a new binding clears.
  std::unordered_map<std::vector<std::uint32_t>, std::vector<std::uint32_t>, VecHash> memo;
  std::unordered_map<std::vector<std::uint32_t>, std::vector<std::uint32_t>, VecHash> bound_memo;
  std::size_t memo_bytes = 0;
  static constexpr std::size_t kMaxMemoBytes = std::size_t(32) << 20;
  // A state with more stacks than this gets its mask from one trie walk over all of them: the
  // token cache works stack by stack, and a state of many stacks (a long bounded repetition of a
  // rule that matches the empty string) would build a context per stack, each walk as long as
  // the repetition.
  static constexpr std::size_t kMaxCachedStacks = 256;

  void reset() {
    stacks.clear();
    StepFlags f;
    engine.initial(kBottom, stacks, f);
    complete = f.complete;
    terminated = false;
  }

  // Whether program rule `rule` matches exactly `bytes` (grounded positions inside it as their
  // fallbacks).
  bool rule_matches(std::uint32_t rule, std::string_view bytes, Engine& probe,
                    std::vector<Stack>& work) const {
    work.clear();
    StepFlags f;
    for (std::uint32_t start : grammar.alts()[rule]) probe.start_at(start, kBottom, work, f);
    bool done = f.complete;
    for (char ch : bytes) {
      if (work.empty()) return false;
      StepFlags g;
      std::size_t n = work.size();
      probe.advance(work, 0, n, static_cast<std::uint8_t>(ch), g);
      work.erase(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(n));
      done = g.complete;
    }
    return done;
  }

  // Adds to `t` every substring of a word of `text` (a run without spaces, control characters,
  // quotes or backslashes, at most kMaxWord bytes) that starts at a character boundary and that program
  // rule `rule` matches: one forward run of the rule per start, O(word length squared) steps.
  void add_word_substrings(std::uint32_t rule, const std::string& text, Engine& probe,
                           std::vector<Stack>& work, LiteralTrie& t) const {
    constexpr std::size_t kMaxWord = 256;
    auto stop = [](char c) {
      return c == ' ' || c == '"' || c == '\\' || static_cast<std::uint8_t>(c) < 0x20;
    };
    std::size_t i = 0;
    while (i < text.size()) {
      if (stop(text[i])) {
        ++i;
        continue;
      }
      std::size_t end = i;
      while (end < text.size() && !stop(text[end])) ++end;
      if (end - i <= kMaxWord) {
        for (std::size_t a = i; a < end; ++a) {
          if (is_continuation(static_cast<std::uint8_t>(text[a]))) continue;
          work.clear();
          StepFlags f;
          for (std::uint32_t start : grammar.alts()[rule]) probe.start_at(start, kBottom, work, f);
          for (std::size_t z = a; z < end && !work.empty(); ++z) {
            StepFlags g;
            std::size_t n = work.size();
            probe.advance(work, 0, n, static_cast<std::uint8_t>(text[z]), g);
            work.erase(work.begin(), work.begin() + static_cast<std::ptrdiff_t>(n));
            if (g.complete) t.add(std::string_view(text).substr(a, z + 1 - a));
          }
        }
      }
      i = end;
    }
  }

  void bind(std::shared_ptr<const Grounding> grounding) {
    engine.set_binding(nullptr);
    binding.reset();
    tables = &grammar.min_tables();
    overrides = nullptr;
    if (grounding) {
      auto b = std::make_unique<Binding>();
      b->grounding = std::move(grounding);
      const auto& slots = grammar.grounded_slots();
      b->slots.resize(slots.size());
      b->trie_of_slot.assign(slots.size(), 0);
      const TextAutomaton& text = b->grounding->text();
      // The text's shortest character as a JSON string body, for non-empty values.
      std::string shortest_char;
      for (std::uint32_t i = text.edges_begin(0); i < text.edges_end(0); ++i) {
        std::uint8_t c = text.edge_bytes()[i];
        if (c < 0x20 || is_continuation(c)) continue;
        std::string enc;
        if (c == '"' || c == '\\') {  // a line break, tab or return is never the shortest
          enc = {'\\', static_cast<char>(c)};
        } else {
          enc.push_back(static_cast<char>(c));
          std::uint32_t st = text.edge_targets()[i];
          std::uint32_t rem = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
          for (; rem > 0 && text.edges_begin(st) < text.edges_end(st); --rem) {
            enc.push_back(static_cast<char>(text.edge_bytes()[text.edges_begin(st)]));
            st = text.edge_targets()[text.edges_begin(st)];
          }
          if (rem) continue;
        }
        if (shortest_char.empty() || enc.size() < shortest_char.size()) shortest_char = enc;
      }
      Engine probe(grammar);
      std::vector<Stack> work;
      std::unordered_map<std::uint32_t, std::uint32_t> trie_of_rule;
      for (std::uint32_t k = 0; k < slots.size(); ++k) {
        SlotOverride& o = b->slots[k];
        if (slots[k].how == Grounded::Text) {
          o.active = true;
        } else if (slots[k].how == Grounded::TextNonEmpty) {
          o.active = !shortest_char.empty();
          o.shortest = shortest_char;
        } else {
          auto it = trie_of_rule.find(slots[k].fallback);
          if (it == trie_of_rule.end()) {
            LiteralTrie t;
            if (slots[k].how == Grounded::Number) {
              for (const std::string& lit : b->grounding->numbers()) {
                if (rule_matches(slots[k].fallback, lit, probe, work)) t.add(lit);
              }
            } else {
              add_word_substrings(slots[k].fallback, text.text(), probe, work, t);
            }
            t.finish();
            it = trie_of_rule.emplace(slots[k].fallback, static_cast<std::uint32_t>(b->tries.size())).first;
            b->tries.push_back(std::move(t));
          }
          b->trie_of_slot[k] = it->second;
          const LiteralTrie& t = b->tries[it->second];
          o.active = !t.empty();
          if (o.active) t.append_min_completion(0, o.shortest);
        }
      }
      b->tables = grammar.compute_min_tables(&b->slots);
      binding = std::move(b);
      engine.set_binding(binding.get());
      tables = &binding->tables;
      overrides = &binding->slots;
    }
    frame_dist.clear();
    bound_memo.clear();
    stack_memo.clear();
    reset();
  }

  // Runs `data` from the current state into buf; on success the new stacks are buf[begin, end)
  // and `now_complete` tells whether the value is complete after it.
  bool run_bytes(std::string_view data, std::size_t& begin, std::size_t& end, bool& now_complete) {
    buf.assign(stacks.begin(), stacks.end());
    begin = 0;
    end = buf.size();
    now_complete = complete;
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (begin == end) return false;
      StepFlags f;
      std::size_t out = buf.size();
      engine.advance(buf, begin, end, static_cast<std::uint8_t>(data[i]), f);
      // Move the new level to the front so buf does not grow with the input length.
      std::size_t n = buf.size() - out;
      std::copy(buf.begin() + static_cast<std::ptrdiff_t>(out), buf.end(), buf.begin());
      buf.resize(n);
      begin = 0;
      end = n;
      now_complete = f.complete;
      if (n == 0 && !f.complete) return false;
    }
    return true;
  }

  bool accept_bytes(std::string_view data, bool commit) {
    if (terminated) return data.empty();
    if (data.empty()) return true;
    std::size_t begin, end;
    bool now_complete;
    if (!run_bytes(data, begin, end, now_complete)) return false;
    if (commit) {
      stacks.assign(buf.begin() + static_cast<std::ptrdiff_t>(begin),
                    buf.begin() + static_cast<std::ptrdiff_t>(end));
      complete = now_complete;
    }
    return true;
  }

  bool accept_token(std::int64_t id, bool commit) {
    if (id < 0 || static_cast<std::uint64_t>(id) >= vocab.n_vocab() || terminated) return false;
    auto tid = static_cast<std::uint32_t>(id);
    if (vocab.is_eos(tid)) {
      if (!complete) return false;
      if (commit) terminated = true;
      return true;
    }
    const std::string& piece = vocab.token(tid);
    if (piece.empty()) return false;
    return accept_bytes(piece, commit);
  }

  // Bytes still needed by the partial UTF-8 character of a stack (0 if none).
  static std::uint32_t partial_rem(std::uint32_t aux) { return aux ? (aux >> 24) & 3 : 0; }

  // Distance of parent frame `id`, memoised; a frame not seen before costs a walk up to the
  // nearest memoised ancestor (frames that masks create but no state uses are never visited).
  std::uint64_t frame_distance(std::uint32_t id) {
    constexpr std::uint64_t unset = CompiledGrammar::kNoCompletion - 1;
    if (frame_dist.empty()) {
      frame_dist.push_back(0);                               // kBottom: the value is complete
      frame_dist.push_back(CompiledGrammar::kNoCompletion);  // kUnknown: never in a real state
    }
    if (frame_dist.size() < engine.n_frames()) frame_dist.resize(engine.n_frames(), unset);
    if (frame_dist[id] != unset) return frame_dist[id];
    const std::vector<std::uint64_t>& suffix = tables->suffix_min_len;
    frame_walk.clear();
    for (std::uint32_t p = id; frame_dist[p] == unset; p = engine.frame(p).parent) {
      frame_walk.push_back(p);
    }
    for (auto it = frame_walk.rbegin(); it != frame_walk.rend(); ++it) {
      const Frame& fr = engine.frame(*it);
      frame_dist[*it] = add_len(suffix[fr.pos], frame_dist[fr.parent]);
    }
    return frame_dist[id];
  }

  // The distance of one stack.
  std::uint64_t stack_distance(const Stack& s) {
    const std::vector<std::uint64_t>& suffix = tables->suffix_min_len;
    std::uint64_t top;
    if (grammar.elems()[s.pos].kind == ElemKind::Grounded) {
      top = add_len(engine.grounded_exit(grammar.elems()[s.pos].arg, s.aux, nullptr), suffix[s.pos + 1]);
    } else {
      top = s.aux ? add_len(partial_rem(s.aux), suffix[s.pos + 1]) : suffix[s.pos];
    }
    return add_len(top, frame_distance(s.parent));
  }

  // Minimum distance over stacks [first, last) and the index of the first stack achieving it.
  std::uint64_t min_distance(const Stack* first, const Stack* last, std::size_t& best) {
    std::uint64_t d = CompiledGrammar::kNoCompletion;
    best = 0;
    for (const Stack* s = first; s != last; ++s) {
      std::uint64_t v = stack_distance(*s);
      if (v < d) {
        d = v;
        best = static_cast<std::size_t>(s - first);
      }
    }
    return d;
  }

  std::uint64_t completion_distance() {
    if (terminated || complete) return 0;
    std::size_t best;
    return min_distance(stacks.data(), stacks.data() + stacks.size(), best);
  }

  std::uint64_t completion_distance_after(std::int64_t id) {
    if (id < 0 || static_cast<std::uint64_t>(id) >= vocab.n_vocab() || terminated)
      return CompiledGrammar::kNoCompletion;
    auto tid = static_cast<std::uint32_t>(id);
    if (vocab.is_eos(tid)) return complete ? 0 : CompiledGrammar::kNoCompletion;
    const std::string& piece = vocab.token(tid);
    if (piece.empty()) return CompiledGrammar::kNoCompletion;
    std::size_t begin, end, best;
    bool now_complete;
    if (!run_bytes(piece, begin, end, now_complete)) return CompiledGrammar::kNoCompletion;
    if (now_complete) return 0;
    return min_distance(buf.data() + begin, buf.data() + end, best);
  }

  std::string shortest_completion() {
    if (terminated || complete) return std::string();
    return completion_of(stacks.data(), stacks.data() + stacks.size());
  }

  std::string shortest_completion_after(std::int64_t id) {
    if (id < 0 || static_cast<std::uint64_t>(id) >= vocab.n_vocab() || terminated)
      throw InternalError("shortest_completion_after: token " + std::to_string(id) +
                          " is not allowed");
    auto tid = static_cast<std::uint32_t>(id);
    std::size_t begin = 0, end = 0;
    bool now_complete = complete;
    const std::string& piece = vocab.token(tid);
    bool ok = vocab.is_eos(tid) ? complete
                                : !piece.empty() && run_bytes(piece, begin, end, now_complete);
    if (!ok) throw InternalError("shortest_completion_after: token " + std::to_string(id) +
                                 " is not allowed");
    if (vocab.is_eos(tid) || now_complete) return std::string();
    // completion_of does not touch buf, so the range stays valid.
    return completion_of(buf.data() + begin, buf.data() + end);
  }

  // The shortest completion of the state made of stacks [first, last) (not complete).
  std::string completion_of(const Stack* first, const Stack* last) {
    std::string out;
    std::size_t best;
    std::uint64_t d = min_distance(first, last, best);
    if (d == CompiledGrammar::kNoCompletion)
      throw InternalError("no continuation completes the value from this state");
    out.reserve(static_cast<std::size_t>(d));
    const Stack s = first[best];
    std::uint32_t pos = s.pos;
    if (grammar.elems()[s.pos].kind == ElemKind::Grounded) {
      engine.grounded_exit(grammar.elems()[s.pos].arg, s.aux, &out);
      ++pos;
    } else if (s.aux) {
      // Finish the partial character with the smallest member of the class it can still become.
      const ByteClass& c = grammar.classes()[grammar.elems()[s.pos].arg];
      std::uint32_t acc = s.aux & 0x1FFFFF, rem = partial_rem(s.aux), len = (s.aux >> 26) & 7;
      std::uint32_t lo, hi;
      auto it = c.ranges.end();
      if (prefix_range(acc, rem, len, lo, hi)) {
        it = std::lower_bound(c.ranges.begin(), c.ranges.end(), lo,
                              [](const CharRange& r, std::uint32_t v) { return r.hi < v; });
      }
      if (it == c.ranges.end() || std::max(it->lo, lo) > hi)
        throw InternalError("partial character that no class member completes");
      std::string enc;
      json::append_utf8(enc, std::max(it->lo, lo));
      out.append(enc, enc.size() - rem, rem);
      ++pos;
    }
    grammar.append_min_expansion(*tables, overrides, pos, out, expansion_work);
    for (std::uint32_t p = s.parent; p != kBottom; p = engine.frame(p).parent) {
      if (p == kUnknown) throw InternalError("shortest completion through an unknown frame");
      grammar.append_min_expansion(*tables, overrides, engine.frame(p).pos, out, expansion_work);
    }
    if (out.size() != d) throw InternalError("shortest completion disagrees with its length");
    return out;
  }

  // Walks the trie from stacks [first, last) and sets the bit of every accepted token.
  void walk_trie(const Stack* first, const Stack* last, std::uint32_t* bits) {
    buf.assign(first, last);
    level_begin.assign(vocab.max_token_len() + 2, 0);
    level_next.resize(vocab.max_token_len() + 2);
    level_begin[0] = 0;
    level_begin[1] = buf.size();
    // level_next[d]: the bytes some stack of level d takes (every consumed byte is taken by a
    // stack, so a byte outside it is rejected without advancing: most of a node's children).
    engine.next_bytes(buf, 0, buf.size(), level_next[0].data());
    walk_nodes(1, vocab.trie().size(), bits);
  }

  // The walk over trie nodes [begin, end) (a run of whole subtrees), whose parent level's stacks
  // and next bytes the caller has set up.
  void walk_nodes(std::size_t begin, std::size_t end, std::uint32_t* bits) {
    const std::vector<TrieNode>& trie = vocab.trie();
    const std::vector<std::uint32_t>& ids = vocab.sorted_ids();
    for (std::size_t i = begin; i < end;) {
      const TrieNode& node = trie[i];
      std::size_t d = node.depth;
      if (!((level_next[d - 1][node.byte >> 6] >> (node.byte & 63)) & 1u)) {
        i = node.next;
        continue;
      }
      buf.resize(level_begin[d]);
      StepFlags f;
      engine.advance(buf, level_begin[d - 1], level_begin[d], node.byte, f);
      level_begin[d + 1] = buf.size();
      bool live = buf.size() > level_begin[d];
      if (live || f.complete || f.unknown) {
        for (std::uint32_t k = node.tok_begin; k < node.tok_end; ++k) set_bit(bits, ids[k]);
      }
      if (live) {
        engine.next_bytes(buf, level_begin[d], level_begin[d + 1], level_next[d].data());
        ++i;
      } else {
        i = node.next;
      }
    }
  }

  // The mask of one stack inside a grounded value: the same as walk_trie(&s, &s + 1), but a
  // depth-first search that visits only the trie children on the bytes the value takes next (a
  // few, looked up by byte) with the grounded steps taken directly, and the general walk only
  // below a byte that ends the value.
  void walk_grounded(const Stack& s, std::uint32_t* bits) {
    const std::vector<TrieNode>& trie = vocab.trie();
    const std::vector<std::uint32_t>& ids = vocab.sorted_ids();
    const std::uint32_t slot = grammar.elems()[s.pos].arg;
    const std::size_t levels = vocab.max_token_len() + 2;
    exit_stacks.clear();
    StepFlags ef;
    engine.start_at(s.pos + 1, s.parent, exit_stacks, ef);
    std::uint64_t exit_next[4] = {0, 0, 0, 0};
    engine.next_bytes(exit_stacks, 0, exit_stacks.size(), exit_next);
    level_begin.assign(levels, 0);
    level_next.resize(levels);
    g_work.clear();
    g_work.push_back({0, s.aux, engine.grounded_accepting(slot, s.aux)});
    while (!g_work.empty()) {
      const GroundedItem it = g_work.back();
      g_work.pop_back();
      std::uint64_t inner[4] = {0, 0, 0, 0};
      engine.grounded_next_bytes(slot, it.aux, inner);
      for (int w = 0; w < 4; ++w) {
        std::uint64_t word = inner[w] | (it.accepting ? exit_next[w] : 0);
        while (word) {
          const auto b = static_cast<std::uint8_t>(w * 64 + __builtin_ctzll(word));
          word &= word - 1;
          const std::uint32_t c = vocab.child(it.node, b);
          if (c == 0) continue;
          const TrieNode& node = trie[c];
          const bool has_children = node.next > c + 1;
          bool accepted = false;
          std::uint32_t na = 0;
          bool nacc = false;
          if (((inner[w] >> (b & 63)) & 1u) && engine.grounded_step(slot, it.aux, b, na, nacc)) {
            accepted = true;
            if (has_children) g_work.push_back({c, na, nacc});
          }
          if (it.accepting && ((exit_next[w] >> (b & 63)) & 1u)) {
            // The value ends before this byte: the rest of the token follows the grammar.
            buf.assign(exit_stacks.begin(), exit_stacks.end());
            StepFlags f;
            engine.advance(buf, 0, buf.size(), b, f);
            buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(exit_stacks.size()));
            const bool live = !buf.empty();
            accepted = accepted || live || f.complete;
            if (live && has_children) {
              level_begin[node.depth] = 0;
              level_begin[node.depth + 1] = buf.size();
              engine.next_bytes(buf, 0, buf.size(), level_next[node.depth].data());
              walk_nodes(c + 1, node.next, bits);
            }
          }
          if (accepted) {
            for (std::uint32_t k = node.tok_begin; k < node.tok_end; ++k) set_bit(bits, ids[k]);
          }
        }
      }
    }
  }

  // Sets the bits of the tokens (byte-sorted indices, ascending) that stack `s` accepts,
  // sharing the work on common prefixes of consecutive tokens.
  void check_tokens(const Stack& s, const std::vector<std::uint32_t>& sorted_idx,
                    std::uint32_t* bits) {
    const std::vector<std::uint32_t>& ids = vocab.sorted_ids();
    buf.clear();
    buf.push_back(s);
    level_begin.assign(vocab.max_token_len() + 2, 0);
    level_done.assign(vocab.max_token_len() + 2, 0);
    level_begin[1] = 1;
    std::size_t valid = 0;  // levels 0..valid hold the prefix of `prev`
    const std::string* prev = nullptr;
    for (std::uint32_t k : sorted_idx) {
      std::uint32_t id = ids[k];
      if ((bits[id >> 5] >> (id & 31)) & 1u) continue;
      const std::string& t = vocab.token(id);
      std::size_t d = 0;
      if (prev) {
        std::size_t lim = std::min({valid, t.size(), prev->size()});
        while (d < lim && (*prev)[d] == t[d]) ++d;
      }
      bool dead = false;
      while (d < t.size()) {
        if (level_begin[d + 1] == level_begin[d]) {
          dead = true;
          break;
        }
        buf.resize(level_begin[d + 1]);
        StepFlags f;
        engine.advance(buf, level_begin[d], level_begin[d + 1], static_cast<std::uint8_t>(t[d]), f);
        ++d;
        level_begin[d + 1] = buf.size();
        level_done[d] = f.complete || f.unknown;
      }
      valid = d;
      prev = &t;
      if (!dead && (level_begin[d + 1] > level_begin[d] || level_done[d])) set_bit(bits, id);
    }
  }

  // Mask contribution of one stack through the token cache; false if the cache cannot serve it.
  bool mask_from_cache(const Stack& s, std::uint32_t* bits, std::size_t n_words) {
    const CacheEntry* e = nullptr;
    constexpr std::size_t n_depths = sizeof(kDepths) / sizeof(kDepths[0]);
    for (std::size_t i = cache->start_depth(s.pos); i < n_depths; ++i) {
      bool exact = engine.context_key(s, kDepths[i], key, cache->canon_level);
      e = cache->get(key);
      if (!e || !e->deeper || exact) break;
      cache->note_deeper(s.pos, i + 1);
    }
    if (!e || e->deeper) return false;
    const std::uint32_t* acc = e->accepted.data();
    for (std::size_t w = 0; w < n_words && w < e->accepted.size(); ++w) bits[w] |= acc[w];
    if (!e->dependent.empty()) check_tokens(s, e->dependent, bits);
    return true;
  }

  // The tokens one stack accepts, memoised per stack until the next binding.
  const std::vector<std::uint32_t>& stack_mask(const Stack& s) {
    const std::array<std::uint32_t, 3> key{s.pos, s.aux, s.parent};
    auto it = stack_memo.find(key);
    if (it != stack_memo.end()) return it->second;
    const std::size_t nw = (vocab.n_vocab() + 31) / 32;
    std::vector<std::uint32_t> part(nw, 0);
    if (!mask_from_cache(s, part.data(), nw)) walk_trie(&s, &s + 1, part.data());
    if (stack_memo.size() > kMaxStackMemo) stack_memo.clear();
    return stack_memo.emplace(key, std::move(part)).first->second;
  }

  void compute_mask(std::uint32_t* bits, std::size_t n_words) {
    std::memset(bits, 0, n_words * sizeof(std::uint32_t));
    if (terminated) return;
    if (complete) {
      for (std::uint32_t id : vocab.eos_ids()) set_bit(bits, id);
    }
    if (stacks.size() > kMaxCachedStacks) {
      // One walk for all (it takes grounded values too, as walk_grounded does one by one).
      walk_trie(stacks.data(), stacks.data() + stacks.size(), bits);
      return;
    }
    bool in_value = false;
    for (const Stack& s : stacks) {
      in_value = in_value || grammar.elems()[s.pos].kind == ElemKind::Grounded;
    }
    for (const Stack& s : stacks) {
      // A stack inside a grounded value depends on the text: the shared cache cannot serve it,
      // and the walk is cheap (the text's automaton prunes the trie at once).
      if (grammar.elems()[s.pos].kind == ElemKind::Grounded) {
        walk_grounded(s, bits);
      } else if (in_value) {
        // Beside it, the stacks where the value ends are the same at every character of the
        // value: their part of the mask is kept until the next binding.
        const std::vector<std::uint32_t>& part = stack_mask(s);
        for (std::size_t w = 0; w < part.size() && w < n_words; ++w) bits[w] |= part[w];
      } else if (!mask_from_cache(s, bits, n_words)) {
        walk_trie(&s, &s + 1, bits);
      }
    }
  }

  void fill_mask(std::uint32_t* bits, std::size_t n_words) {
    const std::size_t nw = (vocab.n_vocab() + 31) / 32;
    if (terminated || stacks.empty()) {
      compute_mask(bits, n_words);
      return;
    }
    // Memo key: the sorted stacks and the complete flag.
    state_key.clear();
    sorted.assign(stacks.begin(), stacks.end());
    std::sort(sorted.begin(), sorted.end(), [](const Stack& a, const Stack& b) {
      return a.pos != b.pos ? a.pos < b.pos : a.aux != b.aux ? a.aux < b.aux : a.parent < b.parent;
    });
    for (const Stack& s : sorted) {
      state_key.push_back(s.pos);
      state_key.push_back(s.aux);
      state_key.push_back(s.parent);
    }
    state_key.push_back(complete ? 1 : 0);
    const std::vector<std::uint32_t>* hit = nullptr;
    if (auto it = memo.find(state_key); it != memo.end()) {
      hit = &it->second;
    } else if (auto jt = bound_memo.find(state_key); jt != bound_memo.end()) {
      hit = &jt->second;
    }
    if (hit != nullptr) {
      std::memcpy(bits, hit->data(), nw * sizeof(std::uint32_t));
      if (n_words > nw) std::memset(bits + nw, 0, (n_words - nw) * sizeof(std::uint32_t));
      return;
    }
    engine.clear_touched();
    compute_mask(bits, n_words);
    // A state inside a grounded value is one place in one text: seldom seen twice, not kept.
    for (const Stack& s : stacks) {
      if (grammar.elems()[s.pos].kind == ElemKind::Grounded) return;
    }
    if (memo_bytes > kMaxMemoBytes) {
      memo.clear();
      bound_memo.clear();
      memo_bytes = 0;
    }
    memo_bytes += nw * 4 + state_key.size() * 4 + 64;
    // A mask that reached a grounded value depends on the text: kept until the next binding.
    auto& into = engine.touched() ? bound_memo : memo;
    into.emplace(state_key, std::vector<std::uint32_t>(bits, bits + nw));
  }
};

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar,
                               std::shared_ptr<const Vocabulary> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)) {
  if (!grammar_ || !vocab_) throw InternalError("GrammarMatcher needs a grammar and a vocabulary");
  impl_ = std::make_unique<Impl>(*grammar_, *vocab_, grammar_->token_cache(vocab_));
  impl_->reset();
}

GrammarMatcher::~GrammarMatcher() = default;

CacheStats GrammarMatcher::cache_stats() const {
  std::lock_guard<std::mutex> lock(impl_->cache->mu);
  CacheStats s = impl_->cache->stats;
  s.bytes = impl_->cache->bytes;
  return s;
}

void GrammarMatcher::fill_mask(std::uint32_t* bits, std::size_t n_words) {
  if (n_words < this->n_words()) throw InternalError("fill_mask: bitmask too small");
  impl_->fill_mask(bits, n_words);
}

bool GrammarMatcher::accept_token(std::int64_t token_id) { return impl_->accept_token(token_id, true); }

bool GrammarMatcher::can_accept_token(std::int64_t token_id) {
  return impl_->accept_token(token_id, false);
}

bool GrammarMatcher::accept_bytes(std::string_view data) { return impl_->accept_bytes(data, true); }

std::string GrammarMatcher::forced_bytes(std::size_t cap) {
  std::string out;
  Impl& m = *impl_;
  if (m.terminated || m.complete || m.stacks.empty()) return out;
  std::vector<Stack> cur = m.stacks;
  std::vector<Stack> next;
  while (out.size() < cap) {
    std::uint64_t set[4];
    m.engine.next_bytes(cur, 0, cur.size(), set);
    int count = 0;
    std::uint32_t only = 0;
    for (std::uint32_t w = 0; w < 4; ++w) {
      if (set[w]) {
        count += __builtin_popcountll(set[w]);
        only = w * 64 + static_cast<std::uint32_t>(__builtin_ctzll(set[w]));
      }
    }
    if (count != 1) break;
    StepFlags f;
    next = cur;
    std::size_t n = next.size();
    m.engine.advance(next, 0, n, static_cast<std::uint8_t>(only), f);
    out.push_back(static_cast<char>(only));
    cur.assign(next.begin() + static_cast<std::ptrdiff_t>(n), next.end());
    if (f.complete || cur.empty()) break;
  }
  return out;
}

bool GrammarMatcher::is_complete() const { return impl_->complete && !impl_->terminated; }

std::uint64_t GrammarMatcher::completion_distance() { return impl_->completion_distance(); }

std::uint64_t GrammarMatcher::completion_distance_after(std::int64_t token_id) {
  return impl_->completion_distance_after(token_id);
}

std::string GrammarMatcher::shortest_completion() { return impl_->shortest_completion(); }

std::string GrammarMatcher::shortest_completion_after(std::int64_t token_id) {
  return impl_->shortest_completion_after(token_id);
}

bool GrammarMatcher::is_terminated() const {
  return impl_->terminated || (impl_->complete && impl_->stacks.empty());
}

void GrammarMatcher::reset() { impl_->reset(); }

void GrammarMatcher::bind(std::shared_ptr<const Grounding> grounding) {
  impl_->bind(std::move(grounding));
}

bool GrammarMatcher::slot_active(std::uint32_t slot) const {
  if (slot >= impl_->grammar.grounded_slots().size())
    throw InternalError("grounded slot " + std::to_string(slot) + " out of range");
  return impl_->engine.slot_active(slot);
}

void GrammarMatcher::mask_logits(float* logits, std::size_t n) {
  std::size_t nw = n_words();
  impl_->mask.resize(nw);
  impl_->fill_mask(impl_->mask.data(), nw);
  const std::size_t nv = vocab_->n_vocab();
  const float neg = -std::numeric_limits<float>::infinity();
  for (std::size_t w = 0; w < nw; ++w) {
    const std::size_t base = w * 32;
    const std::size_t end = std::min({base + 32, n, nv});
    if (end <= base) break;  // fewer logits than tokens: the rest are not there
    const std::uint32_t word = impl_->mask[w];
    if (word == 0xFFFFFFFFu) continue;
    if (word == 0) {
      std::fill(logits + base, logits + end, neg);
      continue;
    }
    for (std::uint32_t off = ~word; off;) {
      std::size_t i = base + static_cast<std::size_t>(__builtin_ctz(off));
      off &= off - 1;
      if (i >= end) break;
      logits[i] = neg;
    }
  }
  for (std::size_t i = nv; i < n; ++i) logits[i] = neg;
}

namespace {

// Index of the first maximum of x[0, n) (NaN entries never win), n > 0.
std::size_t argmax(const float* x, std::size_t n) {
  // Pass 1: the maximum, in independent lanes the compiler can vectorise.
  constexpr std::size_t kLanes = 16;
  float lanes[kLanes];
  const float neg = -std::numeric_limits<float>::infinity();
  for (float& l : lanes) l = neg;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] = x[i + j] > lanes[j] ? x[i + j] : lanes[j];
  }
  float best = neg;
  for (float l : lanes) best = l > best ? l : best;
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  // Pass 2: its first position.
  for (std::size_t k = 0; k < n; ++k) {
    if (x[k] == best) return k;
  }
  return 0;  // every entry is NaN or -inf
}

}  // namespace

std::int64_t GrammarMatcher::select_greedy(const float* logits, std::size_t n) {
  const std::size_t nv = std::min(n, vocab_->n_vocab());
  if (nv == 0) return -1;
  std::size_t best = argmax(logits, nv);
  if (impl_->accept_token(static_cast<std::int64_t>(best), false)) return static_cast<std::int64_t>(best);
  std::size_t nw = n_words();
  impl_->mask.resize(nw);
  impl_->fill_mask(impl_->mask.data(), nw);
  std::int64_t arg = -1;
  float arg_v = 0;
  for (std::size_t w = 0; w < nw; ++w) {
    std::uint32_t word = impl_->mask[w];
    if (word == 0) continue;
    const std::size_t base = w * 32;
    if (word == 0xFFFFFFFFu && base + 32 <= nv) {
      std::size_t k = base + argmax(logits + base, 32);
      if (arg < 0 || logits[k] > arg_v) {
        arg = static_cast<std::int64_t>(k);
        arg_v = logits[k];
      }
      continue;
    }
    while (word) {
      std::size_t k = base + static_cast<std::size_t>(__builtin_ctz(word));
      word &= word - 1;
      if (k >= nv) break;
      if (arg < 0 || logits[k] > arg_v) {
        arg = static_cast<std::int64_t>(k);
        arg_v = logits[k];
      }
    }
  }
  return arg;
}

}  // namespace maaza

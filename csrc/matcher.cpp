// Grammar matcher: lowering to the byte program, the stack-set parser, trie-walk masks and the
// token caches (see matcher.h for the design).
#include "matcher.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

namespace maaza {

namespace {

constexpr std::uint32_t kBottom = 0;   // parent of the root: popping it completes the value
constexpr std::uint32_t kUnknown = 1;  // an unknown parent (token-cache contexts)
constexpr std::size_t kMaxProgramElems = std::size_t(1) << 23;

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
           std::vector<std::vector<std::uint32_t>>& alts, std::vector<ByteClass>& classes)
      : g_(g), elems_(elems), alts_(alts), classes_(classes) {}

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
    while (chain.size() < k) {
      std::uint32_t o = new_rule();
      std::vector<ProgElem> empty;
      add_alternative(o, empty);
      std::vector<ProgElem> body{ref(r)};
      if (!chain.empty()) body.push_back(ref(chain.back()));
      add_alternative(o, body);
      chain.push_back(o);
    }
    return chain[k - 1];
  }

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
          body.push_back(ref(s.rule));
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
  std::vector<bool> productive_;
  std::unordered_map<std::uint32_t, std::uint32_t> star_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> opt_;
};

}  // namespace

CompiledGrammar::CompiledGrammar(Grammar grammar, std::vector<std::string> ignored)
    : grammar_(std::move(grammar)), ignored_(std::move(ignored)) {
  grammar_.validate();
  Lowering(grammar_, elems_, alts_, classes_).run();
  root_ = grammar_.root();
  if (alts_[root_].empty()) throw GrammarError("root rule matches no string");
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

class Engine {
 public:
  explicit Engine(const CompiledGrammar& g)
      : elems_(g.elems()), alts_(g.alts()), classes_(g.classes()), root_(g.root_rule()) {
    frames_.push_back({0, kBottom});
    frames_.push_back({0, kUnknown});
  }

  std::uint32_t intern(std::uint32_t pos, std::uint32_t parent) {
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
    std::size_t out_begin = buf.size();
    for (std::size_t i = begin; i < end; ++i) {
      const Stack s = buf[i];
      const ProgElem& e = elems_[s.pos];
      if (e.kind == ElemKind::Byte) {
        if (b >= e.lo && b <= e.hi) expand(s.pos + 1, s.parent, buf, f);
      } else {
        std::uint32_t new_aux = 0;
        int r = class_step(classes_[e.arg], s.aux, b, new_aux);
        if (r == 1) {
          expand(s.pos + 1, s.parent, buf, f);
        } else if (r == 2) {
          Stack t{s.pos, new_aux, s.parent};
          bool dup = false;
          for (std::size_t k = out_begin; k < buf.size(); ++k) {
            if (buf[k] == t) {
              dup = true;
              break;
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

 private:
  void expand(std::uint32_t pos, std::uint32_t parent, std::vector<Stack>& out, StepFlags& f) {
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
        case ElemKind::Ref: {
          std::uint32_t next = it.pos + 1;
          std::uint32_t np =
              elems_[next].kind == ElemKind::End ? it.parent : intern(next, it.parent);
          const auto& starts = alts_[e.arg];
          for (auto a = starts.rbegin(); a != starts.rend(); ++a) work_.push_back({*a, np});
          break;
        }
      }
    }
  }

  const std::vector<ProgElem>& elems_;
  const std::vector<std::vector<std::uint32_t>>& alts_;
  const std::vector<ByteClass>& classes_;
  std::uint32_t root_;
  std::vector<Frame> frames_;
  U64Map frame_ids_;
  ScratchSet visited_;
  std::vector<Frame> work_;
};

std::shared_ptr<TokenCache> CompiledGrammar::token_cache(
    const std::shared_ptr<const Vocabulary>& vocab) const {
  (void)vocab;
  return nullptr;
}

// ---- matcher -------------------------------------------------------------------------------

struct GrammarMatcher::Impl {
  Impl(const CompiledGrammar& g, const Vocabulary& v) : engine(g), vocab(v) {}

  Engine engine;
  const Vocabulary& vocab;
  // The current state.
  std::vector<Stack> stacks;
  bool complete = false;
  bool terminated = false;
  // Scratch buffers reused across calls.
  std::vector<Stack> buf;
  std::vector<std::size_t> level_begin;
  std::vector<std::uint32_t> mask;

  void reset() {
    stacks.clear();
    StepFlags f;
    engine.initial(kBottom, stacks, f);
    complete = f.complete;
    terminated = false;
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

  // Walks the trie from the current stacks and sets the bit of every accepted token.
  void walk_trie(std::uint32_t* bits) {
    const std::vector<TrieNode>& trie = vocab.trie();
    const std::vector<std::uint32_t>& ids = vocab.sorted_ids();
    buf.assign(stacks.begin(), stacks.end());
    level_begin.assign(vocab.max_token_len() + 2, 0);
    level_begin[0] = 0;
    level_begin[1] = buf.size();
    for (std::size_t i = 1; i < trie.size();) {
      const TrieNode& node = trie[i];
      std::size_t d = node.depth;
      buf.resize(level_begin[d]);
      StepFlags f;
      engine.advance(buf, level_begin[d - 1], level_begin[d], node.byte, f);
      level_begin[d + 1] = buf.size();
      bool live = buf.size() > level_begin[d];
      if (live || f.complete || f.unknown) {
        for (std::uint32_t k = node.tok_begin; k < node.tok_end; ++k) set_bit(bits, ids[k]);
      }
      i = live ? i + 1 : node.next;
    }
  }

  void fill_mask(std::uint32_t* bits, std::size_t n_words) {
    std::memset(bits, 0, n_words * sizeof(std::uint32_t));
    if (terminated) return;
    if (complete) {
      for (std::uint32_t id : vocab.eos_ids()) set_bit(bits, id);
    }
    if (stacks.empty()) return;
    walk_trie(bits);
  }
};

GrammarMatcher::GrammarMatcher(std::shared_ptr<const CompiledGrammar> grammar,
                               std::shared_ptr<const Vocabulary> vocab)
    : grammar_(std::move(grammar)), vocab_(std::move(vocab)) {
  if (!grammar_ || !vocab_) throw InternalError("GrammarMatcher needs a grammar and a vocabulary");
  impl_ = std::make_unique<Impl>(*grammar_, *vocab_);
  impl_->reset();
}

GrammarMatcher::~GrammarMatcher() = default;

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

bool GrammarMatcher::is_terminated() const {
  return impl_->terminated || (impl_->complete && impl_->stacks.empty());
}

void GrammarMatcher::reset() { impl_->reset(); }

void GrammarMatcher::mask_logits(float* logits, std::size_t n) {
  std::size_t nw = n_words();
  impl_->mask.resize(nw);
  impl_->fill_mask(impl_->mask.data(), nw);
  const std::size_t nv = vocab_->n_vocab();
  const float neg = -std::numeric_limits<float>::infinity();
  for (std::size_t w = 0; w < nw; ++w) {
    std::uint32_t word = impl_->mask[w];
    if (word == 0xFFFFFFFFu) continue;
    std::size_t base = w * 32;
    for (std::size_t b = 0; b < 32 && base + b < n && base + b < nv; ++b) {
      if (!((word >> b) & 1u)) logits[base + b] = neg;
    }
  }
  for (std::size_t i = nv; i < n; ++i) logits[i] = neg;
}

std::int64_t GrammarMatcher::select_greedy(const float* logits, std::size_t n) {
  const std::size_t nv = std::min(n, vocab_->n_vocab());
  if (nv == 0) return -1;
  std::size_t best = 0;
  float best_v = logits[0];
  for (std::size_t i = 1; i < nv; ++i) {
    if (logits[i] > best_v) {
      best_v = logits[i];
      best = i;
    }
  }
  if (impl_->accept_token(static_cast<std::int64_t>(best), false)) return static_cast<std::int64_t>(best);
  std::size_t nw = n_words();
  impl_->mask.resize(nw);
  impl_->fill_mask(impl_->mask.data(), nw);
  std::int64_t arg = -1;
  float arg_v = 0;
  for (std::size_t w = 0; w < nw; ++w) {
    std::uint32_t word = impl_->mask[w];
    while (word) {
      std::size_t i = w * 32 + static_cast<std::size_t>(__builtin_ctz(word));
      word &= word - 1;
      if (i >= nv) break;
      if (arg < 0 || logits[i] > arg_v) {
        arg = static_cast<std::int64_t>(i);
        arg_v = logits[i];
      }
    }
  }
  return arg;
}

}  // namespace maaza

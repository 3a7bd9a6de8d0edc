// Shared pieces of the fuzz targets (fuzz_util.h).
#include "fuzz_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace maaza::fuzz {

void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t hash_bytes(std::string_view data) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : data) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

namespace {

// Whether rule `to` is reachable from rule `from` through references and repetitions.
bool reaches(const Grammar& grammar, std::uint32_t from, std::uint32_t to) {
  std::vector<bool> seen(grammar.rules().size(), false);
  std::vector<std::uint32_t> todo{from};
  seen[from] = true;
  while (!todo.empty()) {
    const std::uint32_t r = todo.back();
    todo.pop_back();
    if (r == to) return true;
    for (const Sequence& seq : grammar.rule(r).alternatives) {
      for (const Symbol& s : seq) {
        bool ref = s.kind == Symbol::Kind::RuleRef || s.kind == Symbol::Kind::Repeat;
        if (ref && !seen[s.rule]) {
          seen[s.rule] = true;
          todo.push_back(s.rule);
        }
      }
    }
  }
  return false;
}

}  // namespace

std::uint32_t nullable_repeat_count(const Grammar& grammar) {
  const std::vector<bool> nullable = grammar.nullable_rules();
  std::uint32_t most = 0;
  for (const Rule& rule : grammar.rules()) {
    for (const Sequence& seq : rule.alternatives) {
      for (const Symbol& s : seq) {
        if (s.kind != Symbol::Kind::Repeat || !nullable[s.rule]) continue;
        most = std::max(most, s.max == kUnbounded ? s.min : s.max);
      }
    }
  }
  return most;
}

bool many_stacks_by_design(const Grammar& grammar) {
  if (nullable_repeat_count(grammar) > 3000) return true;
  const std::vector<bool> nullable = grammar.nullable_rules();
  const auto& rules = grammar.rules();
  for (std::uint32_t r = 0; r < rules.size(); ++r) {
    for (const Sequence& seq : rules[r].alternatives) {
      for (const Symbol& s : seq) {
        if (s.kind != Symbol::Kind::Repeat || !nullable[s.rule]) continue;
        if (s.max != kUnbounded && s.max > 1 && reaches(grammar, s.rule, r)) return true;
      }
    }
  }
  return false;
}

int walk_steps(const Grammar& grammar, int steps) {
  return nullable_repeat_count(grammar) > kFewStepsAbove ? std::min(steps, 4) : steps;
}

namespace {

constexpr std::uint32_t kEos = 256;

std::vector<std::string> single_bytes() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  pieces.emplace_back();  // EOS
  return pieces;
}

}  // namespace

std::shared_ptr<const Vocabulary> byte_vocabulary() {
  return std::make_shared<const Vocabulary>(single_bytes(), std::vector<std::uint32_t>{kEos});
}

std::vector<std::string> json_token_pieces(const std::vector<std::string>& extra) {
  std::vector<std::string> pieces = single_bytes();
  static const char* const kPieces[] = {
      "{\"",      "\":",      "\": ",         "\",",
      "\", \"",   "\"}",      "\"]",          "},",
      "}]",       "}}",       "]}",           "[{",
      "[\"",      "[]",       "{}",           "\"\"",
      ", ",       ",\"",      ": ",           "true",
      "false",    "null",     "tr",           "ue",
      "fal",      "se",       "nu",           "ll",
      "00",       "01",       "10",           "12",
      "123",      "1234",     "2024",         "-0",
      "-1",       "0.",       ".5",           "e+",
      "E-",       "1e",       "  ",           "    ",
      "\n",       "\n  ",     "\r\n",         "\t",
      "\\\"",     "\\\\",     "\\n",          "\\u",
      "\\u00",    "00e9",     "d83d",         "\\ud83d",
      "\\ude00",  "name",     "id",           "type",
      "value",    "items",    "email",        "@example.com",
      "http",     "://",      "www.",         ".com",
      "-01-",     "T12:",     ":00",          "Z",
      "+02:00",   "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
      "\xC3",     "\xE2\x82", "\xF0\x9F",     "\x80",
      "\x80\x80", "\xBF",     "\xED\xA0\x80", "\xC0\x80",
      "\xFF\xFE", "a\"",      "\"a",          "abc",
      "Abc",      "xyz",      "0\"",          "1,",
      "2]",       "3}",       " \"",          "\" ",
      "\":\"",    "\":[",     "\":{",         "\":true",
      "\":null",  "\":0",     "\":-",         "\":\"\"",
  };
  for (const char* p : kPieces) pieces.emplace_back(p);
  pieces.emplace_back();  // an unused (control) token: never allowed
  for (const std::string& e : extra) pieces.push_back(e);
  return pieces;
}

std::shared_ptr<const Vocabulary> token_vocabulary(const std::vector<std::string>& extra) {
  return std::make_shared<const Vocabulary>(json_token_pieces(extra),
                                            std::vector<std::uint32_t>{kEos});
}

MatcherDriver::MatcherDriver(std::shared_ptr<const CompiledGrammar> grammar,
                             std::shared_ptr<const Vocabulary> vocab,
                             std::shared_ptr<const Grounding> grounding)
    : vocab_(vocab), matcher_(std::move(grammar), std::move(vocab)) {
  if (grounding) matcher_.bind(std::move(grounding));
  fill(initial_);
  mask_ = initial_;
}

void MatcherDriver::fill(std::vector<std::uint32_t>& bits) {
  // Two spare words: fill_mask must clear everything past n_vocab.
  bits.assign(matcher_.n_words() + 2, 0xA5A5A5A5u);
  matcher_.fill_mask(bits.data(), bits.size());
  const std::size_t nv = vocab_->n_vocab();
  for (std::size_t i = nv; i < bits.size() * 32; ++i) {
    check(((bits[i >> 5] >> (i & 31)) & 1u) == 0, "fill_mask set a bit past n_vocab");
  }
}

void MatcherDriver::check_state(Rng& rng, std::size_t n_logits) {
  fill(mask_);
  const auto nv = static_cast<std::uint32_t>(vocab_->n_vocab());
  // Every token now and then, else a window of 64 ids and the end-of-generation ids (a full
  // check costs n_vocab token walks).
  const bool all = nv <= 64 || rng.chance(4);
  const auto window = static_cast<std::uint32_t>(all ? 0 : rng.below(nv - 64));
  bool any = false;
  for (std::uint32_t id = 0; id < nv; ++id) {
    bool bit = allowed(id);
    any = any || bit;
    if (!all && (id < window || id >= window + 64) && !vocab_->is_eos(id)) continue;
    if (matcher_.can_accept_token(id) != bit) {
      fail("mask and can_accept_token disagree on token " + std::to_string(id));
    }
    if (vocab_->is_eos(id)) check(bit == matcher_.is_complete(), "EOS allowed iff complete");
    if (vocab_->token(id).empty() && !vocab_->is_eos(id)) check(!bit, "an empty piece allowed");
  }
  check(!matcher_.can_accept_token(-1), "token -1 accepted");
  check(!matcher_.can_accept_token(nv), "token n_vocab accepted");
  if (ended_) check(!any && matcher_.is_terminated(), "a token allowed after EOS");

  // Forced bytes: nothing when complete, else every allowed piece agrees with them.
  const std::string forced = matcher_.forced_bytes(64);
  if (!forced.empty()) {
    check(!matcher_.is_complete(), "forced bytes in a complete state");
    for (std::uint32_t id = 0; id < nv; ++id) {
      if (!allowed(id) || vocab_->is_eos(id)) continue;
      const std::string& piece = vocab_->token(id);
      std::size_t n = std::min(piece.size(), forced.size());
      if (piece.compare(0, n, forced, 0, n) != 0) {
        fail("allowed token " + std::to_string(id) + " contradicts the forced bytes");
      }
    }
  }

  // Completion distance and the completion itself.
  const std::uint64_t d = matcher_.completion_distance();
  if (matcher_.is_complete() || ended_) check(d == 0, "complete but distance is not 0");
  if (d != CompiledGrammar::kNoCompletion && d <= 4096) {
    check(matcher_.shortest_completion().size() == d, "shortest completion length != distance");
  }

  // Masked logits and the greedy choice.
  std::vector<float> logits(n_logits);
  for (float& x : logits) {
    std::uint64_t r = rng.next();
    switch (r % 16) {
      case 0:
        x = -std::numeric_limits<float>::infinity();
        break;
      case 1:
        x = 7.0f;
        break;  // ties
      case 2:
        x = std::numeric_limits<float>::quiet_NaN();
        break;
      default:
        x = static_cast<float>(static_cast<std::int64_t>(r >> 40) - (1 << 23)) / 4096.0f;
    }
  }
  std::vector<float> masked = logits;
  matcher_.mask_logits(masked.data(), masked.size());
  const std::size_t nl = std::min<std::size_t>(n_logits, nv);
  bool nan = false;
  std::int64_t best = -1;
  for (std::size_t i = 0; i < n_logits; ++i) {
    if (i >= nv || !allowed(static_cast<std::uint32_t>(i))) {
      check(masked[i] == -std::numeric_limits<float>::infinity(),
            "mask_logits kept a disallowed logit");
      continue;
    }
    check(std::memcmp(&masked[i], &logits[i], sizeof(float)) == 0,
          "mask_logits changed an allowed logit");
    nan = nan || std::isnan(logits[i]);
    if (best < 0 || logits[i] > logits[static_cast<std::size_t>(best)])
      best = static_cast<std::int64_t>(i);
  }
  const std::int64_t greedy = matcher_.select_greedy(logits.data(), logits.size());
  if (best < 0) {
    check(greedy == -1, "select_greedy chose a token when none is allowed");
  } else if (greedy < 0 || static_cast<std::size_t>(greedy) >= nl ||
             !allowed(static_cast<std::uint32_t>(greedy))) {
    fail("select_greedy chose a disallowed token " + std::to_string(greedy));
  } else if (!nan) {
    check(greedy == best, "select_greedy did not choose the first maximum");
  }
}

bool MatcherDriver::step_allowed(std::uint64_t choice) {
  fill(mask_);
  std::vector<std::uint32_t> ids;
  for (std::uint32_t id = 0; id < vocab_->n_vocab(); ++id) {
    if (allowed(id)) ids.push_back(id);
  }
  if (ids.empty()) return false;
  const std::uint32_t id = ids[choice % ids.size()];
  const std::uint64_t d_after = matcher_.completion_distance_after(id);
  std::string sc_after;
  const bool small = d_after != CompiledGrammar::kNoCompletion && d_after <= 4096;
  if (small) sc_after = matcher_.shortest_completion_after(id);
  check(matcher_.accept_token(id), "an allowed token was refused");
  if (vocab_->is_eos(id)) {
    ended_ = true;
    check(matcher_.is_terminated() && !matcher_.is_complete(), "EOS accepted but not terminated");
  } else {
    text_ += vocab_->token(id);
  }
  check(matcher_.completion_distance() == d_after, "completion_distance_after disagrees");
  if (small)
    check(matcher_.shortest_completion() == sc_after, "shortest_completion_after disagrees");
  return true;
}

void MatcherDriver::try_token(std::int64_t id) {
  fill(mask_);
  const bool in_range = id >= 0 && static_cast<std::uint64_t>(id) < vocab_->n_vocab();
  const bool expect = in_range && allowed(static_cast<std::uint32_t>(id));
  check(matcher_.can_accept_token(id) == expect, "can_accept_token disagrees with the mask");
  const bool ok = matcher_.accept_token(id);
  check(ok == expect, "accept_token disagrees with the mask");
  if (!ok) {
    fill(after_);
    check(after_ == mask_, "a refused token changed the state");
    return;
  }
  const auto tid = static_cast<std::uint32_t>(id);
  if (vocab_->is_eos(tid)) {
    ended_ = true;
  } else {
    text_ += vocab_->token(tid);
  }
}

void MatcherDriver::try_bytes(std::string_view bytes) {
  fill(mask_);
  const bool ok = matcher_.accept_bytes(bytes);
  // The one-byte tokens have id = byte value in both vocabularies.
  if (bytes.size() == 1 && vocab_->n_vocab() > 256) {
    check(ok == allowed(static_cast<unsigned char>(bytes[0])),
          "accept_bytes disagrees with the mask");
  }
  if (!ok) {
    fill(after_);
    check(after_ == mask_, "refused bytes changed the state");
    return;
  }
  if (!bytes.empty()) check(!ended_, "bytes accepted after EOS");
  text_.append(bytes.data(), bytes.size());
}

void MatcherDriver::accept_forced() {
  const std::string forced = matcher_.forced_bytes(256);
  if (forced.empty()) return;
  check(matcher_.accept_bytes(forced), "forced bytes were refused");
  text_ += forced;
}

bool MatcherDriver::complete_shortest(std::size_t cap) {
  if (ended_) return true;
  const std::uint64_t d = matcher_.completion_distance();
  if (d == CompiledGrammar::kNoCompletion || d > cap) return false;
  const std::string sc = matcher_.shortest_completion();
  check(sc.size() == d, "shortest completion length != distance");
  if (!sc.empty()) check(matcher_.accept_bytes(sc), "the shortest completion was refused");
  text_ += sc;
  check(matcher_.is_complete(), "not complete after the shortest completion");
  return true;
}

void MatcherDriver::reset() {
  matcher_.reset();
  text_.clear();
  ended_ = false;
  fill(mask_);
  check(mask_ == initial_, "reset did not restore the initial mask");
}

}  // namespace maaza::fuzz

// Fuzz target: grounded values (grounding.h): a text's suffix automaton and number literals,
// bound to a matcher over a schema compiled with grounding, driven by a program of operations as
// in fuzz_matcher.
//
// Input (read with libFuzzer's FuzzedDataProvider): a schema from a fixed table, a whitespace
// mode, the text (arbitrary bytes: NUL, invalid UTF-8 and JSON's escapable characters included),
// up to four number literals (arbitrary bytes: maaza_rt passes the JSON numbers the text writes,
// but the core must survive anything), whether to bind as maaza_rt does (the text
// with whitespace runs collapsed, a NUL, then the text) or the text alone, then operations:
// accept an allowed token, offer any token or raw bytes, accept the forced bytes, check the
// whole state, finish with the shortest completion, or reset. Every operation goes
// through MatcherDriver's cross-checks. A complete text must be JSON in which every string at a
// grounded place (a key starting with `g`, or an item of a list under one) is a substring of the
// bound text once unescaped, and every number at a grounded place (a key starting with `n`) is
// one of the literals; a kind is checked when every grounded slot of it is active (a slot the
// text offers nothing falls back to its plain rule).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "grounding.h"
#include "json.h"
#include "matcher.h"
#include "schema.h"

using maaza::fuzz::check;
using maaza::fuzz::fail;
namespace json = maaza::json;

namespace {

// Grounded places: keys starting with `g` (strings, lists of strings, nested objects) and `n`
// (numbers); the other keys hold values grounding leaves alone (enum, format, pattern,
// maxLength, "x-maaza-grounded": false).
const char* const kSchemas[] = {
    R"({"type":"object","properties":{"gname":{"type":"string"},"nage":{"type":"integer"},
        "gcity":{"type":"string"}},"required":["gname"]})",
    R"({"type":"object","properties":{"gtags":{"type":"array","items":{"type":"string"},
        "maxItems":4},"ntotal":{"type":"number"}},"required":["gtags","ntotal"]})",
    R"({"type":"object","properties":{"gvendor":{"type":"string"},"kind":{"enum":["a","b"]},
        "due":{"type":"string","format":"date"},"code":{"type":"string","pattern":"^[A-Z]{2}$"},
        "short":{"type":"string","maxLength":3},
        "free":{"type":"string","x-maaza-grounded":false}}})",
    R"({"type":"object","properties":{"gitems":{"type":"array","items":{"type":"object",
        "properties":{"gname":{"type":"string"},"nqty":{"type":"integer","minimum":0}},
        "required":["gname"]}}}})",
    R"({"type":"object","properties":{"ga":{"type":"string"},"gb":{"type":"string"},
        "nc":{"type":"number","minimum":-5,"maximum":1e6},"gd":{"anyOf":[{"type":"string"},
        {"type":"null"}]}},"required":["ga","gb","nc"]})",
};
constexpr std::size_t kWhitespaceModes = 3;

std::shared_ptr<const maaza::CompiledGrammar> compile(std::size_t index, std::size_t ws) {
  maaza::SchemaOptions opt;
  opt.whitespace = static_cast<maaza::Whitespace>(ws);
  opt.max_whitespace = 2;
  opt.grounded = true;
  maaza::CompiledSchema cs = maaza::compile_json_schema(json::parse(kSchemas[index]), opt);
  return std::make_shared<const maaza::CompiledGrammar>(std::move(cs.grammar));
}

// Compiled once per process (immutable; the token cache is per vocabulary).
const std::shared_ptr<const maaza::CompiledGrammar>& grammar_for(std::size_t index, std::size_t ws) {
  static std::vector<std::shared_ptr<const maaza::CompiledGrammar>> cache(std::size(kSchemas) *
                                                                          kWhitespaceModes);
  std::shared_ptr<const maaza::CompiledGrammar>& slot = cache[index * kWhitespaceModes + ws];
  if (!slot) slot = compile(index, ws);
  return slot;
}

// What maaza_rt binds: whitespace runs (C0 controls and space) collapsed to one space, a NUL,
// then the text as it is.
std::string bound_text(const std::string& text, bool collapsed) {
  if (!collapsed) return text;
  std::string out;
  bool in_run = false;
  for (char ch : text) {
    const bool space = static_cast<unsigned char>(ch) <= 0x20;
    if (space) {
      if (!in_run) out.push_back(' ');
      in_run = true;
    } else {
      out.push_back(ch);
      in_run = false;
    }
  }
  out.push_back('\0');
  return out + text;
}

struct Binding {
  std::string text;
  std::vector<std::string> literals;
  // Whether every slot of the kind is active: a slot the text offers no value for (a number
  // slot whose rule no literal matches, a non-empty string slot over a text of no character)
  // matches its plain rule instead, which the checks then leave alone.
  bool strings_grounded = true;
  bool numbers_grounded = true;
};

Binding read_binding(FuzzedDataProvider& in) {
  Binding b;
  const std::string text = in.ConsumeRandomLengthString(512);
  for (auto n = in.ConsumeIntegralInRange<int>(0, 4); n > 0; --n) {
    b.literals.push_back(in.ConsumeRandomLengthString(12));
  }
  b.text = bound_text(text, in.ConsumeBool());
  return b;
}

// The grounding promise on a complete value: strings at grounded places are substrings of the
// bound text; numbers there are literals (when any literal is a number).
void check_grounded(const json::Value& v, const Binding& b, char place) {
  switch (v.type()) {
    case json::Value::Type::String:
      if (place == 'g' && b.strings_grounded && b.text.find(v.as_string()) == std::string::npos)
        fail("a grounded string is not in the text: " + json::dump(v));
      break;
    case json::Value::Type::Number:
      if (place == 'n' && b.numbers_grounded) {
        bool found = false;
        for (const auto& l : b.literals) found = found || l == v.number_text();
        if (!found) fail("a grounded number is not one of the literals: " + v.number_text());
      }
      break;
    case json::Value::Type::Array:
      for (const auto& item : v.items()) check_grounded(item, b, place);
      break;
    case json::Value::Type::Object:
      for (const auto& [key, value] : v.members()) {
        check_grounded(value, b, key.empty() ? ' ' : key[0]);
      }
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  maaza::set_cache_limits(256, std::size_t(16) << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto index = in.ConsumeIntegralInRange<std::size_t>(0, std::size(kSchemas) - 1);
  const auto& grammar =
      grammar_for(index, in.ConsumeIntegralInRange<std::size_t>(0, kWhitespaceModes - 1));
  static const std::shared_ptr<const maaza::Vocabulary> vocab = maaza::fuzz::token_vocabulary({});
  Binding binding = read_binding(in);
  {
    maaza::fuzz::MatcherDriver driver(
        grammar, vocab, std::make_shared<const maaza::Grounding>(binding.text, binding.literals));
    const auto& slots = grammar->grounded_slots();
    for (std::uint32_t k = 0; k < slots.size(); ++k) {
      if (driver.matcher().slot_active(k)) continue;
      if (slots[k].how == maaza::Grounded::Number) binding.numbers_grounded = false;
      if (slots[k].how == maaza::Grounded::Text || slots[k].how == maaza::Grounded::TextNonEmpty)
        binding.strings_grounded = false;
    }
    maaza::fuzz::Rng rng(in.ConsumeIntegral<std::uint64_t>());
    const std::size_t nv = vocab->n_vocab();
    for (int op = 0; op < 64 && in.remaining_bytes() > 0; ++op) {
      switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0:
        case 1:
        case 2:
          driver.step_allowed(in.ConsumeIntegral<std::uint16_t>());
          break;
        case 3:
          for (auto k = in.ConsumeIntegralInRange<int>(1, 16); k > 0; --k) driver.step_allowed(rng.next());
          break;
        case 4:
          driver.try_token(in.ConsumeIntegralInRange<std::int64_t>(0, nv));
          break;
        case 5:
          driver.try_bytes(in.ConsumeRandomLengthString(8));
          break;
        case 6:
          driver.accept_forced();
          break;
        case 7:
          driver.check_state(rng, nv);
          break;
        case 8:
          if (driver.complete_shortest(4096)) {
            json::Value v;
            if (!json::try_parse(driver.text(), &v)) fail("complete text is not JSON: " + driver.text());
            check_grounded(v, binding, ' ');
          }
          break;
        default:
          driver.reset();
      }
    }
    driver.check_state(rng, nv);
  }
  grammar->token_cache(vocab);
  return 0;
}

// Fuzz target: the grammar matcher (matcher.h) and the vocabulary trie (vocab.h), driven by a
// program of operations read from the input.
//
// Input (read with libFuzzer's FuzzedDataProvider): a grammar from a fixed table (schemas that
// cover the compiler's constructs, and GBNF grammars with classes, repetitions and recursion), a
// whitespace mode and additionalProperties default, in one input of four a few extra vocabulary
// pieces (arbitrary bytes, so that the trie and the token cache meet pieces the fixed
// vocabulary lacks), then operations: accept an allowed token (so a
// valid prefix builds up), offer any token id or raw bytes (valid or not), accept the forced
// bytes, check the whole state (mask, forced bytes, distances, masked logits with fewer or more
// entries than n_vocab, greedy choice), finish with the shortest completion, or reset. Every
// operation goes through MatcherDriver's cross-checks; a schema grammar's complete text must be
// JSON. Grammars are compiled once per process and inputs without extra pieces share one
// vocabulary, hence one token cache, as a decoder's matchers do: the cache then holds contexts
// built by earlier inputs, which must not change any answer.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "gbnf.h"
#include "json.h"
#include "matcher.h"
#include "schema.h"

using maaza::fuzz::check;
using maaza::fuzz::fail;

namespace {

const char* const kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":8},
        "age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string","format":"email"}},
        "required":["name"]})",
    R"({"type":"array","items":{"type":"number","exclusiveMinimum":-1.5,"maximum":1e3},
        "minItems":1,"maxItems":5})",
    R"({"anyOf":[{"type":"string","pattern":"^[a-z]{2,4}$"},{"type":"boolean"},{"type":"null"}]})",
    R"({"type":"object","properties":{"when":{"type":"string","format":"date-time"},
        "id":{"type":"string","format":"uuid"},"ip":{"type":"string","format":"ipv4"},
        "url":{"type":"string","format":"uri"}},"additionalProperties":false})",
    R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "next":{"$ref":"#/$defs/node"}},"required":["v"]}},"$ref":"#/$defs/node"})",
    R"({"oneOf":[{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"number"}},
        "required":["kind"]},{"type":"object","properties":{"kind":{"const":"b"},
        "y":{"type":"string"}},"required":["kind"]}]})",
    R"({})",
    R"({"enum":["\u00e9","\u20ac","\ud83d\ude00","a\"b",1,1.5,true,null,[1,{"k":"v"}]]})",
    R"({"type":"object","additionalProperties":{"type":"string","maxLength":3},
        "properties":{"fixed":{"const":42}}})",
    R"({"type":"array","prefixItems":[{"type":"string","format":"date"},
        {"type":"string","format":"time"}],"items":{"type":"string","format":"hostname"}})",
    R"({"type":"string","minLength":3,"maxLength":5})",
    R"({"type":"number","multipleOf":1,"minimum":-100,"maximum":100})",
    R"({"type":"array","items":{"type":"string","maxLength":2},"maxItems":40})",
};

const char* const kGbnf[] = {
    "root ::= \"a\"{2,5} [^\"\\\\]* (\"x\" | \"yz\")+",
    "root ::= item (\",\" item)*\nitem ::= [0-9]+ | \"[\" root? \"]\" | [\\u00e9-\\u00ff\\U0001F600]",
    "root ::= .{0,3} \"end\"",
    "root ::= (\"ab\" | \"a\" [b-d]{1,40} | [^a]) root?",
};

constexpr std::size_t kGrammars = std::size(kSchemas) + std::size(kGbnf);
constexpr std::size_t kSchemaOptions = 6;  // whitespace mode x additionalProperties default

std::shared_ptr<const maaza::CompiledGrammar> compile(std::size_t index, std::size_t options) {
  if (index >= std::size(kSchemas)) {
    return std::make_shared<const maaza::CompiledGrammar>(
        maaza::parse_gbnf(kGbnf[index - std::size(kSchemas)]));
  }
  maaza::SchemaOptions opt;
  opt.whitespace = static_cast<maaza::Whitespace>(options % 3);
  opt.max_whitespace = 2;
  opt.additional_properties_default = options >= 3;
  maaza::CompiledSchema cs = maaza::compile_json_schema(maaza::json::parse(kSchemas[index]), opt);
  return std::make_shared<const maaza::CompiledGrammar>(std::move(cs.grammar));
}

// Compiled once per process: a compiled grammar is immutable, and its token cache is made per
// vocabulary, which is built per input, so an input still replays the same way on its own.
const std::shared_ptr<const maaza::CompiledGrammar>& grammar_for(std::size_t index,
                                                                 std::size_t options) {
  static std::vector<std::shared_ptr<const maaza::CompiledGrammar>> cache(kGrammars *
                                                                          kSchemaOptions);
  if (index >= std::size(kSchemas)) options = 0;
  std::shared_ptr<const maaza::CompiledGrammar>& slot = cache[index * kSchemaOptions + options];
  if (!slot) slot = compile(index, options);
  return slot;
}

void run_program(FuzzedDataProvider& in,
                 const std::shared_ptr<const maaza::CompiledGrammar>& grammar,
                 const std::shared_ptr<const maaza::Vocabulary>& vocab, bool is_json) {
  maaza::fuzz::MatcherDriver driver(grammar, vocab);
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
        for (auto k = in.ConsumeIntegralInRange<int>(1, 16); k > 0; --k)
          driver.step_allowed(rng.next());
        break;
      case 4:
        driver.try_token(in.ConsumeBool() ? in.ConsumeIntegral<std::int64_t>()
                                          : in.ConsumeIntegralInRange<std::int64_t>(0, nv));
        break;
      case 5:
        driver.try_bytes(in.ConsumeRandomLengthString(8));
        break;
      case 6:
        driver.accept_forced();
        break;
      case 7:
        driver.check_state(rng, in.ConsumeIntegralInRange<std::size_t>(0, nv + 40));
        break;
      case 8:
        if (driver.complete_shortest(4096) && is_json) {
          maaza::json::Value v;
          if (!maaza::json::try_parse(driver.text(), &v))
            fail("complete text is not JSON: " + driver.text());
        }
        break;
      default:
        driver.reset();
    }
  }
  driver.check_state(rng, nv);
}

}  // namespace

// Caches of 16 MiB at most (the default is 256): the fixed vocabulary's caches live as long as the
// process, and a full cache sends masks down the direct trie walk, which gets fuzzed too.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  maaza::set_cache_limits(256, std::size_t(16) << 20);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const auto index = in.ConsumeIntegralInRange<std::size_t>(0, kGrammars - 1);
  const bool is_json = index < std::size(kSchemas);
  const auto& grammar =
      grammar_for(index, in.ConsumeIntegralInRange<std::size_t>(0, kSchemaOptions - 1));

  // One input in four adds pieces to the vocabulary, which then gets a token cache of its own;
  // the others share the fixed vocabulary's cache with every earlier input, as the matchers of a
  // real decoder do (the checks hold whatever the cache holds).
  static const std::shared_ptr<const maaza::Vocabulary> fixed = maaza::fuzz::token_vocabulary({});
  std::shared_ptr<const maaza::Vocabulary> vocab = fixed;
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
    std::vector<std::string> extra;
    for (auto n = in.ConsumeIntegralInRange<int>(1, 6); n > 0; --n) {
      extra.push_back(in.ConsumeRandomLengthString(10));
    }
    vocab = maaza::fuzz::token_vocabulary(extra);
  }
  run_program(in, grammar, vocab, is_json);
  // A grammar drops the cache of a vocabulary that no longer exists at its next lookup: look up
  // now, so that this input frees what it allocated (libFuzzer's leak check counts on it).
  vocab.reset();
  grammar->token_cache(fixed);
  return 0;
}

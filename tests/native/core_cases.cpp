// Native test driver for the C++ core: tables of cases run without Python, so that the core can be
// checked where the Python module cannot run (a cross-compiled binary under an emulator) and
// under sanitizers.
//
// Usage: core_cases <tests/data/conformance directory>
//
// Sections, each printing one line per case: JSON parse and print; GBNF strings that must match
// or not and the print round trip; the conformance tables (every invalid instance refused, the
// refused schemas equal to baseline.json's list, the count of valid instances accepted equal to
// its figure); masks, forced bytes and completion distances along a tokenized instance over a
// small multi-byte vocabulary (printed as hashes); metric scores and format checks; masked
// logits shorter than the vocabulary. A case whose expected label fails prints "FAIL" and the
// exit status is 1. The output is deterministic, so the outputs of two builds (x86-64 and
// aarch64) must be identical: .ci/aarch64 compares them.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "gbnf.h"
#include "json.h"
#include "matcher.h"
#include "metrics.h"
#include "schema.h"
#include "vocab.h"

namespace {

using maaza::json::Value;

int g_failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

std::uint64_t fnv(const void* data, std::size_t n, std::uint64_t h = 0xCBF29CE484222325ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

std::shared_ptr<const maaza::Vocabulary> byte_vocab() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  pieces.emplace_back();
  return std::make_shared<const maaza::Vocabulary>(std::move(pieces),
                                                   std::vector<std::uint32_t>{256});
}

// One-byte pieces, EOS (id 256), then multi-byte pieces with bytes above 0x7F, whose order in the
// trie depends on comparing bytes as unsigned.
std::shared_ptr<const maaza::Vocabulary> token_vocab() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.emplace_back(1, static_cast<char>(b));
  pieces.emplace_back();
  for (const char* p : {"{\"",
                        "\":",
                        "\",\"",
                        "\"}",
                        "true",
                        "false",
                        "null",
                        "12",
                        "2024",
                        "-0",
                        ".5",
                        "e+",
                        "\\u00",
                        "\\n",
                        "name",
                        "\xC3\xA9",
                        "\xC3",
                        "\xE2\x82\xAC",
                        "\xF0\x9F\x98\x80",
                        "\x80",
                        "\xFF",
                        "a\xC3\xA9",
                        "\":[",
                        "],\"",
                        "  "}) {
    pieces.emplace_back(p);
  }
  return std::make_shared<const maaza::Vocabulary>(std::move(pieces),
                                                   std::vector<std::uint32_t>{256});
}

bool matches(const std::shared_ptr<const maaza::CompiledGrammar>& g, const std::string& text) {
  static const auto vocab = byte_vocab();
  maaza::GrammarMatcher m(g, vocab);
  return m.accept_bytes(text) && m.is_complete();
}

// ---- JSON ---------------------------------------------------------------------------------------

void json_cases() {
  struct Case {
    const char* text;
    bool ok;
  };
  const std::string deep = std::string(600, '[') + std::string(600, ']');
  const std::string nested = std::string(512, '[') + std::string(512, ']');
  const Case cases[] = {
      {"null", true},
      {" [1, -0, 1.5e-3, 1E+2, 123456789012345678901234567890] ", true},
      {"{\"a\":1,\"a\":2}", true},
      {"\"\\u00e9\\ud83d\\ude00\\n\\/\"", true},
      {"\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", true},
      {"\"\xFF\"", false},
      {"\"\xC0\x80\"", false},
      {"\"\xED\xA0\x80\"", false},
      {"\"\xF4\x90\x80\x80\"", false},
      {"\"\\ud800\"", false},
      {"\"\x01\"", false},
      {"[1,]", false},
      {"01", false},
      {"1.", false},
      {"-", false},
      {"{\"k\" 1}", false},
      {"[1] 2", false},
      {"1e400", true},
      {"\"\x7F\"", true},
      {deep.c_str(), false},
      {nested.c_str(), true},
  };
  int i = 0;
  for (const Case& c : cases) {
    Value v;
    bool ok = maaza::json::try_parse(c.text, &v);
    std::string out = ok ? maaza::json::dump(v) : std::string();
    if (!ok) {
      try {
        maaza::json::parse(c.text);
      } catch (const maaza::JsonError& e) {
        out = "offset " + std::to_string(e.offset());
      }
    }
    std::printf("json %d %s %016llx\n", i, ok ? "ok" : "error",
                static_cast<unsigned long long>(fnv(out.data(), out.size())));
    expect(ok == c.ok, "json case " + std::to_string(i));
    ++i;
  }
  // Exact number comparison and equality.
  const char* pairs[][2] = {{"1", "1.0"}, {"0.1", "0.10000000000000001"},       {"1e2", "100"},
                            {"-0", "0"},  {"{\"a\":[1,2]}", "{\"a\":[1,2.0]}"}, {"true", "1"}};
  const bool equal[] = {true, false, true, true, true, false};
  for (std::size_t k = 0; k < std::size(pairs); ++k) {
    bool eq = maaza::json::equal(maaza::json::parse(pairs[k][0]), maaza::json::parse(pairs[k][1]));
    std::printf("json-equal %zu %d\n", k, eq ? 1 : 0);
    expect(eq == equal[k], std::string("json equal ") + pairs[k][0] + " " + pairs[k][1]);
  }
}

// ---- GBNF ---------------------------------------------------------------------------------------

void gbnf_cases() {
  struct Case {
    const char* grammar;
    std::vector<std::string> good;
    std::vector<std::string> bad;
  };
  const Case cases[] = {
      {"root ::= \"abc\"", {"abc"}, {"", "ab", "abcd"}},
      {"root ::= [a-c]+", {"a", "abcabc"}, {"", "d"}},
      {"root ::= [^a-c]", {"d", "\xC3\xA9", "\xF0\x9F\x98\x80"}, {"a", "", "\xFF", "\xC3"}},
      {"root ::= \"x\"{2,3} \"y\"?", {"xx", "xxxy"}, {"x", "xxxx"}},
      {"root ::= .", {"a", "\xC3\xA9", "\xE2\x82\xAC"}, {"", "ab", "\x80", "\xED\xA0\x80"}},
      {"root ::= [\xC3\xA9-\xC3\xAA] [\\x80-\\U0010FFFF]",
       {"\xC3\xA9\xC2\x80", "\xC3\xAA\xF4\x8F\xBF\xBF"},
       {"e\xC2\x80",
        "\xC3\xA9"
        "a"}},
      {"root ::= \"\\x41\\u00e9\\U0001F600\\n\\\"\"", {"A\xC3\xA9\xF0\x9F\x98\x80\n\""}, {"A"}},
      {"root ::= item (\",\" item)*\nitem ::= [0-9]+ | \"[\" root \"]\"",
       {"1,[2,[3]]"},
       {"1,", "[]"}},
      {"root ::= obj\nobj ::= \"{\" ws (pair (\",\" ws pair)*)? \"}\"\npair ::= str \":\" ws val\n"
       "val ::= str | [0-9]+ | obj\nstr ::= \"\\\"\" [^\"\\\\]* \"\\\"\"\nws ::= [ \\t\\n]*",
       {"{}", "{\"a\":1, \"b\":{\"c\":\"\xC3\xA9\"}}"},
       {"{", "{\"a\"}"}},
  };
  int i = 0;
  for (const Case& c : cases) {
    auto g = std::make_shared<const maaza::CompiledGrammar>(maaza::parse_gbnf(c.grammar));
    std::string verdicts;
    for (const std::string& s : c.good) {
      bool m = matches(g, s);
      verdicts += m ? '1' : '0';
      expect(m, "gbnf " + std::to_string(i) + " must match " + s);
    }
    verdicts += '/';
    for (const std::string& s : c.bad) {
      bool m = matches(g, s);
      verdicts += m ? '1' : '0';
      expect(!m, "gbnf " + std::to_string(i) + " must not match " + s);
    }
    const std::string printed = maaza::to_gbnf(g->grammar());
    expect(maaza::to_gbnf(maaza::parse_gbnf(printed)) == printed,
           "gbnf " + std::to_string(i) + " printing is a fixed point");
    std::printf("gbnf %d %s %016llx\n", i, verdicts.c_str(),
                static_cast<unsigned long long>(fnv(printed.data(), printed.size())));
    ++i;
  }
  try {
    maaza::parse_gbnf("root ::= \"a\"\n  x ::= [b-a]");
    expect(false, "gbnf error case");
  } catch (const maaza::GrammarError& e) {
    std::printf("gbnf-error %zu:%zu\n", e.line(), e.column());
  }
}

// ---- conformance tables -------------------------------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void conformance_cases(const std::string& dir) {
  const Value baseline = maaza::json::parse(read_file(dir + "/baseline.json"));
  std::set<std::string> expected_refused;
  for (const Value& r : baseline.find("refused")->items()) expected_refused.insert(r.as_string());
  std::set<std::string> refused;
  std::int64_t n_valid_accepted = 0;
  for (const char* file : {"draft-07.json", "draft2020-12.json"}) {
    const Value doc = maaza::json::parse(read_file(dir + "/" + file));
    const std::string draft = doc.find("draft")->as_string();
    const std::string uri = draft == "07" ? "http://json-schema.org/draft-07/schema#"
                                          : "https://json-schema.org/draft/2020-12/schema";
    for (const Value& c : doc.find("cases")->items()) {
      const std::string id =
          draft + " " + c.find("keyword")->as_string() + ": " + c.find("description")->as_string();
      Value schema = *c.find("schema");
      if (schema.is_object() && !schema.contains("$schema")) {
        schema.members().insert(schema.members().begin(), {"$schema", Value::string(uri)});
      }
      std::shared_ptr<const maaza::CompiledGrammar> g;
      try {
        maaza::CompiledSchema cs = maaza::compile_json_schema(schema);
        g = std::make_shared<const maaza::CompiledGrammar>(std::move(cs.grammar));
      } catch (const maaza::SchemaError& e) {
        const std::string where = e.pointer().empty() ? "#" : e.pointer();
        refused.insert(id + " [" + e.keyword() + " at " + where + "]");
        std::printf("conf %s: refused %s\n", id.c_str(), e.keyword().c_str());
        continue;
      }
      std::string flags = "v:";
      for (const Value& v : c.find("valid")->items()) {
        bool a = matches(g, maaza::json::dump(v));
        n_valid_accepted += a;
        flags += a ? '1' : '0';
      }
      flags += " i:";
      for (const Value& v : c.find("invalid")->items()) {
        bool a = matches(g, maaza::json::dump(v));
        flags += a ? '1' : '0';
        expect(!a, id + " accepts the invalid " + maaza::json::dump(v));
      }
      std::printf("conf %s: %s\n", id.c_str(), flags.c_str());
    }
  }
  expect(refused == expected_refused, "refused schemas equal baseline.json's list");
  const std::int64_t expected_accepted = baseline.find("valid_accepted")->as_int();
  std::printf("conf valid accepted %lld (baseline %lld), refused %zu\n",
              static_cast<long long>(n_valid_accepted), static_cast<long long>(expected_accepted),
              refused.size());
  expect(n_valid_accepted == expected_accepted, "valid instances accepted equal baseline.json's");
}

// ---- masks along a tokenized instance -----------------------------------------------------------

// Greedy longest-match tokenization over the vocabulary's pieces (not EOS or empty ones).
std::vector<std::uint32_t> tokenize(const maaza::Vocabulary& v, const std::string& text) {
  std::vector<std::uint32_t> ids;
  for (std::size_t pos = 0; pos < text.size();) {
    std::uint32_t best = 0;
    std::size_t best_len = 0;
    for (std::uint32_t id = 0; id < v.n_vocab(); ++id) {
      const std::string& p = v.token(id);
      if (p.size() > best_len && !v.is_eos(id) && text.compare(pos, p.size(), p) == 0) {
        best = id;
        best_len = p.size();
      }
    }
    ids.push_back(best);
    pos += best_len;
  }
  return ids;
}

void mask_cases() {
  struct Case {
    const char* schema;
    maaza::Whitespace ws;
    const char* instance;
  };
  const Case cases[] = {
      {R"({"type":"object","properties":{"name":{"type":"string"},"n":{"type":"integer","minimum":-5}},
          "required":["name"]})",
       maaza::Whitespace::Compact,
       "{\"name\":\"a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\\n\",\"n\":-3}"},
      {R"({"type":"array","items":{"enum":["\u00e9t\u00e9",null,true,2024.5]},"maxItems":4})",
       maaza::Whitespace::Python, "[\"\xC3\xA9t\xC3\xA9\", null, true, 2024.5]"},
      {R"({"type":"object","properties":{"d":{"type":"string","format":"date-time"},
          "e":{"type":"string","format":"email"},"p":{"type":"string","pattern":"^[\\u00e0-\\u00ff]{2,3}x$"}}})",
       maaza::Whitespace::Flexible,
       "{ \"d\": \"2024-02-29T12:00:00Z\",\n  \"e\": \"a.b@example.com\", \"p\": "
       "\"\xC3\xA9\xC3\xBFx\"}"},
      {R"({"anyOf":[{"type":"number","exclusiveMaximum":1e3},{"type":"string","maxLength":3}]})",
       maaza::Whitespace::Compact, "\"\xFF\""},  // invalid UTF-8: refused at the first byte
  };
  const auto vocab = token_vocab();
  int i = 0;
  for (const Case& c : cases) {
    maaza::SchemaOptions opt;
    opt.whitespace = c.ws;
    maaza::CompiledSchema cs = maaza::compile_json_schema(maaza::json::parse(c.schema), opt);
    auto g = std::make_shared<const maaza::CompiledGrammar>(std::move(cs.grammar));
    maaza::GrammarMatcher m(g, vocab);
    std::vector<std::uint32_t> bits(m.n_words());
    std::uint64_t h = fnv(nullptr, 0);
    bool accepted = true;
    std::size_t steps = 0;
    for (std::uint32_t id : tokenize(*vocab, c.instance)) {
      m.fill_mask(bits.data(), bits.size());
      h = fnv(bits.data(), bits.size() * sizeof(std::uint32_t), h);
      const std::string forced = m.forced_bytes(64);
      const std::uint64_t d = m.completion_distance();
      h = fnv(forced.data(), forced.size(), h);
      h = fnv(&d, sizeof d, h);
      const bool bit = (bits[id >> 5] >> (id & 31)) & 1u;
      if (!m.accept_token(id)) {
        accepted = false;
        expect(!bit, "mask " + std::to_string(i) + " allows a token accept_token refuses");
        break;
      }
      expect(bit, "mask " + std::to_string(i) + " refuses an accepted token");
      ++steps;
    }
    const bool complete = accepted && m.is_complete();
    std::printf("mask %d steps %zu %s %016llx\n", i, steps, complete ? "complete" : "refused",
                static_cast<unsigned long long>(h));
    expect(complete == (i != 3), "mask case " + std::to_string(i) + " outcome");
    ++i;
  }
}

// ---- metrics ------------------------------------------------------------------------------------

void metric_cases() {
  namespace mt = maaza::metrics;
  const char* schema =
      R"({"type":"object","properties":{"name":{"type":"string","pattern":"^\\w+$"},
      "when":{"type":"string","format":"date"},"n":{"type":"integer","maximum":10}},"required":["name"]})";
  mt::SchemaValidator validator(maaza::json::parse(schema));
  struct Case {
    const char* prediction;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"name":"ada","when":"2024-02-29","n":3})",
       R"({"name":"ada","when":"2024-02-29","n":3.0})"},
      {R"({"name":"ad a","when":"2023-02-29"})", R"({"name":"ada","when":"2024-02-29","n":3})"},
      {"Here: {\"name\": \"\xC3\xA9\", \"n\": 11} done", R"({"name":"\u00e9","n":11})"},
      {"not json", R"({"name":"x"})"},
  };
  int i = 0;
  for (const Case& c : cases) {
    maaza::json::Document expected;
    expected.parse_or_throw(c.expected);
    expected.sort_members();
    mt::PairScore s = mt::score_pair(c.prediction, expected, &validator, true);
    std::printf("metric %d parsed %d exact %d field %.6f compliance %d valid %d leaf %.6f\n", i,
                s.parsed, s.json_exact, s.field_f1, s.compliance, s.schema_valid, s.leaf_f1);
    ++i;
  }
  struct Format {
    const char* format;
    const char* value;
    bool ok;
  };
  const Format formats[] = {
      {"date", "2024-02-29", true},
      {"date", "2023-02-29", false},
      {"email", "a.b@ex-ample.com", true},
      {"email", "\xC3\xA9@example.com", false},
      {"uuid", "550e8400-e29b-41d4-a716-446655440000", true},
      {"ipv4", "256.1.1.1", false},
      {"uri", "http://x/\xC3\xA9", false},
      {"time", "23:59:59+02:00", true},
  };
  for (const Format& f : formats) {
    bool ok = mt::check_format(f.format, f.value);
    std::printf("format %s %d\n", f.format, ok ? 1 : 0);
    expect(ok == f.ok, std::string("format ") + f.format + " " + f.value);
  }
}

// ---- masked logits shorter than the vocabulary --------------------------------------------------

void logits_cases() {
  auto g =
      std::make_shared<const maaza::CompiledGrammar>(maaza::parse_gbnf("root ::= [x-z] \"!\""));
  const auto vocab = token_vocab();
  maaza::GrammarMatcher m(g, vocab);
  for (std::size_t n : {std::size_t{0}, std::size_t{60}, std::size_t{121}, vocab->n_vocab(),
                        vocab->n_vocab() + 7}) {
    std::vector<float> logits(n + 16, 1.0f);
    m.mask_logits(logits.data(), n);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) kept += logits[i] == 1.0f;
    bool canary = true;  // entries past n are not the matcher's to write
    for (std::size_t i = n; i < logits.size(); ++i) canary = canary && logits[i] == 1.0f;
    std::vector<float> raw(n, 0.0f);
    const std::int64_t greedy = m.select_greedy(raw.data(), n);
    std::printf("logits n=%zu kept %zu greedy %lld\n", n, kept, static_cast<long long>(greedy));
    expect(canary, "mask_logits wrote past n=" + std::to_string(n));
    expect(kept == (n > 'z' ? 3 : n > 'x' ? n - 'x' : 0), "mask_logits kept the allowed tokens");
    expect(greedy == (n > 'x' ? 'x' : -1), "select_greedy over n=" + std::to_string(n));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <tests/data/conformance directory>\n", argv[0]);
    return 2;
  }
  try {
    json_cases();
    gbnf_cases();
    conformance_cases(argv[1]);
    mask_cases();
    metric_cases();
    logits_cases();
  } catch (const std::exception& e) {
    std::printf("FAIL uncaught exception: %s\n", e.what());
    return 1;
  }
  std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "passed", g_failures);
  return g_failures ? 1 : 0;
}

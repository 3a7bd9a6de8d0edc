// Fuzz target: the JSON Schema compiler (schema.h), its GBNF print, and the matcher over what it
// compiles, with the scorer's validator (metrics.h) as an oracle for the compiler's soundness.
//
// Input: one options byte (whitespace mode, additionalProperties default, lenient, optional
// timezone, whitespace cap), then the schema as JSON text; text that is not JSON is left to
// fuzz_json. Mutations are structured (schema_mutator.h): libFuzzer's byte mutations are used
// only now and then and when the input does not parse.
//
// Checks: compile_json_schema throws only SchemaError; the grammar prints as GBNF that reads back
// and prints identically; lowering throws only GrammarError (a grammar too large once repetitions
// are expanded); unless many_stacks_by_design, a matcher over the byte vocabulary passes
// MatcherDriver's cross-checks along a walk of allowed tokens chosen by a generator seeded from
// the input; every complete text is JSON, and, when the schema compiled strictly (nothing
// ignored) and the validator accepts the schema, the value validates: the grammar must never
// admit an invalid value. The validator is the scorer's (an implementation independent of the
// compiler), minus its departures from the specification that the compiler does not share:
// `format: uri` (drop_uri_format), `\s` in patterns, and numbers read as doubles (values they
// could affect are not checked, beyond_oracle).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "gbnf.h"
#include "json.h"
#include "matcher.h"
#include "metrics.h"
#include "schema.h"
#include "schema_mutator.h"

using maaza::fuzz::check;
using maaza::fuzz::fail;
namespace json = maaza::json;

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

maaza::SchemaOptions options_from(std::uint8_t byte) {
  static const std::uint32_t kCaps[] = {0, 1, 2, 4, 8, 24, 100, 4096};
  maaza::SchemaOptions opt;
  switch (byte & 3) {
    case 1:
      opt.whitespace = maaza::Whitespace::Python;
      break;
    case 2:
      opt.whitespace = maaza::Whitespace::Flexible;
      break;
    default:
      opt.whitespace = maaza::Whitespace::Compact;
  }
  opt.additional_properties_default = (byte >> 2) & 1;
  opt.lenient = (byte >> 3) & 1;
  opt.optional_timezone = (byte >> 4) & 1;
  opt.max_whitespace = kCaps[byte >> 5];
  return opt;
}

// Whether a string holds a white space character of ECMA-262 outside ASCII (U+00A0, U+FEFF,
// ...): the scorer's validator runs patterns with std::wregex, whose `\s` is ASCII only.
bool has_unicode_space(std::string_view s) {
  static const char* const kSpaces[] = {
      "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\xA8", "\xE2\x80\xA9",
      "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xEF\xBB\xBF",
  };
  for (const char* space : kSpaces) {
    if (s.find(space) != std::string_view::npos) return true;
  }
  for (std::size_t i = s.find("\xE2\x80"); i != std::string_view::npos;
       i = s.find("\xE2\x80", i + 1)) {
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i + 2]) <= 0x8A)
      return true;  // U+2000-200A
  }
  return false;
}

// Whether a number's value changes when read as a double (1e400, 99.99999999999999999): the
// validator, like Python's json and jsonschema, compares doubles, while the compiler and the
// specification use the exact decimal value.
bool inexact_as_double(std::string_view text) {
  const double d = std::strtod(std::string(text).c_str(), nullptr);
  if (!std::isfinite(d)) return true;
  char shortest[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(shortest, sizeof shortest, "%.*g", precision, d);
    if (std::strtod(shortest, nullptr) == d) break;
  }
  return json::compare_numbers(json::Value::number_from_text(std::string(text)),
                               json::parse(shortest)) != 0;
}

// Whether the validator's reading of a value may differ from the specification's (above).
bool beyond_oracle(const json::Document& doc, const json::Document::Node& n) {
  if (has_unicode_space(n.key)) return true;
  if (n.type == json::Value::Type::String) return has_unicode_space(n.text);
  if (n.type == json::Value::Type::Number) return inexact_as_double(n.text);
  if (n.type != json::Value::Type::Array && n.type != json::Value::Type::Object) return false;
  for (std::size_t k = 0; k < n.count; ++k) {
    if (beyond_oracle(doc, doc.child(n, k))) return true;
  }
  return false;
}

// Whether a schema holds a number that reads differently as a double (a bound of 1.5e-400 is 0 to
// the validator).
bool beyond_oracle(const json::Value& v) {
  if (v.is_number()) return inexact_as_double(v.number_text());
  if (v.is_array()) {
    for (const json::Value& item : v.items()) {
      if (beyond_oracle(item)) return true;
    }
  } else if (v.is_object()) {
    for (const json::Member& m : v.members()) {
      if (beyond_oracle(m.second)) return true;
    }
  }
  return false;
}

// Checks a text the grammar completed: JSON, and valid when the oracle applies.
void check_output(const std::string& text, const maaza::metrics::SchemaValidator* validator) {
  json::Document doc;
  if (!doc.parse(text)) fail("the grammar completed a text that is not JSON: " + text);
  // The validator refuses strings over 10,000 code points under a pattern: stay below that.
  if (validator == nullptr || text.size() > 10000 || beyond_oracle(doc, doc.root())) return;
  doc.sort_members();
  if (!validator->validate(doc)) fail("the grammar admitted an invalid value: " + text);
}

// The schema the validator checks against: `format: uri` removed wherever it occurs. The scorer's
// uri check wants at least one character after the scheme (metrics.h), while RFC 3986 and the
// compiler also allow an empty hier-part ("a:"); the rest of the schema still applies. Values
// under enum, const, default and examples are data, left as they are.
void drop_uri_format(json::Value& v) {
  if (v.is_array()) {
    for (json::Value& item : v.items()) drop_uri_format(item);
  } else if (v.is_object()) {
    auto& members = v.members();
    // With duplicate keys the last member counts (for the compiler and the validator alike): a
    // `format: uri` that counts takes every `format` member of the object with it, so that an
    // earlier one does not come to count instead.
    const json::Value* format = v.find("format");
    const bool uri = format != nullptr && format->is_string() && format->as_string() == "uri";
    for (std::size_t i = members.size(); i-- > 0;) {
      const std::string& key = members[i].first;
      if (key == "format") {
        if (uri) members.erase(members.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (key != "enum" && key != "const" && key != "default" && key != "examples") {
        drop_uri_format(members[i].second);
      }
    }
  }
}

// Writes options byte + schema text into data; returns the size, 0 if it does not fit.
std::size_t write_input(std::uint8_t options, const json::Value& schema, std::uint8_t* data,
                        std::size_t max_size) {
  const std::string text = json::dump(schema);
  if (text.size() + 1 > max_size) return 0;
  data[0] = options;
  std::memcpy(data + 1, text.data(), text.size());
  return text.size() + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const maaza::SchemaOptions opt = options_from(data[0]);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  json::Value schema;
  if (!json::try_parse(text, &schema)) return 0;

  maaza::CompiledSchema cs;
  try {
    cs = maaza::compile_json_schema(schema, opt);
  } catch (const maaza::SchemaError&) {
    return 0;
  }
  const std::string printed = maaza::to_gbnf(cs.grammar);
  try {
    check(maaza::to_gbnf(maaza::parse_gbnf(printed)) == printed, "printing is not a fixed point");
  } catch (const maaza::GrammarError& e) {
    fail(std::string("the printed grammar does not parse: ") + e.what());
  }

  const bool strict = cs.ignored.empty();
  const bool walk = !maaza::fuzz::many_stacks_by_design(cs.grammar);
  const int steps = maaza::fuzz::walk_steps(cs.grammar, 32);
  std::shared_ptr<const maaza::CompiledGrammar> compiled;
  try {
    compiled = std::make_shared<const maaza::CompiledGrammar>(std::move(cs.grammar),
                                                              std::move(cs.ignored));
  } catch (const maaza::GrammarError&) {
    return 0;
  }
  if (!walk) return 0;
  std::unique_ptr<maaza::metrics::SchemaValidator> validator;
  if (strict && !beyond_oracle(schema)) {
    try {
      json::Value oracle = schema;
      drop_uri_format(oracle);
      validator = std::make_unique<maaza::metrics::SchemaValidator>(oracle);
    } catch (const maaza::SchemaError&) {
    }
  }

  // Byte tokens: a fresh grammar's token cache is cheap to build over them (fuzz_matcher covers
  // multi-byte pieces).
  static const std::shared_ptr<const maaza::Vocabulary> vocab = maaza::fuzz::byte_vocabulary();
  maaza::fuzz::Rng rng(
      maaza::fuzz::hash_bytes(std::string_view(reinterpret_cast<const char*>(data), size)));
  maaza::fuzz::MatcherDriver driver(compiled, vocab);

  // The shortest value, then a random walk finished by the shortest completion.
  if (driver.complete_shortest(1 << 16)) check_output(driver.text(), validator.get());
  driver.reset();
  for (int step = 0; step < steps && !driver.ended(); ++step) {
    if (step % 8 == 0) driver.check_state(rng, vocab->n_vocab());
    if (!driver.step_allowed(rng.next())) break;
  }
  if (driver.complete_shortest(1 << 16)) check_output(driver.text(), validator.get());
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  maaza::fuzz::Rng rng(seed);
  json::Value schema;
  const bool parsed =
      size >= 1 &&
      json::try_parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), &schema);
  if (!parsed || rng.chance(16)) return LLVMFuzzerMutate(data, size, max_size);
  std::uint8_t options = data[0];
  if (rng.chance(16)) options = static_cast<std::uint8_t>(rng.next());
  if (rng.chance(32)) schema = maaza::fuzz::random_schema(rng, 4);
  maaza::fuzz::mutate_schema(schema, rng);
  const std::size_t n = write_input(options, schema, data, max_size);
  return n ? n : LLVMFuzzerMutate(data, size, max_size);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2,
                                                 std::uint8_t* out, std::size_t max_out_size,
                                                 unsigned int seed) {
  json::Value a, b;
  if (size1 < 1 || size2 < 1 ||
      !json::try_parse(std::string_view(reinterpret_cast<const char*>(data1) + 1, size1 - 1), &a) ||
      !json::try_parse(std::string_view(reinterpret_cast<const char*>(data2) + 1, size2 - 1), &b)) {
    return 0;
  }
  maaza::fuzz::Rng rng(seed);
  maaza::fuzz::cross_schemas(a, b, rng);
  return write_input(data1[0], a, out, max_out_size);
}

// Fuzz target: the JSON parser (json.h) and the scorer built on it (metrics.h).
//
// Input: any bytes, read as a JSON text. Checks that the three entry points agree on what is
// JSON (parse, try_parse, Document::parse), that a parse error is a JsonError at an offset inside
// the text, that printing is a fixed point (dump, reparse, dump gives the same text, and the
// flat Document prints the same as the Value), that a value equals itself under json::equal and
// every metric (a value scored against itself is a perfect score), and that a smaller depth limit
// never accepts more. extract_json runs on the raw bytes (free text with embedded objects).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "json.h"
#include "metrics.h"

using maaza::fuzz::check;
using maaza::fuzz::fail;
namespace json = maaza::json;
namespace metrics = maaza::metrics;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  json::Value value;
  const bool ok = json::try_parse(text, &value);
  json::Document doc;
  check(doc.parse(text) == ok, "Document::parse and try_parse disagree");
  try {
    json::parse(text);
    check(ok, "parse accepted what try_parse refused");
  } catch (const maaza::JsonError& e) {
    check(!ok, "parse refused what try_parse accepted");
    check(e.offset() <= size, "error offset past the end of the text");
  }
  json::Value shallow;
  if (json::try_parse(text, &shallow, 3)) check(ok, "a depth limit of 3 accepted more");

  json::Document extracted;
  if (metrics::extract_json(text, &extracted)) check(!extracted.empty(), "extracted nothing");

  if (!ok) return 0;

  const std::string printed = json::dump(value);
  check(json::dump(doc) == printed, "Document and Value print differently");
  json::Value again;
  if (!json::try_parse(printed, &again)) fail("printed JSON does not parse: " + printed);
  check(json::dump(again) == printed, "printing is not a fixed point");
  check(json::equal(value, again), "a value differs from its reprint");
  check(json::equal(value, value), "a value differs from itself");

  doc.sort_members();
  check(metrics::json_equal(doc, doc), "json_equal: a document differs from itself");
  check(metrics::leaf_f1(doc, doc) == 1.0, "leaf_f1 of a value with itself is not 1");
  check(metrics::field_f1(doc, doc) == 1.0, "field_f1 of a value with itself is not 1");
  const bool empty_object = doc.root().type == json::Value::Type::Object && doc.root().count == 0;
  check(metrics::compliance(doc, doc) == !empty_object, "compliance of a value with itself");

  metrics::PairScore s = metrics::score_pair(printed, doc, nullptr, false);
  check(s.parsed && s.json_exact && s.leaf_f1 == 1.0, "score_pair of a value with its reprint");

  json::Value normalized = value;
  metrics::normalize(normalized);
  check(json::equal(value, normalized), "normalize changed the value");
  return 0;
}

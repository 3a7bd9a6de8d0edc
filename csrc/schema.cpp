// JSON Schema -> grammar IR compiler (first cut: `true`, `{}` and `{"type":"string"}`).
#include "schema.h"

#include "errors.h"

namespace maaza {

CompiledSchema compile_json_schema(const json::Value& schema, const SchemaOptions& options) {
  (void)options;
  CompiledSchema out;
  Grammar& g = out.grammar;
  // char ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" hex hex hex hex)
  std::uint32_t hex = g.add_rule("hex", {{Symbol::char_class({{'0', '9'}, {'A', 'F'}, {'a', 'f'}})}});
  std::uint32_t ch = g.add_rule(
      "char", {{Symbol::char_class({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}, true)},
               {Symbol::literal("\\"), Symbol::char_class({{'"', '"'}, {'/', '/'}, {'\\', '\\'},
                                                           {'b', 'b'}, {'f', 'f'}, {'n', 'n'},
                                                           {'r', 'r'}, {'t', 't'}})},
               {Symbol::literal("\\u"), Symbol::repeat(hex, 4, 4)}});
  std::uint32_t str =
      g.add_rule("string", {{Symbol::literal("\""), Symbol::repeat(ch, 0, kUnbounded), Symbol::literal("\"")}});
  bool is_string = schema.is_object() && schema.size() == 1 && schema.find("type") &&
                   schema.find("type")->is_string() && schema.find("type")->as_string() == "string";
  if (!is_string) throw SchemaError("", "", "schema not supported yet");
  g.set_root(g.add_rule("root", {{Symbol::ref(str)}}));
  return out;
}

}  // namespace maaza

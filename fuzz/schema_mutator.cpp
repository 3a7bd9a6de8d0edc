// Structured mutations of JSON Schemas (schema_mutator.h).
#include "schema_mutator.h"

#include <iterator>
#include <utility>
#include <vector>

namespace maaza::fuzz {

using json::Member;
using json::Value;

namespace {

template <typename T, std::size_t N>
const T& pick(Rng& rng, const T (&table)[N]) {
  return table[rng.below(N)];
}

// Numbers at the edges of what the compiler handles: signs, zero, fractions, exponents, the
// 18-digit integer cap, 2^53 + 1, and values a double cannot hold.
const char* const kNumbers[] = {
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "0.5",
    "-0",
    "-0.0",
    "1.0",
    "1e2",
    "1E+2",
    "1e-7",
    "0.1",
    "-2.5",
    "100",
    "255",
    "1e308",
    "1e400",
    "-1e400",
    "0.30000000000000004",
    "9007199254740993",
    "999999999999999999",
    "1000000000000000000",
    "123456789012345678901234567890",
    "4294967296",
    "-9223372036854775809",
    "1.5e-400",
    "7",
};

const char* const kStrings[] = {
    "",
    "a",
    "abc",
    "name",
    "\xC3\xA9t\xC3\xA9",
    "\xF0\x9F\x98\x80",
    "a\"b",
    "back\\slash",
    "line\nbreak",
    "\x01",
    "2024-02-29",
    "12:00:00Z",
    "user@example.com",
    "http://x.org/a?b#c",
    "550e8400-e29b-41d4-a716-446655440000",
    "192.168.0.1",
    "/a~1b",
    "null",
    "0",
    "  ",
};

const char* const kKeys[] = {
    "a",  "b", "c",   "name", "id",   "",           "\xC3\xA9", "a\"b",
    "\\", "1", "x y", "$ref", "type", "properties", "items",    "\t",
};

const char* const kTypes[] = {"string", "integer", "number", "boolean", "null",
                              "array",  "object",  "any",    "int"};

const char* const kPatterns[] = {
    "^[a-z]+$",
    "^\\d{3}-\\d{4}$",
    "a|b",
    "^(ab)*c?$",
    "[^\\s]",
    "^.{2,5}$",
    "\\p{L}",
    "(?=a)b",
    "^\\w+@\\w+\\.com$",
    "^[\\u00e9-\\u00ff]*$",
    "x{2,}",
    "^(a|b|c){1,3}$",
    "^$",
    "[",
    "(",
    "\\",
    "^\\\\$",
    "^[\"]$",
    "^.*$",
    "^\\d+(\\.\\d+)?$",
    "(?:a+)+$",
    "^[^\\x00-\\x7f]+$",
    "a{3,1}",
    "^(a*)*$",
    "\\u{1F600}",
    "^[A-Z]{2}\\d{2}[A-Z0-9]{1,30}$",
    "\\bword",
    "^(?<n>x)\\k<n>$",
    "^\\cA$",
    "[\\d-z]",
    "^a{0,100000}$",
    "^(?:[a-z0-9-]{1,63}\\.){1,8}[a-z]{2,}$",
};

const char* const kFormats[] = {"date-time",    "date",     "time",  "email",    "uuid",
                                "ipv4",         "ipv6",     "uri",   "hostname", "uri-reference",
                                "json-pointer", "duration", "regex", "made-up"};

const char* const kRefs[] = {"#",
                             "#/$defs/a",
                             "#/$defs/b",
                             "#/definitions/a",
                             "#/properties/a",
                             "#/items",
                             "#/anyOf/0",
                             "#/$defs/missing",
                             "#/$defs/a~1b",
                             "#/$defs/%61",
                             "https://example.com/s.json",
                             "#anchor",
                             "#/",
                             "#/$defs"};

const char* const kSchemaVersions[] = {
    "https://json-schema.org/draft/2020-12/schema", "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-06/schema#",
    "http://json-schema.org/draft-04/schema#"};

Value number(Rng& rng) { return Value::number_from_text(pick(rng, kNumbers)); }
Value count(Rng& rng) {
  static const char* const kCounts[] = {"0",  "1",      "2",   "3",   "5",  "18",
                                        "64", "100001", "1e9", "2.0", "-1", "0.5"};
  return Value::number_from_text(pick(rng, kCounts));
}
Value string(Rng& rng) { return Value::string(pick(rng, kStrings)); }

Value random_value(Rng& rng, int depth) {
  switch (rng.below(depth > 0 ? 7 : 5)) {
    case 0:
      return Value::null();
    case 1:
      return Value::boolean(rng.chance(2));
    case 2:
      return number(rng);
    case 3:
    case 4:
      return string(rng);
    case 5: {
      std::vector<Value> items;
      for (std::uint64_t n = rng.below(4); n > 0; --n)
        items.push_back(random_value(rng, depth - 1));
      return Value::array(std::move(items));
    }
    default: {
      std::vector<Member> members;
      for (std::uint64_t n = rng.below(4); n > 0; --n) {
        members.emplace_back(pick(rng, kKeys), random_value(rng, depth - 1));
      }
      return Value::object(std::move(members));
    }
  }
}

Value schema_list(Rng& rng, int depth) {
  std::vector<Value> items;
  for (std::uint64_t n = 1 + rng.below(3); n > 0; --n) items.push_back(random_schema(rng, depth));
  return Value::array(std::move(items));
}

Value schema_map(Rng& rng, int depth, const char* const* keys, std::size_t n_keys) {
  std::vector<Member> members;
  for (std::uint64_t n = 1 + rng.below(3); n > 0; --n) {
    members.emplace_back(keys[rng.below(n_keys)], random_schema(rng, depth));
  }
  return Value::object(std::move(members));
}

Value key_list(Rng& rng) {
  std::vector<Value> items;
  for (std::uint64_t n = rng.below(4); n > 0; --n) items.push_back(Value::string(pick(rng, kKeys)));
  return Value::array(std::move(items));
}

Value type_value(Rng& rng) {
  if (!rng.chance(4)) return Value::string(pick(rng, kTypes));
  std::vector<Value> items;
  for (std::uint64_t n = 1 + rng.below(3); n > 0; --n)
    items.push_back(Value::string(pick(rng, kTypes)));
  return Value::array(std::move(items));
}

// A value of the shape `keyword` expects (now and then of a wrong shape, on purpose).
Value keyword_value(const std::string& keyword, Rng& rng, int depth) {
  if (rng.chance(16)) return random_value(rng, 1);
  static const char* const kDefKeys[] = {"a", "b", "a/b", "c"};
  if (keyword == "type") return type_value(rng);
  if (keyword == "enum") {
    std::vector<Value> items;
    for (std::uint64_t n = 1 + rng.below(4); n > 0; --n) items.push_back(random_value(rng, 1));
    return Value::array(std::move(items));
  }
  if (keyword == "const") return random_value(rng, 2);
  if (keyword == "pattern") return Value::string(pick(rng, kPatterns));
  if (keyword == "format") return Value::string(pick(rng, kFormats));
  if (keyword == "$ref") return Value::string(pick(rng, kRefs));
  if (keyword == "$schema") return Value::string(pick(rng, kSchemaVersions));
  if (keyword == "required") return key_list(rng);
  if (keyword == "properties" || keyword == "patternProperties" || keyword == "dependentSchemas") {
    return schema_map(rng, depth, kKeys, std::size(kKeys));
  }
  if (keyword == "$defs" || keyword == "definitions") {
    return schema_map(rng, depth, kDefKeys, std::size(kDefKeys));
  }
  if (keyword == "anyOf" || keyword == "oneOf" || keyword == "allOf" || keyword == "prefixItems") {
    return schema_list(rng, depth);
  }
  if (keyword == "minLength" || keyword == "maxLength" || keyword == "minItems" ||
      keyword == "maxItems" || keyword == "minProperties" || keyword == "maxProperties" ||
      keyword == "minContains" || keyword == "maxContains") {
    return count(rng);
  }
  if (keyword == "minimum" || keyword == "maximum" || keyword == "multipleOf") return number(rng);
  if (keyword == "exclusiveMinimum" || keyword == "exclusiveMaximum") {
    return rng.chance(4) ? Value::boolean(rng.chance(2)) : number(rng);
  }
  if (keyword == "uniqueItems") return Value::boolean(rng.chance(2));
  if (keyword == "items" && rng.chance(4)) return schema_list(rng, depth);
  return random_schema(rng, depth);  // items, additionalProperties, not, contains, if, ...
}

const char* const kKeywords[] = {
    "type",
    "type",
    "type",
    "properties",
    "properties",
    "required",
    "required",
    "items",
    "items",
    "enum",
    "const",
    "anyOf",
    "oneOf",
    "allOf",
    "$ref",
    "$defs",
    "definitions",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "additionalProperties",
    "prefixItems",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "uniqueItems",
    "contains",
    "minContains",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentSchemas",
    "unevaluatedProperties",
    "$schema",
    "$id",
    "title",
    "default",
    "nullable",
};

// Every node of the tree in preorder.
void collect(Value& v, std::vector<Value*>& out) {
  out.push_back(&v);
  if (v.is_array()) {
    for (Value& item : v.items()) collect(item, out);
  } else if (v.is_object()) {
    for (Member& m : v.members()) collect(m.second, out);
  }
}

void collect_const(const Value& v, std::vector<const Value*>& out) {
  out.push_back(&v);
  if (v.is_array()) {
    for (const Value& item : v.items()) collect_const(item, out);
  } else if (v.is_object()) {
    for (const Member& m : v.members()) collect_const(m.second, out);
  }
}

Value* random_node(Value& root, Rng& rng, bool objects_only) {
  std::vector<Value*> nodes;
  collect(root, nodes);
  if (objects_only) {
    std::vector<Value*> objects;
    for (Value* n : nodes) {
      if (n->is_object()) objects.push_back(n);
    }
    nodes.swap(objects);
  }
  return nodes.empty() ? nullptr : nodes[rng.below(nodes.size())];
}

void tweak_scalar(Value& v, Rng& rng) {
  switch (v.type()) {
    case Value::Type::Number:
      v = number(rng);
      break;
    case Value::Type::Bool:
      v = Value::boolean(!v.as_bool());
      break;
    case Value::Type::String: {
      switch (rng.below(4)) {
        case 0:
          v = Value::string(pick(rng, kPatterns));
          break;
        case 1:
          v = Value::string(pick(rng, kTypes));
          break;
        case 2:
          v = Value::string(pick(rng, kFormats));
          break;
        default:
          v = Value::string(v.as_string() + pick(rng, kStrings));
      }
      break;
    }
    default:
      v = random_value(rng, 2);
  }
}

}  // namespace

Value random_schema(Rng& rng, int depth) {
  if (depth <= 0 || rng.chance(8)) {
    switch (rng.below(4)) {
      case 0:
        return Value::boolean(rng.chance(2));
      case 1:
        return Value::object();
      default:
        return Value::object({{"type", Value::string(pick(rng, kTypes))}});
    }
  }
  std::vector<Member> members;
  const std::uint64_t shape = rng.below(10);
  if (shape < 6) {
    static const char* const kShapes[] = {"string", "integer", "number",
                                          "array",  "object",  "object"};
    const std::string type = kShapes[shape];
    members.emplace_back("type", rng.chance(6) ? type_value(rng) : Value::string(type));
    static const char* const kString[] = {"minLength", "maxLength", "pattern", "format", "enum"};
    static const char* const kNumber[] = {"minimum",          "maximum",    "exclusiveMinimum",
                                          "exclusiveMaximum", "multipleOf", "enum"};
    static const char* const kArray[] = {"items",    "items",       "prefixItems", "minItems",
                                         "maxItems", "uniqueItems", "contains"};
    static const char* const kObject[] = {
        "properties",           "properties",        "required",      "required",
        "additionalProperties", "patternProperties", "minProperties", "propertyNames"};
    for (std::uint64_t n = rng.below(4); n > 0; --n) {
      const char* k = type == "string"   ? pick(rng, kString)
                      : type == "array"  ? pick(rng, kArray)
                      : type == "object" ? pick(rng, kObject)
                                         : pick(rng, kNumber);
      members.emplace_back(k, keyword_value(k, rng, depth - 1));
    }
  } else if (shape == 6) {
    static const char* const kCombinators[] = {"anyOf", "oneOf", "allOf", "not"};
    const char* k = pick(rng, kCombinators);
    members.emplace_back(k, keyword_value(k, rng, depth - 1));
  } else if (shape == 7) {
    members.emplace_back(rng.chance(2) ? "enum" : "const",
                         keyword_value(rng.chance(2) ? "enum" : "const", rng, depth - 1));
  } else if (shape == 8) {
    members.emplace_back("$ref", keyword_value("$ref", rng, depth - 1));
    members.emplace_back("$defs", keyword_value("$defs", rng, depth - 1));
  } else {
    for (std::uint64_t n = 1 + rng.below(3); n > 0; --n) {
      const char* k = pick(rng, kKeywords);
      members.emplace_back(k, keyword_value(k, rng, depth - 1));
    }
  }
  return Value::object(std::move(members));
}

void mutate_schema(Value& schema, Rng& rng) {
  switch (rng.below(10)) {
    case 0:
    case 1: {  // replace a node with a generated schema
      if (Value* n = random_node(schema, rng, false))
        *n = random_schema(rng, 1 + static_cast<int>(rng.below(3)));
      return;
    }
    case 2:
    case 3:
    case 4: {  // add or overwrite a keyword
      Value* n = random_node(schema, rng, true);
      if (n == nullptr) {
        schema = random_schema(rng, 2);
        return;
      }
      const std::string k = pick(rng, kKeywords);
      Value v = keyword_value(k, rng, 1 + static_cast<int>(rng.below(2)));
      for (Member& m : n->members()) {
        if (m.first == k && !rng.chance(8)) {  // now and then a duplicate key instead
          m.second = std::move(v);
          return;
        }
      }
      n->members().emplace_back(k, std::move(v));
      return;
    }
    case 5: {  // delete a member or an item
      std::vector<Value*> nodes;
      collect(schema, nodes);
      std::vector<Value*> containers;
      for (Value* n : nodes) {
        if (n->size() > 0) containers.push_back(n);
      }
      if (containers.empty()) return;
      Value* c = containers[rng.below(containers.size())];
      if (c->is_array()) {
        c->items().erase(c->items().begin() +
                         static_cast<std::ptrdiff_t>(rng.below(c->items().size())));
      } else {
        c->members().erase(c->members().begin() +
                           static_cast<std::ptrdiff_t>(rng.below(c->members().size())));
      }
      return;
    }
    case 6:
    case 7: {  // copy a subtree over another node
      Value* from = random_node(schema, rng, false);
      Value copy = *from;
      Value* to = random_node(schema, rng, false);
      *to = std::move(copy);
      return;
    }
    default: {  // change a scalar
      std::vector<Value*> nodes;
      collect(schema, nodes);
      std::vector<Value*> scalars;
      for (Value* n : nodes) {
        if (!n->is_array() && !n->is_object()) scalars.push_back(n);
      }
      if (scalars.empty()) {
        mutate_schema(schema, rng);
        return;
      }
      tweak_scalar(*scalars[rng.below(scalars.size())], rng);
    }
  }
}

void cross_schemas(Value& into, const Value& from, Rng& rng) {
  std::vector<const Value*> sources;
  collect_const(from, sources);
  Value copy = *sources[rng.below(sources.size())];
  *random_node(into, rng, false) = std::move(copy);
}

}  // namespace maaza::fuzz

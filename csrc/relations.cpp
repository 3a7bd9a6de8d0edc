// Relations between schemas as sets of values; see relations.h.
//
// A schema is read as a conjunction, its "view": its own keywords, those of the schema its `$ref`
// names and of each `allOf` branch (recursively), plus disjunction groups (`anyOf`, and `oneOf`
// read as `anyOf`, which only admits more values). Proofs combine the keywords of all conjuncts,
// type class by type class (null, boolean, number, string, array, object): two schemas are
// disjoint when, for every class both admit, the values of that class cannot satisfy both.
#include "relations.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace maaza {

using json::Value;

namespace {

enum : unsigned { kNull = 1, kBool = 2, kNum = 4, kStr = 8, kArr = 16, kObj = 32, kAll = 63 };

unsigned class_of_name(const Value& n) {
  if (!n.is_string()) return kAll;
  const std::string& s = n.as_string();
  if (s == "null") return kNull;
  if (s == "boolean") return kBool;
  if (s == "integer" || s == "number") return kNum;
  if (s == "string") return kStr;
  if (s == "array") return kArr;
  if (s == "object") return kObj;
  return kAll;  // malformed: the compiler reports it
}

unsigned class_of_value(const Value& v) {
  switch (v.type()) {
    case Value::Type::Null: return kNull;
    case Value::Type::Bool: return kBool;
    case Value::Type::Number: return kNum;
    case Value::Type::String: return kStr;
    case Value::Type::Array: return kArr;
    case Value::Type::Object: return kObj;
  }
  return kAll;
}

unsigned type_classes(const Value& t) {
  if (t.is_string()) return class_of_name(t);
  if (!t.is_array() || t.items().empty()) return kAll;
  unsigned c = 0;
  for (const auto& n : t.items()) c |= class_of_name(n);
  return c;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<std::uint64_t> count(const Value& part, const char* key) {
  const Value* v = part.find(key);
  if (v == nullptr || !v->is_number() || !json::is_integer_number(*v) || v->as_double() < 0) return std::nullopt;
  if (v->as_double() > 1e15) return std::uint64_t{1000000000000000};
  return static_cast<std::uint64_t>(v->as_double());
}

bool flag(const Value& part, const char* key) {
  const Value* v = part.find(key);
  return v != nullptr && v->is_bool() && v->as_bool();
}

// A numeric interval; null ends are unbounded. Bound values point into the schemas.
struct Range {
  const Value* lo = nullptr;
  bool lo_excl = false;
  const Value* hi = nullptr;
  bool hi_excl = false;

  void tighten_lo(const Value* v, bool excl) {
    int c = lo == nullptr ? 1 : json::compare_numbers(*v, *lo);
    if (c > 0 || (c == 0 && excl)) {
      lo = v;
      lo_excl = excl;
    }
  }
  void tighten_hi(const Value* v, bool excl) {
    int c = hi == nullptr ? -1 : json::compare_numbers(*v, *hi);
    if (c < 0 || (c == 0 && excl)) {
      hi = v;
      hi_excl = excl;
    }
  }
  // minimum/maximum, with the exclusive bounds of the draft's form (SchemaSemantics): draft 4's
  // boolean flags, or the numeric exclusiveMinimum/Maximum of later drafts.
  void add(const Value& part, const SchemaSemantics& semantics) {
    auto number = [&](const char* key) {
      const Value* v = part.find(key);
      return v != nullptr && v->is_number() ? v : nullptr;
    };
    const bool flags = semantics.exclusive_flags;
    if (const Value* m = number("minimum")) tighten_lo(m, flags && flag(part, "exclusiveMinimum"));
    if (const Value* m = number("maximum")) tighten_hi(m, flags && flag(part, "exclusiveMaximum"));
    if (!semantics.exclusive_numbers) return;
    if (const Value* m = number("exclusiveMinimum")) tighten_lo(m, true);
    if (const Value* m = number("exclusiveMaximum")) tighten_hi(m, true);
  }
  bool empty() const {
    if (lo == nullptr || hi == nullptr) return false;
    int c = json::compare_numbers(*lo, *hi);
    return c > 0 || (c == 0 && (lo_excl || hi_excl));
  }
  bool excludes(const Value& v) const {
    if (lo != nullptr) {
      int c = json::compare_numbers(v, *lo);
      if (c < 0 || (c == 0 && lo_excl)) return true;
    }
    if (hi != nullptr) {
      int c = json::compare_numbers(v, *hi);
      if (c > 0 || (c == 0 && hi_excl)) return true;
    }
    return false;
  }
};

// Each object member once, with the value json.loads keeps for it.
template <typename F>
void for_each_distinct(const Value& object, F&& f) {
  const auto& m = object.members();
  for (std::size_t i = 0; i < m.size(); ++i) {
    bool later = false;
    for (std::size_t j = i + 1; j < m.size() && !later; ++j) later = m[j].first == m[i].first;
    if (!later) f(m[i].first, m[i].second);
  }
}

Value type_schema(const char* type, std::vector<json::Member> more) {
  std::vector<json::Member> members{{"type", Value::string(type)}};
  for (auto& m : more) members.push_back(std::move(m));
  return Value::object(std::move(members));
}

Value number_copy(const Value& v) { return Value::number_from_text(v.number_text()); }

}  // namespace

struct SchemaRelations::View {
  bool never = false;                 // a conjunct is the `false` schema
  std::vector<const Value*> parts;    // object schemas whose keywords all apply
  std::vector<const Value*> groups;   // anyOf / oneOf arrays: one branch applies
};

SchemaRelations::SchemaRelations(Resolver resolve, SchemaSemantics semantics, std::uint64_t* shared_steps)
    : resolve_(std::move(resolve)), semantics_(semantics), shared_steps_(shared_steps) {}

void SchemaRelations::flatten(const Value& s, View& view, int depth) const {
  if (s.is_bool()) {
    if (!s.as_bool()) view.never = true;
    return;
  }
  // Dropping conjuncts only loses proofs, so past the depth or the step budget the view stops
  // growing (each conjunct counts: a $ref that leads back to its own schema would otherwise
  // unfold kMaxDepth levels under every group that classes() and invalid() visit).
  if (!s.is_object() || depth > kMaxDepth || !step()) return;
  if (const Value* ref = s.find("$ref")) {
    if (const Value* target = resolve_(*ref)) flatten(*target, view, depth + 1);
    if (semantics_.ref_overrides_siblings) return;
  }
  view.parts.push_back(&s);
  if (const Value* all = s.find("allOf"); all != nullptr && all->is_array()) {
    for (const auto& b : all->items()) flatten(b, view, depth + 1);
  }
  for (const char* kw : {"anyOf", "oneOf"}) {
    if (const Value* g = s.find(kw); g != nullptr && g->is_array() && !g->items().empty()) view.groups.push_back(g);
  }
}

unsigned SchemaRelations::classes(const View& view, int depth) const {
  if (view.never) return 0;
  unsigned c = kAll;
  for (const Value* p : view.parts) {
    if (const Value* t = p->find("type")) c &= type_classes(*t);
    if (const Value* k = p->find("const")) c &= class_of_value(*k);
    if (const Value* e = p->find("enum"); e != nullptr && e->is_array()) {
      unsigned u = 0;
      for (const auto& v : e->items()) u |= class_of_value(v);
      c &= u;
    }
  }
  if (depth >= kMaxDepth) return c;
  for (const Value* g : view.groups) {
    if (!step()) return c;  // classes of the groups left out: a superset
    unsigned u = 0;
    for (const auto& b : g->items()) {
      View bv;
      flatten(b, bv, depth + 1);
      u |= classes(bv, depth + 1);
    }
    c &= u;
  }
  return c;
}

const Value* SchemaRelations::finite_part(const View& view) const {
  for (const Value* p : view.parts) {
    if (p->find("const") != nullptr) return p;
    if (const Value* e = p->find("enum"); e != nullptr && e->is_array()) return p;
  }
  return nullptr;
}

std::optional<std::vector<Value>> SchemaRelations::finite_values(const Value& s) const {
  View view;
  flatten(s, view, 0);
  if (view.never) return std::vector<Value>{};
  const Value* p = finite_part(view);
  if (p == nullptr) return std::nullopt;
  if (const Value* k = p->find("const")) return std::vector<Value>{*k};
  return p->find("enum")->items();
}

bool SchemaRelations::definitely_invalid(const Value& v, const Value& s) const {
  steps_ = 0;
  return invalid(v, s, 0);
}

bool SchemaRelations::invalid(const Value& v, const Value& s, int depth) const {
  if (depth > kMaxDepth || !step()) return false;
  View view;
  flatten(s, view, depth);
  if (view.never) return true;
  for (const Value* p : view.parts) {
    if (invalid_in_part(v, *p, depth)) return true;
  }
  for (const Value* g : view.groups) {
    bool all = true;
    for (const auto& b : g->items()) {
      if (!invalid(v, b, depth + 1)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool SchemaRelations::invalid_in_part(const Value& v, const Value& p, int depth) const {
  if (const Value* t = p.find("type")) {
    bool ok = false, known = true;
    auto match = [&](const Value& n) {
      if (!n.is_string()) {
        known = false;
        return;
      }
      const std::string& name = n.as_string();
      if (name == "null") {
        ok = ok || v.is_null();
      } else if (name == "boolean") {
        ok = ok || v.is_bool();
      } else if (name == "number") {
        ok = ok || v.is_number();
      } else if (name == "integer") {
        // 1.0 is an integer from draft 6 on, not in draft 4: counted as one (not proven invalid).
        ok = ok || (v.is_number() && json::is_integer_number(v));
      } else if (name == "string") {
        ok = ok || v.is_string();
      } else if (name == "array") {
        ok = ok || v.is_array();
      } else if (name == "object") {
        ok = ok || v.is_object();
      } else {
        known = false;
      }
    };
    if (t->is_string()) {
      match(*t);
    } else if (t->is_array()) {
      for (const auto& n : t->items()) match(n);
    } else {
      known = false;
    }
    if (known && !ok) return true;
  }
  if (const Value* k = p.find("const"); k != nullptr && !json::equal(v, *k)) return true;
  if (const Value* e = p.find("enum"); e != nullptr && e->is_array()) {
    bool found = false;
    for (const auto& x : e->items()) found = found || json::equal(v, x);
    if (!found) return true;
  }
  if (v.is_number()) {
    Range r;
    r.add(p, semantics_);
    if (r.excludes(v)) return true;
    const Value* m = p.find("multipleOf");
    if (m != nullptr && m->is_number() && m->is_integer_literal() && m->int_fits() && m->as_int() > 0 &&
        v.is_integer_literal() && v.int_fits() && v.as_int() % m->as_int() != 0) {
      return true;
    }
  }
  if (v.is_string()) {
    std::size_t n = code_points(v.as_string());
    if (auto lo = count(p, "minLength"); lo && n < *lo) return true;
    if (auto hi = count(p, "maxLength"); hi && n > *hi) return true;
  }
  if (v.is_array()) {
    const auto& items = v.items();
    if (auto lo = count(p, "minItems"); lo && items.size() < *lo) return true;
    if (auto hi = count(p, "maxItems"); hi && items.size() > *hi) return true;
    if (flag(p, "uniqueItems")) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        for (std::size_t j = i + 1; j < items.size(); ++j) {
          if (json::equal(items[i], items[j])) return true;
        }
      }
    }
    const Value* prefix = nullptr;
    const Value* rest = nullptr;
    const Value* it = p.find("items");
    if (semantics_.prefix_items) {
      if (const Value* pi = p.find("prefixItems"); pi != nullptr && pi->is_array()) prefix = pi;
      if (it != nullptr && !it->is_array()) rest = it;
    } else if (it != nullptr && it->is_array()) {
      prefix = it;
      rest = p.find("additionalItems");
    } else {
      rest = it;
    }
    for (std::size_t k = 0; k < items.size(); ++k) {
      const Value* sch = prefix != nullptr && k < prefix->items().size() ? &prefix->items()[k] : rest;
      if (sch != nullptr && invalid(items[k], *sch, depth + 1)) return true;
    }
  }
  if (v.is_object()) {
    if (const Value* req = p.find("required"); req != nullptr && req->is_array()) {
      for (const auto& k : req->items()) {
        if (k.is_string() && !v.contains(k.as_string())) return true;
      }
    }
    std::size_t n = 0;
    for_each_distinct(v, [&](const std::string&, const Value&) { ++n; });
    if (auto lo = count(p, "minProperties"); lo && n < *lo) return true;
    if (auto hi = count(p, "maxProperties"); hi && n > *hi) return true;
    const Value* props = p.find("properties");
    if (props != nullptr && !props->is_object()) props = nullptr;
    // patternProperties decide which keys are "additional"; without a regex engine here, the
    // additionalProperties schema is not used when they are present.
    const Value* ap = p.find("patternProperties") == nullptr ? p.find("additionalProperties") : nullptr;
    bool bad = false;
    for_each_distinct(v, [&](const std::string& key, const Value& x) {
      if (bad) return;
      const Value* sch = props != nullptr ? props->find(key) : nullptr;
      if (sch == nullptr) sch = props != nullptr && props->contains(key) ? nullptr : ap;
      if (sch != nullptr && invalid(x, *sch, depth + 1)) bad = true;
    });
    if (bad) return true;
  }
  return false;
}

bool SchemaRelations::disjoint(const Value& a, const Value& b) const {
  steps_ = 0;
  return disjoint_at(a, b, 0);
}

bool SchemaRelations::disjoint_at(const Value& a, const Value& b, int depth) const {
  if (depth > kMaxDepth || !step()) return false;
  View va, vb;
  flatten(a, va, depth);
  flatten(b, vb, depth);
  if (va.never || vb.never) return true;
  unsigned common = classes(va, depth) & classes(vb, depth);
  for (unsigned cls = 1; cls <= kObj; cls <<= 1) {
    if ((common & cls) && !disjoint_in(va, a, vb, b, cls, depth)) return false;
  }
  return true;
}

bool SchemaRelations::disjoint_in(const View& a, const Value& as, const View& b, const Value& bs, unsigned cls,
                                  int depth) const {
  if (depth > kMaxDepth || !step()) return false;
  // Finite values of one side, each failing the other (or its own schema).
  for (int side = 0; side < 2; ++side) {
    const View& self = side == 0 ? a : b;
    const Value& self_s = side == 0 ? as : bs;
    const Value& other_s = side == 0 ? bs : as;
    const Value* fp = finite_part(self);
    if (fp == nullptr) continue;
    std::vector<Value> values;
    if (const Value* k = fp->find("const")) {
      values.push_back(*k);
    } else {
      values = fp->find("enum")->items();
    }
    bool all = true;
    for (const auto& v : values) {
      if (class_of_value(v) != cls) continue;
      if (!invalid(v, other_s, depth + 1) && !invalid(v, self_s, depth + 1)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  // A disjunction of one side whose every branch is disjoint from the other side.
  for (int side = 0; side < 2; ++side) {
    const View& self = side == 0 ? a : b;
    const View& other = side == 0 ? b : a;
    const Value& other_s = side == 0 ? bs : as;
    for (const Value* g : self.groups) {
      bool all = true;
      for (const auto& x : g->items()) {
        View vx;
        flatten(x, vx, depth + 1);
        if (vx.never || (classes(vx, depth + 1) & cls) == 0) continue;
        bool d = side == 0 ? disjoint_in(vx, x, other, other_s, cls, depth + 1)
                           : disjoint_in(other, other_s, vx, x, cls, depth + 1);
        if (!d) {
          all = false;
          break;
        }
      }
      if (all) return true;
    }
  }
  auto count_range = [&](const char* lo_key, const char* hi_key) {
    std::uint64_t lo = 0, hi = ~std::uint64_t{0};
    for (const View* v : {&a, &b}) {
      for (const Value* p : v->parts) {
        if (auto x = count(*p, lo_key)) lo = std::max(lo, *x);
        if (auto x = count(*p, hi_key)) hi = std::min(hi, *x);
      }
    }
    return std::make_pair(lo, hi);
  };
  switch (cls) {
    case kNum: {
      Range r;
      for (const View* v : {&a, &b}) {
        for (const Value* p : v->parts) r.add(*p, semantics_);
      }
      return r.empty();
    }
    case kStr: {
      auto [lo, hi] = count_range("minLength", "maxLength");
      return lo > hi;
    }
    case kArr: {
      auto [lo, hi] = count_range("minItems", "maxItems");
      if (lo > hi) return true;
      // Element k, present in every common value when minItems > k, under both sides' schemas.
      auto item_schemas = [&](const View& v, std::size_t k) {
        std::vector<const Value*> out;
        for (const Value* p : v.parts) {
          const Value* it = p->find("items");
          const Value* prefix = nullptr;
          const Value* rest = nullptr;
          if (semantics_.prefix_items) {
            if (const Value* pi = p->find("prefixItems"); pi != nullptr && pi->is_array()) prefix = pi;
            if (it != nullptr && !it->is_array()) rest = it;
          } else if (it != nullptr && it->is_array()) {
            prefix = it;
            rest = p->find("additionalItems");
          } else {
            rest = it;
          }
          const Value* sch = prefix != nullptr && k < prefix->items().size() ? &prefix->items()[k] : rest;
          if (sch != nullptr) out.push_back(sch);
        }
        return out;
      };
      for (std::size_t k = 0; k < std::min<std::uint64_t>(lo, 16); ++k) {
        for (const Value* x : item_schemas(a, k)) {
          for (const Value* y : item_schemas(b, k)) {
            if (disjoint_at(*x, *y, depth + 1)) return true;
          }
        }
      }
      return false;
    }
    case kObj: {
      // A key every common value has (required on either side), whose value both sides constrain.
      std::vector<std::string> required;
      for (const View* v : {&a, &b}) {
        for (const Value* p : v->parts) {
          const Value* req = p->find("required");
          if (req == nullptr || !req->is_array()) continue;
          for (const auto& k : req->items()) {
            if (k.is_string() && std::find(required.begin(), required.end(), k.as_string()) == required.end()) {
              required.push_back(k.as_string());
            }
          }
        }
      }
      auto prop_schemas = [&](const View& v, const std::string& key) {
        std::vector<const Value*> out;
        for (const Value* p : v.parts) {
          const Value* props = p->find("properties");
          if (props != nullptr && props->is_object() && props->contains(key)) {
            out.push_back(props->find(key));
          } else if (p->find("patternProperties") == nullptr) {
            if (const Value* ap = p->find("additionalProperties")) out.push_back(ap);
          }
        }
        return out;
      };
      const Value anything = Value::boolean(true);
      for (const auto& key : required) {
        std::vector<const Value*> xs = prop_schemas(a, key), ys = prop_schemas(b, key);
        xs.push_back(&anything);  // a key forbidden on one side alone (`false`)
        ys.push_back(&anything);
        for (const Value* x : xs) {
          for (const Value* y : ys) {
            if (disjoint_at(*x, *y, depth + 1)) return true;
          }
        }
      }
      return false;
    }
    default:
      return false;
  }
}

std::vector<Value> SchemaRelations::failure_witnesses(const Value& s, const Value& context) const {
  steps_ = 0;
  View view;
  flatten(s, view, 0);
  View ctx;
  flatten(context, ctx, 0);
  std::vector<Value> out;
  if (view.never) {
    out.push_back(Value::object());
    return out;
  }
  unsigned c = classes(view, 0);
  if (c != kAll) {
    std::vector<Value> names;
    const std::pair<unsigned, const char*> all[] = {{kNull, "null"},   {kBool, "boolean"}, {kNum, "number"},
                                                    {kStr, "string"},  {kArr, "array"},    {kObj, "object"}};
    for (const auto& [bit, name] : all) {
      if (!(c & bit)) names.push_back(Value::string(name));
    }
    out.push_back(Value::object({{"type", Value::array(std::move(names))}}));
  }
  for (const Value* p : view.parts) {
    if (const Value* req = p->find("required"); req != nullptr && req->is_array()) {
      for (const auto& k : req->items()) {
        if (!k.is_string()) continue;
        out.push_back(type_schema("object", {{"properties", Value::object({{k.as_string(), Value::boolean(false)}})}}));
      }
    }
    // Bounds as the draft reads them (SchemaSemantics); each witness in the draft's form, so that
    // proofs about it read it as the compiler enforces it: a number below an inclusive bound
    // (draft 4: `maximum` with `exclusiveMaximum: true`), or at or beyond an exclusive one.
    const bool flags = semantics_.exclusive_flags, numbers = semantics_.exclusive_numbers;
    auto beyond = [&](const Value& m, bool excl, const char* inclusive_key, const char* exclusive_key) {
      if (excl) return type_schema("number", {{inclusive_key, number_copy(m)}});
      if (!numbers) {
        return type_schema("number", {{inclusive_key, number_copy(m)}, {exclusive_key, Value::boolean(true)}});
      }
      return type_schema("number", {{exclusive_key, number_copy(m)}});
    };
    if (const Value* m = p->find("minimum"); m != nullptr && m->is_number()) {
      out.push_back(beyond(*m, flags && flag(*p, "exclusiveMinimum"), "maximum", "exclusiveMaximum"));
    }
    if (const Value* m = p->find("exclusiveMinimum"); m != nullptr && m->is_number() && numbers) {
      out.push_back(beyond(*m, true, "maximum", "exclusiveMaximum"));
    }
    if (const Value* m = p->find("maximum"); m != nullptr && m->is_number()) {
      out.push_back(beyond(*m, flags && flag(*p, "exclusiveMaximum"), "minimum", "exclusiveMinimum"));
    }
    if (const Value* m = p->find("exclusiveMaximum"); m != nullptr && m->is_number() && numbers) {
      out.push_back(beyond(*m, true, "minimum", "exclusiveMinimum"));
    }
    const std::pair<const char*, const char*> counted[] = {{"string", "Length"}, {"array", "Items"}};
    for (const auto& [type, suffix] : counted) {
      std::string min_key = std::string("min") + suffix, max_key = std::string("max") + suffix;
      if (auto lo = count(*p, min_key.c_str()); lo && *lo > 0) {
        out.push_back(type_schema(type, {{max_key, Value::integer(static_cast<std::int64_t>(*lo - 1))}}));
      }
      if (auto hi = count(*p, max_key.c_str()); hi && *hi < 1000000000000000ULL) {
        out.push_back(type_schema(type, {{min_key, Value::integer(static_cast<std::int64_t>(*hi + 1))}}));
      }
    }
  }
  // Keys the context may write: declared or required by one of its conjuncts.
  std::vector<std::string> context_keys;
  auto add_key = [&](const std::string& k) {
    if (std::find(context_keys.begin(), context_keys.end(), k) == context_keys.end()) context_keys.push_back(k);
  };
  for (const Value* p : ctx.parts) {
    if (const Value* props = p->find("properties"); props != nullptr && props->is_object()) {
      for (const auto& m : props->members()) add_key(m.first);
    }
    if (const Value* req = p->find("required"); req != nullptr && req->is_array()) {
      for (const auto& k : req->items()) {
        if (k.is_string()) add_key(k.as_string());
      }
    }
  }
  auto required_key = [](const std::string& k, std::vector<json::Member> more) {
    more.insert(more.begin(), {"required", Value::array({Value::string(k)})});
    return type_schema("object", std::move(more));
  };
  for (const Value* p : view.parts) {
    const Value* props = p->find("properties");
    if (props != nullptr && !props->is_object()) props = nullptr;
    // A key this conjunct forbids: `false` for it, or additionalProperties false without it.
    const Value* ap = p->find("additionalProperties");
    bool closed = ap != nullptr && ap->is_bool() && !ap->as_bool() && p->find("patternProperties") == nullptr;
    for (const auto& k : context_keys) {
      const Value* sch = props != nullptr ? props->find(k) : nullptr;
      if ((sch == nullptr && closed) || (sch != nullptr && sch->is_bool() && !sch->as_bool())) {
        out.push_back(required_key(k, {}));
      }
    }
    // A property whose values the context limits (enum/const) to some this conjunct refuses.
    if (props == nullptr) continue;
    for (const auto& [k, sch] : props->members()) {
      for (const Value* cp : ctx.parts) {
        const Value* cprops = cp->find("properties");
        const Value* csch = cprops != nullptr && cprops->is_object() ? cprops->find(k) : nullptr;
        if (csch == nullptr) continue;
        auto values = finite_values(*csch);
        steps_ = 0;  // finite_values leaves the budget alone; each witness gets a fresh one
        if (!values) continue;
        std::vector<Value> refused;
        for (const auto& v : *values) {
          if (invalid(v, sch, 0)) refused.push_back(v);
        }
        if (!refused.empty()) {
          Value only = Value::object({{"enum", Value::array(std::move(refused))}});
          out.push_back(required_key(k, {{"properties", Value::object({{k, std::move(only)}})}}));
        }
        break;
      }
    }
  }
  // Drop repeats (the same key required by two conjuncts, ...) and witnesses no value of the
  // context satisfies (a key the context requires, a bound it already excludes).
  std::vector<Value> unique;
  std::vector<std::string> seen;
  for (auto& w : out) {
    std::string key = json::dump(w);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(std::move(key));
    steps_ = 0;
    if (disjoint_at(context, w, 0)) continue;
    unique.push_back(std::move(w));
  }
  return unique;
}

}  // namespace maaza

// The Python module maaza_rt._core: the only file that includes pybind11. C++ exceptions from
// the core are mapped to the classes of the same name in maaza_rt/errors.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "gbnf.h"
#include "json.h"
#include "matcher.h"
#include "metrics.h"
#include "schema.h"
#include "vocab.h"

namespace py = pybind11;

namespace {

// Raises maaza_rt.errors.<name>(message, **kwargs) as the current Python error.
void raise_mapped(const char* name, const char* message, const py::dict& kwargs) {
  py::object cls = py::module_::import("maaza_rt.errors").attr(name);
  py::object instance = cls(message, **kwargs);
  PyErr_SetObject(cls.ptr(), instance.ptr());
}

void register_error_translation() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const maaza::SchemaError& e) {
      py::dict kw;
      kw["keyword"] = e.keyword();
      kw["pointer"] = e.pointer();
      raise_mapped("SchemaError", e.what(), kw);
    } catch (const maaza::GrammarError& e) {
      py::dict kw;
      kw["line"] = e.line();
      kw["column"] = e.column();
      raise_mapped("GrammarError", e.what(), kw);
    } catch (const maaza::JsonError& e) {
      py::dict kw;
      kw["offset"] = e.offset();
      raise_mapped("JsonError", e.what(), kw);
    } catch (const maaza::InternalError& e) {
      raise_mapped("InternalError", e.what(), py::dict());
    } catch (const maaza::Error& e) {
      raise_mapped("MaazaError", e.what(), py::dict());
    }
  });
}

// ---- section: json -------------------------------------------------------------------------
void bind_json(py::module_& m) {
  // Round-trips JSON text through the core parser and printer (compact); raises JsonError.
  m.def("json_compact", [](const std::string& text) { return maaza::json::dump(maaza::json::parse(text)); },
        py::arg("text"));
}

// ---- section: grammar, vocabulary, matcher (grammar engine) ---------------------------------
// Checks a numpy buffer before the GIL is released: 1-D, C-contiguous, writable when needed,
// exact dtype, at least `min_size` entries. Raises TypeError/ValueError.
template <typename T>
T* checked_buffer(py::array& a, std::size_t min_size, const char* what, bool writable) {
  if (!a.dtype().equal(py::dtype::of<T>()))
    throw py::type_error(std::string(what) + " must have dtype " +
                         std::string(py::str(py::dtype::of<T>())));
  if (a.ndim() != 1) throw py::value_error(std::string(what) + " must be one-dimensional");
  if (!(a.flags() & py::array::c_style))
    throw py::value_error(std::string(what) + " must be C-contiguous");
  if (writable && !a.writeable()) throw py::value_error(std::string(what) + " must be writable");
  if (static_cast<std::size_t>(a.shape(0)) < min_size)
    throw py::value_error(std::string(what) + " has " + std::to_string(a.shape(0)) +
                          " entries, needs at least " + std::to_string(min_size));
  return const_cast<T*>(static_cast<const T*>(a.data()));
}

void bind_grammar(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const maaza::VocabularyError& e) {
      raise_mapped("VocabularyError", e.what(), py::dict());
    }
  });

  using maaza::CompiledGrammar;
  using maaza::GrammarMatcher;
  using maaza::Vocabulary;

  py::class_<CompiledGrammar, std::shared_ptr<CompiledGrammar>>(m, "Grammar")
      .def_static(
          "from_json_schema",
          [](const std::string& text, const std::string& whitespace, std::uint32_t max_whitespace,
             bool additional_properties, bool lenient, bool optional_timezone, bool grounded) {
            maaza::SchemaOptions opt;
            if (whitespace == "compact") opt.whitespace = maaza::Whitespace::Compact;
            else if (whitespace == "python") opt.whitespace = maaza::Whitespace::Python;
            else if (whitespace == "flexible") opt.whitespace = maaza::Whitespace::Flexible;
            else throw py::value_error("whitespace must be 'compact', 'python' or 'flexible'");
            opt.max_whitespace = max_whitespace;
            opt.additional_properties_default = additional_properties;
            opt.lenient = lenient;
            opt.optional_timezone = optional_timezone;
            opt.grounded = grounded;
            maaza::CompiledSchema cs = maaza::compile_json_schema(maaza::json::parse(text), opt);
            return std::make_shared<CompiledGrammar>(std::move(cs.grammar), std::move(cs.ignored));
          },
          py::arg("text"), py::arg("whitespace") = "compact", py::arg("max_whitespace") = 24,
          py::arg("additional_properties") = false, py::arg("lenient") = false,
          py::arg("optional_timezone") = false, py::arg("grounded") = false)
      .def_static(
          "from_gbnf",
          [](const std::string& text, const std::string& root) {
            return std::make_shared<CompiledGrammar>(maaza::parse_gbnf(text, root));
          },
          py::arg("text"), py::arg("root") = "root")
      .def("to_gbnf", [](const CompiledGrammar& g) { return maaza::to_gbnf(g.grammar()); })
      .def_property_readonly("ignored", [](const CompiledGrammar& g) { return g.ignored(); })
      .def_property_readonly("n_rules",
                             [](const CompiledGrammar& g) { return g.grammar().rules().size(); })
      .def_property_readonly("n_grounded",
                             [](const CompiledGrammar& g) { return g.grounded_slots().size(); });

  py::class_<Vocabulary, std::shared_ptr<Vocabulary>>(m, "Vocabulary")
      .def(py::init([](const std::vector<py::bytes>& tokens, const std::vector<std::int64_t>& eos) {
             std::vector<std::string> pieces;
             pieces.reserve(tokens.size());
             for (const py::bytes& t : tokens) pieces.emplace_back(t);
             std::vector<std::uint32_t> ids;
             for (std::int64_t id : eos) {
               if (id < 0 || static_cast<std::size_t>(id) >= pieces.size())
                 throw maaza::VocabularyError("end-of-generation id " + std::to_string(id) +
                                              " is out of range");
               ids.push_back(static_cast<std::uint32_t>(id));
             }
             return std::make_shared<Vocabulary>(std::move(pieces), std::move(ids));
           }),
           py::arg("tokens"), py::arg("eos_ids"))
      .def_property_readonly("n_vocab", &Vocabulary::n_vocab)
      .def_property_readonly("eos_ids", [](const Vocabulary& v) { return v.eos_ids(); })
      .def(
          "token_bytes",
          [](const Vocabulary& v, std::int64_t id) {
            if (id < 0 || static_cast<std::size_t>(id) >= v.n_vocab())
              throw py::index_error("token id " + std::to_string(id) + " out of range");
            return py::bytes(v.token(static_cast<std::uint32_t>(id)));
          },
          py::arg("token_id"));

  m.def("_set_cache_limits", &maaza::set_cache_limits, py::arg("max_dependent"),
        py::arg("max_cache_bytes"));

  py::class_<GrammarMatcher>(m, "GrammarMatcher")
      .def(py::init([](std::shared_ptr<CompiledGrammar> g, std::shared_ptr<Vocabulary> v) {
             return std::make_unique<GrammarMatcher>(std::move(g), std::move(v));
           }),
           py::arg("grammar"), py::arg("vocab"))
      .def(
          "fill_mask",
          [](GrammarMatcher& self, py::array bitmask) {
            std::uint32_t* bits =
                checked_buffer<std::uint32_t>(bitmask, self.n_words(), "bitmask", true);
            std::size_t n = self.n_words();
            py::gil_scoped_release release;
            self.fill_mask(bits, n);
          },
          py::arg("bitmask"))
      .def("accept_token", &GrammarMatcher::accept_token, py::arg("token_id"))
      .def("can_accept_token", &GrammarMatcher::can_accept_token, py::arg("token_id"))
      .def(
          "accept_bytes",
          [](GrammarMatcher& self, const py::bytes& data) {
            std::string s(data);
            return self.accept_bytes(s);
          },
          py::arg("data"))
      .def("forced_bytes", [](GrammarMatcher& self) { return py::bytes(self.forced_bytes(256)); })
      .def("cache_stats",
           [](const GrammarMatcher& self) {
             maaza::CacheStats s = self.cache_stats();
             py::dict d;
             d["builds"] = s.builds;
             d["deeper"] = s.deeper;
             d["dependent"] = s.dependent;
             d["build_ns"] = s.build_ns;
             d["bytes"] = s.bytes;
             return d;
           })
      .def("is_complete", &GrammarMatcher::is_complete)
      .def("completion_distance",
           [](GrammarMatcher& self) -> std::int64_t {
             std::uint64_t d = self.completion_distance();
             return d == CompiledGrammar::kNoCompletion ? -1 : static_cast<std::int64_t>(d);
           })
      .def(
          "completion_distance_after",
          [](GrammarMatcher& self, std::int64_t token_id) -> std::int64_t {
            std::uint64_t d = self.completion_distance_after(token_id);
            return d == CompiledGrammar::kNoCompletion ? -1 : static_cast<std::int64_t>(d);
          },
          py::arg("token_id"))
      .def(
          "shortest_completion",
          [](GrammarMatcher& self, std::int64_t max_bytes) {
            std::uint64_t d = self.completion_distance();
            if (d != CompiledGrammar::kNoCompletion && max_bytes >= 0 &&
                d > static_cast<std::uint64_t>(max_bytes))
              throw py::value_error("the shortest completion has " + std::to_string(d) +
                                    " bytes, more than max_bytes=" + std::to_string(max_bytes));
            return py::bytes(self.shortest_completion());
          },
          py::arg("max_bytes"))
      .def(
          "shortest_completion_after",
          [](GrammarMatcher& self, std::int64_t token_id, std::int64_t max_bytes) {
            std::uint64_t d = self.completion_distance_after(token_id);
            if (d != CompiledGrammar::kNoCompletion && max_bytes >= 0 &&
                d > static_cast<std::uint64_t>(max_bytes))
              throw py::value_error("the shortest completion has " + std::to_string(d) +
                                    " bytes, more than max_bytes=" + std::to_string(max_bytes));
            return py::bytes(self.shortest_completion_after(token_id));
          },
          py::arg("token_id"), py::arg("max_bytes"))
      .def("is_terminated", &GrammarMatcher::is_terminated)
      .def("reset", &GrammarMatcher::reset)
      .def(
          "bind_text",
          [](GrammarMatcher& self, const std::string& text, const std::vector<std::string>& numbers) {
            self.bind(std::make_shared<maaza::Grounding>(text, numbers));
          },
          py::arg("text"), py::arg("numbers") = std::vector<std::string>{})
      .def("unbind", [](GrammarMatcher& self) { self.bind(nullptr); })
      .def("slot_active", &GrammarMatcher::slot_active, py::arg("slot"))
      .def(
          "mask_logits",
          [](GrammarMatcher& self, py::array logits) {
            float* p = checked_buffer<float>(logits, self.n_vocab(), "logits", true);
            auto n = static_cast<std::size_t>(logits.shape(0));
            py::gil_scoped_release release;
            self.mask_logits(p, n);
          },
          py::arg("logits"))
      .def(
          "select_greedy",
          [](GrammarMatcher& self, py::array logits) {
            const float* p = checked_buffer<float>(logits, self.n_vocab(), "logits", false);
            auto n = static_cast<std::size_t>(logits.shape(0));
            py::gil_scoped_release release;
            return self.select_greedy(p, n);
          },
          py::arg("logits"));
}

// ---- section: metrics ------------------------------------------------------------------------
py::dict totals_to_dict(const maaza::metrics::Totals& t) {
  py::dict d;
  const double n = t.n ? static_cast<double>(t.n) : 1.0;
  d["n"] = t.n;
  d["n_parsed"] = t.n_parsed;
  d["n_unparsed"] = t.n - t.n_parsed;
  d["n_with_schema"] = t.n_with_schema;
  d["json_exact"] = t.json_exact / n;
  d["field_f1"] = t.field_f1 / n;
  d["compliance"] = t.compliance / n;
  d["leaf_f1"] = t.leaf_f1 / n;
  if (t.n_with_schema) {
    d["schema_valid"] = t.schema_valid / static_cast<double>(t.n_with_schema);
  } else {
    d["schema_valid"] = py::none();
  }
  return d;
}

void bind_metrics(py::module_& m) {
  namespace mt = maaza::metrics;
  // Scores many pairs in one call with the GIL released. schemas: distinct schema texts;
  // schema_index and group: per pair (empty lists when unused). Returns
  // (overall totals, [group totals], per-pair columns or None).
  m.def(
      "metrics_score_batch",
      [](const py::sequence& prediction_list, const py::sequence& expected_list,
         const std::vector<std::string>& schemas, const std::vector<int>& schema_index,
         const std::vector<int>& group, int n_groups, bool extract, bool return_pairs) {
        if (prediction_list.size() != expected_list.size()) {
          throw py::value_error("predictions and expected must have the same length");
        }
        // The texts are read in place (the UTF-8 form CPython caches in each str); the tuples
        // hold references so they outlive the call even if the caller's lists change meanwhile.
        py::tuple prediction_refs(prediction_list), expected_refs(expected_list);
        auto views = [](const py::tuple& items, const char* name) {
          std::vector<std::string_view> out;
          out.reserve(items.size());
          for (std::size_t i = 0; i < items.size(); ++i) {
            PyObject* item = items[i].ptr();
            if (!PyUnicode_Check(item)) {
              throw py::type_error(std::string(name) + "[" + std::to_string(i) + "] must be a str");
            }
            Py_ssize_t size = 0;
            const char* data = PyUnicode_AsUTF8AndSize(item, &size);
            if (!data) throw py::error_already_set();
            out.emplace_back(data, static_cast<std::size_t>(size));
          }
          return out;
        };
        const std::vector<std::string_view> predictions = views(prediction_refs, "predictions");
        const std::vector<std::string_view> expected = views(expected_refs, "expected");
        if ((!schema_index.empty() && schema_index.size() != predictions.size()) ||
            (!group.empty() && group.size() != predictions.size())) {
          throw py::value_error("schemas and groups must have one entry per pair");
        }
        mt::BatchInput in;
        in.predictions = &predictions;
        in.expected = &expected;
        in.schemas = &schemas;
        in.schema_index = schema_index.empty() ? nullptr : &schema_index;
        in.group = group.empty() ? nullptr : &group;
        in.n_groups = n_groups;
        in.extract = extract;
        mt::BatchResult r;
        {
          py::gil_scoped_release release;
          r = mt::score_batch(in);
        }
        py::list groups;
        for (const auto& g : r.groups) groups.append(totals_to_dict(g));
        py::object pairs = py::none();
        if (return_pairs) {
          py::list parsed, exact, f1, comp, valid, leaf;
          for (const auto& s : r.pairs) {
            parsed.append(s.parsed);
            exact.append(s.json_exact);
            f1.append(s.field_f1);
            comp.append(s.compliance);
            if (s.schema_valid < 0) valid.append(py::none());
            else valid.append(s.schema_valid == 1);
            leaf.append(s.leaf_f1);
          }
          py::dict cols;
          cols["parsed"] = parsed;
          cols["json_exact"] = exact;
          cols["field_f1"] = f1;
          cols["compliance"] = comp;
          cols["schema_valid"] = valid;
          cols["leaf_f1"] = leaf;
          pairs = cols;
        }
        return py::make_tuple(totals_to_dict(r.overall), groups, pairs);
      },
      py::arg("predictions"), py::arg("expected"), py::arg("schemas"), py::arg("schema_index"),
      py::arg("group"), py::arg("n_groups"), py::arg("extract"), py::arg("return_pairs"));

  // Validates JSON text against a JSON Schema text; raises JsonError / SchemaError.
  m.def(
      "metrics_schema_valid",
      [](const std::string& instance, const std::string& schema) {
        maaza::json::Value doc = maaza::json::parse(schema);
        maaza::json::Document value;
        value.parse_or_throw(instance);
        value.sort_members();
        return mt::SchemaValidator(doc).validate(value);
      },
      py::arg("instance"), py::arg("schema"));

  m.def("metrics_check_format", &mt::check_format, py::arg("format"), py::arg("value"));

  // The paper's extraction fallback; returns the compact JSON text found, or None.
  m.def(
      "metrics_extract_json",
      [](const std::string& text) -> std::optional<std::string> {
        maaza::json::Document v;
        if (!mt::extract_json(text, &v)) return std::nullopt;
        return maaza::json::dump(v);
      },
      py::arg("text"));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "maaza-rt native core: grammar engine and metric scoring";
  m.attr("__version__") = MAAZA_VERSION;
  register_error_translation();
  bind_json(m);
  bind_grammar(m);
  bind_metrics(m);
}

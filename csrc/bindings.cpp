// The Python module maaza_rt._core: the only file that includes pybind11. C++ exceptions from
// the core are mapped to the classes of the same name in maaza_rt/errors.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "errors.h"
#include "gbnf.h"
#include "json.h"
#include "matcher.h"
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
             bool additional_properties, bool lenient) {
            maaza::SchemaOptions opt;
            if (whitespace == "compact") opt.whitespace = maaza::Whitespace::Compact;
            else if (whitespace == "python") opt.whitespace = maaza::Whitespace::Python;
            else if (whitespace == "flexible") opt.whitespace = maaza::Whitespace::Flexible;
            else throw py::value_error("whitespace must be 'compact', 'python' or 'flexible'");
            opt.max_whitespace = max_whitespace;
            opt.additional_properties_default = additional_properties;
            opt.lenient = lenient;
            maaza::CompiledSchema cs = maaza::compile_json_schema(maaza::json::parse(text), opt);
            return std::make_shared<CompiledGrammar>(std::move(cs.grammar), std::move(cs.ignored));
          },
          py::arg("text"), py::arg("whitespace") = "compact", py::arg("max_whitespace") = 24,
          py::arg("additional_properties") = false, py::arg("lenient") = false)
      .def_static(
          "from_gbnf",
          [](const std::string& text, const std::string& root) {
            return std::make_shared<CompiledGrammar>(maaza::parse_gbnf(text, root));
          },
          py::arg("text"), py::arg("root") = "root")
      .def("to_gbnf", [](const CompiledGrammar& g) { return maaza::to_gbnf(g.grammar()); })
      .def_property_readonly("ignored", [](const CompiledGrammar& g) { return g.ignored(); })
      .def_property_readonly("n_rules",
                             [](const CompiledGrammar& g) { return g.grammar().rules().size(); });

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
      .def("is_terminated", &GrammarMatcher::is_terminated)
      .def("reset", &GrammarMatcher::reset)
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
void bind_metrics(py::module_& m) { (void)m; }

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "maaza-rt native core: grammar engine and metric scoring";
  m.attr("__version__") = MAAZA_VERSION;
  register_error_translation();
  bind_json(m);
  bind_grammar(m);
  bind_metrics(m);
}

// The Python module maaza_rt._core: the only file that includes pybind11. C++ exceptions from
// the core are mapped to the classes of the same name in maaza_rt/errors.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

#include "errors.h"
#include "json.h"
#include "metrics.h"

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
void bind_grammar(py::module_& m) { (void)m; }

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
      [](const std::vector<std::string>& predictions, const std::vector<std::string>& expected,
         const std::vector<std::string>& schemas, const std::vector<int>& schema_index,
         const std::vector<int>& group, int n_groups, bool extract, bool return_pairs) {
        if (predictions.size() != expected.size()) {
          throw py::value_error("predictions and expected must have the same length");
        }
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
        maaza::json::Value value = maaza::json::parse(instance);
        mt::normalize(value);
        return mt::SchemaValidator(doc).validate(value);
      },
      py::arg("instance"), py::arg("schema"));

  m.def("metrics_check_format", &mt::check_format, py::arg("format"), py::arg("value"));

  // The paper's extraction fallback; returns the compact JSON text found, or None.
  m.def(
      "metrics_extract_json",
      [](const std::string& text) -> std::optional<std::string> {
        maaza::json::Value v;
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

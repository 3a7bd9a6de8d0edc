// The Python module maaza_rt._core: the only file that includes pybind11. C++ exceptions from
// the core are mapped to the classes of the same name in maaza_rt/errors.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "errors.h"
#include "json.h"

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

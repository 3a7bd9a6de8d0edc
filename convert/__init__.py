"""Model conversion: merge a LoRA adapter, write GGUF, quantize, write a GGUF LoRA adapter.

Each step is a module with ``main(argv) -> int`` (run as ``python -m convert.<step>``) and a
function of the same concept for library use. torch and transformers are imported here and in
``train/`` only; ``import maaza_rt`` never pulls them in.
"""

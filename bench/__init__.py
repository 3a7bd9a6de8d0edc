"""The benchmarks: each module is a script run from the repository root as
``python -m bench.<name>`` (``--help`` lists its options); :mod:`bench.harness` holds what they
share and :mod:`bench.engines` the extraction engines they compare. Importing the package loads
nothing else."""

#!/usr/bin/env bash
# The inference engine that the engine tests (tests/e2e/test_remote_engine.py) and `benchmarks/load.py
# --engine` drive: llama.cpp's server from PyPI, llama-cpp-python[server]==0.3.36. PyPI has only
# its source: built once (about 6 minutes on 2 cores), the wheel kept in ~/.cache/nib-engines.
set -euo pipefail
VERSION=0.3.36
python -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$VERSION')" 2>/dev/null && exit 0
# Portable x86-64 flags: a build for the native CPU dies with SIGILL on these VMs.
export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
# Keyed by the flags too: pip's own wheel cache would hide a change of CMAKE_ARGS.
WHEELS="${NIB_ENGINE_CACHE:-$HOME/.cache/nib-engines}/$VERSION-$(echo "$CMAKE_ARGS" | sha256sum | cut -c1-12)"
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $VERSION (about 6 minutes)"
    rm -rf "$WHEELS.part"
    pip wheel --quiet --no-cache-dir --no-deps -w "$WHEELS.part" "llama-cpp-python==$VERSION"
    mv "$WHEELS.part" "$WHEELS"
fi
pip install --quiet --find-links "$WHEELS" --only-binary llama-cpp-python "llama-cpp-python[server]==$VERSION"

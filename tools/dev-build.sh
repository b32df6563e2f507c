#!/usr/bin/env bash
# Incremental in-place build for development: _core and libna64fw land in na64reco/,
# so `PYTHONPATH=$PWD pytest` runs against the working tree without pip.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset dev -DPython_EXECUTABLE="$(command -v python3)" >/dev/null
cmake --build --preset dev -j "${JOBS:-2}"
# Bytecode, as pip writes it at install: where PYTHONDONTWRITEBYTECODE is set (this project's
# machines) every process would otherwise compile the package's ~70 modules from source
# (~80 ms), which a benchmark's first run would count.
python3 -m compileall -q na64reco fpga_model >/dev/null

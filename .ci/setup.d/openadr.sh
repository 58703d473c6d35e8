#!/usr/bin/env bash
# OpenADR 2.0b (`gridcoop[openadr]`, openleadr): its own extra because openleadr pins
# exact versions of some of its dependencies (xmltodict==0.13.0) that users of the
# core package should not have to take. CI installs it so the VTN/VEN tests run.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=python
if [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
"$python" -m pip install -q -e '.[dev,dist,openadr]'

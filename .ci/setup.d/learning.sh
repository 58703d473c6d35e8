#!/usr/bin/env bash
# The learning door's optional extra (PettingZoo, Gymnasium) for its tests, and
# Stable-Baselines3 for examples/learning.ipynb. Torch is pinned to the CPU
# build first: a bare torch requirement would pull a multi-GB CUDA build.
# Idempotent: pip skips what is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=python
if [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
"$python" -m pip install -q 'torch==2.13.0'
"$python" -m pip install -q -e '.[rl]' 'stable-baselines3>=2.3,<3' 'torch==2.13.0'
"$python" -c "import torch, pettingzoo, gymnasium, stable_baselines3; assert not torch.version.cuda, torch.version.cuda"

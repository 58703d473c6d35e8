#!/usr/bin/env bash
# The web page (`gridcoop viz`): a real browser for the page's tests, and Solara's
# front-end assets in the local cache so the page works with no internet.
# Idempotent: installs and fetches only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

need_apt=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Without any font, Chromium draws every letter as a box in the screenshots.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
"$(dirname "$0")/../apt-install" "the browser tests" ${need_apt[@]+"${need_apt[@]}"}

python=python
if [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
# Fill Solara's asset cache ({sys.prefix}/share/solara/cdn) from the npm registry.
"$python" -m gridcoop.experiments.viz.assets
"$python" -m gridcoop.experiments.viz.assets --check

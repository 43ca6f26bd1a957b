#!/bin/sh
# Japanese glyphs for the Chromium page tests' screenshots (test/screenshots/).
# The tests pass without it; the screenshots then show boxes instead of Japanese.
set -e
if ! fc-list 2>/dev/null | grep -qi 'IPAGothic\|IPAexGothic\|Noto Sans CJK'; then
  apt-get install -y --no-install-recommends fonts-ipafont-gothic
fi

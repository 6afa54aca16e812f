#!/usr/bin/env bash
# Printed cards draw names in scripts DejaVu Sans lacks (Thai, Ethiopic, Devanagari, Myanmar,
# Khmer, CJK ...) with Debian's Noto and WenQuanYi fonts (see onboarding/cards.py). They are
# large and packaged by Debian, so they are installed from apt rather than bundled.
set -euo pipefail
if [ -f /usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf ] && \
   [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "warning: install fonts-noto-core and fonts-wqy-microhei (as root) so cards print" \
       "names in every script; until then such letters print as U+FFFD" >&2
  exit 0
fi
echo "installing card fonts (fonts-noto-core, fonts-wqy-microhei) ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends fonts-noto-core fonts-wqy-microhei >/dev/null 2>&1 || {
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends fonts-noto-core fonts-wqy-microhei >/dev/null
}

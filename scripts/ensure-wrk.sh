#!/usr/bin/env bash
# The HTTP benchmark (bench/api_bench.py) drives gunicorn with Debian's wrk when it is
# there; without it the benchmark falls back to a small Python load generator.
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "installing Debian's wrk ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq wrk >/dev/null
fi
command -v wrk

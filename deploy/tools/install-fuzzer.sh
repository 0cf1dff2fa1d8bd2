#!/usr/bin/env bash
# Schemathesis (PyPI), the property-based fuzzer the bad-input suite runs against the gateway's
# OpenAPI document, in a venv at .cache/fuzzer; a quick no-op once it is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=.cache/fuzzer
SCHEMATHESIS_VERSION=4.32.5
if ! "$dir/venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "fuzzer: schemathesis $SCHEMATHESIS_VERSION" >&2
  mkdir -p "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

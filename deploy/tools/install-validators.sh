#!/usr/bin/env bash
# The offline validators of deploy/: kubernetes-validate (PyPI; it carries the Kubernetes JSON
# schemas, so nothing is fetched when it runs) in a venv, and the Compose specification's JSON
# schema from the compose-go module (the loader `docker compose` itself uses), pinned by SHA-256.
# Both land in .cache/validators; a quick no-op once they are there.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=.cache/validators
mkdir -p "$dir"

KUBERNETES_VALIDATE_VERSION=1.37.0
if ! "$dir/venv/bin/kubernetes-validate" --version 2>/dev/null | grep -q "$KUBERNETES_VALIDATE_VERSION"; then
  echo "validators: kubernetes-validate $KUBERNETES_VALIDATE_VERSION" >&2
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi

COMPOSE_GO_VERSION=v2.4.9
COMPOSE_SCHEMA_SHA256=ea8f3bd1e32cb93be231122144b119746b68b18d79ed118704c6fa3aa105a49e
schema="$dir/compose-spec.json"
if [ ! -f "$schema" ] || ! echo "$COMPOSE_SCHEMA_SHA256  $schema" | sha256sum -c --status; then
  echo "validators: compose-spec.json from compose-go $COMPOSE_GO_VERSION" >&2
  zip="$dir/compose-go.zip"
  curl -fsSL --retry 3 -o "$zip" "https://proxy.golang.org/github.com/compose-spec/compose-go/v2/@v/$COMPOSE_GO_VERSION.zip"
  python3 - "$zip" "$schema" "$COMPOSE_GO_VERSION" <<'PY'
import sys, zipfile
archive, target, version = sys.argv[1:]
with zipfile.ZipFile(archive) as z:
    data = z.read(f"github.com/compose-spec/compose-go/v2@{version}/schema/compose-spec.json")
open(target, "wb").write(data)
PY
  rm -f "$zip"
  echo "$COMPOSE_SCHEMA_SHA256  $schema" | sha256sum -c --status || {
    echo "validators: compose-spec.json does not match its pinned SHA-256" >&2
    rm -f "$schema"
    exit 1
  }
fi

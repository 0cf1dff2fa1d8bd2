#!/usr/bin/env bash
# Builds Jaeger (all-in-one: OTLP receiver, in-memory store, query API) from its Go module source,
# pinned by deploy/jaeger/go.mod and go.sum (`go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@v1.75.0`),
# into DIR/jaeger once (about 4 minutes cold on two cores); a quick no-op when go.sum has not changed.
# The tests and `emotion-stream up --tracing` run it on loopback. A build from module source has no
# UI assets: the query API (:16686/api/...) is what is read.
#   install-jaeger.sh [DIR]   (default: .cache/jaeger in the project)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-$root/.cache/jaeger}"
module="$root/deploy/jaeger"
stamp="$(sha256sum "$module/go.sum" | cut -d' ' -f1)"
if [ -x "$dir/jaeger" ] && [ "$(cat "$dir/go.sum.sha256" 2>/dev/null)" = "$stamp" ]; then exit 0; fi
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "install-jaeger: go is missing; tracing tests need Jaeger built from source (Debian: apt-get install golang, or Go from go.dev)" >&2
  exit 1
fi
echo "install-jaeger: building Jaeger from deploy/jaeger/go.mod into $dir (a few minutes, once)" >&2
mkdir -p "$dir"
(cd "$module" && GOFLAGS=-mod=readonly go build -trimpath -o "$dir/jaeger.partial" github.com/jaegertracing/jaeger/cmd/jaeger)
mv "$dir/jaeger.partial" "$dir/jaeger"
echo "$stamp" > "$dir/go.sum.sha256"

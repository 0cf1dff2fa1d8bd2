#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready to run and test the project; a quick no-op once it is.
# The audio path needs ffmpeg, yt-dlp (YouTube pages), Python with venv for faster-whisper (the
# default speech engine, installed by deploy/local/install-asr.sh from pinned, hashed PyPI
# requirements), and pocketsphinx with its English model (the fallback where Python is absent).
# --test also installs what only the tests need: recordings with transcripts (pocketsphinx-testdata),
# espeak-ng for synthetic speech, chromium for the dashboard's browser test, prometheus (promtool
# and a server) for the alert rules, the offline validators of the deploy manifests, schemathesis
# for fuzzing the REST API, PostgreSQL's server for the PostgreSQL sink's test, and Confluent's
# Python client (librdkafka) as a peer that writes and reads our topics.
# Kafka's jars and the schema registry are not installed here: the local stack fetches and verifies
# them (pinned in runtime/stack/artifacts.lock.json) the first time it starts.
#
# Usage: bootstrap.sh [--test] [-- COMMAND...]: with a command, runs it afterwards on Node.js 24
# (deploy/local/install-node.sh), with the command's stdout as the script's stdout; the bootstrap's
# own output goes to stderr either way, so `npm run bench -- … --json` prints only the JSON.
set -euo pipefail
cd "$(dirname "$0")/../.."

mode=""
if [ "${1:-}" = "--test" ]; then mode=--test; shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
exec 3>&1 1>&2

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
command -v tar >/dev/null 2>&1 || missing+=(tar)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v pocketsphinx_batch >/dev/null 2>&1 || missing+=(pocketsphinx)
[ -f /usr/share/pocketsphinx/model/en-us/en-us.lm.bin ] || missing+=(pocketsphinx-en-us)
command -v yt-dlp >/dev/null 2>&1 || missing+=(yt-dlp)
if [ "$mode" = "--test" ]; then
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  [ -d /usr/share/pocketsphinx/test/data/librivox ] || missing+=(pocketsphinx-testdata)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  # Go builds Jaeger for the tracing test (install-jaeger.sh); go.mod names the toolchain it needs.
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || missing+=(golang)
fi
# Python for faster-whisper: installed where we can (root) or must (tests); elsewhere optional.
if [ "$mode" = "--test" ] || [ "$(id -u)" = 0 ]; then
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]}) and retry" >&2
    exit 1
  fi
fi

# Node.js 24 LTS first on PATH for everything below and for the command (issue 22).
node_bin=$(bash deploy/local/install-node.sh)
export PATH="$node_bin:$PATH"

# Install npm dependencies when they are missing or package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi

# faster-whisper in .cache/asr: the tests need it; `up` falls back to pocketsphinx without it (and says so).
if ! bash deploy/local/install-asr.sh; then
  [ "$mode" = "--test" ] && exit 1
  echo "bootstrap: faster-whisper is not installed; transcription will use pocketsphinx" >&2
fi

if [ "$mode" = "--test" ]; then
  bash deploy/tools/install-validators.sh
  bash deploy/tools/install-fuzzer.sh
  bash deploy/tools/install-confluent-client.sh
  bash deploy/local/install-jaeger.sh
fi

# Incremental: only what changed since the last build is compiled.
npx --no-install tsc -p tsconfig.build.json

if (($#)); then
  if [ "$mode" = "--test" ]; then
    # The tests' scratch directories (data dirs, caches, logs: about 900 directories and 0.8 GB a
    # run) go under one directory that is removed when the run ends, however it ends. Left in /tmp
    # they filled this machine's disk after a few dozen runs and failed a CI run.
    run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/emotion-stream-tests.XXXXXX")
    # Open like /tmp itself: the PostgreSQL sink's test runs initdb as the postgres user, which must
    # reach its data directory through this one.
    chmod 1777 "$run_tmp"
    # The command replaces this shell (exec, below), so a SIGTERM or SIGINT sent to it reaches the
    # command itself: npm passes a signal on to its own child only, and a shell that waited here
    # died of it and left the tests running. A watcher that ignores the signals removes the
    # directory once the command's process is gone.
    command_pid=$$
    (
      trap '' INT TERM HUP
      while kill -0 "$command_pid" 2>/dev/null; do sleep 1; done
      rm -rf "$run_tmp"
    ) </dev/null >/dev/null 2>&1 3>&- &
    export TMPDIR=$run_tmp
  fi
  exec "$@" 1>&3 3>&-
fi

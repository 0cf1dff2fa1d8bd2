#!/usr/bin/env bash
# Confluent's Python client (librdkafka) in a venv at .cache/confluent-client, from pinned,
# hash-checked requirements: the tests write rows with it in every compression.type and read our
# results back with it. A quick no-op once it is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/pinned-venv.sh

dir=.cache/confluent-client
requirements=deploy/tools/confluent-client/requirements.txt
if ! pinned_venv_current "$dir" "$requirements"; then
  echo "confluent-client: confluent-kafka (pinned, hash-checked)" >&2
  pinned_venv_install "$dir" "$requirements" confluent-client "the Confluent client tests cannot run"
  "$dir/venv/bin/python" -c 'import confluent_kafka, json; print(json.dumps({"confluent_kafka": confluent_kafka.version(), "librdkafka": confluent_kafka.libversion()[0]}))' > "$dir/runtime.json"
  pinned_venv_stamp "$dir" "$requirements"
fi

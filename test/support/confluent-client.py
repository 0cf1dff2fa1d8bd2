"""Confluent's Python client (librdkafka) as a peer of the tests: what a user's own producer or
consumer does to our topics. Values arrive already encoded (our Avro wire format), so the test
checks the client's framing and compression, not a second Avro implementation.

  produce BOOTSTRAP TOPIC COMPRESSION   stdin: JSON lines {"key": str, "value": base64}; prints
                                        {"delivered": n, "failed": [errors]}
  read BOOTSTRAP TOPIC COUNT TIMEOUT_S  read_committed from the beginning until COUNT records or the
                                        timeout; prints JSON lines {"key", "value" (base64), "partition", "offset"}
"""
import base64
import json
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer


def produce(bootstrap: str, topic: str, compression: str) -> None:
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": compression,
        "enable.idempotence": True,
        # One batch per partition for the whole input: every record goes through the codec.
        "linger.ms": 50,
    })
    failed = []
    delivered = 0

    def on_delivery(error, _message):
        nonlocal delivered
        if error is None:
            delivered += 1
        else:
            failed.append(str(error))

    for line in sys.stdin:
        if not line.strip():
            continue
        row = json.loads(line)
        producer.produce(topic, key=row["key"].encode(), value=base64.b64decode(row["value"]),
                         on_delivery=on_delivery)
    remaining = producer.flush(60)
    if remaining:
        failed.append(f"{remaining} records not delivered within 60 s")
    print(json.dumps({"delivered": delivered, "failed": failed}))


def read(bootstrap: str, topic: str, count: int, timeout_s: float) -> None:
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"confluent-peer-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([topic])
    seen = 0
    deadline = time.monotonic() + timeout_s
    try:
        while seen < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                print(json.dumps({"error": str(message.error())}), file=sys.stderr)
                continue
            seen += 1
            print(json.dumps({
                "key": message.key().decode() if message.key() is not None else None,
                "value": base64.b64encode(message.value() or b"").decode(),
                "partition": message.partition(),
                "offset": message.offset(),
            }), flush=True)
    finally:
        consumer.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "produce":
        produce(args[0], args[1], args[2])
    elif command == "read":
        read(args[0], args[1], int(args[2]), float(args[3]))
    else:
        sys.exit(f"unknown command {command}")

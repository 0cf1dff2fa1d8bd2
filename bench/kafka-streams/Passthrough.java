// One passthrough hop of Kafka Streams, the peer of `npm run bench -- runtime` (issue 22): records
// from one topic to another as bytes, exactly_once_v2, one stream thread, every other setting at
// Kafka Streams' default (commit.interval.ms 100 under exactly-once) but the producer's
// compression.type, which is our stages' KAFKA_COMPRESSION so both write the same batches (Kafka
// Streams' default, none, left the compression's CPU, its own and the broker's, to our side only).
// Compiled and run by bench/runtime.ts against Maven Central's kafka-streams jar; never committed as
// a binary.
//
//   java -cp <jars> Passthrough <bootstrap> <application.id> <from-topic> <to-topic> <state-dir> <compression>
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

public final class Passthrough {
  public static void main(String[] args) throws InterruptedException {
    if (args.length != 6) {
      System.err.println("usage: Passthrough <bootstrap> <application.id> <from> <to> <state-dir> <compression>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[4]);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), args[5]);

    StreamsBuilder builder = new StreamsBuilder();
    builder.<byte[], byte[]>stream(args[2]).to(args[3]);

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((next, previous) -> {
      if (next == KafkaStreams.State.RUNNING) System.out.println("RUNNING");
      if (next == KafkaStreams.State.ERROR || next == KafkaStreams.State.NOT_RUNNING) stopped.countDown();
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
  }
}

package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.KafkaBroker;
import io.pgcopy.connect.servers.ServerPaths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka alone, no pgcopy-connect: shows a single KRaft node losing the commit markers of a
 * transaction it acknowledged (docs/failure-testing.md, "A committed transaction's markers lost").
 * Each round a transactional producer commits a transaction over 48 partitions, the node is killed
 * (SIGKILL) as soon as {@code commitTransaction()} returns and started again; 25 s later the round
 * prints the coordinator's state of that transaction and how many partitions still hold it open.
 * Run by bench/kafka-lost-markers.sh.
 *
 * <p>Arguments: rounds (default 3), then optional broker overrides as key=value.
 */
public final class LostCommitMarkers {
  private static final int TOPICS = 6;
  private static final int PARTITIONS = 8;

  private LostCommitMarkers() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Map<String, String> overrides = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      overrides.put(kv[0], kv[1]);
    }
    try (KafkaBroker broker = KafkaBroker.start(ServerPaths.workDir(), overrides)) {
      List<TopicPartition> partitions = new ArrayList<>();
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        List<NewTopic> topics = new ArrayList<>();
        for (int t = 0; t < TOPICS; t++) {
          topics.add(new NewTopic("t" + t, PARTITIONS, (short) 1));
          for (int p = 0; p < PARTITIONS; p++) {
            partitions.add(new TopicPartition("t" + t, p));
          }
        }
        admin.createTopics(topics).all().get();
      }
      int lost = 0;
      for (int round = 1; round <= rounds; round++) {
        String id = "lost-markers-" + round;
        try (KafkaProducer<byte[], byte[]> producer = producer(broker, id)) {
          producer.initTransactions();
          for (int i = 0; i < 20; i++) {
            producer.beginTransaction();
            for (TopicPartition tp : partitions) {
              producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, new byte[100]));
            }
            producer.commitTransaction();
          }
          // the last commit was acknowledged: its markers may still be on their way
          broker.killAndRestart(Duration.ofMillis(500));
          producer.close(Duration.ZERO);
        }
        Thread.sleep(25_000);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
          TransactionDescription d = admin.describeTransactions(List.of(id)).all().get().get(id);
          long open =
              admin.describeProducers(partitions).all().get().values().stream()
                  .flatMap(s -> s.activeProducers().stream())
                  .filter(
                      p ->
                          p.producerId() == d.producerId()
                              && p.currentTransactionStartOffset().isPresent())
                  .count();
          System.out.printf(
              "round %d: coordinator %s at epoch %d; %d of %d partitions hold the transaction open%n",
              round, d.state(), d.producerEpoch(), open, partitions.size());
          if (open > 0) {
            lost++;
          }
        }
      }
      System.out.printf(
          "%d of %d committed transactions lost markers (overrides %s)%n", lost, rounds, overrides);
    }
  }

  private static KafkaProducer<byte[], byte[]> producer(KafkaBroker broker, String id) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
    return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
  }
}

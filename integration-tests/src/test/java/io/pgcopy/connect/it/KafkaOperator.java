package io.pgcopy.connect.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * The operator of a pipeline whose broker may crash: every 5 s it does what docs/operations.md
 * ("After a Kafka broker crash") tells an operator to do, and journals each action. Anything
 * failing (the broker or the worker away) waits for the next look.
 */
final class KafkaOperator implements AutoCloseable {
  private static final long LOOK_EVERY_S = 5;

  /** Transactions written to more recently than this are not looked at. */
  private static final long QUIET_MS = 5_000;

  private final Pipeline pipeline;
  private final Consumer<String> journal;
  private final ScheduledExecutorService looks = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger aborts = new AtomicInteger();

  private KafkaOperator(Pipeline pipeline, Consumer<String> journal) {
    this.pipeline = pipeline;
    this.journal = journal;
  }

  /**
   * Starts looking: at the tasks of the source connector {@code connector} names at each look (none
   * while it gives null), and at every partition's open transactions.
   */
  static KafkaOperator start(
      Pipeline pipeline, Supplier<String> connector, Consumer<String> journal) {
    KafkaOperator o = new KafkaOperator(pipeline, journal);
    o.looks.scheduleWithFixedDelay(
        () -> {
          try {
            String c = connector.get();
            if (c != null) {
              o.restartTasksConnectFailed(c);
            }
            o.abortHangingTransactions();
          } catch (RuntimeException e) {
            // the next look
          }
        },
        LOOK_EVERY_S,
        LOOK_EVERY_S,
        TimeUnit.SECONDS);
    return o;
  }

  /**
   * Restarts, as an operator would, a task that Connect itself failed before the task's code ran:
   * the zombie fencing of exactly-once source tasks gives up when the config topic cannot be read
   * to its end in time (the broker just restarted), and Connect then leaves the task FAILED. Any
   * other failed task is the connector's own failure and is left for the test to see.
   */
  private void restartTasksConnectFailed(String connector) {
    try {
      for (JsonNode task : pipeline.rest().status(connector).path("tasks")) {
        String trace = task.path("trace").asText("");
        if ("FAILED".equals(task.path("state").asText())
            && trace.contains("before performing zombie fencing")) {
          journal.accept(
              connector
                  + " task "
                  + task.path("id").asInt()
                  + " failed in Connect's zombie fencing ("
                  + trace.lines().findFirst().orElse("")
                  + "): restarted through REST");
          pipeline.rest().restartTask(connector, task.path("id").asInt());
        }
      }
    } catch (RuntimeException e) {
      // the worker may not answer while the broker is away: the next look tries again
    }
  }

  /**
   * Aborts hanging transactions, as an operator would with {@code kafka-transactions.sh
   * find-hanging} and {@code abort}: a transaction left open on a partition (its last stable offset
   * held) that the broker's transaction coordinator does not list for that producer. A broker
   * killed mid-transaction can leave one (seen on the offsets topic and data topics: the
   * coordinator had moved the producer to a new epoch, the partition never got the abort marker),
   * and it holds every read_committed reader of the partition for ever, Connect's offset readers of
   * the restarted connector and tasks, and of a restarted worker, included. Only transactions quiet
   * for 5 s or more are looked at (the coordinator was asked first, so a transaction it did not
   * know of yet is younger than that); each abort is journaled.
   */
  private void abortHangingTransactions() {
    try (Admin admin =
        Admin.create(
            Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.broker.bootstrapServers()))) {
      Set<String> topics =
          admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get();
      List<TopicPartition> partitions = new ArrayList<>();
      admin
          .describeTopics(topics)
          .allTopicNames()
          .get()
          .forEach(
              (topic, d) ->
                  d.partitions()
                      .forEach(p -> partitions.add(new TopicPartition(topic, p.partition()))));
      Map<Long, TransactionDescription> byProducer = new HashMap<>();
      List<String> ids = new ArrayList<>();
      admin.listTransactions().all().get().forEach(t -> ids.add(t.transactionalId()));
      admin
          .describeTransactions(ids)
          .all()
          .get()
          .forEach((id, d) -> byProducer.put(d.producerId(), d));
      long now = System.currentTimeMillis();
      for (var entry : admin.describeProducers(partitions).all().get().entrySet()) {
        TopicPartition tp = entry.getKey();
        for (ProducerState p : entry.getValue().activeProducers()) {
          if (p.currentTransactionStartOffset().isEmpty() || now - p.lastTimestamp() < QUIET_MS) {
            continue;
          }
          // kafka-transactions.sh's rule: the coordinator lists every partition of an ongoing
          // transaction, and of one ending whose markers are not all written yet; a partition it
          // does not list will never get a marker
          TransactionDescription d = byProducer.get(p.producerId());
          if (d != null && d.topicPartitions().contains(tp)) {
            continue;
          }
          journal.accept(
              "hanging transaction on "
                  + tp
                  + ": producer "
                  + p.producerId()
                  + " epoch "
                  + p.producerEpoch()
                  + " open from offset "
                  + p.currentTransactionStartOffset().getAsLong()
                  + ", last written "
                  + Instant.ofEpochMilli(p.lastTimestamp())
                  + ", the coordinator has "
                  + (d == null
                      ? "no such producer"
                      : "epoch " + d.producerEpoch() + " " + d.state())
                  + ": aborted (kafka-transactions.sh abort)");
          admin
              .abortTransaction(
                  new AbortTransactionSpec(
                      tp,
                      p.producerId(),
                      (short) p.producerEpoch(),
                      p.coordinatorEpoch().orElse(-1)))
              .all()
              .get();
          aborts.incrementAndGet();
        }
      }
    } catch (Exception e) {
      // the broker may be away: the next look tries again
    }
  }

  /** How many hanging transactions this operator aborted so far. */
  int aborts() {
    return aborts.get();
  }

  @Override
  public void close() {
    looks.shutdownNow();
  }
}

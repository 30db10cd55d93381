package io.pgcopy.connect.bench;

import io.pgcopy.connect.servers.ConnectWorker;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * What the tasks of a source and a sink connector did, read from the worker's JMX the way an
 * operator's tools read it: Kafka records written and read, the source's value bytes, and Kafka
 * Connect's own averages of records per poll and per transaction (over its last sample windows,
 * about a minute). Taken before and after a phase, {@link #since} says how many records and
 * transactions a phase cost.
 */
record PipelineCounters(
    double sourceRecords,
    double sourceBytes,
    double sinkRecords,
    double recordsPerPoll,
    double recordsPerTransaction,
    double sinkRecordsPerPut) {

  /** Sums over every task of the two connectors; the averages are the busiest task's. */
  static PipelineCounters read(ConnectWorker worker, String source, String sink) throws Exception {
    try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(worker.jmxUrl()))) {
      MBeanServerConnection m = c.getMBeanServerConnection();
      return new PipelineCounters(
          sum(
              m,
              "kafka.connect:type=source-task-metrics,connector=" + source,
              "source-record-write-total"),
          sum(m, "io.pgcopy.connect:type=source-task,connector=\"" + source + "\"", "Bytes"),
          sum(
              m,
              "kafka.connect:type=sink-task-metrics,connector=" + sink,
              "sink-record-read-total"),
          max(m, "kafka.connect:type=connector-task-metrics,connector=" + source, "batch-size-avg"),
          max(
              m,
              "kafka.connect:type=source-task-metrics,connector=" + source,
              "transaction-size-avg"),
          max(m, "kafka.connect:type=connector-task-metrics,connector=" + sink, "batch-size-avg"));
    }
  }

  /** The records of this minus {@code before}; the averages as read now. */
  PipelineCounters since(PipelineCounters before) {
    return new PipelineCounters(
        sourceRecords - before.sourceRecords,
        sourceBytes - before.sourceBytes,
        sinkRecords - before.sinkRecords,
        recordsPerPoll,
        recordsPerTransaction,
        sinkRecordsPerPut);
  }

  private static double sum(MBeanServerConnection m, String prefix, String attribute)
      throws Exception {
    double total = 0;
    for (Map.Entry<ObjectName, Double> e : values(m, prefix, attribute).entrySet()) {
      total += e.getValue();
    }
    return total;
  }

  private static double max(MBeanServerConnection m, String prefix, String attribute)
      throws Exception {
    double most = 0;
    for (double v : values(m, prefix, attribute).values()) {
      if (!Double.isNaN(v) && !Double.isInfinite(v)) {
        most = Math.max(most, v);
      }
    }
    return most;
  }

  private static Map<ObjectName, Double> values(
      MBeanServerConnection m, String prefix, String attribute) throws Exception {
    Set<ObjectName> names = m.queryNames(new ObjectName(prefix + ",*"), null);
    Map<ObjectName, Double> out = new HashMap<>();
    for (ObjectName n : names) {
      Object v = m.getAttribute(n, attribute);
      if (v instanceof Number number) {
        out.put(n, number.doubleValue());
      }
    }
    return out;
  }
}

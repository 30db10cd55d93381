package io.pgcopy.connect.source.records;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Names the table and the row size when a row will not fit in a Kafka request, which Kafka's own
 * RecordTooLargeException does not. With {@code producer.override.max.request.size} on the
 * connector the limit is known and the task stops before sending; without it (the worker's producer
 * settings are invisible to a connector) a row over Kafka's default 1 MB is logged.
 */
public final class RecordSizeGuard {
  private static final Logger log = LoggerFactory.getLogger(RecordSizeGuard.class);
  public static final int KAFKA_DEFAULT_MAX_REQUEST_SIZE = 1 << 20;

  /** Kafka's record framing and the headers' names, roughly. */
  private static final int FRAMING = 256;

  private final Integer limit;
  private final Set<TableId> warned = new HashSet<>();

  public RecordSizeGuard(PgCopySourceConfig config) {
    this.limit = config.producerMaxRequestSize();
  }

  public void check(TableId table, String where, byte[] key, byte[] value, byte[] columnsHeader) {
    long size =
        FRAMING
            + (key == null ? 0 : key.length)
            + (value == null ? 0 : value.length)
            + (columnsHeader == null ? 0 : columnsHeader.length);
    if (limit != null) {
      if (size > limit) {
        throw new ConnectException(
            "a row of "
                + table
                + " ("
                + where
                + ") is "
                + size
                + " bytes as a Kafka record, "
                + "more than this connector's producer.override.max.request.size="
                + limit
                + ": raise it, and the "
                + "broker's message.max.bytes (or the topic's max.message.bytes), then restart the task");
      }
    } else if (size > KAFKA_DEFAULT_MAX_REQUEST_SIZE && warned.add(table)) {
      log.warn(
          "A row of {} ({}) is {} bytes as a Kafka record, more than Kafka's default max.request.size of 1 MB: "
              + "unless the worker's producer.max.request.size is raised, the task fails with RecordTooLargeException. "
              + "Set producer.override.max.request.size on this connector and message.max.bytes on the broker",
          table,
          where,
          size);
    }
  }
}

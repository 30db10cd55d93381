package io.pgcopy.connect.source.stream;

import org.apache.kafka.connect.source.SourceRecord;

/**
 * A batch of changes, which remembers the source transactions it holds: Connect hands this very
 * object back to {@code commitRecord} once Kafka has it, and each of them has one record fewer in
 * flight.
 */
final class ChangeBatchRecord extends SourceRecord {
  private final long[] transactions;

  ChangeBatchRecord(SourceRecord r, long[] transactions) {
    super(
        r.sourcePartition(),
        r.sourceOffset(),
        r.topic(),
        r.kafkaPartition(),
        r.keySchema(),
        r.key(),
        r.valueSchema(),
        r.value(),
        r.timestamp(),
        r.headers());
    this.transactions = transactions;
  }

  /** The commit LSNs of the transactions whose changes are in this batch. */
  long[] transactions() {
    return transactions;
  }
}

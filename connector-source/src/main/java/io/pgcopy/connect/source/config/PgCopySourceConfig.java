package io.pgcopy.connect.source.config;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.format.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/**
 * Configuration of {@code PgCopySourceConnector}; the reference in docs/configuration.md is
 * generated from {@link #CONFIG_DEF}.
 */
public final class PgCopySourceConfig extends AbstractConfig {
  public static final String CONNECTION_URL_CONFIG = ConnectionSettings.CONNECTION_URL_CONFIG;
  public static final String CONNECTION_USER_CONFIG = ConnectionSettings.CONNECTION_USER_CONFIG;
  private static final String CONNECTION_USER_DOC =
      "Database user. It needs SELECT on the tables, and the REPLICATION attribute unless snapshot.mode=initial_only.";
  public static final String CONNECTION_PASSWORD_CONFIG =
      ConnectionSettings.CONNECTION_PASSWORD_CONFIG;

  public static final String TABLE_INCLUDE_LIST_CONFIG = "table.include.list";
  private static final String TABLE_INCLUDE_LIST_DOC =
      "Comma-separated tables to copy, as schema.table. Unquoted names fold to lower case as in SQL; "
          + "quote a part to keep its case or dots (\"My Schema\".\"Orders\"). A partitioned table is read "
          + "through its leaf partitions into the parent's topic.";
  public static final String TOPIC_PREFIX_CONFIG = "topic.prefix";
  private static final String TOPIC_PREFIX_DOC =
      "Prefix of the topic names: rows of schema.table go to <topic.prefix>.<schema>.<table>. Characters "
          + "that Kafka does not allow in topic names are replaced by '_'.";
  public static final String RECORD_FORMAT_CONFIG = "record.format";
  private static final String RECORD_FORMAT_DOC =
      "binary: each record's key and value are the row's fields in PostgreSQL's binary COPY form (fastest; "
          + "read by the pgcopy sink; use the ByteArrayConverter). struct: rows decoded into Connect Structs with "
          + "schemas and logical types (Decimal, Date, Timestamp), for the JSON or Avro converters and for other "
          + "sinks; the pgcopy sink reads these too. Both carry the pgcopy headers.";
  public static final String STRUCT_TEMPORAL_MODE_CONFIG = "struct.temporal.mode";
  private static final String STRUCT_TEMPORAL_MODE_DOC =
      "With record.format=struct, how date, timestamp and timestamptz columns travel. connect: Connect's Date "
          + "and Timestamp logical types, which every sink understands; timestamps keep milliseconds only and "
          + "'infinity' becomes the largest value. string: their ISO text as PostgreSQL prints it, exact.";

  public static final String SNAPSHOT_MODE_CONFIG = "snapshot.mode";
  private static final String SNAPSHOT_MODE_DOC =
      "initial: copy the tables under the snapshot the replication slot exports, then stream their changes "
          + "from the slot. initial_only: copy the tables under one exported snapshot, then stop producing (no "
          + "slot, no REPLICATION attribute needed). never: stream changes only.";
  public static final String SNAPSHOT_RANGE_PAGES_CONFIG = "snapshot.range.pages";
  private static final String SNAPSHOT_RANGE_PAGES_DOC =
      "Size of one snapshot range in heap pages (8 kB each with the default block size). A table is split "
          + "into ranges of this many pages; the ranges are dealt to at most tasks.max tasks, balanced by size. "
          + "Smaller ranges balance better and lose less work on a restart; each range is one transaction.";
  public static final String SNAPSHOT_PROGRESS_TOPIC_CONFIG = "snapshot.progress.topic";
  private static final String SNAPSHOT_PROGRESS_TOPIC_DOC =
      "Topic for the one control record written when a snapshot range is complete (its offset marks the "
          + "range done). Default: <topic.prefix>._pgcopy_progress. Consumers skip records with the "
          + "pgcopy.control header.";
  public static final String SNAPSHOT_PROGRESS_INTERVAL_MS_CONFIG = "snapshot.progress.interval.ms";
  private static final String SNAPSHOT_PROGRESS_INTERVAL_MS_DOC =
      "How often the connector reads the committed offsets to learn whether every range is done, so it can "
          + "release the exported snapshot.";
  public static final String BATCH_MAX_ROWS_CONFIG = "batch.max.rows";
  private static final String BATCH_MAX_ROWS_DOC =
      "Most rows (or changes) a task reads in one poll().";
  public static final String BATCH_BYTES_CONFIG = "batch.bytes";
  private static final String BATCH_BYTES_DOC =
      "record.format=binary: the size a record's batch of rows grows to "
          + "before it is sent (before compression). Larger batches cost less per row; a batch must stay under the "
          + "producer's max.request.size (1 MB unless overridden), and a row larger than this travels alone.";
  public static final String BATCH_KEY_BUCKETS_CONFIG = "batch.key.buckets";
  private static final String BATCH_KEY_BUCKETS_DOC =
      "record.format=binary: how many key buckets a keyed "
          + "table's rows are spread over. The record key is the bucket, so every row and change of one key is in one "
          + "partition; use at least as many buckets as the topics have partitions (more buckets, smaller batches).";
  public static final String SLOT_NAME_CONFIG = "slot.name";
  private static final String SLOT_NAME_DOC =
      "Logical replication slot (pgoutput) created with the exported snapshot for change data capture. "
          + "Unused by snapshot.mode=initial_only.";
  public static final String PUBLICATION_NAME_CONFIG = "publication.name";
  private static final String PUBLICATION_NAME_DOC =
      "Publication for change data capture. Unused by snapshot.mode=initial_only.";
  public static final String PUBLICATION_AUTOCREATE_CONFIG = "publication.autocreate";
  private static final String PUBLICATION_AUTOCREATE_DOC =
      "Create the publication for exactly the tables of table.include.list (with publish_via_partition_root), "
          + "add tables added to the list, and drop tables taken out of it: the connector owns the publication. When "
          + "false, the publication must exist and publish them (the user then needs no ownership of the tables).";
  public static final String HEARTBEAT_INTERVAL_MS_CONFIG = "heartbeat.interval.ms";
  private static final String HEARTBEAT_INTERVAL_MS_DOC =
      "While the stream is idle, write a logical message (pg_logical_emit_message, not transactional) this "
          + "often, so the slot's confirmed position moves on even when the published tables take no writes "
          + "and WAL does not pile up on the source. 0 disables it.";
  public static final String SEQUENCE_INCLUDE_LIST_CONFIG = "sequence.include.list";
  private static final String SEQUENCE_INCLUDE_LIST_DOC =
      "Sequences to keep ahead in the target besides those the copied tables own (serial, identity), as "
          + "schema.sequence. The stream task reads them all at every heartbeat.interval.ms and sends their states "
          + "to the <topic.prefix>._pgcopy_sequences topic; the sink sets its copy to at least the source's value, never back (and creates one it lacks). Sequences are not "
          + "transactional and not in pgoutput, so a target sequence can be one heartbeat interval behind.";

  public static final String GROUP_TABLES = "Tables and topics";
  public static final String GROUP_SNAPSHOT = "Snapshot";
  public static final String GROUP_REPLICATION = "Replication";

  /** snapshot.mode values. */
  public enum SnapshotMode {
    INITIAL,
    INITIAL_ONLY,
    NEVER;

    public String configValue() {
      return name().toLowerCase(Locale.ROOT);
    }

    static SnapshotMode parse(String value) {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
  }

  public static final ConfigDef CONFIG_DEF = configDef();

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    ConnectionSettings.define(def, "source", CONNECTION_USER_DOC);
    addTableConfigs(def);
    addSnapshotConfigs(def);
    addReplicationConfigs(def);
    Retries.define(def);
    return def;
  }

  private static void addTableConfigs(ConfigDef def) {
    int order = 0;
    def.define(
            TABLE_INCLUDE_LIST_CONFIG,
            Type.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            new TableListValidator("table", false),
            Importance.HIGH,
            TABLE_INCLUDE_LIST_DOC,
            GROUP_TABLES,
            ++order,
            Width.LONG,
            "Tables")
        .define(
            TOPIC_PREFIX_CONFIG,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            TOPIC_PREFIX_DOC,
            GROUP_TABLES,
            ++order,
            Width.MEDIUM,
            "Topic prefix")
        .define(
            RECORD_FORMAT_CONFIG,
            Type.STRING,
            "binary",
            ConfigDef.ValidString.in("binary", "struct"),
            Importance.MEDIUM,
            RECORD_FORMAT_DOC,
            GROUP_TABLES,
            ++order,
            Width.SHORT,
            "Record format")
        .define(
            STRUCT_TEMPORAL_MODE_CONFIG,
            Type.STRING,
            "connect",
            ConfigDef.ValidString.in("connect", "string"),
            Importance.LOW,
            STRUCT_TEMPORAL_MODE_DOC,
            GROUP_TABLES,
            ++order,
            Width.SHORT,
            "Struct temporal mode");
  }

  private static void addSnapshotConfigs(ConfigDef def) {
    int order = 0;
    def.define(
            SNAPSHOT_MODE_CONFIG,
            Type.STRING,
            SnapshotMode.INITIAL.configValue(),
            ConfigDef.ValidString.in(
                SnapshotMode.INITIAL.configValue(),
                SnapshotMode.INITIAL_ONLY.configValue(),
                SnapshotMode.NEVER.configValue()),
            Importance.HIGH,
            SNAPSHOT_MODE_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Snapshot mode")
        .define(
            SNAPSHOT_RANGE_PAGES_CONFIG,
            Type.INT,
            4096,
            ConfigDef.Range.atLeast(1),
            Importance.MEDIUM,
            SNAPSHOT_RANGE_PAGES_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Range size (pages)")
        .define(
            BATCH_MAX_ROWS_CONFIG,
            Type.INT,
            4096,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            BATCH_MAX_ROWS_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Rows per poll")
        .define(
            BATCH_BYTES_CONFIG,
            Type.INT,
            256 * 1024,
            ConfigDef.Range.between(1024, 64 << 20),
            Importance.LOW,
            BATCH_BYTES_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Batch bytes")
        .define(
            BATCH_KEY_BUCKETS_CONFIG,
            Type.INT,
            16,
            ConfigDef.Range.between(1, 4096),
            Importance.LOW,
            BATCH_KEY_BUCKETS_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Key buckets")
        .define(
            SNAPSHOT_PROGRESS_TOPIC_CONFIG,
            Type.STRING,
            null,
            Importance.LOW,
            SNAPSHOT_PROGRESS_TOPIC_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.MEDIUM,
            "Progress topic")
        .define(
            SNAPSHOT_PROGRESS_INTERVAL_MS_CONFIG,
            Type.LONG,
            5000L,
            ConfigDef.Range.atLeast(100),
            Importance.LOW,
            SNAPSHOT_PROGRESS_INTERVAL_MS_DOC,
            GROUP_SNAPSHOT,
            ++order,
            Width.SHORT,
            "Progress check interval (ms)");
  }

  private static void addReplicationConfigs(ConfigDef def) {
    int order = 0;
    def.define(
            SLOT_NAME_CONFIG,
            Type.STRING,
            "pgcopy",
            Importance.MEDIUM,
            SLOT_NAME_DOC,
            GROUP_REPLICATION,
            ++order,
            Width.MEDIUM,
            "Slot name")
        .define(
            PUBLICATION_NAME_CONFIG,
            Type.STRING,
            "pgcopy",
            Importance.MEDIUM,
            PUBLICATION_NAME_DOC,
            GROUP_REPLICATION,
            ++order,
            Width.MEDIUM,
            "Publication name")
        .define(
            PUBLICATION_AUTOCREATE_CONFIG,
            Type.BOOLEAN,
            true,
            Importance.LOW,
            PUBLICATION_AUTOCREATE_DOC,
            GROUP_REPLICATION,
            ++order,
            Width.SHORT,
            "Create publication")
        .define(
            HEARTBEAT_INTERVAL_MS_CONFIG,
            Type.LONG,
            30_000L,
            ConfigDef.Range.atLeast(0),
            Importance.LOW,
            HEARTBEAT_INTERVAL_MS_DOC,
            GROUP_REPLICATION,
            ++order,
            Width.SHORT,
            "Heartbeat interval (ms)")
        .define(
            SEQUENCE_INCLUDE_LIST_CONFIG,
            Type.LIST,
            "",
            new TableListValidator("sequence", true),
            Importance.LOW,
            SEQUENCE_INCLUDE_LIST_DOC,
            GROUP_REPLICATION,
            ++order,
            Width.LONG,
            "Sequences");
  }

  public PgCopySourceConfig(Map<?, ?> props) {
    super(CONFIG_DEF, props);
  }

  public String user() {
    return getString(CONNECTION_USER_CONFIG);
  }

  public List<TableId> tables() {
    List<TableId> tables = new ArrayList<>();
    for (String t : getList(TABLE_INCLUDE_LIST_CONFIG)) {
      tables.add(TableId.parse(t));
    }
    return tables;
  }

  /** The sequences named in sequence.include.list (the tables' own are found in the catalog). */
  public List<TableId> sequences() {
    List<TableId> sequences = new ArrayList<>();
    for (String t : getList(SEQUENCE_INCLUDE_LIST_CONFIG)) {
      sequences.add(TableId.parse(t));
    }
    return sequences;
  }

  public String topicPrefix() {
    return getString(TOPIC_PREFIX_CONFIG);
  }

  public SnapshotMode snapshotMode() {
    return SnapshotMode.parse(getString(SNAPSHOT_MODE_CONFIG));
  }

  public int rangePages() {
    return getInt(SNAPSHOT_RANGE_PAGES_CONFIG);
  }

  public int batchBytes() {
    return getInt(BATCH_BYTES_CONFIG);
  }

  public int keyBuckets() {
    return getInt(BATCH_KEY_BUCKETS_CONFIG);
  }

  public int batchMaxRows() {
    return getInt(BATCH_MAX_ROWS_CONFIG);
  }

  public long progressIntervalMs() {
    return getLong(SNAPSHOT_PROGRESS_INTERVAL_MS_CONFIG);
  }

  public String progressTopic() {
    String t = getString(SNAPSHOT_PROGRESS_TOPIC_CONFIG);
    return t == null || t.isBlank() ? Topics.sanitize(topicPrefix() + "._pgcopy_progress") : t;
  }

  public String slotName() {
    return getString(SLOT_NAME_CONFIG);
  }

  public String publicationName() {
    return getString(PUBLICATION_NAME_CONFIG);
  }

  /** The connector's producer.override.max.request.size, or null when it does not set one. */
  public Integer producerMaxRequestSize() {
    Object v = originals().get("producer.override.max.request.size");
    try {
      return v == null ? null : Integer.valueOf(v.toString().trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /**
   * Whether records carry Connect Structs (record.format=struct) rather than binary COPY tuples.
   */
  public boolean structRecords() {
    return "struct".equals(getString(RECORD_FORMAT_CONFIG));
  }

  public io.pgcopy.connect.common.StructRows.TemporalMode temporalMode() {
    return io.pgcopy.connect.common.StructRows.TemporalMode.of(
        getString(STRUCT_TEMPORAL_MODE_CONFIG));
  }

  public boolean publicationAutoCreate() {
    return getBoolean(PUBLICATION_AUTOCREATE_CONFIG);
  }

  public long heartbeatIntervalMs() {
    return getLong(HEARTBEAT_INTERVAL_MS_CONFIG);
  }

  /** The topic that receives the sequences' states (binary records, while streaming). */
  public String sequenceTopic() {
    return Topics.sanitize(topicPrefix() + "._pgcopy_sequences");
  }

  /** The topic that receives the rows of a (parent) table. */
  public String topicFor(TableId table) {
    return Topics.sanitize(topicPrefix() + "." + table.schema() + "." + table.table());
  }
}

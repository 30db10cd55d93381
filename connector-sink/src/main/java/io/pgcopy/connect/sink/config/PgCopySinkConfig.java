package io.pgcopy.connect.sink.config;

import io.pgcopy.connect.common.ConnectionSettings;
import io.pgcopy.connect.common.Retries;
import io.pgcopy.connect.format.TableId;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

/**
 * Configuration of {@code PgCopySinkConnector}; the reference in docs/configuration.md is generated
 * from {@link #CONFIG_DEF}.
 */
public final class PgCopySinkConfig extends AbstractConfig {
  public static final String CONNECTION_URL_CONFIG = ConnectionSettings.CONNECTION_URL_CONFIG;
  public static final String CONNECTION_USER_CONFIG = ConnectionSettings.CONNECTION_USER_CONFIG;
  private static final String CONNECTION_USER_DOC =
      "Database user. With auto.create it needs USAGE and CREATE on the schemas it writes to (it then "
          + "owns the tables it creates and the offsets table); on tables made by another role, SELECT, "
          + "INSERT, UPDATE, DELETE and TRUNCATE (docs/operations.md).";
  public static final String CONNECTION_PASSWORD_CONFIG =
      ConnectionSettings.CONNECTION_PASSWORD_CONFIG;

  public static final String TABLE_NAME_FORMAT_CONFIG = "table.name.format";
  private static final String TABLE_NAME_FORMAT_DOC =
      "Target table as schema.table, where ${schema} and ${table} stand for the source table named in each "
          + "record's headers and ${topic} for its topic. Names are used exactly as they come out (case "
          + "kept); the first '.' outside a placeholder separates schema from table.";
  public static final String AUTO_CREATE_CONFIG = "auto.create";
  private static final String AUTO_CREATE_DOC =
      "Create a missing target table (and its schema) from the column names, exact types, NOT NULL and "
          + "key carried in the records, and add the columns a source table gained (ALTER TABLE .. ADD COLUMN).";
  public static final String BATCH_MAX_ROWS_CONFIG = "batch.max.rows";
  private static final String BATCH_MAX_ROWS_DOC =
      "A task writes its buffered rows in one transaction once it holds this many.";
  public static final String BATCH_MAX_BYTES_CONFIG = "batch.max.bytes";
  private static final String BATCH_MAX_BYTES_DOC =
      "... or once their values add up to this many bytes (bounds the task's memory).";
  public static final String BATCH_LINGER_MS_CONFIG = "batch.linger.ms";
  private static final String BATCH_LINGER_MS_DOC =
      "... or once the oldest buffered row has waited this long.";
  public static final String OFFSETS_TABLE_CONFIG = "offsets.table";
  private static final String OFFSETS_TABLE_DOC =
      "Table in the target where the sink stores, in the same transaction as the rows, the next Kafka "
          + "offset of every topic partition it applied; created when absent. On start and rebalance the "
          + "consumer is rewound to these offsets, so each record is applied once.";

  public static final String POST_DATA_CONFIG = "post.data";
  private static final String POST_DATA_DOC =
      "Build what each table has on the source besides its rows (primary key, unique, exclusion and check "
          + "constraints, other indexes, column defaults, identity and owned sequences, replica identity) once the "
          + "table's snapshot is in the target, as pg_restore builds its post-data after the data; what the target "
          + "already has (by name) is kept. A table the sink creates gets its primary key then, or before its first "
          + "change. Sequences (the tables' own, and those of the source's sequence.include.list) are set to at "
          + "least the source's value, never back. Foreign keys are not built (they wait for the cut-over). false: "
          + "tables are created with their primary key, and indexes, constraints and sequences are left to you.";
  public static final String POST_DATA_MAINTENANCE_WORK_MEM_CONFIG =
      "post.data.maintenance.work.mem";
  private static final String POST_DATA_MAINTENANCE_WORK_MEM_DOC =
      "maintenance_work_mem of the sessions that build indexes and constraints (a PostgreSQL memory size): "
          + "a sort that fits in it builds an index without temporary files. Empty: the server's setting.";

  public static final String GROUP_WRITES = "Writes";

  public static final ConfigDef CONFIG_DEF = configDef();

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    ConnectionSettings.define(def, "target", CONNECTION_USER_DOC);
    addWriteConfigs(def);
    Retries.define(def);
    return def;
  }

  private static void addWriteConfigs(ConfigDef def) {
    int order = 0;
    def.define(
            TABLE_NAME_FORMAT_CONFIG,
            Type.STRING,
            "${schema}.${table}",
            new TableNameFormatValidator(),
            Importance.MEDIUM,
            TABLE_NAME_FORMAT_DOC,
            GROUP_WRITES,
            ++order,
            Width.MEDIUM,
            "Target table")
        .define(
            AUTO_CREATE_CONFIG,
            Type.BOOLEAN,
            true,
            Importance.MEDIUM,
            AUTO_CREATE_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Create tables")
        .define(
            BATCH_MAX_ROWS_CONFIG,
            Type.INT,
            20000,
            ConfigDef.Range.atLeast(1),
            Importance.LOW,
            BATCH_MAX_ROWS_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Batch rows")
        .define(
            BATCH_MAX_BYTES_CONFIG,
            Type.LONG,
            32L << 20,
            ConfigDef.Range.atLeast(1024),
            Importance.LOW,
            BATCH_MAX_BYTES_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Batch bytes")
        .define(
            BATCH_LINGER_MS_CONFIG,
            Type.LONG,
            200L,
            ConfigDef.Range.atLeast(0),
            Importance.LOW,
            BATCH_LINGER_MS_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Batch linger (ms)")
        .define(
            OFFSETS_TABLE_CONFIG,
            Type.STRING,
            "public.pgcopy_sink_offsets",
            new TableIdValidator(),
            Importance.LOW,
            OFFSETS_TABLE_DOC,
            GROUP_WRITES,
            ++order,
            Width.MEDIUM,
            "Offsets table")
        .define(
            POST_DATA_CONFIG,
            Type.BOOLEAN,
            true,
            Importance.MEDIUM,
            POST_DATA_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Build post-data")
        .define(
            POST_DATA_MAINTENANCE_WORK_MEM_CONFIG,
            Type.STRING,
            "256MB",
            Importance.LOW,
            POST_DATA_MAINTENANCE_WORK_MEM_DOC,
            GROUP_WRITES,
            ++order,
            Width.SHORT,
            "Index build memory");
  }

  public PgCopySinkConfig(Map<?, ?> props) {
    super(CONFIG_DEF, props);
  }

  public String connectionUrl() {
    return getString(CONNECTION_URL_CONFIG);
  }

  public String user() {
    return getString(CONNECTION_USER_CONFIG);
  }

  public TableNameFormat tableNameFormat() {
    return new TableNameFormat(getString(TABLE_NAME_FORMAT_CONFIG));
  }

  public boolean autoCreate() {
    return getBoolean(AUTO_CREATE_CONFIG);
  }

  public int batchMaxRows() {
    return getInt(BATCH_MAX_ROWS_CONFIG);
  }

  public long batchMaxBytes() {
    return getLong(BATCH_MAX_BYTES_CONFIG);
  }

  public long batchLingerMs() {
    return getLong(BATCH_LINGER_MS_CONFIG);
  }

  public boolean postData() {
    return getBoolean(POST_DATA_CONFIG);
  }

  /** maintenance_work_mem for index builds; empty for the server's. */
  public String postDataMaintenanceWorkMem() {
    return getString(POST_DATA_MAINTENANCE_WORK_MEM_CONFIG).trim();
  }

  public TableId offsetsTable() {
    return TableId.parse(getString(OFFSETS_TABLE_CONFIG));
  }

  static final class TableNameFormatValidator implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      try {
        new TableNameFormat((String) value);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, value, e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "schema.table with ${schema}, ${table}, ${topic}";
    }
  }

  static final class TableIdValidator implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
      try {
        TableId.parse((String) value);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(name, value, e.getMessage());
      }
    }

    @Override
    public String toString() {
      return "schema.table";
    }
  }
}

package io.pgcopy.connect.source.snapshot;

import io.pgcopy.connect.common.StructRows;
import io.pgcopy.connect.format.Column;
import io.pgcopy.connect.format.ColumnLayout;
import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig;
import io.pgcopy.connect.source.records.BatchRecords;
import java.nio.charset.StandardCharsets;

/**
 * One table as the snapshot reads it: what every record of it shares (topic, column layout, header
 * bytes) and how its COPY selects the rows.
 *
 * <p>A table that travels as text (a column without binary I/O) selects every column's text form
 * ({@code ::text}), as struct records do; otherwise each column comes in binary form except {@code
 * xml}, whose text form keeps the document as stored (its binary send form drops the XML
 * declaration) and which the sink's binary COPY reads back as such (xml's binary receive form is
 * its text). When the change stream runs in text mode, a binary table's key is also selected in
 * text form, first, so its snapshot rows fall in the same key buckets as its changes, which are
 * hashed in text form.
 *
 * @param lead the fields before the row's in each COPY tuple: the ctid, then the key's text forms
 *     when the key is hashed in text form but the row is binary
 * @param keyFields the fields of each COPY tuple that hold the key, as it is hashed
 * @param selectList what follows {@code SELECT ctid} in the COPY's query
 */
record SnapshotTable(
    String topic,
    ColumnLayout layout,
    int lead,
    int[] keyFields,
    byte[] schema,
    byte[] table,
    byte[] columns,
    StructRows structs,
    BatchRecords.Table batch,
    String selectList) {
  private static final int XML_OID = 142;

  /**
   * @param text whether the table travels as text
   * @param streamText whether the change stream runs in text mode (keys are hashed in text form)
   */
  static SnapshotTable of(
      PgCopySourceConfig config,
      TableId table,
      ColumnLayout layout,
      boolean text,
      boolean streamText) {
    boolean textForms = config.structRecords() || text;
    StringBuilder select = new StringBuilder();
    int[] keys = layout.keyFieldIndexes();
    int lead = 1;
    if (!textForms && streamText && keys.length > 0) {
      for (int k : keys) {
        select
            .append(", ")
            .append(TableId.quoteIdentifier(layout.columns().get(k).name()))
            .append("::text");
      }
      lead += keys.length;
      for (int i = 0; i < keys.length; i++) {
        keys[i] = 1 + i;
      }
    } else {
      for (int i = 0; i < keys.length; i++) {
        keys[i] += lead;
      }
    }
    for (Column col : layout.columns()) {
      select.append(", ").append(TableId.quoteIdentifier(col.name()));
      if (textForms || col.typeOid() == XML_OID) {
        select.append("::text");
      }
    }
    byte[] schema = table.schema().getBytes(StandardCharsets.UTF_8);
    byte[] name = table.table().getBytes(StandardCharsets.UTF_8);
    byte[] columns = layout.encode();
    String topic = config.topicFor(table);
    return new SnapshotTable(
        topic,
        layout,
        lead,
        keys,
        schema,
        name,
        columns,
        config.structRecords() ? new StructRows(topic, layout, config.temporalMode()) : null,
        new BatchRecords.Table(topic, schema, name, columns, textForms && !config.structRecords()),
        select.toString());
  }
}

package io.pgcopy.connect.format;

import java.util.Objects;

/**
 * One column of a source table as the record contract describes it.
 *
 * @param name the column name, exactly as stored in PostgreSQL
 * @param typeOid the type's OID in the source database
 * @param typeModifier {@code atttypmod}, -1 when none
 * @param typeName {@code format_type(oid, typmod)}: valid SQL for the column's exact type
 * @param notNull whether the column is NOT NULL
 * @param keyPosition 1-based position in the record key, 0 when not part of it
 * @param missingValue for a column added with a constant DEFAULT ({@code atthasmissing}): the
 *     value, in text form, that rows older than the column have without a change being logged for
 *     them; null otherwise
 */
public record Column(
    String name,
    int typeOid,
    int typeModifier,
    String typeName,
    boolean notNull,
    int keyPosition,
    String missingValue) {
  public Column {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(typeName, "typeName");
  }

  public Column(
      String name,
      int typeOid,
      int typeModifier,
      String typeName,
      boolean notNull,
      int keyPosition) {
    this(name, typeOid, typeModifier, typeName, notNull, keyPosition, null);
  }

  public boolean isKey() {
    return keyPosition > 0;
  }
}

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
 */
public record Column(String name, int typeOid, int typeModifier, String typeName, boolean notNull, int keyPosition) {
  public Column {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(typeName, "typeName");
  }

  public boolean isKey() {
    return keyPosition > 0;
  }
}

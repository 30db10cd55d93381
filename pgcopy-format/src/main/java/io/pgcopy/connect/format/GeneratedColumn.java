package io.pgcopy.connect.format;

import java.util.Objects;

/**
 * A stored generated column of a source table: records carry no value for it (the target computes
 * it), but a target table created from the layout declares it, so it holds the same values.
 *
 * @param name the column name, exactly as stored in PostgreSQL
 * @param typeName {@code format_type(oid, typmod)}
 * @param expression the generation expression, {@code pg_get_expr} of its {@code pg_attrdef} entry
 * @param position how many of the layout's (non-generated) columns come before it in the source
 *     table
 */
public record GeneratedColumn(String name, String typeName, String expression, int position) {
  public GeneratedColumn {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(typeName, "typeName");
    Objects.requireNonNull(expression, "expression");
  }
}

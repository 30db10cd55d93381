/**
 * The target's tables and types: creating a missing table or column from the column layout ({@code
 * TargetTables}), the target's OIDs embedded in binary arrays and composites ({@code TargetTypes},
 * {@code EmbeddedOids}), and DDL racing another task ({@code DdlRace}).
 */
package io.pgcopy.connect.sink.target;

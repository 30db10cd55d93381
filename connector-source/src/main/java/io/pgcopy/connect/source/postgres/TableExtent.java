package io.pgcopy.connect.source.postgres;

import io.pgcopy.connect.format.TableId;

/**
 * A physical table to read ({@code leaf}), the table whose topic it feeds, and its exact size in
 * pages.
 */
public record TableExtent(TableId table, TableId leaf, long pages) {}

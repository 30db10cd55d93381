/**
 * The sink's configuration: {@code PgCopySinkConfig} (docs/configuration.md is generated from it)
 * and {@code table.name.format}. Depends on nothing else of the sink.
 */
package io.pgcopy.connect.sink.config;

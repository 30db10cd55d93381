/**
 * The source's configuration: {@code PgCopySourceConfig} (every setting, its validator and typed
 * accessor; docs/configuration.md is generated from it) and the topic names it implies. Depends on
 * nothing else of the source.
 */
package io.pgcopy.connect.source.config;

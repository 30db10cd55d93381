/**
 * What the source asks its PostgreSQL outside of reading rows: the catalog ({@code SourceCatalog}:
 * tables, columns, sizes, privileges), the publication and the replication slot ({@code
 * ReplicationSetup}), and what a server error means ({@code SqlErrors}: transient or permanent,
 * with the way out).
 */
package io.pgcopy.connect.source.postgres;

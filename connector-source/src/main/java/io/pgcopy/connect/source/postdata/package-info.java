/**
 * What a table has besides its rows: its indexes, constraints, defaults and sequences, read from
 * the source's catalog with the server's deparse functions ({@code PostDataCatalog}) and announced
 * in the table's topic once its snapshot is in Kafka ({@code PostDataAnnouncer}, sent first by
 * {@code PostDataFirst}), so the sink builds them after the load.
 */
package io.pgcopy.connect.source.postdata;

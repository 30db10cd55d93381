/**
 * Records into per-table batches waiting to be written: headers read once per topic ({@code
 * RecordDecoder}), rows and changes buffered per table and layout ({@code SinkBuffer}, {@code
 * TableBatch}: last change per key, TOAST merge). No SQL.
 */
package io.pgcopy.connect.sink.batch;

/**
 * What the snapshot and the stream share to make records: rows into per-bucket batches ({@code
 * BatchAssembler}, {@code BatchRecords}), the record size limit ({@code RecordSizeGuard}), the
 * reader contract a task drives ({@code SourceReader}) and the task metrics both report to.
 */
package io.pgcopy.connect.source.records;

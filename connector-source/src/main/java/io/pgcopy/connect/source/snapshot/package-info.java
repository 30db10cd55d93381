/**
 * Reading a snapshot task's CTID ranges: one {@code COPY (SELECT .. WHERE ctid ..) TO STDOUT
 * (FORMAT binary)} per range under the exported snapshot ({@code SnapshotSession}), where to resume
 * ({@code SnapshotResume}), and the records a range becomes ({@code SnapshotRecords}).
 */
package io.pgcopy.connect.source.snapshot;

/**
 * The source's positions as Kafka Connect stores them: source partitions and offsets ({@code
 * SourceOffsets}: a range's progress, the stream's LSN), CTIDs and CTID ranges. Value types and
 * their codec, no I/O.
 */
package io.pgcopy.connect.source.offsets;

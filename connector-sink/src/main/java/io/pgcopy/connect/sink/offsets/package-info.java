/**
 * Where the sink is, per partition: the offsets taken, pending and stored ({@code
 * PartitionOffsets}), the offsets table in the target written in the transaction that applies the
 * rows ({@code OffsetStore}), and the stream position of the last keyless change ({@code
 * ChangePosition}) so a change sent again is applied once.
 */
package io.pgcopy.connect.sink.offsets;

/**
 * The change stream: the pgoutput message loop of the one stream task ({@code ChangeStreamReader}),
 * its replication and query connections ({@code StreamConnection}), relations and streamed
 * transactions, row messages to change records ({@code ChangeEmitter}, {@code ChangeBatches}), LSN
 * confirmation after Kafka acknowledged, and the slot's upkeep. Decoding the bytes is {@code
 * io.pgcopy.connect.format.pgoutput}'s job, not this package's.
 */
package io.pgcopy.connect.source.stream;

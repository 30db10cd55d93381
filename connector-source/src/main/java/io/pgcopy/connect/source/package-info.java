/**
 * The source connector as Kafka Connect sees it: {@code PgCopySourceConnector} (lifecycle, the
 * monitor that ends the snapshot, offsets through REST), {@code PgCopySourceTask} (runs a snapshot
 * or the stream reader), what {@code validate()} checks, and the connector's JMX metrics. The only
 * package that knows both the snapshot and the stream; nothing below imports it.
 */
package io.pgcopy.connect.source;

/**
 * The sink connector as Kafka Connect sees it: {@code PgCopySinkConnector}, {@code PgCopySinkTask}
 * (records in, one transaction per write with the offsets, the consumer rewound on open), the
 * task's session on the target, bad records, what {@code validate()} checks, and the JMX metrics.
 * Nothing below imports it.
 */
package io.pgcopy.connect.sink;

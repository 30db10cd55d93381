/**
 * Post-data after the load: a table's indexes, constraints, defaults and sequences, announced by
 * the source once its snapshot is in Kafka, recorded as they arrive in every bucket ({@code
 * PostDataBarrier}) and built, only what the target lacks, once all have ({@code PostDataBuilder},
 * driven by the task through {@code PostDataStep}).
 */
package io.pgcopy.connect.sink.postdata;

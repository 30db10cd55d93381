/**
 * Writing one table's batch into the target inside the caller's transaction: binary COPY ({@code
 * CopyIn}), staging-table upserts and deletes for keyed tables, keyless changes reduced to deletes
 * and inserts ({@code KeylessChanges}).
 */
package io.pgcopy.connect.sink.apply;

/**
 * A keyed table's truncate, sent once in every key bucket: the barrier that truncates the target
 * once every bucket's entry arrived ({@code TruncateBarrier}) and the partitions paused until then
 * ({@code TruncateWaits}).
 */
package io.pgcopy.connect.sink.truncate;

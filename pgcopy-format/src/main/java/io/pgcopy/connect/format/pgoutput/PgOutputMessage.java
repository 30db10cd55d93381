package io.pgcopy.connect.format.pgoutput;

import java.util.List;

/**
 * The messages of PostgreSQL's logical replication protocol (pgoutput), protocol versions 1 to 4,
 * as documented in "Logical Replication Message Formats". LSNs are unsigned 64-bit values held in a
 * {@code long}. {@code xid} fields are 0 outside a streamed (in-progress) transaction; inside one
 * they name the (sub)transaction the change belongs to.
 */
public sealed interface PgOutputMessage {

  record Begin(long finalLsn, long commitTimeMicros, int xid) implements PgOutputMessage {}

  record Commit(long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage {}

  record Origin(long originLsn, String name) implements PgOutputMessage {}

  /** A column of a {@link Relation}; {@code key} when it is part of the replica identity. */
  record RelationColumn(String name, boolean key, int typeOid, int typeModifier) {}

  /**
   * Describes a table before the first change to it (and again after its definition changed).
   * {@code replicaIdentity} is {@code 'd'} (default: primary key), {@code 'n'} (nothing), {@code
   * 'f'} (full) or {@code 'i'} (index).
   */
  record Relation(
      int xid,
      int relationId,
      String namespace,
      String name,
      char replicaIdentity,
      List<RelationColumn> columns)
      implements PgOutputMessage {}

  record Type(int xid, int typeOid, String namespace, String name) implements PgOutputMessage {}

  record Insert(int xid, int relationId, TupleData newTuple) implements PgOutputMessage {}

  /**
   * {@code oldKind} is {@code 'K'} (old key, sent when the key changed), {@code 'O'} (old row,
   * replica identity full) or 0 (no old tuple; {@code oldTuple} is null).
   */
  record Update(int xid, int relationId, char oldKind, TupleData oldTuple, TupleData newTuple)
      implements PgOutputMessage {}

  /** {@code oldKind} is {@code 'K'} (old key) or {@code 'O'} (old row, replica identity full). */
  record Delete(int xid, int relationId, char oldKind, TupleData oldTuple)
      implements PgOutputMessage {}

  /** {@code options}: bit 1 CASCADE, bit 2 RESTART IDENTITY. */
  record Truncate(int xid, int options, int[] relationIds) implements PgOutputMessage {}

  /** A message written with {@code pg_logical_emit_message}. */
  record LogicalMessage(int xid, boolean transactional, long lsn, String prefix, byte[] content)
      implements PgOutputMessage {}

  record StreamStart(int xid, boolean firstSegment) implements PgOutputMessage {}

  record StreamStop() implements PgOutputMessage {}

  record StreamCommit(int xid, long commitLsn, long endLsn, long commitTimeMicros)
      implements PgOutputMessage {}

  /** Aborts a streamed transaction ({@code subXid == xid}) or one of its subtransactions. */
  record StreamAbort(int xid, int subXid) implements PgOutputMessage {}
}

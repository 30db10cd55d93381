package io.pgcopy.connect.format.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Begin;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Commit;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Delete;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Insert;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.LogicalMessage;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Relation;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamAbort;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamCommit;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamStart;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.StreamStop;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Truncate;
import io.pgcopy.connect.format.pgoutput.PgOutputMessage.Update;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Decodes bytes captured from PostgreSQL 15 (pgoutput protocol 3, binary, messages, streaming,
 * logical_decoding_work_mem = 64kB), one message per line in hex. The session that produced them:
 *
 * <pre>
 * CREATE TABLE t (id integer PRIMARY KEY, note text, big text);  -- big: STORAGE EXTERNAL
 * CREATE TABLE k (a integer, b text);  ALTER TABLE k REPLICA IDENTITY FULL;
 * INSERT INTO t VALUES (1, 'one', repeat('x', 5000)), (2, NULL, 'small');
 * UPDATE t SET note = 'uno' WHERE id = 1;       -- big is unchanged TOAST
 * UPDATE t SET id = 10 WHERE id = 2;            -- key change: old key sent
 * DELETE FROM t WHERE id = 10;
 * INSERT INTO k VALUES (1, 'a'); UPDATE k SET b = 'b'; DELETE FROM k;
 * SELECT pg_logical_emit_message(false, 'pgcopy-heartbeat', 'hb');
 * TRUNCATE k;  ALTER TABLE t ADD COLUMN extra numeric;  INSERT INTO t VALUES (3, 'three', 'b', 1.5);
 * BEGIN; INSERT 1001 rows (100..1100); SAVEPOINT a; INSERT 1001 rows (5000..6000); ROLLBACK TO a;
 *        INSERT (4); COMMIT;                    -- streamed, one subtransaction aborted
 * BEGIN; INSERT 1001 rows (7000..8000); ROLLBACK;  -- streamed, aborted
 * INSERT INTO t VALUES (5, 'five', NULL, 5);
 * </pre>
 */
class PgOutputDecoderTest {
  private static List<PgOutputMessage> messages;

  @BeforeAll
  static void decodeCapture() throws IOException {
    PgOutputDecoder decoder = new PgOutputDecoder(3);
    messages = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                new GZIPInputStream(
                    PgOutputDecoderTest.class.getResourceAsStream(
                        "/pgoutput/pg15-proto3-binary-streaming.hex.gz")),
                StandardCharsets.US_ASCII))) {
      String line;
      while ((line = r.readLine()) != null) {
        ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(line));
        messages.add(decoder.decode(b));
        assertThat(b.remaining())
            .as("bytes left after " + messages.get(messages.size() - 1))
            .isZero();
      }
    }
  }

  private static <T> List<T> all(Class<T> type) {
    return messages.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static int intValue(TupleData t, int column) {
    return ByteBuffer.wrap(t.value(column)).getInt();
  }

  @Test
  void transactionsAreBracketedByBeginAndCommitWithMatchingLsns() {
    List<Begin> begins = all(Begin.class);
    List<Commit> commits = all(Commit.class);
    assertThat(begins).hasSize(commits.size()).hasSizeGreaterThanOrEqualTo(10);
    for (int i = 0; i < begins.size(); i++) {
      assertThat(commits.get(i).commitLsn()).isEqualTo(begins.get(i).finalLsn());
      assertThat(Long.compareUnsigned(commits.get(i).endLsn(), commits.get(i).commitLsn()))
          .isPositive();
    }
  }

  @Test
  void relationsDescribeColumnsKeysAndReplicaIdentity() {
    List<Relation> t = all(Relation.class).stream().filter(r -> r.name().equals("t")).toList();
    assertThat(t.get(0).namespace()).isEqualTo("public");
    assertThat(t.get(0).replicaIdentity()).isEqualTo('d');
    assertThat(t.get(0).columns())
        .extracting(PgOutputMessage.RelationColumn::name)
        .containsExactly("id", "note", "big");
    assertThat(t.get(0).columns())
        .extracting(PgOutputMessage.RelationColumn::key)
        .containsExactly(true, false, false);
    assertThat(t.get(0).columns().get(0).typeOid()).isEqualTo(23);
    // sent again after ADD COLUMN
    assertThat(t.get(t.size() - 1).columns())
        .extracting(PgOutputMessage.RelationColumn::name)
        .containsExactly("id", "note", "big", "extra");
    Relation k =
        all(Relation.class).stream().filter(r -> r.name().equals("k")).findFirst().orElseThrow();
    assertThat(k.replicaIdentity()).isEqualTo('f');
  }

  @Test
  void valuesComeInBinaryAndNullsAsNulls() {
    Insert first = all(Insert.class).get(0);
    assertThat(intValue(first.newTuple(), 0)).isEqualTo(1);
    assertThat(new String(first.newTuple().value(1), StandardCharsets.UTF_8)).isEqualTo("one");
    assertThat(first.newTuple().value(2)).hasSize(5000);
    Insert second = all(Insert.class).get(1);
    assertThat(second.newTuple().kind(1)).isEqualTo('n');
    byte[] copy = second.newTuple().toCopyTuple();
    assertThat(Tuples.fieldCount(copy)).isEqualTo(3);
    assertThat(Tuples.value(copy, 1)).isNull();
    assertThat(Tuples.value(copy, 2)).isEqualTo("small".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void updateMarksUnchangedToastAndSendsOldKeyOnlyWhenTheKeyChanged() {
    List<Update> updates = all(Update.class);
    Update toast = updates.get(0);
    assertThat((int) toast.oldKind()).isZero();
    assertThat(toast.newTuple().isUnchangedToast(2)).isTrue();
    assertThat(toast.newTuple().hasUnchangedToast()).isTrue();
    assertThat(Tuples.value(toast.newTuple().toCopyTuple(), 2)).isNull();

    Update keyChange = updates.get(1);
    assertThat(keyChange.oldKind()).isEqualTo('K');
    assertThat(intValue(keyChange.oldTuple(), 0)).isEqualTo(2);
    assertThat(keyChange.oldTuple().kind(1)).isEqualTo('n'); // only key columns in an old key
    assertThat(intValue(keyChange.newTuple(), 0)).isEqualTo(10);

    Update full = updates.get(2);
    assertThat(full.oldKind()).isEqualTo('O');
    assertThat(new String(full.oldTuple().value(1), StandardCharsets.UTF_8)).isEqualTo("a");
    assertThat(new String(full.newTuple().value(1), StandardCharsets.UTF_8)).isEqualTo("b");
  }

  @Test
  void deletesTruncatesAndMessages() {
    List<Delete> deletes = all(Delete.class);
    assertThat(deletes).hasSize(2);
    assertThat(deletes.get(0).oldKind()).isEqualTo('K');
    assertThat(intValue(deletes.get(0).oldTuple(), 0)).isEqualTo(10);
    assertThat(deletes.get(1).oldKind()).isEqualTo('O');
    Truncate truncate = all(Truncate.class).get(0);
    assertThat(truncate.relationIds()).hasSize(1);
    LogicalMessage m = all(LogicalMessage.class).get(0);
    assertThat(m.transactional()).isFalse();
    assertThat(m.prefix()).isEqualTo("pgcopy-heartbeat");
    assertThat(m.content()).isEqualTo("hb".getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Assembles the streamed transactions the way a consumer must: pieces per transaction between
   * Stream Start and Stop, a subtransaction's changes dropped on its abort, the whole dropped on
   * the transaction's abort, applied on Stream Commit.
   */
  @Test
  void streamedTransactionsCommitWithoutTheirAbortedSubtransactionAndAbortWhole() {
    Map<Integer, List<Insert>> pieces = new HashMap<>();
    Map<Integer, Set<Integer>> abortedSubs = new HashMap<>();
    List<Integer> committedIds = new ArrayList<>();
    Set<Integer> abortedWhole = new HashSet<>();
    Integer open = null;
    for (PgOutputMessage m : messages) {
      if (m instanceof StreamStart s) {
        assertThat(open).isNull();
        open = s.xid();
      } else if (m instanceof StreamStop) {
        open = null;
      } else if (m instanceof Insert i && open != null) {
        assertThat(i.xid()).isNotZero();
        pieces.computeIfAbsent(open, x -> new ArrayList<>()).add(i);
      } else if (m instanceof StreamAbort a) {
        if (a.subXid() == a.xid()) {
          abortedWhole.add(a.xid());
          pieces.remove(a.xid());
        } else {
          abortedSubs.computeIfAbsent(a.xid(), x -> new HashSet<>()).add(a.subXid());
        }
      } else if (m instanceof StreamCommit c) {
        Set<Integer> subs = abortedSubs.getOrDefault(c.xid(), Set.of());
        for (Insert i : pieces.remove(c.xid())) {
          if (!subs.contains(i.xid())) {
            committedIds.add(intValue(i.newTuple(), 0));
          }
        }
      }
    }
    assertThat(abortedWhole).hasSize(1);
    assertThat(committedIds).hasSize(1002).contains(100, 1100, 4).noneMatch(id -> id >= 5000);
    // the plain transaction after them is not streamed
    assertThat(intValue(all(Insert.class).get(all(Insert.class).size() - 1).newTuple(), 0))
        .isEqualTo(5);
  }

  @Test
  void badInputSaysWhatIsWrong() {
    assertThatThrownBy(() -> new PgOutputDecoder(3).decode(new byte[] {'Z'}))
        .hasMessageContaining("'Z'");
    assertThatThrownBy(() -> new PgOutputDecoder(3).decode(new byte[] {'B', 0, 0}))
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> new PgOutputDecoder(9)).hasMessageContaining("not supported");
    assertThat(PgOutputDecoder.protocolVersionFor(150004)).isEqualTo(3);
    assertThat(PgOutputDecoder.protocolVersionFor(170000)).isEqualTo(4);
  }
}

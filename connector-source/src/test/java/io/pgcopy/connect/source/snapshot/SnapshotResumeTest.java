package io.pgcopy.connect.source.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import io.pgcopy.connect.source.snapshot.SnapshotResume.Pending;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SnapshotResumeTest {
  private static final TableId KEYED = new TableId("public", "accounts");
  private static final TableId KEYLESS = new TableId("public", "history");
  private static final CtidRange K0 = new CtidRange(KEYED, KEYED, 0, 10, 10);
  private static final CtidRange K1 = new CtidRange(KEYED, KEYED, 10, CtidRange.OPEN, 10);
  private static final CtidRange H0 = new CtidRange(KEYLESS, KEYLESS, 0, 10, 10);
  private static final CtidRange H1 = new CtidRange(KEYLESS, KEYLESS, 10, CtidRange.OPEN, 10);
  private static final List<CtidRange> ALL = List.of(K0, K1, H0, H1);
  private static final Ctid ROW = new Ctid(3, 4);

  private final Map<Map<String, Object>, Map<String, Object>> committed = new HashMap<>();

  @Test
  void withoutOffsetsEveryRangeIsReadFromItsStart() {
    SnapshotResume r = SnapshotResume.of("s1", Set.of(), Set.of(), ALL, committed);
    assertThat(r.done()).isEmpty();
    assertThat(r.pending())
        .containsExactly(
            new Pending(K0, null),
            new Pending(K1, null),
            new Pending(H0, null),
            new Pending(H1, null));
    assertThat(r.truncateFirst()).isEmpty();
  }

  @Test
  void finishedRangesAreSkippedAndARangeInProgressResumesAfterItsLastRow() {
    committed.put(K0.partition(), SourceOffsets.doneOffset("s1", 100));
    committed.put(H0.partition(), SourceOffsets.rowOffset(ROW, "s1"));
    SnapshotResume r = SnapshotResume.of("s1", Set.of(), Set.of(), ALL, committed);
    assertThat(r.done()).containsExactly(K0);
    assertThat(r.pending())
        .containsExactly(new Pending(K1, null), new Pending(H0, ROW), new Pending(H1, null));
  }

  @Test
  void progressUnderAnotherSnapshotCountsForATableThatIsNotReadAgain() {
    // a keyed table resumed under a replacement snapshot: its rows are absorbed by the key
    committed.put(K0.partition(), SourceOffsets.doneOffset("old", 100));
    committed.put(K1.partition(), SourceOffsets.rowOffset(ROW, "old"));
    SnapshotResume r = SnapshotResume.of("new", Set.of(), Set.of(), ALL, committed);
    assertThat(r.done()).containsExactly(K0);
    assertThat(r.pending()).startsWith(new Pending(K1, ROW));
  }

  @Test
  void aKeylessTableReadAgainWholeIgnoresOldProgressAndStartsWithATruncate() {
    committed.put(H0.partition(), SourceOffsets.doneOffset("old", 100));
    committed.put(H1.partition(), SourceOffsets.rowOffset(ROW, "old"));
    SnapshotResume r = SnapshotResume.of("new", Set.of(KEYLESS), Set.of(), ALL, committed);
    assertThat(r.done()).isEmpty();
    assertThat(r.pending()).contains(new Pending(H0, null), new Pending(H1, null));
    assertThat(r.truncateFirst()).containsExactly(KEYLESS);
  }

  @Test
  void onceItsReadingUnderTheNewSnapshotBeganATableIsNotTruncatedAgain() {
    // the truncate record's offset (or any row's) under "new" was committed before a restart
    committed.put(H0.partition(), SourceOffsets.rowOffset(ROW, "new"));
    committed.put(H1.partition(), SourceOffsets.rowOffset(ROW, "old"));
    SnapshotResume r = SnapshotResume.of("new", Set.of(KEYLESS), Set.of(), ALL, committed);
    assertThat(r.truncateFirst()).isEmpty();
    assertThat(r.pending()).contains(new Pending(H0, ROW), new Pending(H1, null));
  }

  @Test
  void aTableAddedToAStreamingConnectorIsReadWholeUnderItsSnapshotWithoutATruncate() {
    committed.put(K0.partition(), SourceOffsets.doneOffset("old", 100));
    SnapshotResume r = SnapshotResume.of("new", Set.of(), Set.of(KEYED), ALL, committed);
    assertThat(r.done()).isEmpty();
    assertThat(r.pending()).startsWith(new Pending(K0, null), new Pending(K1, null));
    assertThat(r.truncateFirst()).isEmpty();
  }
}

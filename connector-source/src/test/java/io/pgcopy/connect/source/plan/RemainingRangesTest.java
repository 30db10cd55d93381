package io.pgcopy.connect.source.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets.RangeProgress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RemainingRangesTest {
  private static final TableId KEYED = new TableId("public", "accounts");
  private static final TableId KEYLESS = new TableId("public", "history");
  private static final CtidRange K0 = new CtidRange(KEYED, KEYED, 0, 10, 10);
  private static final CtidRange K1 = new CtidRange(KEYED, KEYED, 10, CtidRange.OPEN, 10);
  private static final CtidRange H0 = new CtidRange(KEYLESS, KEYLESS, 0, 10, 10);
  private static final CtidRange H1 = new CtidRange(KEYLESS, KEYLESS, 10, CtidRange.OPEN, 10);
  private static final List<CtidRange> ALL = List.of(K0, K1, H0, H1);

  private static RangeProgress done(String snapshot, long lsn) {
    return new RangeProgress(true, null, snapshot, lsn);
  }

  private static RangeProgress after(String snapshot) {
    return new RangeProgress(false, new Ctid(3, 4), snapshot, 0);
  }

  private static RemainingRanges of(Map<CtidRange, RangeProgress> progress, String snapshot) {
    Map<Map<String, Object>, RangeProgress> byPartition = new HashMap<>();
    progress.forEach((r, p) -> byPartition.put(r.partition(), p));
    return RemainingRanges.of(ALL, byPartition, Set.of(KEYLESS), snapshot);
  }

  @Test
  void nothingStartedMeansEverythingRemainsAndNothingIsReadAgain() {
    RemainingRanges r = of(Map.of(), null);
    assertThat(r.remaining()).containsExactly(K0, K1, H0, H1);
    assertThat(r.restarted()).isEmpty();
  }

  @Test
  void withASlotButNoOffsetsKeylessTablesAreClearedUntilTheirReadingBegins() {
    Map<Map<String, Object>, RangeProgress> none = new HashMap<>();
    RemainingRanges cleared =
        RemainingRanges.of(ALL, none, Set.of(KEYLESS), null)
            .clearingUnstarted(Set.of(KEYLESS), ALL, none);
    assertThat(cleared.remaining()).containsExactly(K0, K1, H0, H1);
    assertThat(cleared.restarted()).containsExactly(KEYLESS);
    // once the truncate (or any row) of the table under the new snapshot is committed, it resumes
    Map<Map<String, Object>, RangeProgress> begun = new HashMap<>();
    begun.put(H0.partition(), after("new"));
    assertThat(
            RemainingRanges.of(ALL, begun, Set.of(KEYLESS), "new")
                .clearingUnstarted(Set.of(KEYLESS), ALL, begun)
                .restarted())
        .isEmpty();
  }

  @Test
  void aKeyedTableKeepsRangesFinishedUnderAnOlderSnapshot() {
    RemainingRanges r = of(Map.of(K0, done("old", 0), K1, after("old")), "new");
    assertThat(r.remaining()).containsExactly(K1, H0, H1);
    assertThat(r.restarted()).isEmpty();
  }

  @Test
  void aKeylessTableBegunUnderAnotherSnapshotIsReadAgainWhole() {
    RemainingRanges r = of(Map.of(H0, done("old", 0), H1, after("old")), "new");
    assertThat(r.remaining()).containsExactly(K0, K1, H0, H1);
    assertThat(r.restarted()).containsExactly(KEYLESS);
    // at the connector's start no snapshot exists yet: the old one is gone all the same
    assertThat(of(Map.of(H0, done("old", 0)), null).restarted()).containsExactly(KEYLESS);
  }

  @Test
  void aKeylessTableBegunUnderTheCurrentSnapshotResumes() {
    RemainingRanges r = of(Map.of(H0, done("new", 5), H1, after("new")), "new");
    assertThat(r.remaining()).containsExactly(K0, K1, H1);
    assertThat(r.restarted()).isEmpty();
  }

  @Test
  void aKeylessTableHalfReadAgainStaysRestartedUntilEveryRangeIsUnderTheNewSnapshot() {
    RemainingRanges r = of(Map.of(H0, done("new", 5), H1, done("old", 0)), "new");
    assertThat(r.restarted()).containsExactly(KEYLESS);
    assertThat(r.remaining()).contains(H0, H1);
  }

  @Test
  void aKeylessTableDoneUnderOneSnapshotIsDoneWhateverTheCurrentOne() {
    RemainingRanges r =
        of(Map.of(K0, done("a", 0), K1, done("b", 0), H0, done("a", 7), H1, done("a", 7)), "c");
    assertThat(r.remaining()).isEmpty();
    assertThat(r.restarted()).isEmpty();
  }

  @Test
  void theStreamSkipsAKeylessTablesChangesBelowItsSnapshotsLsn() {
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>();
    progress.put(H0.partition(), done("b", 900));
    progress.put(H1.partition(), done("b", 900));
    progress.put(K0.partition(), done("a", 100));
    assertThat(RemainingRanges.streamSkips(ALL, progress, Set.of(KEYLESS)))
        .isEqualTo(Map.of(KEYLESS, 900L));
    assertThat(RemainingRanges.streamSkips(ALL, Map.of(), Set.of(KEYLESS))).isEmpty();
  }

  /**
   * Tables added to a streaming connector are read whole under the current snapshot: what was
   * recorded under another (an attempt cut short, or before the table was removed and added again)
   * does not count, and a keyless one with such rows in the target is cleared first.
   */
  @Test
  void addedTablesCountOnlyProgressUnderTheCurrentSnapshot() {
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>();
    progress.put(K0.partition(), done("earlier", 0));
    progress.put(H0.partition(), done("earlier", 0));
    progress.put(H1.partition(), done("earlier", 0));
    RemainingRanges r =
        RemainingRanges.of(ALL, progress, Set.of(KEYLESS), Set.of(KEYED, KEYLESS), "current");
    assertThat(r.remaining()).containsExactly(K0, K1, H0, H1);
    assertThat(r.restarted()).containsExactly(KEYLESS);

    progress.put(K0.partition(), done("current", 7));
    progress.put(K1.partition(), after("current"));
    progress.put(H0.partition(), done("current", 7));
    progress.put(H1.partition(), done("current", 7));
    r = RemainingRanges.of(ALL, progress, Set.of(KEYLESS), Set.of(KEYED, KEYLESS), "current");
    assertThat(r.remaining()).containsExactly(K1);
    assertThat(r.restarted()).isEmpty();
    // a table not added keeps what it had
    r =
        RemainingRanges.of(
            ALL,
            Map.of(K0.partition(), done("earlier", 0)),
            Set.of(KEYLESS),
            Set.of(KEYLESS),
            "current");
    assertThat(r.remaining()).containsExactly(K1, H0, H1);
  }

  @Test
  void withoutAStreamAKeyedTableBegunUnderAnotherSnapshotIsReadAgainWhole() {
    // initial_only: every table must be read under one snapshot, keyed ones too
    Map<Map<String, Object>, RangeProgress> progress = new HashMap<>();
    progress.put(K0.partition(), done("old", 0));
    progress.put(K1.partition(), after("old"));
    RemainingRanges r = RemainingRanges.of(ALL, progress, Set.of(KEYED, KEYLESS), "new");
    assertThat(r.restarted()).containsExactly(KEYED);
    assertThat(r.remaining()).containsExactly(K0, K1, H0, H1);
    // with a stream only the keyless table is held to one snapshot: the keyed one resumes
    RemainingRanges streaming = RemainingRanges.of(ALL, progress, Set.of(KEYLESS), "new");
    assertThat(streaming.restarted()).isEmpty();
    assertThat(streaming.remaining()).containsExactly(K1, H0, H1);
    // without a stream and without reading it again (struct records), its rows mix two snapshots
    assertThat(RemainingRanges.of(ALL, progress, Set.of(KEYLESS), "new").mixed(ALL))
        .containsExactly(KEYED);
    assertThat(r.mixed(ALL)).isEmpty();
  }
}

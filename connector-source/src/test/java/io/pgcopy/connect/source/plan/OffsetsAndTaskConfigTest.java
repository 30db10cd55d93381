package io.pgcopy.connect.source.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.TableId;
import io.pgcopy.connect.source.config.PgCopySourceConfig.SnapshotMode;
import io.pgcopy.connect.source.config.Topics;
import io.pgcopy.connect.source.offsets.Ctid;
import io.pgcopy.connect.source.offsets.CtidRange;
import io.pgcopy.connect.source.offsets.SourceOffsets;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.OffsetStorageReader;
import org.junit.jupiter.api.Test;

class OffsetsAndTaskConfigTest {
  private static final JsonConverter JSON = new JsonConverter();

  static {
    JSON.configure(Map.of("schemas.enable", "false", "converter.type", "key"));
  }

  private static final TableId P = new TableId("Sales Schema", "orders.\"2024\"");
  private static final TableId LEAF = new TableId("Sales Schema", "orders_q1");

  @Test
  void taskConfigRoundTripsNamesThatNeedQuoting() {
    List<CtidRange> ranges =
        List.of(new CtidRange(P, LEAF, 0, 10, 10), new CtidRange(P, LEAF, 10, CtidRange.OPEN, 3));
    Map<String, String> config = TaskRanges.encode("00000003-00000002-1", 0, ranges, Set.of());
    assertThat(TaskRanges.decode(config)).isEqualTo(ranges);
    assertThat(TaskRanges.snapshotName(config)).isEqualTo("00000003-00000002-1");
  }

  @Test
  void taskConfigCarriesTheSnapshotLsnTablesReadAgainAndStreamSkips() {
    List<CtidRange> ranges = List.of(new CtidRange(P, LEAF, 0, 10, 10));
    Map<String, String> config = TaskRanges.encode("00000003-00000002-1", 1234L, ranges, Set.of(P));
    assertThat(TaskRanges.decode(config)).isEqualTo(ranges);
    assertThat(TaskRanges.snapshotLsn(config)).isEqualTo(1234L);
    assertThat(TaskRanges.restarted(config)).containsExactly(P);
    assertThat(TaskRanges.streamSkips(TaskRanges.encodeStreamSkips(Map.of(P, 99L, LEAF, 7L))))
        .isEqualTo(Map.of(P, 99L, LEAF, 7L));
    assertThat(TaskRanges.restarted(Map.of())).isEmpty();
    assertThat(TaskRanges.streamSkips(Map.of())).isEmpty();
  }

  @Test
  void snapshotTasksShareTheRangesAndKeepATableReadAgainWholeInOneTask() {
    TableId other = new TableId("public", "t");
    List<CtidRange> ranges =
        List.of(
            new CtidRange(P, LEAF, 0, 10, 10),
            new CtidRange(P, LEAF, 10, CtidRange.OPEN, 10),
            new CtidRange(other, other, 0, 10, 10),
            new CtidRange(other, other, 10, 20, 10),
            new CtidRange(other, other, 20, CtidRange.OPEN, 10));
    List<Map<String, String>> tasks =
        TaskRanges.snapshotTasks(
            Map.of("name", "src"),
            "00000003-00000002-1",
            42L,
            new RemainingRanges(ranges, Set.of(P)),
            3,
            Set.of(other),
            Set.of());
    assertThat(tasks).hasSizeBetween(2, 3);
    assertThat(tasks.stream().flatMap(t -> TaskRanges.decode(t).stream()))
        .containsExactlyInAnyOrderElementsOf(ranges);
    assertThat(tasks.stream().filter(t -> TaskRanges.decode(t).get(0).table().equals(P)))
        .singleElement()
        .satisfies(
            t -> {
              assertThat(TaskRanges.decode(t)).filteredOn(r -> r.table().equals(P)).hasSize(2);
              assertThat(TaskRanges.restarted(t)).containsExactly(P);
            });
    for (Map<String, String> t : tasks) {
      assertThat(t).containsEntry("name", "src").doesNotContainKey(TaskRanges.KIND);
      assertThat(TaskRanges.snapshotName(t)).isEqualTo("00000003-00000002-1");
      assertThat(TaskRanges.snapshotLsn(t)).isEqualTo(42L);
      assertThat(TaskRanges.textTables(t)).containsExactly(other);
    }
  }

  @Test
  void theStreamTaskCarriesItsSkipsAndSnapshotLsns() {
    Map<String, String> task =
        TaskRanges.streamTask(Map.of("name", "src"), Map.of(P, 99L), Map.of(LEAF, 7L), Set.of());
    assertThat(task)
        .containsEntry("name", "src")
        .containsEntry(TaskRanges.KIND, TaskRanges.KIND_STREAM);
    assertThat(TaskRanges.streamSkips(task)).containsExactly(Map.entry(P, 99L));
    assertThat(TaskRanges.snapshotLsns(task)).containsExactly(Map.entry(LEAF, 7L));
    assertThat(TaskRanges.textTables(task)).isEmpty();
  }

  @Test
  void offsetsTellNotStartedResumedAndDone() {
    assertThat(SourceOffsets.progress(null)).isEqualTo(SourceOffsets.RangeProgress.NOT_STARTED);
    assertThat(SourceOffsets.progress(SourceOffsets.doneOffset("s1", 42)))
        .isEqualTo(new SourceOffsets.RangeProgress(true, null, "s1", 42));
    // offsets written before the snapshot was recorded
    assertThat(SourceOffsets.progress(Map.of("done", true)).snapshot()).isNull();
    // Connect's JSON offset store hands numbers back as Long
    SourceOffsets.RangeProgress p = SourceOffsets.progress(Map.of("block", 12L, "item", 3L));
    assertThat(p.done()).isFalse();
    assertThat(p.after()).isEqualTo(new Ctid(12, 3));
    assertThat(SourceOffsets.progress(SourceOffsets.rowOffset(new Ctid(5, 1), "s1")))
        .isEqualTo(new SourceOffsets.RangeProgress(false, new Ctid(5, 1), "s1", 0));
  }

  /**
   * Connect finds committed offsets by the bytes of the serialized partition. They must not depend
   * on the JVM: a partition serialized by another JVM (a restarted worker) is spelled with its keys
   * in the same order.
   */
  @Test
  void partitionsSerializeAsConnectsRestApiRebuildsThem() {
    Map<String, Object> range = new CtidRange(P, LEAF, 4096, CtidRange.OPEN, 3).partition();
    for (Map<String, Object> partition :
        List.of(range, SourceOffsets.streamTablesPartition("slot"))) {
      byte[] written = JSON.fromConnectData("", null, List.of("src", partition));
      // Connect's REST offsets API rebuilds a partition from JSON, then serializes it again
      Object rebuilt = JSON.toConnectData("", written).value();
      assertThat(new String(JSON.fromConnectData("", null, rebuilt), StandardCharsets.UTF_8))
          .isEqualTo(new String(written, StandardCharsets.UTF_8));
    }
    // versions up to 0.1.0 committed ranges under this order: still read (see read())
    assertThat(key(SourceOffsets.legacyPartition(range)))
        .isEqualTo("[\"src\",{\"leaf\":\"\\\"Sales Schema\\\".\\\"orders_q1\\\"\",\"page\":4096}]");
    assertThat(List.copyOf(SourceOffsets.rowOffset(new Ctid(7, 2), "s").keySet()))
        .containsExactly("block", "item", "snapshot");
  }

  @Test
  void offsetsCommittedUnderTheLegacyKeyOrderAreStillRead() {
    Map<String, Object> range = new CtidRange(P, LEAF, 4096, CtidRange.OPEN, 3).partition();
    Map<String, Object> other = new CtidRange(P, LEAF, 0, 4096, 3).partition();
    Map<String, Map<String, Object>> store = new HashMap<>();
    store.put(key(SourceOffsets.legacyPartition(range)), SourceOffsets.doneOffset("old", 7));
    store.put(key(other), SourceOffsets.doneOffset("new", 9));
    OffsetStorageReader reader =
        new OffsetStorageReader() {
          @Override
          public <T> Map<String, Object> offset(Map<String, T> partition) {
            return store.get(key(partition));
          }

          @Override
          public <T> Map<Map<String, T>, Map<String, Object>> offsets(
              Collection<Map<String, T>> partitions) {
            Map<Map<String, T>, Map<String, Object>> found = new HashMap<>();
            partitions.forEach(p -> found.put(p, store.get(key(p))));
            return found;
          }
        };
    Map<Map<String, Object>, Map<String, Object>> read =
        SourceOffsets.read(reader, List.of(range, other));
    assertThat(SourceOffsets.progress(read.get(range)).snapshot()).isEqualTo("old");
    assertThat(SourceOffsets.progress(read.get(other)).snapshot()).isEqualTo("new");
  }

  /** The bytes Connect's offset store finds an offset by, as a string. */
  private static String key(Map<String, ?> partition) {
    return new String(
        JSON.fromConnectData("", null, List.of("src", partition)), StandardCharsets.UTF_8);
  }

  @Test
  void malformedOffsetSaysWhatIsMissing() {
    assertThatThrownBy(() -> SourceOffsets.progress(Map.of("block", "x")))
        .hasMessageContaining("'block'")
        .hasMessageContaining("'done'");
  }

  @Test
  void topicNamesReplaceCharactersKafkaRefuses() {
    assertThat(Topics.sanitize("db.Sales Schema.orders\"x\""))
        .isEqualTo("db.Sales_Schema.orders_x_");
  }

  @Test
  void theStreamTableMarkerRoundTripsNamesWithCommasAndQuotes() {
    Set<TableId> tables =
        Set.of(
            new TableId("public", "a,b"), new TableId("My \"Schema\"", "t"), new TableId("s", "x"));
    Map<String, Object> offset = SourceOffsets.streamTablesOffset(tables);
    assertThat(SourceOffsets.streamedTables(offset)).containsExactlyInAnyOrderElementsOf(tables);
    assertThat(SourceOffsets.streamedTables(SourceOffsets.streamTablesOffset(Set.of()))).isEmpty();
    assertThat(SourceOffsets.streamedTables(null)).isNull();
    assertThat(SourceOffsets.streamTablesPartition("slot"))
        .isNotEqualTo(SourceOffsets.streamPartition("slot"));
    Map<String, String> config = TaskRanges.encodeReread(tables);
    assertThat(TaskRanges.reread(config)).containsExactlyInAnyOrderElementsOf(tables);
  }

  @Test
  void onlyAResetOfEveryOffsetIsTakenThroughRest() {
    Map<String, Object> range =
        new CtidRange(P, LEAF, 0, 10, 10)
            .partition().entrySet().stream()
                .collect(HashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()), HashMap::putAll);
    Map<String, Object> stream = new HashMap<>(SourceOffsets.streamPartition("s"));
    Map<String, Object> marker = new HashMap<>(SourceOffsets.streamTablesPartition("s"));
    Map<Map<String, ?>, Map<String, ?>> everything = new HashMap<>();
    everything.put(range, null);
    everything.put(stream, null);
    everything.put(marker, null);
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL, everything)).isNull();
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL, Map.of())).isNull();

    Map<Map<String, ?>, Map<String, ?>> rangesOnly = new HashMap<>();
    rangesOnly.put(range, null);
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL, rangesOnly)).isNull();

    Map<Map<String, ?>, Map<String, ?>> streamOnly = new HashMap<>();
    streamOnly.put(stream, null);
    streamOnly.put(marker, null);
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL, streamOnly))
        .contains("reset every offset");

    Map<Map<String, ?>, Map<String, ?>> written = new HashMap<>(everything);
    written.put(stream, Map.of("lsn", 1L, "seq", 0L));
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL, written))
        .contains("written by hand");

    // without the slot's snapshot a reset cannot tell itself from a first run
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.INITIAL_ONLY, rangesOnly))
        .contains("truncate the target tables");
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.NEVER, streamOnly))
        .contains("snapshot.mode=never");
    assertThat(SourceOffsets.alterRefusal("s", SnapshotMode.NEVER, Map.of())).isNull();
  }
}

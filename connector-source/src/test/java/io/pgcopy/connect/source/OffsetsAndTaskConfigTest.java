package io.pgcopy.connect.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.TableId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetsAndTaskConfigTest {
  private static final TableId P = new TableId("Sales Schema", "orders.\"2024\"");
  private static final TableId LEAF = new TableId("Sales Schema", "orders_q1");

  @Test
  void taskConfigRoundTripsNamesThatNeedQuoting() {
    List<CtidRange> ranges = List.of(new CtidRange(P, LEAF, 0, 10, 10), new CtidRange(P, LEAF, 10, CtidRange.OPEN, 3));
    Map<String, String> config = TaskRanges.encode("00000003-00000002-1", ranges);
    assertThat(TaskRanges.decode(config)).isEqualTo(ranges);
    assertThat(TaskRanges.snapshotName(config)).isEqualTo("00000003-00000002-1");
  }

  @Test
  void offsetsTellNotStartedResumedAndDone() {
    assertThat(SourceOffsets.progress(null)).isEqualTo(SourceOffsets.RangeProgress.NOT_STARTED);
    assertThat(SourceOffsets.progress(SourceOffsets.doneOffset()).done()).isTrue();
    // Connect's JSON offset store hands numbers back as Long
    SourceOffsets.RangeProgress p = SourceOffsets.progress(Map.of("block", 12L, "item", 3L));
    assertThat(p.done()).isFalse();
    assertThat(p.after()).isEqualTo(new Ctid(12, 3));
    assertThat(SourceOffsets.progress(SourceOffsets.rowOffset(new Ctid(5, 1))).after()).isEqualTo(new Ctid(5, 1));
  }

  @Test
  void malformedOffsetSaysWhatIsMissing() {
    assertThatThrownBy(() -> SourceOffsets.progress(Map.of("block", "x")))
        .hasMessageContaining("'block'").hasMessageContaining("'done'");
  }

  @Test
  void topicNamesReplaceCharactersKafkaRefuses() {
    assertThat(Topics.sanitize("db.Sales Schema.orders\"x\"")).isEqualTo("db.Sales_Schema.orders_x_");
  }
}

package io.pgcopy.connect.sink.offsets;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PartitionOffsetsTest {
  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);

  @Test
  void recordsBelowWhatWasTakenOrStoredAreSkipped() {
    PartitionOffsets o = new PartitionOffsets();
    o.opened(Map.of(P0, 10L));
    assertThat(o.taken(P0, 9)).isTrue();
    assertThat(o.taken(P0, 10)).isFalse();
    assertThat(o.taken(P1, 0)).isFalse(); // nothing stored, nothing taken
    o.take(P0, 10);
    assertThat(o.taken(P0, 10)).isTrue();
    assertThat(o.next(P0)).isEqualTo(11);
  }

  @Test
  void aWriteStoresThePendingOffsetsAsCommitted() {
    PartitionOffsets o = new PartitionOffsets();
    o.opened(Map.of(P0, 10L));
    assertThat(o.nonePending()).isTrue();
    o.take(P0, 10);
    o.take(P0, 11);
    o.take(P1, 0);
    assertThat(o.pending()).isEqualTo(Map.of(P0, 12L, P1, 1L));
    assertThat(o.committed()).isEqualTo(Map.of(P0, 10L));
    o.written();
    assertThat(o.nonePending()).isTrue();
    assertThat(o.committed()).isEqualTo(Map.of(P0, 12L, P1, 1L));
  }

  @Test
  void aRestartGoesBackToWhatIsStoredOrElseToTheFirstRecordTakenSinceTheLastWrite() {
    PartitionOffsets o = new PartitionOffsets();
    o.opened(Map.of(P0, 10L));
    o.take(P0, 10);
    o.take(P1, 5);
    o.take(P1, 6);
    // the target holds 20 for P0 (another task wrote meanwhile), nothing for P1
    Map<TopicPartition, Long> rewind = o.restartFrom(Map.of(P0, 20L), Set.of(P0, P1));
    assertThat(rewind).isEqualTo(Map.of(P0, 20L, P1, 5L));
    assertThat(o.nonePending()).isTrue();
    assertThat(o.committed()).isEqualTo(Map.of(P0, 20L));
    assertThat(o.taken(P0, 19)).isTrue();
    assertThat(o.taken(P1, 5)).isFalse(); // consumed again from 5
    assertThat(o.held()).containsExactly(P0);
  }

  @Test
  void aKeylessChangeAtOrBelowThePositionTakenOrStoredIsSentAgain() {
    PartitionOffsets o = new PartitionOffsets();
    o.appliedAt(Map.of(P0, new ChangePosition(100, 3)));
    assertThat(o.takeChange(P0, new ChangePosition(100, 3))).isFalse();
    assertThat(o.takeChange(P0, new ChangePosition(99, 9))).isFalse();
    assertThat(o.takeChange(P0, new ChangePosition(100, 4))).isTrue();
    assertThat(o.takeChange(P0, new ChangePosition(100, 4))).isFalse(); // buffered already
    assertThat(o.takeChange(P1, new ChangePosition(1, 1))).isTrue(); // nothing stored
    // LSNs compare unsigned
    assertThat(o.takeChange(P0, new ChangePosition(0x8000_0000_0000_0000L, 1))).isTrue();
    assertThat(o.pendingPositions())
        .isEqualTo(
            Map.of(
                P0, new ChangePosition(0x8000_0000_0000_0000L, 1), P1, new ChangePosition(1, 1)));
    o.written();
    assertThat(o.pendingPositions()).isEmpty();
    assertThat(o.takeChange(P1, new ChangePosition(1, 1))).isFalse();
  }

  @Test
  void aRestartForgetsThePositionsTakenSinceTheLastWrite() {
    PartitionOffsets o = new PartitionOffsets();
    o.opened(Map.of(P0, 10L));
    o.appliedAt(Map.of(P0, new ChangePosition(100, 3)));
    o.take(P0, 10);
    assertThat(o.takeChange(P0, new ChangePosition(100, 4))).isTrue();
    o.restartFrom(Map.of(P0, 10L), Set.of(P0));
    assertThat(o.pendingPositions()).isEmpty();
    assertThat(o.takeChange(P0, new ChangePosition(100, 4))).isTrue(); // consumed again
  }

  @Test
  void aForgottenPartitionIsNoLongerHeld() {
    PartitionOffsets o = new PartitionOffsets();
    o.opened(Map.of(P0, 10L, P1, 3L));
    o.forget(P1);
    assertThat(o.held()).containsExactly(P0);
    assertThat(o.taken(P1, 0)).isFalse();
  }
}

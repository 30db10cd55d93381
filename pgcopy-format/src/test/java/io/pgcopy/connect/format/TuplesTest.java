package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TuplesTest {
  @Test
  void projectsFieldsInTheGivenOrder() {
    byte[] t = Tuples.of(new byte[] {1}, null, new byte[] {3, 3});
    assertThat(Tuples.project(t, new int[] {2, 0}))
        .isEqualTo(Tuples.of(new byte[] {3, 3}, new byte[] {1}));
    assertThat(Tuples.project(t, new int[] {1})).isEqualTo(Tuples.of((byte[]) null));
  }

  @Test
  void readsValuesBack() {
    byte[] t = Tuples.of(new byte[] {1}, null);
    assertThat(Tuples.fieldCount(t)).isEqualTo(2);
    assertThat(Tuples.value(t, 0)).containsExactly(1);
    assertThat(Tuples.value(t, 1)).isNull();
  }

  @Test
  void rejectsTruncatedTuples() {
    byte[] t = Tuples.of(new byte[] {1, 2, 3});
    assertThatThrownBy(() -> Tuples.fieldOffsets(java.util.Arrays.copyOf(t, t.length - 1)))
        .hasMessageContaining("truncated");
  }
}

package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.PostData.Item;
import io.pgcopy.connect.format.PostData.Kind;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PostDataTest {
  private static final PostData SAMPLE =
      new PostData(
          0x1234_5678_9abcL,
          16,
          3,
          List.of(
              new Item(Kind.SEQUENCE, "orders_id_seq", "id", "AS bigint INCREMENT BY 1", "42 t"),
              new Item(Kind.PRIMARY_KEY, "orders_pkey", null, "PRIMARY KEY (id)", "id"),
              new Item(Kind.INDEX, "Größe idx", null, "USING btree (\"Größe\")", null),
              new Item(Kind.REPLICA_IDENTITY, null, null, "FULL", null)));

  @Test
  void aValueReadsBackAsItWasWritten() {
    assertThat(PostData.decode(SAMPLE.encode())).isEqualTo(SAMPLE);
  }

  @Test
  void aValueWithoutItemsReadsBack() {
    PostData empty = new PostData(0, 1, 0, List.of());
    assertThat(PostData.decode(empty.encode())).isEqualTo(empty);
  }

  @Test
  void malformedValuesAreRefusedWithWhatIsWrong() {
    byte[] value = SAMPLE.encode();
    assertThatThrownBy(() -> PostData.decode(Arrays.copyOf(value, value.length - 3)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PostData.decode(Arrays.copyOf(value, value.length + 1)))
        .hasMessageContaining("past its last item");
    assertThatThrownBy(() -> PostData.decode(new byte[5])).hasMessageContaining("20 bytes");
    byte[] badBucket = new PostData(1, 2, 1, List.of()).encode();
    badBucket[15] = 7; // bucket 7 of 2
    assertThatThrownBy(() -> PostData.decode(badBucket)).hasMessageContaining("bucket 7");
  }
}

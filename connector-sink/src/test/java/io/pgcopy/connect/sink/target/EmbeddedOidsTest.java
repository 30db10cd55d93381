package io.pgcopy.connect.sink.target;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgcopy.connect.format.Tuples;
import io.pgcopy.connect.sink.target.EmbeddedOids.ArrayOf;
import io.pgcopy.connect.sink.target.EmbeddedOids.Composite;
import io.pgcopy.connect.sink.target.EmbeddedOids.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class EmbeddedOidsTest {
  private static final int SOURCE_ENUM = 16500;
  private static final int TARGET_ENUM = 24601;
  private static final int SOURCE_COMPOSITE = 16600;

  /** array_send of a 1-D array: ndim, has-nulls, element OID, (dim, lower bound), then elements. */
  private static byte[] array(int elementOid, byte[]... elements) {
    int size = 20;
    for (byte[] e : elements) {
      size += 4 + (e == null ? 0 : e.length);
    }
    ByteBuffer b =
        ByteBuffer.allocate(size)
            .putInt(1)
            .putInt(0)
            .putInt(elementOid)
            .putInt(elements.length)
            .putInt(1);
    for (byte[] e : elements) {
      b.putInt(e == null ? -1 : e.length);
      if (e != null) {
        b.put(e);
      }
    }
    return b.array();
  }

  /** record_send: field count, then per field type OID, length, bytes. */
  private static byte[] composite(int[] oids, byte[]... values) {
    int size = 4;
    for (byte[] v : values) {
      size += 8 + (v == null ? 0 : v.length);
    }
    ByteBuffer b = ByteBuffer.allocate(size).putInt(values.length);
    for (int i = 0; i < values.length; i++) {
      b.putInt(oids[i]).putInt(values[i] == null ? -1 : values[i].length);
      if (values[i] != null) {
        b.put(values[i]);
      }
    }
    return b.array();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void arrayOfEnumGetsTheTargetElementOid() {
    byte[] value = array(SOURCE_ENUM, utf8("red"), null, utf8("green"));
    byte[] tuple = Tuples.of(new byte[] {0, 0, 0, 1}, value);
    EmbeddedOids.rewriteTuple(
        tuple, new EmbeddedOids.Shape[] {null, new ArrayOf(TARGET_ENUM, EmbeddedOids.SCALAR)});
    assertThat(Tuples.value(tuple, 1))
        .isEqualTo(array(TARGET_ENUM, utf8("red"), null, utf8("green")));
    assertThat(Tuples.value(tuple, 0)).isEqualTo(new byte[] {0, 0, 0, 1});
  }

  @Test
  void arrayOfCompositesWithAnEnumFieldIsRewrittenAllTheWayDown() {
    int[] sourceFields = {23, SOURCE_ENUM};
    byte[] c1 = composite(sourceFields, new byte[] {0, 0, 0, 7}, utf8("red"));
    byte[] c2 = composite(sourceFields, null, utf8("blue"));
    byte[] value = array(SOURCE_COMPOSITE, c1, c2);
    Composite target =
        new Composite(
            "pair",
            List.of(
                new Field(23, EmbeddedOids.SCALAR), new Field(TARGET_ENUM, EmbeddedOids.SCALAR)));
    EmbeddedOids.rewrite(value, 0, value.length, new ArrayOf(30000, target));
    int[] targetFields = {23, TARGET_ENUM};
    assertThat(value)
        .isEqualTo(
            array(
                30000,
                composite(targetFields, new byte[] {0, 0, 0, 7}, utf8("red")),
                composite(targetFields, null, utf8("blue"))));
    assertThat(new ArrayOf(30000, target).embedsUserOid()).isTrue();
    assertThat(new ArrayOf(23, EmbeddedOids.SCALAR).embedsUserOid()).isFalse();
  }

  @Test
  void multiDimensionalAndEmptyArrays() {
    ByteBuffer two =
        ByteBuffer.allocate(12 + 16 + 4 * 8)
            .putInt(2)
            .putInt(0)
            .putInt(SOURCE_ENUM)
            .putInt(2)
            .putInt(1)
            .putInt(2)
            .putInt(0);
    for (int i = 0; i < 4; i++) {
      two.putInt(4).put(utf8("abcd"));
    }
    byte[] value = two.array();
    EmbeddedOids.rewrite(value, 0, value.length, new ArrayOf(TARGET_ENUM, EmbeddedOids.SCALAR));
    assertThat(ByteBuffer.wrap(value).getInt(8)).isEqualTo(TARGET_ENUM);
    byte[] empty = ByteBuffer.allocate(12).putInt(0).putInt(0).putInt(SOURCE_ENUM).array();
    EmbeddedOids.rewrite(empty, 0, empty.length, new ArrayOf(TARGET_ENUM, EmbeddedOids.SCALAR));
    assertThat(ByteBuffer.wrap(empty).getInt(8)).isEqualTo(TARGET_ENUM);
  }

  @Test
  void aCompositeThatDoesNotMatchTheTargetTypeSaysSo() {
    byte[] value = composite(new int[] {23}, new byte[] {0, 0, 0, 1});
    Composite target =
        new Composite(
            "pair",
            List.of(new Field(23, EmbeddedOids.SCALAR), new Field(25, EmbeddedOids.SCALAR)));
    byte[] tuple = Tuples.of(value);
    assertThatThrownBy(() -> EmbeddedOids.rewriteTuple(tuple, new EmbeddedOids.Shape[] {target}))
        .hasMessageContaining("pair has 1 fields, the target type has 2");
  }
}

package io.pgcopy.connect.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyBinaryReaderTest {
  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] stream(byte[]... tuples) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(CopyBinary.header());
    for (byte[] t : tuples) {
      out.writeBytes(t);
    }
    out.writeBytes(CopyBinary.trailer());
    return out.toByteArray();
  }

  /** Hands out at most one byte per read, the worst chunking a network can produce. */
  private static InputStream oneByteAtATime(byte[] data) {
    return new FilterInputStream(new ByteArrayInputStream(data)) {
      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return super.read(b, off, Math.min(1, len));
      }
    };
  }

  @Test
  void splitsTuplesWhateverTheChunking() throws IOException {
    byte[] t1 = Tuples.of(new byte[] {0, 0, 0, 7}, text("seven"), null);
    byte[] t2 = Tuples.of(new byte[] {0, 0, 0, 8}, new byte[0], text("x"));
    CopyBinaryReader reader = new CopyBinaryReader(oneByteAtATime(stream(t1, t2)), 8);
    reader.readHeader();
    List<byte[]> tuples = new ArrayList<>();
    while (reader.next()) {
      tuples.add(reader.tupleWithoutLeadingFields(0));
    }
    assertThat(tuples).containsExactly(t1, t2);
    assertThat(reader.finished()).isTrue();
  }

  @Test
  void exposesFieldsAndDropsLeadingOnes() throws IOException {
    byte[] ctid = {0, 0, 0, 5, 0, 3};
    byte[] t = Tuples.of(ctid, new byte[] {0, 0, 0, 42}, null, text("abc"));
    CopyBinaryReader reader = new CopyBinaryReader(new ByteArrayInputStream(stream(t)));
    reader.readHeader();
    assertThat(reader.next()).isTrue();
    assertThat(reader.fieldCount()).isEqualTo(4);
    assertThat(reader.fieldLength(0)).isEqualTo(6);
    assertThat(reader.fieldLength(2)).isEqualTo(-1);
    assertThat(reader.fieldInt(1)).isEqualTo(42);
    assertThat(reader.tupleLength()).isEqualTo(t.length);
    assertThat(reader.tupleWithoutLeadingFields(1))
        .isEqualTo(Tuples.of(new byte[] {0, 0, 0, 42}, null, text("abc")));
    assertThat(reader.project(new int[] {3, 1}))
        .isEqualTo(Tuples.of(text("abc"), new byte[] {0, 0, 0, 42}));
    assertThat(reader.next()).isFalse();
  }

  @Test
  void rowLargerThanTheBufferGrowsIt() throws IOException {
    byte[] big = new byte[1 << 20];
    big[big.length - 1] = 9;
    byte[] t = Tuples.of(big);
    CopyBinaryReader reader = new CopyBinaryReader(new ByteArrayInputStream(stream(t, t)), 64);
    reader.readHeader();
    assertThat(reader.next()).isTrue();
    assertThat(reader.tupleWithoutLeadingFields(0)).isEqualTo(t);
    assertThat(reader.next()).isTrue();
    assertThat(reader.next()).isFalse();
  }

  @Test
  void refusesWrongSignature() {
    byte[] data = stream();
    data[0] = 'X';
    CopyBinaryReader reader = new CopyBinaryReader(new ByteArrayInputStream(data));
    assertThatThrownBy(reader::readHeader).hasMessageContaining("bad signature");
  }

  @Test
  void reportsAStreamCutInsideATuple() throws IOException {
    byte[] data = stream(Tuples.of(text("hello")));
    byte[] cut = java.util.Arrays.copyOf(data, data.length - 5);
    CopyBinaryReader reader = new CopyBinaryReader(new ByteArrayInputStream(cut));
    reader.readHeader();
    assertThatThrownBy(reader::next)
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("inside a tuple");
  }

  @Test
  void reportsAStreamWithoutTrailer() throws IOException {
    byte[] data = stream(Tuples.of(text("hello")));
    byte[] cut = java.util.Arrays.copyOf(data, data.length - 2);
    CopyBinaryReader reader = new CopyBinaryReader(new ByteArrayInputStream(cut));
    reader.readHeader();
    assertThat(reader.next()).isTrue();
    assertThatThrownBy(reader::next)
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("without its trailer");
  }
}

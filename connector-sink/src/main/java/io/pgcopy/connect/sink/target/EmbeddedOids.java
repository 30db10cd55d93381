package io.pgcopy.connect.sink.target;

import io.pgcopy.connect.format.Tuples;
import java.util.List;

/**
 * Binary arrays and composites carry type OIDs (an array its element type, a composite each field's
 * type), and the receiving functions insist that they are the target database's. Built-in types
 * have the same OIDs everywhere; user-defined types (enums, composites, domains, extension types)
 * do not. This class rewrites those OIDs, in place, to the target's, walking the value along the
 * shape of the target column's type. The value's size never changes.
 */
public final class EmbeddedOids {
  /** OIDs below this are assigned at initdb and identical in every database. */
  static final int FIRST_NORMAL_OID = 16384;

  private EmbeddedOids() {}

  /** What a type's binary form embeds. */
  public sealed interface Shape permits Scalar, ArrayOf, Composite {
    /** Whether a value of this shape embeds an OID that may differ between databases. */
    boolean embedsUserOid();
  }

  record Scalar() implements Shape {
    @Override
    public boolean embedsUserOid() {
      return false;
    }
  }

  record ArrayOf(int elementOid, Shape element) implements Shape {
    @Override
    public boolean embedsUserOid() {
      return elementOid >= FIRST_NORMAL_OID || element.embedsUserOid();
    }
  }

  record Field(int typeOid, Shape shape) {}

  record Composite(String typeName, List<Field> fields) implements Shape {
    @Override
    public boolean embedsUserOid() {
      for (Field f : fields) {
        if (f.typeOid() >= FIRST_NORMAL_OID || f.shape().embedsUserOid()) {
          return true;
        }
      }
      return false;
    }
  }

  static final Shape SCALAR = new Scalar();

  /**
   * Rewrites the fields of a binary COPY tuple whose shape embeds user OIDs; {@code shapes[i]} null
   * means leave field i.
   */
  public static void rewriteTuple(byte[] tuple, Shape[] shapes) {
    int[] offsets = Tuples.fieldOffsets(tuple);
    for (int i = 0; i < shapes.length && i < offsets.length - 1; i++) {
      if (shapes[i] == null) {
        continue;
      }
      int len = getInt(tuple, offsets[i]);
      if (len >= 0) {
        try {
          rewrite(tuple, offsets[i] + 4, len, shapes[i]);
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
          throw new FieldException(i, e.getMessage());
        }
      }
    }
  }

  /** Rewrites every tuple of a run of binary COPY tuples (a snapshot batch). */
  public static void rewriteRun(byte[] run, Shape[] shapes) {
    int at = 0;
    while (at < run.length) {
      int count = getShort(run, at);
      int o = at + 2;
      for (int i = 0; i < count; i++) {
        int len = getInt(run, o);
        o += 4;
        if (len >= 0 && i < shapes.length && shapes[i] != null) {
          try {
            rewrite(run, o, len, shapes[i]);
          } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            throw new FieldException(i, e.getMessage());
          }
        }
        o += Math.max(0, len);
      }
      at = o;
    }
  }

  private static int getShort(byte[] b, int at) {
    return (short) (((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF));
  }

  /** Rewrites one value of {@code length} bytes at {@code at}. */
  static void rewrite(byte[] b, int at, int length, Shape shape) {
    int end = at + length;
    if (shape instanceof ArrayOf a) {
      int ndim = getInt(b, at);
      if (ndim < 0 || ndim > 6 || at + 12 + 8L * ndim > end) {
        throw new IllegalArgumentException("not a binary array (" + ndim + " dimensions)");
      }
      putInt(b, at + 8, a.elementOid());
      long items = ndim == 0 ? 0 : 1;
      for (int d = 0; d < ndim; d++) {
        items *= getInt(b, at + 12 + 8 * d);
      }
      int p = at + 12 + 8 * ndim;
      for (long i = 0; i < items; i++) {
        int len = getInt(b, p);
        p += 4;
        if (len >= 0) {
          if (!(a.element() instanceof Scalar)) {
            rewrite(b, p, len, a.element());
          }
          p += len;
        }
        if (p > end) {
          throw new IllegalArgumentException("binary array overruns its value");
        }
      }
    } else if (shape instanceof Composite c) {
      int n = getInt(b, at);
      if (n != c.fields().size()) {
        throw new IllegalArgumentException(
            "a value of composite type "
                + c.typeName()
                + " has "
                + n
                + " fields, the target type has "
                + c.fields().size());
      }
      int p = at + 4;
      for (Field f : c.fields()) {
        putInt(b, p, f.typeOid());
        int len = getInt(b, p + 4);
        p += 8;
        if (len >= 0) {
          if (!(f.shape() instanceof Scalar)) {
            rewrite(b, p, len, f.shape());
          }
          p += len;
        }
        if (p > end) {
          throw new IllegalArgumentException("binary composite overruns its value");
        }
      }
    }
  }

  /** A value that does not have the shape of the target column's type. */
  public static final class FieldException extends IllegalArgumentException {
    public final int field;

    FieldException(int field, String message) {
      super(message);
      this.field = field;
    }
  }

  private static int getInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}

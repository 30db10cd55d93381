package io.pgcopy.connect.source.offsets;

/** A tuple identifier: heap block number and line pointer (item) number. */
public record Ctid(long block, int item) implements Comparable<Ctid> {
  public Ctid {
    if (block < 0 || block > 0xFFFFFFFFL || item < 0 || item > 0xFFFF) {
      throw new IllegalArgumentException("bad ctid (" + block + "," + item + ")");
    }
  }

  /** From the 6-byte binary send form of a tid: uint32 block, uint16 item. */
  public static Ctid fromBinary(int block, short item) {
    return new Ctid(Integer.toUnsignedLong(block), Short.toUnsignedInt(item));
  }

  @Override
  public int compareTo(Ctid o) {
    int c = Long.compare(block, o.block);
    return c != 0 ? c : Integer.compare(item, o.item);
  }

  /** The tid literal, {@code (block,item)}. */
  @Override
  public String toString() {
    return "(" + block + "," + item + ")";
  }
}

package io.pgcopy.connect.common;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * PostgreSQL's text forms (as its output functions print them with {@code DateStyle=ISO}) of the
 * types the struct record format carries as typed Connect values, both ways. Pure functions.
 */
public final class PgText {
  /** The Connect Date of 'infinity' (beyond PostgreSQL's last date) and of '-infinity'. */
  public static final int DATE_INFINITY_DAYS = Integer.MAX_VALUE;

  public static final int DATE_MINUS_INFINITY_DAYS = Integer.MIN_VALUE;

  /** The Connect Timestamp of 'infinity' and '-infinity'. */
  public static final long TIMESTAMP_INFINITY_MILLIS = Long.MAX_VALUE;

  public static final long TIMESTAMP_MINUS_INFINITY_MILLIS = Long.MIN_VALUE;

  private static final long MILLIS_PER_DAY = 86_400_000L;

  private PgText() {}

  public static boolean parseBoolean(String s) {
    return switch (s) {
      case "t", "true" -> true;
      case "f", "false" -> false;
      default -> throw new IllegalArgumentException("not a boolean: '" + s + "'");
    };
  }

  /** bytea in either output format: hex ({@code \x0a1b}) or escape ({@code a\\b\001}). */
  public static byte[] parseBytea(String s) {
    if (s.startsWith("\\x")) {
      return HexFormat.of().parseHex(s, 2, s.length());
    }
    ByteBuffer out = ByteBuffer.allocate(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        out.put((byte) c);
      } else if (i + 1 < s.length() && s.charAt(i + 1) == '\\') {
        out.put((byte) '\\');
        i++;
      } else if (i + 3 < s.length()) {
        out.put((byte) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        throw new IllegalArgumentException("bad bytea escape in '" + s + "'");
      }
    }
    return java.util.Arrays.copyOf(out.array(), out.position());
  }

  public static String formatBytea(byte[] b) {
    return "\\x" + HexFormat.of().formatHex(b);
  }

  /** Days from 1970-01-01 of a date. */
  public static int parseDateDays(String s) {
    if (s.equals("infinity")) {
      return DATE_INFINITY_DAYS;
    }
    if (s.equals("-infinity")) {
      return DATE_MINUS_INFINITY_DAYS;
    }
    boolean bc = s.endsWith(" BC");
    return Math.toIntExact(date(bc ? s.substring(0, s.length() - 3) : s, bc).toEpochDay());
  }

  public static String formatDate(int days) {
    if (days == DATE_INFINITY_DAYS) {
      return "infinity";
    }
    if (days == DATE_MINUS_INFINITY_DAYS) {
      return "-infinity";
    }
    LocalDate d = LocalDate.ofEpochDay(days);
    return ymd(d) + (d.getYear() <= 0 ? " BC" : "");
  }

  /**
   * Milliseconds from the Unix epoch of a timestamp, with or without a time zone offset (none means
   * UTC); sub-millisecond digits are dropped (rounded toward the past).
   */
  public static long parseTimestampMillis(String s) {
    if (s.equals("infinity")) {
      return TIMESTAMP_INFINITY_MILLIS;
    }
    if (s.equals("-infinity")) {
      return TIMESTAMP_MINUS_INFINITY_MILLIS;
    }
    boolean bc = s.endsWith(" BC");
    if (bc) {
      s = s.substring(0, s.length() - 3);
    }
    int space = s.indexOf(' ');
    if (space < 0) {
      throw new IllegalArgumentException("not a timestamp: '" + s + "'");
    }
    LocalDate date = date(s.substring(0, space), bc);
    String time = s.substring(space + 1);
    int offsetSeconds = 0;
    int sign = Math.max(time.indexOf('+'), time.indexOf('-'));
    if (sign > 0) {
      String[] o = time.substring(sign + 1).split(":");
      int seconds =
          Integer.parseInt(o[0]) * 3600
              + (o.length > 1 ? Integer.parseInt(o[1]) * 60 : 0)
              + (o.length > 2 ? Integer.parseInt(o[2]) : 0);
      offsetSeconds = time.charAt(sign) == '-' ? -seconds : seconds;
      time = time.substring(0, sign);
    }
    String[] hms = time.split(":");
    if (hms.length != 3) {
      throw new IllegalArgumentException("not a timestamp: '" + s + "'");
    }
    int dot = hms[2].indexOf('.');
    int second = Integer.parseInt(dot < 0 ? hms[2] : hms[2].substring(0, dot));
    int micros = 0;
    if (dot >= 0) {
      String frac = (hms[2].substring(dot + 1) + "000000").substring(0, 6);
      micros = Integer.parseInt(frac);
    }
    long epochSecond =
        date.atStartOfDay().toEpochSecond(ZoneOffset.UTC)
            + Integer.parseInt(hms[0]) * 3600L
            + Integer.parseInt(hms[1]) * 60L
            + second
            - offsetSeconds;
    return epochSecond * 1000 + micros / 1000;
  }

  /** A timestamp in ISO form, milliseconds, with {@code +00} when {@code withZone}. */
  public static String formatTimestamp(long millis, boolean withZone) {
    if (millis == TIMESTAMP_INFINITY_MILLIS) {
      return "infinity";
    }
    if (millis == TIMESTAMP_MINUS_INFINITY_MILLIS) {
      return "-infinity";
    }
    LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(millis, 1000), 0, ZoneOffset.UTC);
    return ymd(t.toLocalDate())
        + String.format(
            " %02d:%02d:%02d.%03d",
            t.getHour(), t.getMinute(), t.getSecond(), Math.floorMod(millis, 1000))
        + (withZone ? "+00" : "")
        + (t.getYear() <= 0 ? " BC" : "");
  }

  /** {@code days} as a whole-day millisecond count. */
  public static long daysToMillis(int days) {
    return days * MILLIS_PER_DAY;
  }

  private static LocalDate date(String s, boolean bc) {
    int dash2 = s.lastIndexOf('-');
    int dash1 = s.lastIndexOf('-', dash2 - 1);
    if (dash1 <= 0) {
      throw new IllegalArgumentException("not an ISO date: '" + s + "'");
    }
    int year = Integer.parseInt(s.substring(0, dash1));
    return LocalDate.of(
        bc ? 1 - year : year,
        Integer.parseInt(s.substring(dash1 + 1, dash2)),
        Integer.parseInt(s.substring(dash2 + 1)));
  }

  private static String ymd(LocalDate d) {
    int year = d.getYear() <= 0 ? 1 - d.getYear() : d.getYear();
    return String.format("%04d-%02d-%02d", year, d.getMonthValue(), d.getDayOfMonth());
  }

  /**
   * The elements of a one-dimensional array literal ({@code {a,"b c",NULL}}), null for NULL.
   *
   * @throws IllegalArgumentException for a multi-dimensional array or one with explicit bounds
   */
  public static List<String> parseArray(String s) {
    if (s.startsWith("[")) {
      throw new IllegalArgumentException(
          "an array with explicit lower bounds ("
              + s.substring(0, s.indexOf('=') + 1)
              + ") cannot be carried as a Connect array");
    }
    if (!s.startsWith("{") || !s.endsWith("}")) {
      throw new IllegalArgumentException("not an array literal: '" + s + "'");
    }
    List<String> out = new ArrayList<>();
    if (s.length() == 2) {
      return out;
    }
    int i = 1;
    StringBuilder sb = new StringBuilder();
    while (true) {
      char c = s.charAt(i);
      if (c == '{') {
        throw new IllegalArgumentException(
            "a multi-dimensional array cannot be carried as a Connect array");
      }
      sb.setLength(0);
      boolean quoted = c == '"';
      if (quoted) {
        i++;
        while (s.charAt(i) != '"') {
          if (s.charAt(i) == '\\') {
            i++;
          }
          sb.append(s.charAt(i++));
        }
        i++;
      } else {
        while (s.charAt(i) != ',' && s.charAt(i) != '}') {
          if (s.charAt(i) == '\\') {
            i++;
          }
          sb.append(s.charAt(i++));
        }
      }
      String e = sb.toString();
      out.add(!quoted && e.equalsIgnoreCase("NULL") ? null : e);
      if (s.charAt(i) == '}') {
        if (i != s.length() - 1) {
          throw new IllegalArgumentException("text after the end of array literal '" + s + "'");
        }
        return out;
      }
      i++; // the comma
    }
  }

  /** An array literal of the elements, each quoted; null elements as NULL. */
  public static String formatArray(List<String> elements) {
    StringBuilder sb = new StringBuilder("{");
    for (String e : elements) {
      if (sb.length() > 1) {
        sb.append(',');
      }
      if (e == null) {
        sb.append("NULL");
      } else {
        sb.append('"').append(e.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      }
    }
    return sb.append('}').toString();
  }

  /** A numeric's text as a BigDecimal at the column's scale; NaN and infinities have none. */
  public static BigDecimal parseDecimal(String s, int scale) {
    if (s.equals("NaN") || s.endsWith("Infinity")) {
      throw new IllegalArgumentException(
          "numeric " + s + " cannot be carried as a Connect Decimal");
    }
    return new BigDecimal(s).setScale(scale);
  }
}

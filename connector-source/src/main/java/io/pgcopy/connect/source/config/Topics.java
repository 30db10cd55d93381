package io.pgcopy.connect.source.config;

/** Topic naming rules. */
public final class Topics {
  private static final int MAX_LENGTH = 249;

  private Topics() {}

  /**
   * Replaces every character Kafka refuses in a topic name (anything but [a-zA-Z0-9._-]) by '_'.
   */
  public static String sanitize(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      sb.append(ok ? c : '_');
    }
    if (sb.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "topic name longer than " + MAX_LENGTH + " characters: " + sb);
    }
    return sb.toString();
  }
}

package io.pgcopy.connect.sink;

/** The plugin version, from the jar manifest (Implementation-Version). */
final class Version {
  private Version() {}

  static String get() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}

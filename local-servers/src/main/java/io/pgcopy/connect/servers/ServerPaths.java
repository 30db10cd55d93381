package io.pgcopy.connect.servers;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build put things the servers need, from system properties set by the build. */
public final class ServerPaths {
  private ServerPaths() {}

  /** The directory holding the built plugin (its pgcopy-connect folder), for plugin.path. */
  public static Path pluginPath() {
    Path p = Path.of(require("pgcopy.plugin.path"));
    if (!Files.isDirectory(p.resolve("pgcopy-connect/lib"))) {
      throw new IllegalStateException("no built plugin in " + p + ": run mvn package first");
    }
    return p;
  }

  /** The project's config/ directory. */
  public static Path configDir() {
    return Path.of(require("pgcopy.config.dir"));
  }

  /** A scratch directory for server data and logs. */
  public static Path workDir() {
    return Path.of(
        System.getProperty("pgcopy.work.dir", System.getProperty("java.io.tmpdir") + "/pgcopy-it"));
  }

  private static String require(String key) {
    String v = System.getProperty(key);
    if (v == null) {
      throw new IllegalStateException("system property " + key + " is not set");
    }
    return v;
  }
}

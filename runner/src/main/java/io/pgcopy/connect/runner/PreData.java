package io.pgcopy.connect.runner;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The target's schema before the copy, made by PostgreSQL's own tools as a pg_dump user would:
 * {@code pg_dump --schema-only --section=pre-data} of the source (schemas, extensions, types,
 * domains, functions, tables without keys or indexes, sequences, defaults, identity) written to a
 * file in the state directory, then run on the target with {@code psql}, in one transaction. The
 * connectors build the rest (keys, indexes, constraints) after each table's load.
 */
final class PreData {
  /** libpq connection parameters a JDBC URL may carry that mean the same to libpq. */
  private static final Set<String> LIBPQ_PARAMETERS =
      Set.of(
          "sslmode",
          "sslrootcert",
          "sslcert",
          "sslkey",
          "connect_timeout",
          "application_name",
          "options");

  private PreData() {}

  /** One server as the tools reach it. */
  record Server(String jdbcUrl, String user, String password) {}

  /**
   * Dumps the source's pre-data (of {@code schemas}, or of the whole database when empty) and
   * restores it into the target.
   *
   * @param bin the directory of pg_dump and psql; null to find them
   * @throws BadInput when a tool is missing or fails, with its last lines of output
   */
  static void copy(Path bin, Server source, Server target, List<String> schemas, Path work)
      throws IOException, InterruptedException {
    Path tools = bin != null ? bin : toolDirectory();
    Path file = work.resolve("pre-data.sql");
    List<String> dump = new ArrayList<>(List.of(tools.resolve("pg_dump").toString()));
    dump.addAll(
        List.of(
            "--schema-only",
            "--section=pre-data",
            "--no-owner",
            "--no-privileges",
            "--no-publications",
            "--no-subscriptions",
            "--file=" + file));
    schemas.forEach(s -> dump.add("--schema=" + s));
    dump.addAll(connection(source));
    run(dump, source, work.resolve("pg_dump.log"), "pg_dump of the source's pre-data");
    List<String> restore = new ArrayList<>(List.of(tools.resolve("psql").toString()));
    restore.addAll(
        List.of(
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-f", file.toString()));
    restore.addAll(connection(target));
    run(
        restore,
        target,
        work.resolve("psql.log"),
        "making the target's schema from the source's pre-data (the target must not hold these"
            + " objects yet; or pass --no-pre-data)");
  }

  /** Where pg_dump is: on the PATH, else the newest /usr/lib/postgresql/N/bin. */
  static Path toolDirectory() throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "pg_dump"))) {
        return Path.of(dir);
      }
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Path newest =
            versions
                .filter(v -> Files.isExecutable(v.resolve("bin/pg_dump")))
                .max(Comparator.comparingInt(PreData::version))
                .orElse(null);
        if (newest != null) {
          return newest.resolve("bin");
        }
      }
    }
    throw new BadInput(
        "pg_dump not found: install PostgreSQL's client tools (Debian: postgresql-client), pass"
            + " --pg-bin, or make the target's schema yourself and pass --no-pre-data");
  }

  private static int version(Path dir) {
    try {
      return Integer.parseInt(dir.getFileName().toString());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * libpq's form of a JDBC URL ({@code jdbc:postgresql://host:port/db?...}) and the user, for the
   * tools' command line; the password goes in their environment.
   */
  static List<String> connection(Server server) {
    String url = server.jdbcUrl();
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new BadInput("not a PostgreSQL JDBC URL: " + url);
    }
    URI uri;
    try {
      uri = new URI(url.substring("jdbc:".length()));
    } catch (URISyntaxException e) {
      throw new BadInput("not a PostgreSQL JDBC URL: " + url + " (" + e.getReason() + ")");
    }
    StringBuilder libpq =
        new StringBuilder("postgresql://")
            .append(uri.getRawAuthority() == null ? "" : uri.getRawAuthority())
            .append(uri.getRawPath() == null ? "" : uri.getRawPath());
    String separator = "?";
    if (uri.getRawQuery() != null) {
      for (String p : uri.getRawQuery().split("&")) {
        if (LIBPQ_PARAMETERS.contains(p.split("=", 2)[0])) {
          libpq.append(separator).append(p);
          separator = "&";
        }
      }
    }
    return List.of("--dbname=" + libpq, "--username=" + server.user());
  }

  private static void run(List<String> command, Server server, Path log, String doing)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    if (server.password() != null) {
      pb.environment().put("PGPASSWORD", server.password());
    }
    Process p = pb.start();
    if (!p.waitFor(30, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new BadInput(doing + " did not end within 30 minutes");
    }
    if (p.exitValue() != 0) {
      List<String> lines = Files.readAllLines(log);
      String last =
          String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size())).strip();
      throw new BadInput(doing + " failed (exit " + p.exitValue() + "): " + last);
    }
  }
}

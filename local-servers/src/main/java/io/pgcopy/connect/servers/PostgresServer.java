package io.pgcopy.connect.servers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from the machine's binaries: initdb, then pg_ctl on a free loopback
 * port. PostgreSQL refuses to run as root, so as root every command runs as the {@code postgres} OS
 * user through runuser. The superuser {@code postgres} connects without a password from 127.0.0.1;
 * every other role authenticates with scram-sha-256.
 */
public final class PostgresServer implements AutoCloseable {
  private final Path dir;
  private final Path data;
  private final Path log;
  private final Path bin;
  private final int port;
  private final boolean asRoot;
  private boolean running;

  private PostgresServer(Path dir, Path bin, int port) {
    this.dir = dir;
    this.data = dir.resolve("data");
    this.log = dir.resolve("server.log");
    this.bin = bin;
    this.port = port;
    this.asRoot = "root".equals(System.getProperty("user.name"));
  }

  /** Starts a server with wal_level=logical in a new directory under {@code parent}. */
  public static PostgresServer start(Path parent, String name) {
    return start(parent, name, "logical");
  }

  public static PostgresServer start(Path parent, String name, String walLevel) {
    try {
      Files.createDirectories(parent);
      Path dir = Files.createTempDirectory(parent, name + "-");
      PostgresServer pg = new PostgresServer(dir, binDir(), Processes.freePort());
      pg.initAndStart(walLevel);
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The newest installed server binaries: $PG_BIN, else /usr/lib/postgresql/N/bin, else PATH. */
  static Path binDir() throws IOException {
    String env = System.getenv("PG_BIN");
    if (env != null && Files.isExecutable(Path.of(env, "initdb"))) {
      return Path.of(env);
    }
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        Path best =
            versions
                .filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                .max(Comparator.comparingInt(v -> parseVersion(v.getFileName().toString())))
                .orElse(null);
        if (best != null) {
          return best.resolve("bin");
        }
      }
    }
    for (String p : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(p, "initdb"))) {
        return Path.of(p);
      }
    }
    throw new IllegalStateException(
        "no PostgreSQL server binaries (initdb) found: install the postgresql package or set PG_BIN");
  }

  private static int parseVersion(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void initAndStart(String walLevel) throws IOException {
    if (asRoot) {
      // the postgres user must be able to reach its directory
      for (Path p = dir; p != null && p.getParent() != null; p = p.getParent()) {
        p.toFile().setExecutable(true, false);
      }
      Processes.run(log, List.of("chown", "-R", "postgres:", dir.toString()));
    }
    pgCommand(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync"));
    String conf =
        String.join(
            "\n",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            // TCP only: a socket path longer than 107 bytes (a deep checkout) would stop the server
            // from starting, and nothing here uses the socket (pg_ctl -w reads postmaster.pid)
            "unix_socket_directories = ''",
            "wal_level = " + walLevel,
            "max_replication_slots = 20",
            "max_wal_senders = 20",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "max_wal_size = 4GB",
            "logical_decoding_work_mem = 64MB",
            // a statement waiting on a lock for more than deadlock_timeout is logged with the
            // holder
            "log_lock_waits = on",
            "");
    String hba =
        String.join(
            "\n",
            "local all all trust",
            "host all postgres 127.0.0.1/32 trust",
            "host replication postgres 127.0.0.1/32 trust",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host replication all 127.0.0.1/32 scram-sha-256",
            "");
    appendAsOwner(data.resolve("postgresql.conf"), conf);
    writeAsOwner(data.resolve("pg_hba.conf"), hba);
    pgCtl("start");
    running = true;
  }

  private void appendAsOwner(Path file, String text) throws IOException {
    Files.writeString(file, text, java.nio.file.StandardOpenOption.APPEND);
  }

  private void writeAsOwner(Path file, String text) throws IOException {
    Files.writeString(file, text);
  }

  /** {@code pg_ctl} on this server's data directory, waiting (60 s at most) for it to finish. */
  private void pgCtl(String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                bin.resolve("pg_ctl").toString(),
                "-D",
                data.toString(),
                "-l",
                data.resolve("postgres.log").toString(),
                "-w",
                "-t",
                "60"));
    cmd.addAll(List.of(args));
    pgCommand(cmd);
  }

  private void pgCommand(List<String> command) {
    List<String> cmd = new ArrayList<>();
    if (asRoot) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(command);
    Processes.run(log, cmd);
  }

  /**
   * Turns TLS on: the certificate (PEM, its chain) and key are copied into the data directory,
   * owned by the server's user (the key readable by it alone, as PostgreSQL requires), and the
   * configuration is reloaded. Clients may then connect with {@code sslmode=verify-full}.
   */
  public void enableTls(Path certificate, Path key) {
    try {
      Path crt = data.resolve("server.crt");
      Path k = data.resolve("server.key");
      Files.copy(certificate, crt, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(key, k, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(k, PosixFilePermissions.fromString("rw-------"));
      if (asRoot) {
        Processes.run(log, List.of("chown", "postgres:", crt.toString(), k.toString()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    execute("postgres", "ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()");
  }

  /**
   * {@code pg_ctl restart -m fast}: every session is ended (exported snapshots with them), the
   * server shuts down cleanly and starts again on the same port, as in a planned restart.
   */
  public void restart() {
    pgCtl("-m", "fast", "restart");
  }

  /** {@code pg_ctl stop -m fast}: the server is down until {@link #startAgain()}. */
  public void stopFast() {
    pgCtl("-m", "fast", "stop");
  }

  /** Starts a server stopped by {@link #stopFast()} again, on the same port. */
  public void startAgain() {
    pgCtl("start");
  }

  public int port() {
    return port;
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A superuser connection to a database. */
  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database), "postgres", "");
  }

  public void createDatabase(String name) {
    execute("postgres", "CREATE DATABASE \"" + name + "\"");
  }

  /** Runs statements as the superuser, each in its own transaction. */
  public void execute(String database, String... sql) {
    try (Connection c = connect(database);
        Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("SQL failed on " + database + ": " + e.getMessage(), e);
    }
  }

  /** A server binary's command line against this server as the postgres user. */
  private List<String> toolCommand(String tool, List<String> args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                bin.resolve(tool).toString(),
                "-h",
                "127.0.0.1",
                "-p",
                String.valueOf(port),
                "-U",
                "postgres"));
    cmd.addAll(args);
    return cmd;
  }

  /** Runs a server binary (psql, pgbench, ...) against this server as the postgres user. */
  public void runTool(String tool, List<String> args) {
    List<String> cmd = toolCommand(tool, args);
    Processes.run(dir.resolve(tool + ".log"), cmd);
  }

  /**
   * {@code pg_dump --schema-only --no-owner --no-privileges --no-publications} of {@code database}
   * with {@code options} (e.g. {@code --schema=shop}), as one string to compare, without the {@code
   * \\restrict} and {@code \\unrestrict} lines, whose key is new at every dump.
   */
  public String schemaDump(String database, String... options) {
    try {
      Path out = Files.createTempFile(dir, "schema", ".sql");
      List<String> args =
          new ArrayList<>(
              List.of(
                  "--schema-only",
                  "--no-owner",
                  "--no-privileges",
                  "--no-publications",
                  "--file=" + out));
      args.addAll(List.of(options));
      args.add(database);
      runTool("pg_dump", args);
      List<String> kept = new ArrayList<>();
      for (String line : Files.readAllLines(out)) {
        if (!line.startsWith("\\")) {
          kept.add(line);
        }
      }
      Files.delete(out);
      return String.join("\n", kept);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts a server binary (pgbench, ...) in the background; its output goes to {@code <tool>.log}.
   */
  public Process startTool(String tool, List<String> args) {
    List<String> cmd = toolCommand(tool, args);
    try {
      return new ProcessBuilder(cmd)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(tool + ".log").toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The server's own log (pg_ctl -l): errors, and lock waits (log_lock_waits). */
  public Path serverLog() {
    return data.resolve("postgres.log");
  }

  public Path binDirectory() {
    return bin;
  }

  @Override
  public void close() {
    if (running) {
      running = false;
      try {
        pgCtl("-m", "immediate", "stop");
      } catch (RuntimeException e) {
        System.err.println("stopping PostgreSQL in " + data + " failed: " + e.getMessage());
      }
    }
  }
}

package io.pgcopy.connect.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A test certificate authority made with openssl, and a server certificate it signed for 127.0.0.1
 * and localhost, for servers that must be reached with {@code sslmode=verify-full}.
 */
final class TestCertificates {
  final Path caCertificate;
  final Path serverCertificate;
  final Path serverKey;

  private TestCertificates(Path dir) {
    this.caCertificate = dir.resolve("ca.crt");
    this.serverCertificate = dir.resolve("server.crt");
    this.serverKey = dir.resolve("server.key");
  }

  /** A new CA and a server certificate signed by it, in {@code dir}. */
  static TestCertificates create(Path dir) {
    try {
      Files.createDirectories(dir);
      TestCertificates c = new TestCertificates(dir);
      Path caKey = dir.resolve("ca.key");
      openssl(
          dir,
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          caKey.toString(),
          "-out",
          c.caCertificate.toString(),
          "-days",
          "2",
          "-subj",
          "/CN=pgcopy test CA " + dir.getFileName());
      Path csr = dir.resolve("server.csr");
      openssl(
          dir,
          "req",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          c.serverKey.toString(),
          "-out",
          csr.toString(),
          "-subj",
          "/CN=127.0.0.1");
      Path ext = dir.resolve("server.ext");
      Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      openssl(
          dir,
          "x509",
          "-req",
          "-in",
          csr.toString(),
          "-CA",
          c.caCertificate.toString(),
          "-CAkey",
          caKey.toString(),
          "-CAcreateserial",
          "-out",
          c.serverCertificate.toString(),
          "-days",
          "2",
          "-extfile",
          ext.toString());
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void openssl(Path dir, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Path out = dir.resolve("openssl.log");
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
            .start();
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", cmd) + " failed:\n" + Files.readString(out));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

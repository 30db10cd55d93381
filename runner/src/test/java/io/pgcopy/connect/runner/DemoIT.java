package io.pgcopy.connect.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packaged runner, run as users run it ({@code java -jar pgcopy-runner.jar demo}) at a small
 * size: it starts its servers, copies and streams, and reports a verified target with exit code 0.
 */
class DemoIT {
  @Test
  void demoCopiesStreamsAndVerifies() throws Exception {
    Path jar = Path.of("target", "pgcopy-runner.jar");
    Path work = Files.createDirectories(Path.of("target", "demo-it"));
    Path log = work.resolve("demo.out");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                List.of(
                    java,
                    "-Xmx512m",
                    "-jar",
                    jar.toString(),
                    "demo",
                    "--scale",
                    "1",
                    "--changes-seconds",
                    "10",
                    "--work-dir",
                    Files.createTempDirectory(work, "run-").toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean finished = p.waitFor(10, TimeUnit.MINUTES);
    if (!finished) {
      p.destroyForcibly();
    }
    String out = Files.readString(log);
    assertThat(finished).as("demo finished within 10 minutes:\n" + out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("target EQUALS the source");
    for (String table :
        List.of("pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history")) {
      assertThat(out)
          .containsPattern(
              table + " +[\\d,]+ rows in the source, +[\\d,]+ in the target: same rows");
    }
    assertThat(out)
        .contains("snapshot complete, streaming")
        .containsPattern("[\\d,]+ changes streamed, lag \\d+ ms");
  }
}

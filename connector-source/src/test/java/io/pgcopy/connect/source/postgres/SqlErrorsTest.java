package io.pgcopy.connect.source.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.Test;

class SqlErrorsTest {
  /**
   * Typed as Object: a ConnectException is also an Iterable of its causes to AssertJ's overloads.
   */
  private static Object classify(Exception e) {
    return SqlErrors.translate(SqlErrors.sqlCause(e), "reading t");
  }

  @Test
  void aServerErrorInsideTheCopyStreamsIoExceptionIsFoundAndClassified() {
    // PGCopyInputStream reports the server's error as an IOException caused by it
    IOException io =
        new IOException(
            "Database connection failed when reading from copy",
            new SQLException("ERROR: no binary output function available for type seg", "42883"));
    ConnectException failure = (ConnectException) classify(io);
    assertThat((Object) failure).isNotInstanceOf(RetriableException.class);
    assertThat(failure.getMessage())
        .contains("reading t", "no binary output function", "42883", "table.include.list");
  }

  @Test
  void connectionTroubleAndABusySlotAreRetriedPrivilegeAndSyntaxAreNot() {
    assertThat(classify(new SQLException("terminating connection", "57P01")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("connection reset", "08006")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("replication slot is active", "55006")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("invalid snapshot identifier", "22023")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("permission denied for table t", "42501")))
        .isNotInstanceOf(RetriableException.class);
    assertThat((Object) SqlErrors.sqlCause(new IOException("disk full"))).isNull();
  }

  @Test
  void resourcesAndSerializationAreRetriedMissingObjectsAndBadDataFailWithTheWayOut() {
    assertThat(classify(new SQLException("sorry, too many clients already", "53300")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("could not serialize access", "40001")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("the database system is starting up", "57P03")))
        .isInstanceOf(RetriableException.class);
    assertThat(classify(new SQLException("I/O error", (String) null)))
        .isInstanceOf(RetriableException.class);
    for (String state : new String[] {"42P01", "42703", "22P02", "28P01", "P0001"}) {
      Object failure = classify(new SQLException("refused", state));
      assertThat(failure).as(state).isNotInstanceOf(RetriableException.class);
      assertThat(((ConnectException) failure).getMessage())
          .contains("reading t failed: refused (SQLState " + state, "then restart the task");
    }
  }
}

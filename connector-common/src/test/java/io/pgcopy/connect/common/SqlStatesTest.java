package io.pgcopy.connect.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class SqlStatesTest {

  @Test
  void aFailedStatementIsWordedWithTheServersMessageAndItsState() {
    assertThat(
            SqlStates.failed(
                "writing \"public\".\"t\"",
                new SQLException("ERROR: relation \"t\" does not exist", "42P01")))
        .isEqualTo(
            "writing \"public\".\"t\" failed: ERROR: relation \"t\" does not exist (SQLState 42P01)");
    assertThat(SqlStates.failed("reading", new SQLException("An I/O error occurred")))
        .isEqualTo("reading failed: An I/O error occurred (SQLState )");
  }

  @Test
  void connectionTroubleDeadlocksResourcesAndIoErrorsAreTransientTheRestIsNot() {
    assertThat(SqlStates.isTransient(new SQLException("refused", "08001"))).isTrue();
    assertThat(SqlStates.isTransient(new SQLException("deadlock", "40P01"))).isTrue();
    assertThat(SqlStates.isTransient(new SQLException("too many connections", "53300"))).isTrue();
    assertThat(SqlStates.isTransient(new SQLException("terminated", "57P01"))).isTrue();
    assertThat(SqlStates.isTransient(new SQLException("I/O"))).isTrue();
    assertThat(SqlStates.isTransient(new SQLException("password", "28P01"))).isFalse();
    assertThat(SqlStates.isTransient(new SQLException("permission", "42501"))).isFalse();
    assertThat(SqlStates.isTransient(new SQLException("bad data", "22P03"))).isFalse();
  }
}

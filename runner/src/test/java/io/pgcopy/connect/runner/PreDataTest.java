package io.pgcopy.connect.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PreDataTest {
  @Test
  void aJdbcUrlBecomesLibpqsWithTheParametersLibpqKnows() {
    assertThat(
            PreData.connection(
                new PreData.Server(
                    "jdbc:postgresql://db1:5432,db2:5433/app?sslmode=require&prepareThreshold=0",
                    "pgcopy",
                    "secret")))
        .isEqualTo(
            List.of(
                "--dbname=postgresql://db1:5432,db2:5433/app?sslmode=require",
                "--username=pgcopy"));
    assertThat(PreData.connection(new PreData.Server("jdbc:postgresql://h/db", "u", null)))
        .containsExactly("--dbname=postgresql://h/db", "--username=u");
  }

  @Test
  void anotherUrlIsRefusedInOneLine() {
    assertThatThrownBy(() -> PreData.connection(new PreData.Server("jdbc:mysql://h/db", "u", null)))
        .isInstanceOf(BadInput.class)
        .hasMessageContaining("not a PostgreSQL JDBC URL");
  }
}

package io.pgcopy.connect.source.postdata;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PostDataCatalogTest {
  @Test
  void anIndexDefinitionLosesWhatNamesTheSourceTable() {
    assertThat(
            PostDataCatalog.indexTail(
                "CREATE INDEX orders_big_idx ON shop.orders USING btree (amount) WHERE (amount > (500)::numeric)",
                "orders_big_idx",
                false,
                "shop.orders"))
        .isEqualTo("USING btree (amount) WHERE (amount > (500)::numeric)");
    assertThat(
            PostDataCatalog.indexTail(
                "CREATE UNIQUE INDEX \"Code Idx\" ON ONLY \"My Schema\".t USING btree (lower(code))",
                "\"Code Idx\"",
                true,
                "\"My Schema\".t"))
        .isEqualTo("USING btree (lower(code))");
  }

  @Test
  void aDefinitionOfAnotherFormIsNotGuessedAt() {
    assertThat(
            PostDataCatalog.indexTail("CREATE INDEX i ON s.u USING btree (a)", "i", false, "s.t"))
        .isNull();
    assertThat(PostDataCatalog.indexTail("CREATE INDEX i ON s.t USING btree (a)", "i", true, "s.t"))
        .isNull();
  }
}

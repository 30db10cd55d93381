package io.pgcopy.connect.sink.postdata;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PostDataBuilderTest {
  @Test
  void anIdentityTakesTheSequenceOptionsWithoutTheirType() {
    assertThat(
            PostDataBuilder.withoutType(
                "AS integer INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE"))
        .isEqualTo("INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1 NO CYCLE");
    assertThat(PostDataBuilder.withoutType("INCREMENT BY 2")).isEqualTo("INCREMENT BY 2");
  }
}
